"""Every table, gathered on one MetaData for migrations and tests."""

from taskwell.auth import models as auth_models
from taskwell.db import idempotency
from taskwell.db.types import metadata
from taskwell.tasks import models as task_models
from taskwell.users import models as user_models

__all__ = ["auth_models", "idempotency", "metadata", "task_models", "user_models"]
