"""The one error of backup and restore: an expected failure the operator can act on."""


class BackupError(Exception):
    """Shown to the operator as is (no traceback), with a non-zero exit code."""
