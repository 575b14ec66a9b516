"""Backups of the configured database (SQLite file or PostgreSQL) and restores from them."""

from taskwell.backup.errors import BackupError
from taskwell.backup.files import BackupKind, detect_kind
from taskwell.backup.service import (
    BackupReport,
    RestorePlan,
    RestoreReport,
    create_backup,
    plan_restore,
    run_restore,
)

__all__ = [
    "BackupError",
    "BackupKind",
    "BackupReport",
    "RestorePlan",
    "RestoreReport",
    "create_backup",
    "detect_kind",
    "plan_restore",
    "run_restore",
]
