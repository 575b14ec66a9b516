"""Create and fill the benchmark databases with COPY (seconds, not minutes).

A database is dropped and created anew on every run, then migrated to head with Taskwell's own
migrations. Every user gets the same real argon2id hash (of PASSWORD, made once with Taskwell's
PasswordHasher) so the benchmark can sign in through POST /api/v1/auth/login, and, as
registration does, an Inbox project with an owner membership.

- prepare():        N users x M tasks, each user's tasks in their own Inbox (bench/run.py).
- prepare_shared(): one shared project of 100,000 tasks with sections, assignees, labels and
                    subtasks, among other users' Inboxes (bench/filtered.py).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
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
PROJECT_COLUMNS = ("id", "owner_id", "name", "is_inbox", "version", "created_at", "updated_at")
MEMBER_COLUMNS = ("project_id", "user_id", "role", "position", "created_at")
SECTION_COLUMNS = ("id", "project_id", "name", "position", "version", "created_at", "updated_at")
LABEL_COLUMNS = ("id", "owner_id", "name", "color", "version", "created_at", "updated_at")
TASK_LABEL_COLUMNS = ("task_id", "label_id")
TASK_COLUMNS = (
    "id",
    "project_id",
    "section_id",
    "parent_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "completed_at",
    "position",
    "assignee_id",
    "created_by",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
)
TABLES = ("users", "projects", "project_members", "sections", "labels", "tasks", "task_labels")


async def recreate(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _users(people: list[tuple[uuid.UUID, str]], password_hash: str, now: datetime) -> list[tuple]:
    return [
        (uid, email, f"Bench user {i}", password_hash, True, False, now, now)
        for i, (uid, email) in enumerate(people)
    ]


def _inboxes(
    owners: Iterable[uuid.UUID], now: datetime
) -> tuple[dict[uuid.UUID, uuid.UUID], list[tuple], list[tuple]]:
    """An Inbox per user with its owner membership, as registration makes them."""
    inbox: dict[uuid.UUID, uuid.UUID] = {}
    projects, members = [], []
    for owner in owners:
        project = inbox[owner] = uuid.uuid4()
        projects.append((project, owner, "Inbox", True, 1, now, now))
        members.append((project, owner, "owner", 0.0, now))
    return inbox, projects, members


def _tasks_of(
    rng: random.Random, owner: uuid.UUID, project: uuid.UUID, count: int, now: datetime
) -> list[tuple]:
    rows = []
    for j in range(count):
        created = now - timedelta(seconds=rng.randint(0, 365 * 86_400), microseconds=j)
        status = rng.choices(("todo", "in_progress", "done"), weights=(5, 2, 3))[0]
        updated = created + timedelta(seconds=rng.randint(0, 7 * 86_400))
        rows.append(
            (
                uuid.uuid4(),
                project,
                None,
                None,
                f"Task {j}: " + "".join(rng.choices("abcdefghij klmnop", k=rng.randint(8, 60))),
                "Some *markdown* notes, with a list:\n- one\n- two\n" * rng.randint(0, 3),
                status,
                rng.randint(0, 4),
                None if rng.random() < 0.4 else created + timedelta(days=rng.randint(-5, 60)),
                updated if status == "done" else None,
                float(1024 * (j + 1)),
                None,
                owner,
                1,
                created,
                updated,
                None,
            )
        )
    return rows


async def _copy(dsn: str, tables: dict[str, tuple[tuple[str, ...], list[tuple]]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for table in TABLES:  # foreign keys: referenced tables first
            if table in tables and tables[table][1]:
                columns, rows = tables[table]
                await conn.copy_records_to_table(table, records=rows, columns=columns)
        for table in TABLES:
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


async def fill(dsn: str, users: int, tasks_per_user: int) -> list[tuple[uuid.UUID, str]]:
    """Insert the rows; returns (user id, email) of every user, in creation order."""
    rng = random.Random(SEED)
    password_hash = await PasswordHasher(Settings()).hash(PASSWORD)
    now = datetime.now(UTC)
    people = [(uuid.uuid4(), f"user{i}@bench.example") for i in range(users)]
    inbox, project_rows, member_rows = _inboxes((uid for uid, _ in people), now)
    task_rows = [
        row for uid, _ in people for row in _tasks_of(rng, uid, inbox[uid], tasks_per_user, now)
    ]
    await _copy(
        dsn,
        {
            "users": (USER_COLUMNS, _users(people, password_hash, now)),
            "projects": (PROJECT_COLUMNS, project_rows),
            "project_members": (MEMBER_COLUMNS, member_rows),
            "tasks": (TASK_COLUMNS, task_rows),
        },
    )
    return people


def _migrate(admin_dsn: str, name: str) -> str:
    """Drop, create and migrate database `name` next to admin_dsn's; its asyncpg DSN."""
    asyncio.run(recreate(admin_dsn, name))
    base = admin_dsn.rsplit("/", 1)[0]
    migrate.upgrade(
        Settings(database_url=f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}")
    )
    return f"{base}/{name}"


