"""A backup from before migrations 0013/0014, restored over the current schema, upgrades again
(PostgreSQL: the restore leaves the label mirror's function behind)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskwell.db import migrate
from taskwell.settings import Settings
from tests.conftest import PG_URL
from tests.support.scratch import scratch_database


@pytest.fixture
def scratch() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("TASKWELL_TEST_DATABASE_URL is not set")
    with scratch_database("tw_restore_") as url:
        yield url


def _run(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    environment["TASKWELL_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "taskwell", *args],
        cwd=cwd,
        env=environment,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_older_backup_restored_over_the_current_schema_upgrades_again(
    scratch: str, tmp_path: Path
) -> None:
    """A backup taken before 0013 is restored (pg_restore --clean) into the database at
    head, as after an upgrade that went wrong; the restore says to run `db upgrade`. --clean
    drops only what the archive holds, so 0013's function survives the restore, and 0013's
    plain CREATE FUNCTION then fails: the database cannot reach head again."""
    settings = Settings(env="test", database_url=scratch)
    migrate.upgrade(settings, "0012")
    backup = _run(["backup", "old.bak"], tmp_path, scratch)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    migrate.upgrade(settings)

    restore = _run(["restore", "--yes", "old.bak"], tmp_path, scratch)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "db upgrade" in restore.stdout

    upgrade = _run(["db", "upgrade"], tmp_path, scratch)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr[-2000:]
