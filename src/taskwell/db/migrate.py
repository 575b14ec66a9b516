"""Programmatic Alembic: upgrade, downgrade, and "is the schema at head?"."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskwell.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def head_revision(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


class SchemaState(StrEnum):
    current = "current"
    # Older than this code: it must not run (`taskwell db upgrade`).
    behind = "behind"
    # A revision this code does not know: a newer release migrated it. Migrations are
    # expand/contract (docs/deployment.md), so this code still works on it, and a rolling
    # deploy keeps the old instances serving while the new ones start.
    ahead = "ahead"


async def schema_state(engine: AsyncEngine, settings: Settings) -> tuple[SchemaState, str | None]:
    """Where the database's schema stands against this code's migrations, and its revision."""
    current = await current_revision(engine)
    if current == head_revision(settings):
        return SchemaState.current, current
    if current is None:
        return SchemaState.behind, current
    try:
        ScriptDirectory.from_config(alembic_config(settings)).get_revision(current)
    except (ResolutionError, CommandError):
        return SchemaState.ahead, current
    return SchemaState.behind, current