def prepare(
    admin_dsn: str, name: str, users: int, tasks_per_user: int
) -> list[tuple[uuid.UUID, str]]:
    """Drop and create database `name` next to admin_dsn's, migrate it to head and fill it."""
    return asyncio.run(fill(_migrate(admin_dsn, name), users, tasks_per_user))


# One shared project of many tasks (bench/filtered.py).

# Title words: a few common, most rare (Zipf-like), as in real task titles.
WORDS = (  # noqa: SIM905 (a list literal would take a line per word)
    "fix review update call email write check plan send prepare order book pay clean draft "
    "meeting report budget design test deploy release client invoice contract slides notes "
    "team roadmap backlog bug feature docs website form survey hiring onboarding offsite "
    "kitchen garden car insurance taxes dentist doctor school groceries birthday gift "
    "travel flight hotel visa passport laptop printer router backup server database "
    "migration security audit password license renewal subscription newsletter blog "
    "podcast video photo album recipe dinner lunch breakfast gym yoga run bike swim read "
    "course exam thesis paper chapter outline summary interview feedback retro sprint "
    "standup demo"
).split()
# The word searched for with ?q=: about 1 % of titles hold it (measured and printed by
# bench/filtered.py), so a first page needs some thousands of rows looked at in sort order.
QUERY_WORD = "quarterly"


@dataclass(frozen=True)
class SharedProject:
    project_id: uuid.UUID
    reader: tuple[uuid.UUID, str]  # (user id, email) of the member who signs in
    members: list[tuple[uuid.UUID, str]]  # every member, the reader included
    sections: list[uuid.UUID]
    reader_labels: list[uuid.UUID]
    tasks: int


_WORD_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(WORDS))))


def _title(rng: random.Random, j: int) -> str:
    words = rng.choices(WORDS, cum_weights=_WORD_WEIGHTS, k=4)
    if rng.random() < 0.01:
        words.insert(rng.randint(0, len(words)), QUERY_WORD)
    return f"{' '.join(words).capitalize()} #{j}"


