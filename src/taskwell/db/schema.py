"""Every table, gathered on one MetaData for migrations and tests."""

from typing import Any

from taskwell.activity import models as activity_models
from taskwell.apikeys import models as api_key_models
from taskwell.audit import models as audit_models
from taskwell.auth import models as auth_models
from taskwell.changes import models as change_models
from taskwell.comments import models as comment_models
from taskwell.db import idempotency
from taskwell.db.types import metadata
from taskwell.labels import mirror
from taskwell.labels import models as label_models
from taskwell.projects import models as project_models
from taskwell.reminders import models as reminder_models
from taskwell.search.schema import is_search_object
from taskwell.tasks import models as task_models
from taskwell.tasks import text_match
from taskwell.users import models as user_models
from taskwell.webhooks import models as webhook_models

__all__ = [
    "activity_models",
    "api_key_models",
    "audit_models",
    "auth_models",
    "change_models",
    "comment_models",
    "idempotency",
    "include_object",
    "label_models",
    "metadata",
    "project_models",
    "reminder_models",
    "task_models",
    "user_models",
    "webhook_models",
]


# Made by the migrations on PostgreSQL beside the models' tasks table (labels/mirror.py,
# tasks/text_match.py).
_TASK_COLUMNS = frozenset({mirror.COLUMN, text_match.COLUMN})
_INDEXES = frozenset({mirror.INDEX, text_match.INDEX})


def _beside_the_models(_object: Any, name: str | None, type_: str) -> bool:
    if type_ == "index":
        return name in _INDEXES
    table = getattr(getattr(_object, "table", None), "name", None)
    return type_ == "column" and table == "tasks" and name in _TASK_COLUMNS


def include_object(
    _object: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any
) -> bool:
    """Alembic's include_object hook: what the migrations make beyond the models (search's
    FTS5 tables and expression indexes; on PostgreSQL the label mirror and the list's
    lower-cased text) is left out of autogenerate."""
    return not (
        reflected and (is_search_object(name, type_) or _beside_the_models(_object, name, type_))
    )
