"""Projects, their members and their sections."""

from enum import StrEnum

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata


class Role(StrEnum):
    owner = "owner"
    editor = "editor"
    viewer = "viewer"


# What each role may do; routes ask for a capability, never for a role.
READ = frozenset({Role.owner, Role.editor, Role.viewer})
WRITE = frozenset({Role.owner, Role.editor})
MANAGE = frozenset({Role.owner})

NAME_MAX = 120

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    # The one member whose role is owner; kept here too so "whose Inbox" is one lookup.
    sa.Column("owner_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("color", sa.String(7), nullable=True),
    sa.Column("is_inbox", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived_at", UTCDateTime, nullable=True),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("version >= 1", name="version"),
    sa.Index(
        "uq_projects_inbox",
        "owner_id",
        unique=True,
        sqlite_where=sa.text("is_inbox"),
        postgresql_where=sa.text("is_inbox"),
    ),
    sa.Index("ix_projects_deleted_at", "deleted_at"),
)

project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column(
        "project_id",
        sa.Uuid,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    # Each member orders their own sidebar.
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="role"),
    sa.Index("ix_project_members_user_id", "user_id", "project_id", "role"),
)

sections = sa.Table(
    "sections",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "project_id", sa.Uuid, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("version >= 1", name="version"),
    sa.Index("ix_sections_project_id", "project_id", "position"),
)
