"""Create and fill the benchmark database: N users x M tasks with COPY (seconds, not minutes).

The database is dropped and created anew on every run, then migrated to head with Taskwell's own
migrations. Every user gets the same real argon2id hash (of PASSWORD, made once with Taskwell's
PasswordHasher) so the benchmark can sign in through POST /api/v1/auth/login.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from taskwell.auth.passwords import PasswordHasher
from taskwell.db import migrate
from taskwell.settings import Settings

PASSWORD = "bench password long enough 4 zxcvbn"
SEED = 20261129

USER_COLUMNS = (
    "id",
    "email",
    "display_name",
    "password_hash",
    "is_active",
    "is_admin",
    "created_at",
    "updated_at",
)
TASK_COLUMNS = (
    "id",
    "owner_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "completed_at",
    "position",
    "version",
    "created_at",
    "updated_at",
)


async def recreate(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _tasks_of(rng: random.Random, owner: uuid.UUID, count: int, now: datetime) -> list[tuple]:
    rows = []
    for j in range(count):
        created = now - timedelta(seconds=rng.randint(0, 365 * 86_400), microseconds=j)
        status = rng.choices(("todo", "in_progress", "done"), weights=(5, 2, 3))[0]
        updated = created + timedelta(seconds=rng.randint(0, 7 * 86_400))
        rows.append(
            (
                uuid.uuid4(),
                owner,
                f"Task {j}: " + "".join(rng.choices("abcdefghij klmnop", k=rng.randint(8, 60))),
                "Some *markdown* notes, with a list:\n- one\n- two\n" * rng.randint(0, 3),
                status,
                rng.randint(0, 4),
                None if rng.random() < 0.4 else created + timedelta(days=rng.randint(-5, 60)),
                updated if status == "done" else None,
                float(1024 * (j + 1)),
                1,
                created,
                updated,
            )
        )
    return rows


async def fill(dsn: str, users: int, tasks_per_user: int) -> list[tuple[uuid.UUID, str]]:
    """Insert the rows; returns (user id, email) of every user, in creation order."""
    rng = random.Random(SEED)
    password_hash = await PasswordHasher(Settings()).hash(PASSWORD)
    now = datetime.now(UTC)
    people = [(uuid.uuid4(), f"user{i}@bench.example") for i in range(users)]
    user_rows = [
        (uid, email, f"Bench user {i}", password_hash, True, False, now, now)
        for i, (uid, email) in enumerate(people)
    ]
    task_rows = [row for uid, _ in people for row in _tasks_of(rng, uid, tasks_per_user, now)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("users", records=user_rows, columns=USER_COLUMNS)
        await conn.copy_records_to_table("tasks", records=task_rows, columns=TASK_COLUMNS)
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE tasks")
    finally:
        await conn.close()
    return people


def prepare(
    admin_dsn: str, name: str, users: int, tasks_per_user: int
) -> list[tuple[uuid.UUID, str]]:
    """Drop and create database `name` next to admin_dsn's, migrate it to head and fill it."""
    asyncio.run(recreate(admin_dsn, name))
    base = admin_dsn.rsplit("/", 1)[0]
    migrate.upgrade(
        Settings(database_url=f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}")
    )
    return asyncio.run(fill(f"{base}/{name}", users, tasks_per_user))