async def fill_shared(
    dsn: str, tasks: int, members: int, background_users: int, background_tasks: int
) -> SharedProject:
    """One project of `tasks` tasks shared by `members` users (the first its owner, the second
    the reader who signs in, an editor), beside `background_users` users with
    `background_tasks` tasks in their Inboxes (so the project is not the whole table).

    The project's tasks: status todo/in_progress/done 5:2:3; priority 0..4 40:20:20:12:8 %;
    due dates on 60 % (from 60 days ago to 120 days ahead); 10 sections holding 90 %; 60 %
    assigned to one of the members; the reader's 6 labels on 30 % of the tasks (one or two
    each) and the owner's 4 labels on 15 %; 15 % are subtasks (of an earlier task, in its
    section; a fifth of them one level deeper); 1 % in the trash; created over two years.
    """
    rng = random.Random(SEED + 1)
    password_hash = await PasswordHasher(Settings()).hash(PASSWORD)
    now = datetime.now(UTC)
    member_people = [(uuid.uuid4(), f"member{i}@bench.example") for i in range(members)]
    other_people = [(uuid.uuid4(), f"user{i}@bench.example") for i in range(background_users)]
    people = member_people + other_people
    inbox, project_rows, member_rows = _inboxes((uid for uid, _ in people), now)
    task_rows: list[tuple] = []
    for i, (uid, _) in enumerate(people):
        count = 20 if i < members else background_tasks
        task_rows.extend(_tasks_of(rng, uid, inbox[uid], count, now))

    owner = member_people[0][0]
    project = uuid.uuid4()
    project_rows.append((project, owner, "Shared project", False, 1, now, now))
    viewers = min(2, members - 3)
    roles = ["owner", "editor"] + ["editor"] * (members - 2 - viewers) + ["viewer"] * viewers
    for (uid, _), role in zip(member_people, roles, strict=True):
        member_rows.append((project, uid, role, 1024.0, now))
    sections = [uuid.uuid4() for _ in range(10)]
    section_rows = [
        (sid, project, f"Section {i}", float(1024 * (i + 1)), 1, now, now)
        for i, sid in enumerate(sections)
    ]
    label_rows = []
    reader_labels = [uuid.uuid4() for _ in range(6)]
    owner_labels = [uuid.uuid4() for _ in range(4)]
    for labels, uid in ((reader_labels, member_people[1][0]), (owner_labels, owner)):
        for i, lid in enumerate(labels):
            label_rows.append((lid, uid, f"label {i}", "#3366cc", 1, now, now))
    assignees = [uid for uid, _ in member_people]
    task_label_rows: list[tuple] = []
    # (id, section, depth) of live tasks that may take subtasks
    parents: list[tuple[uuid.UUID, uuid.UUID | None, int]] = []
    start = now - timedelta(days=730)
    for j in range(tasks):
        tid = uuid.uuid4()
        created = start + timedelta(seconds=730 * 86_400 * j / tasks)
        updated = created + timedelta(seconds=rng.randint(0, 30 * 86_400))
        status = rng.choices(("todo", "in_progress", "done"), weights=(5, 2, 3))[0]
        section = rng.choice(sections) if rng.random() < 0.9 else None
        parent = None
        depth = 0
        if parents and rng.random() < 0.15:
            parent, section, parent_depth = rng.choice(parents[-5000:])
            depth = parent_depth + 1
        deleted = created + timedelta(days=1) if rng.random() < 0.01 else None
        if deleted is None and depth < 2 and (depth == 0 or rng.random() < 0.2):
            parents.append((tid, section, depth))
        due = None
        if rng.random() < 0.6:
            due = now + timedelta(seconds=rng.randint(-60 * 86_400, 120 * 86_400))
        task_rows.append(
            (
                tid,
                project,
                section,
                parent,
                _title(rng, j),
                "Notes with *markdown*:\n- one\n- two\n" * rng.randint(0, 2),
                status,
                rng.choices((0, 1, 2, 3, 4), weights=(40, 20, 20, 12, 8))[0],
                due,
                updated if status == "done" else None,
                float(1024 * (j + 1)),
                rng.choice(assignees) if rng.random() < 0.6 else None,
                rng.choice(assignees),
                1,
                created,
                updated,
                deleted,
            )
        )
        roll = rng.random()
        if roll < 0.3:
            for lid in rng.sample(reader_labels, 1 if roll < 0.2 else 2):
                task_label_rows.append((tid, lid))
        if rng.random() < 0.15:
            task_label_rows.append((tid, rng.choice(owner_labels)))
    await _copy(
        dsn,
        {
            "users": (USER_COLUMNS, _users(people, password_hash, now)),
            "projects": (PROJECT_COLUMNS, project_rows),
            "project_members": (MEMBER_COLUMNS, member_rows),
            "sections": (SECTION_COLUMNS, section_rows),
            "labels": (LABEL_COLUMNS, label_rows),
            "tasks": (TASK_COLUMNS, task_rows),
            "task_labels": (TASK_LABEL_COLUMNS, task_label_rows),
        },
    )
    return SharedProject(
        project_id=project,
        reader=member_people[1],
        members=member_people,
        sections=sections,
        reader_labels=reader_labels,
        tasks=tasks,
    )


def prepare_shared(
    admin_dsn: str,
    name: str,
    *,
    tasks: int = 100_000,
    members: int = 8,
    background_users: int = 500,
    background_tasks: int = 40,
) -> SharedProject:
    """Drop and create database `name`, migrate it to head and fill it (fill_shared)."""
    if members < 3:
        raise ValueError("members must be at least 3 (an owner, the reader, a viewer)")
    return asyncio.run(
        fill_shared(_migrate(admin_dsn, name), tasks, members, background_users, background_tasks)
    )
