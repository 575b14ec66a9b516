"""Backup files on disk: what kind a file is, and writing one atomically with mode 0600."""

from __future__ import annotations

import contextlib
import os
from enum import StrEnum
from pathlib import Path

from taskwell.backup.errors import BackupError

# The first bytes of each format: a pg_dump custom archive, an SQLite database file.
PG_ARCHIVE_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupKind(StrEnum):
    sqlite = "an SQLite database file"
    postgres = "a PostgreSQL custom-format archive (pg_dump -Fc)"


def detect_kind(path: Path) -> BackupKind:
    """The kind of backup at `path`, from its magic bytes; anything else is refused."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(PG_ARCHIVE_MAGIC):
        return BackupKind.postgres
    if head == SQLITE_MAGIC:
        return BackupKind.sqlite
    raise BackupError(
        f"{path} is not a taskwell backup: it is neither an SQLite database file nor a "
        "pg_dump custom-format archive"
    )


class PartialFile:
    """`FILE.partial`, created empty with mode 0600 (backups hold password and token hashes),
    renamed onto `FILE` only once complete, so `FILE` is never a half-written backup."""

    def __init__(self, target: Path, *, force: bool) -> None:
        self.target = target
        self.path = target.with_name(target.name + ".partial")
        self.force = force

    def check_target(self) -> None:
        """Refuse early, before any work, when the target exists and --force was not given."""
        if self.target.is_dir():
            raise BackupError(f"{self.target} is a directory; give a file name")
        if not self.target.parent.is_dir():
            raise BackupError(f"{self.target.parent} is not a directory")
        if self.target.exists() and not self.force:
            raise BackupError(f"{self.target} already exists; pass --force to replace it")

    def create(self) -> None:
        self.check_target()
        if self.force:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        try:
            # O_EXCL: two backups to one name, or a crashed run's leftover, are not mixed up.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise BackupError(
                f"{self.path} exists: another backup is running or one was interrupted; "
                "remove it or pass --force"
            ) from None
        except OSError as exc:
            raise BackupError(f"cannot create {self.path}: {exc.strerror}") from exc
        os.fchmod(fd, 0o600)  # the umask could only have narrowed it; make it exact
        os.close(fd)

    def commit(self) -> None:
        """fsync the data, move it into place (never over a file unless forced), fsync the
        directory so the rename itself survives a crash."""
        _fsync_path(self.path, os.O_RDONLY)
        if self.force:
            os.replace(self.path, self.target)
        else:
            try:
                # link() fails if the target appeared meanwhile, where rename() would replace it.
                os.link(self.path, self.target)
            except FileExistsError:
                raise BackupError(
                    f"{self.target} appeared during the backup; not replaced (use --force)"
                ) from None
            except OSError:
                # A filesystem without hard links: check, then rename (a small race).
                if self.target.exists():
                    raise BackupError(f"{self.target} appeared during the backup") from None
                os.replace(self.path, self.target)
            else:
                os.unlink(self.path)
        _fsync_path(self.target.parent, os.O_RDONLY | os.O_DIRECTORY)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
