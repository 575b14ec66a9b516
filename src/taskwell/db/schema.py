"""Every table, gathered on one MetaData for migrations and tests."""

from taskwell.apikeys import models as api_key_models
from taskwell.audit import models as audit_models
from taskwell.auth import models as auth_models
from taskwell.db import idempotency
from taskwell.db.types import metadata
from taskwell.tasks import models as task_models
from taskwell.users import models as user_models

__all__ = [
    "api_key_models",
    "audit_models",
    "auth_models",
    "idempotency",
    "metadata",
    "task_models",
    "user_models",
]
