"""Every table, gathered on one MetaData for migrations and tests."""

from taskwell.activity import models as activity_models
from taskwell.apikeys import models as api_key_models
from taskwell.audit import models as audit_models
from taskwell.auth import models as auth_models
from taskwell.changes import models as change_models
from taskwell.comments import models as comment_models
from taskwell.db import idempotency
from taskwell.db.types import metadata
from taskwell.labels import models as label_models
from taskwell.projects import models as project_models
from taskwell.reminders import models as reminder_models
from taskwell.tasks import models as task_models
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
    "label_models",
    "metadata",
    "project_models",
    "reminder_models",
    "task_models",
    "user_models",
    "webhook_models",
]
