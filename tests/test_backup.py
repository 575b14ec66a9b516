"""`taskwell backup` and `taskwell restore`, run as real processes on SQLite and PostgreSQL.

PostgreSQL runs when TASKWELL_TEST_DATABASE_URL is set, each test on its own scratch database
(tw_h6_*) on that server, created and dropped here; the URL's own database is never touched.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from taskwell.app import create_app
from taskwell.backup import BackupError
from taskwell.backup.pgtools import find_tool
from taskwell.backup.postgres import PgConnection
from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.db.schema import metadata
from taskwell.settings import Settings
from tests.conftest import PG_URL, RATE_LIMIT_GROUPS, STRONG_PASSWORD
from tests.support.scratch import scratch_database


def _run(
    args: list[str], cwd: Path, url: str, stdin: str = "", umask: int = -1
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    environment["TASKWELL_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "taskwell", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=umask,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _failed(result: subprocess.CompletedProcess[str]) -> str:
    """An expected failure: exit code 1, a message, and no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated to head: a file, or a scratch PostgreSQL database."""
    if request.param == "sqlite":
        scratch = f"sqlite+aiosqlite:///{tmp_path / 'taskwell.db'}"
        migrate.upgrade(Settings(env="test", database_url=scratch))
        yield scratch
        return
    if not PG_URL:
        pytest.skip("TASKWELL_TEST_DATABASE_URL is not set")
    with scratch_database("tw_h6_") as scratch:
        migrate.upgrade(Settings(env="test", database_url=scratch))
        yield scratch


def _settings(url: str) -> Settings:
    limits = {f"rate_limit_{group}": "100000/minute" for group in RATE_LIMIT_GROUPS}
    return Settings(env="test", database_url=url, **limits)


async def _populate(url: str, prefix: str = "") -> None:
    """Users, sessions, tasks and idempotency records, made through the HTTP API."""
    app = create_app(_settings(url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for n, name in enumerate(["ada", "grace", "émilie"]):
                email = f"{prefix}{name}@example.com"
                account = {"email": email, "password": STRONG_PASSWORD}
                r = await c.post("/api/v1/auth/register", json=account)
                assert r.status_code == 201, r.text
                r = await c.post("/api/v1/auth/login", json=account)
                assert r.status_code == 200, r.text
                auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
                r = await c.patch("/api/v1/users/me", json={"display_name": name}, headers=auth)
                assert r.status_code == 200, r.text
                ids = []
                for i in range(4):
                    body = {
                        "title": f"{name} task {i} ✓",
                        "description": "line one\nline 'two'\t\\ done",
                        "priority": i % 4,
                        "due_at": f"2031-0{i + 1}-1{n}T08:30:00.123456+02:00",
                    }
                    key = {"Idempotency-Key": f"{prefix}user{n}-{i}"}
                    r = await c.post("/api/v1/tasks", json=body, headers={**auth, **key})
                    assert r.status_code == 201, r.text
                    ids.append(r.json()["id"])
                r = await c.patch(f"/api/v1/tasks/{ids[0]}", json={"status": "done"}, headers=auth)
                assert r.status_code == 200, r.text
                r = await c.delete(f"/api/v1/tasks/{ids[1]}", headers=auth)
                assert r.status_code == 204, r.text


def _snapshot(url: str) -> dict[str, Any]:
    """Every row of every table the database has (and PostgreSQL's sequence positions)."""

    def read(conn: sa.Connection) -> dict[str, Any]:
        names = sa.inspect(conn).get_table_names()
        reflected = sa.MetaData()
        reflected.reflect(conn)
        found: dict[str, Any] = {}
        for name in names:
            table = metadata.tables.get(name, reflected.tables[name])
            found[name] = sorted(conn.execute(sa.select(table)).all(), key=repr)
        if conn.dialect.name == "postgresql":
            sequences = "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"
            found["<sequences>"] = conn.execute(sa.text(sequences)).all()
        return found

    async def run() -> dict[str, Any]:
        engine = make_engine(Settings(env="test", database_url=url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _wipe(url: str, how: str) -> None:
    if how == "changed":  # the usual reason to restore: data changed (or was lost) since
        asyncio.run(_populate(url, prefix="later-"))
        return
    if how == "downgraded":
        migrate.downgrade(Settings(env="test", database_url=url), "base")
    elif url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    else:
        asyncio.run(_drop_every_table(url))
    assert not any(rows for name, rows in _snapshot(url).items() if name != "<sequences>")


async def _drop_every_table(url: str) -> None:
    engine = make_engine(Settings(env="test", database_url=url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(sa.text("DROP TABLE alembic_version"))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("wipe", ["emptied", "downgraded", "changed"])
def test_restore_brings_back_every_row_exactly(url: str, wipe: str, tmp_path: Path) -> None:
    asyncio.run(_populate(url))
    before = _snapshot(url)
    assert set(metadata.tables) <= set(before)
    assert before["users"]
    assert before["tasks"]
    assert before["auth_sessions"]

    out = _ok(_run(["backup", "snapshot.bak"], tmp_path, url))
    assert "integrity verified" in out
    _wipe(url, wipe)
    out = _ok(_run(["restore", "--yes", "snapshot.bak"], tmp_path, url))

    assert "is head" in out
    assert _snapshot(url) == before


def test_backup_refuses_to_overwrite_an_existing_file(url: str, tmp_path: Path) -> None:
    target = tmp_path / "nightly.bak"
    target.write_bytes(b"last night's backup")

    error = _failed(_run(["backup", str(target)], tmp_path, url))

    assert "already exists" in error
    assert "--force" in error
    assert target.read_bytes() == b"last night's backup"
    assert not Path(f"{target}.partial").exists()
    _ok(_run(["backup", "--force", str(target)], tmp_path, url))
    assert target.read_bytes() != b"last night's backup"


def test_backup_file_is_readable_by_its_owner_only(url: str, tmp_path: Path) -> None:
    _ok(_run(["backup", "private.bak"], tmp_path, url, umask=0))

    assert stat.S_IMODE((tmp_path / "private.bak").stat().st_mode) == 0o600


def test_restore_refuses_a_file_of_the_wrong_kind(url: str, tmp_path: Path) -> None:
    asyncio.run(_populate(url))
    before = _snapshot(url)
    sqlite_file, pg_archive, text = tmp_path / "a.db", tmp_path / "a.dump", tmp_path / "a.txt"
    sqlite3.connect(sqlite_file).execute("CREATE TABLE t (x)").connection.close()
    pg_archive.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    text.write_text("id,email\n1,ada@example.com\n")
    wrong = pg_archive if url.startswith("sqlite") else sqlite_file

    error = _failed(_run(["restore", "--yes", str(wrong)], tmp_path, url))
    assert "but the configured database needs" in error
    error = _failed(_run(["restore", "--yes", str(text)], tmp_path, url))
    assert "is not a taskwell backup" in error

    assert _snapshot(url) == before


def test_restore_refuses_a_damaged_backup_and_leaves_the_database(url: str, tmp_path: Path) -> None:
    asyncio.run(_populate(url))
    before = _snapshot(url)
    _ok(_run(["backup", "good.bak"], tmp_path, url))
    data = (tmp_path / "good.bak").read_bytes()
    (tmp_path / "damaged.bak").write_bytes(data[: len(data) // 2])  # cut off in transfer

    _failed(_run(["restore", "--yes", "damaged.bak"], tmp_path, url))

    assert _snapshot(url) == before


def test_restore_asks_before_replacing_the_database(url: str, tmp_path: Path) -> None:
    _ok(_run(["backup", "empty.bak"], tmp_path, url))
    asyncio.run(_populate(url))
    before = _snapshot(url)

    declined = _run(["restore", "empty.bak"], tmp_path, url, stdin="n\n")
    assert declined.returncode == 1
    assert "Replace everything in the" in declined.stdout
    no_answer = _failed(_run(["restore", "empty.bak"], tmp_path, url, stdin=""))
    assert "use --yes" in no_answer
    assert _snapshot(url) == before

    _ok(_run(["restore", "empty.bak"], tmp_path, url, stdin="y\n"))
    assert _snapshot(url)["users"] == []


def test_restore_of_an_older_schema_says_to_upgrade(url: str, tmp_path: Path) -> None:
    settings = Settings(env="test", database_url=url)
    migrate.downgrade(settings, "base")
    migrate.upgrade(settings, "0001")
    _ok(_run(["backup", "old.bak"], tmp_path, url))
    migrate.downgrade(settings, "base")

    out = _ok(_run(["restore", "--yes", "old.bak"], tmp_path, url))

    assert "Schema revision 0001 is behind head" in out
    assert "run `taskwell db upgrade`" in out
    _ok(_run(["db", "upgrade"], tmp_path, url))
    assert "up to date" in _ok(_run(["db", "current"], tmp_path, url))


WRITER = textwrap.dedent(
    """
    import pathlib, sqlite3, sys
    db, stop = sys.argv[1], pathlib.Path(sys.argv[2])
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    batch = 0
    while not stop.exists():
        batch += 1
        conn.execute("BEGIN IMMEDIATE")  # ten rows per transaction: all or none in a copy
        conn.executemany(
            "INSERT INTO probe VALUES (?, ?, randomblob(2000))", [(batch, n) for n in range(10)]
        )
        conn.execute("COMMIT")
    """
)


def _probe_batches(path: Path) -> dict[int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute("SELECT batch, count(*) FROM probe GROUP BY batch").fetchall()
        return dict(rows)
    finally:
        conn.close()


def test_sqlite_backup_taken_during_writes_is_consistent(tmp_path: Path) -> None:
    database = tmp_path / "taskwell.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrate.upgrade(Settings(env="test", database_url=url))
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE probe (batch INTEGER, n INTEGER, pad BLOB)")
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(stop)])
    try:
        while len(_probe_batches(database)) < 200:
            assert writer.poll() is None, "the writer died"
        before = len(_probe_batches(database))
        _ok(_run(["backup", "during.bak"], tmp_path, url))
        after = len(_probe_batches(database))
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert writer.returncode == 0

    copied = _probe_batches(tmp_path / "during.bak")  # integrity_check ok, asserted inside

    assert after > before, "the writer was held up by the backup"
    assert before <= len(copied) <= after
    assert set(copied.values()) == {10}, "a transaction was copied in part"
    assert set(copied) == set(range(1, len(copied) + 1)), "a committed batch is missing"


def test_unreachable_postgresql_fails_cleanly(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://taskwell:secret@127.0.0.1:1/taskwell"

    error = _failed(_run(["backup", "x.dump"], tmp_path, url))

    assert "cannot reach the PostgreSQL database 'taskwell' on 127.0.0.1:1" in error
    assert "secret" not in error
    assert list(tmp_path.iterdir()) == []


def test_pg_password_travels_in_the_environment_not_the_command_line() -> None:
    conn = PgConnection.from_url("postgresql+asyncpg://tw:p%40ss@db.internal:6543/tw?ssl=require")

    env = conn.environment()

    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.internal", "6543", "tw")
    assert (env["PGPASSWORD"], env["PGSSLMODE"]) == ("p@ss", "require")
    assert conn.dbname_option() == "--dbname=dbname='tw'"


def test_pg_dump_is_run_without_the_password_in_its_arguments(url: str, tmp_path: Path) -> None:
    if url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    real = find_tool("pg_dump", 0, os.environ).path
    spy = tmp_path / "bin" / "pg_dump"
    spy.parent.mkdir()
    spy.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/argv\nexec {real} "$@"\n')
    spy.chmod(0o700)
    with_password = sa.make_url(url).set(password="hunter2-secret").render_as_string(False)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    environment["PATH"] = f"{spy.parent}:{environment.get('PATH', '')}"
    environment["TASKWELL_DATABASE_URL"] = with_password
    command = [sys.executable, "-m", "taskwell", "backup", "spied.dump"]
    result = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    argv = (tmp_path / "argv").read_text()
    assert "--format=custom" in argv
    assert "hunter2" not in argv


def test_postgres_restore_refuses_a_database_with_tables_the_backup_lacks(
    url: str, tmp_path: Path
) -> None:
    if url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    _ok(_run(["backup", "before.dump"], tmp_path, url))
    asyncio.run(_populate(url))
    before = _snapshot(url)

    async def add_table() -> None:
        engine = make_engine(Settings(env="test", database_url=url))
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE added_later (id integer)"))
        await engine.dispose()

    asyncio.run(add_table())

    error = _failed(_run(["restore", "--yes", "before.dump"], tmp_path, url))

    assert "public.added_later" in error
    after = _snapshot(url)
    assert after.pop("added_later") == []
    assert after == before


def test_a_missing_or_too_old_client_tool_is_named(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump was not found on PATH"):
        find_tool("pg_dump", 15, {}, search_path=str(tmp_path), debian_root=tmp_path)

    old = tmp_path / "12" / "bin" / "pg_dump"
    old.parent.mkdir(parents=True)
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.17'\n")
    old.chmod(0o700)
    with pytest.raises(BackupError, match=r"at least the server's major version \(15\)"):
        find_tool("pg_dump", 15, {}, search_path=str(tmp_path), debian_root=tmp_path)
    assert find_tool("pg_dump", 12, {}, search_path="", debian_root=tmp_path).major == 12
