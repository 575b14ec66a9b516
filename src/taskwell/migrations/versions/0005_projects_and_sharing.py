"""projects, sharing, sections, labels, subtasks, comments, activity, trash

Every task moves into its creator's Inbox, a project made here for every user.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import taskwell.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TASK_INDEXES = ("created", "updated", "due", "priority", "position")
_SORT_COLUMN = {
    "created": "created_at",
    "updated": "updated_at",
    "due": "due_at",
    "priority": "priority",
    "position": "position",
}
_LIVE = sa.text("deleted_at IS NULL")


def _stamp() -> sa.Column[datetime]:
    return sa.Column("created_at", taskwell.db.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    utc = taskwell.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("is_inbox", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("archived_at", utc, nullable=True),
        sa.Column("deleted_at", utc, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        _stamp(),
        sa.Column("updated_at", utc, nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_projects_version")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_projects_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(
        "uq_projects_inbox",
        "projects",
        ["owner_id"],
        unique=True,
        sqlite_where=sa.text("is_inbox"),
        postgresql_where=sa.text("is_inbox"),
    )
    op.create_index("ix_projects_deleted_at", "projects", ["deleted_at"])
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        _stamp(),
        sa.CheckConstraint(
            "role IN ('owner', 'editor', 'viewer')", name=op.f("ck_project_members_role")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index(
        "ix_project_members_user_id", "project_members", ["user_id", "project_id", "role"]
    )
    op.create_table(
        "sections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        _stamp(),
        sa.Column("updated_at", utc, nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_sections_version")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sections_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sections")),
    )
    op.create_index("ix_sections_project_id", "sections", ["project_id", "position"])

    _make_inboxes()

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name in _TASK_INDEXES:
            batch_op.drop_index(f"ix_tasks_owner_{name}")
        batch_op.drop_index("ix_tasks_owner_status")
        batch_op.drop_constraint("fk_tasks_owner_id_users", type_="foreignkey")
        batch_op.alter_column(
            "owner_id", new_column_name="created_by", existing_type=sa.Uuid(), nullable=True
        )
        batch_op.add_column(sa.Column("project_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("section_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", utc, nullable=True))

    op.execute(
        "UPDATE tasks SET project_id = (SELECT p.id FROM projects p "
        "WHERE p.owner_id = tasks.created_by AND p.is_inbox)"
    )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_tasks_created_by_users"), "users", ["created_by"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            op.f("fk_tasks_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            op.f("fk_tasks_section_id_sections"),
            "sections",
            ["section_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            op.f("fk_tasks_parent_id_tasks"), "tasks", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            op.f("fk_tasks_assignee_id_users"),
            "users",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        for name in _TASK_INDEXES:
            batch_op.create_index(
                f"ix_tasks_project_{name}",
                ["project_id", _SORT_COLUMN[name], "id"],
                sqlite_where=_LIVE,
                postgresql_where=_LIVE,
            )
        batch_op.create_index(
            "ix_tasks_project_status",
            ["project_id", "status"],
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        )
        batch_op.create_index("ix_tasks_section_id", ["section_id"])
        batch_op.create_index("ix_tasks_parent_id", ["parent_id"])
        batch_op.create_index("ix_tasks_assignee_id", ["assignee_id"])
        batch_op.create_index("ix_tasks_created_by", ["created_by"])
        batch_op.create_index(
            "ix_tasks_deleted_at",
            ["deleted_at"],
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )

    op.create_table(
        "labels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        _stamp(),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_labels_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_labels_owner_id_name")),
    )
    op.create_table(
        "task_labels",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["labels.id"],
            name=op.f("fk_task_labels_label_id_labels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_labels_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "label_id", name=op.f("pk_task_labels")),
    )
    op.create_index("ix_task_labels_label_id", "task_labels", ["label_id", "task_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        _stamp(),
        sa.Column("updated_at", utc, nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_comments_version")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_comments_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_comments_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_task_id", "comments", ["task_id", "created_at", "id"])
    op.create_table(
        "task_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.Text(), server_default="{}", nullable=False),
        _stamp(),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_task_activity_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_activity_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_activity")),
    )
    op.create_index("ix_task_activity_task_id", "task_activity", ["task_id", "created_at", "id"])


def _make_inboxes() -> None:
    """An Inbox, owned by its user, for every user there is."""
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Uuid()))
    now = datetime.now(UTC)
    utc = taskwell.db.types.UTCDateTime(timezone=True)
    projects = sa.table(
        "projects",
        sa.column("id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("is_inbox", sa.Boolean()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", utc),
        sa.column("updated_at", utc),
    )
    members = sa.table(
        "project_members",
        sa.column("project_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("role", sa.String()),
        sa.column("position", sa.Float()),
        sa.column("created_at", utc),
    )
    result = conn.execute(sa.select(users.c.id).order_by(users.c.id))
    while batch := result.fetchmany(1000):
        rows = [(uuid.uuid4(), user_id) for (user_id,) in batch]
        conn.execute(
            projects.insert(),
            [
                {
                    "id": project_id,
                    "owner_id": user_id,
                    "name": "Inbox",
                    "is_inbox": True,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for project_id, user_id in rows
            ],
        )
        conn.execute(
            members.insert(),
            [
                {
                    "project_id": project_id,
                    "user_id": user_id,
                    "role": "owner",
                    "position": 0.0,
                    "created_at": now,
                }
                for project_id, user_id in rows
            ],
        )


def downgrade() -> None:
    op.drop_table("task_activity")
    op.drop_table("comments")
    op.drop_table("task_labels")
    op.drop_table("labels")
    # Trashed tasks go for good: the old schema has no trash.
    op.execute("DELETE FROM tasks WHERE deleted_at IS NOT NULL")
    # Shared tasks go back to whoever created them; those with no creator left go.
    op.execute("DELETE FROM tasks WHERE created_by IS NULL")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name in ("section_id", "parent_id", "assignee_id", "deleted_at"):
            batch_op.drop_index(
                f"ix_tasks_{name}" if name != "deleted_at" else "ix_tasks_deleted_at"
            )
        batch_op.drop_index("ix_tasks_created_by")
        batch_op.drop_index("ix_tasks_project_status")
        for name in _TASK_INDEXES:
            batch_op.drop_index(f"ix_tasks_project_{name}")
        for fk in (
            "fk_tasks_created_by_users",
            "fk_tasks_project_id_projects",
            "fk_tasks_section_id_sections",
            "fk_tasks_parent_id_tasks",
            "fk_tasks_assignee_id_users",
        ):
            batch_op.drop_constraint(fk, type_="foreignkey")
        for column in ("project_id", "section_id", "parent_id", "assignee_id", "deleted_at"):
            batch_op.drop_column(column)
        batch_op.alter_column(
            "created_by", new_column_name="owner_id", existing_type=sa.Uuid(), nullable=False
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_tasks_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="CASCADE"
        )
        for name in _TASK_INDEXES:
            batch_op.create_index(f"ix_tasks_owner_{name}", ["owner_id", _SORT_COLUMN[name], "id"])
        batch_op.create_index("ix_tasks_owner_status", ["owner_id", "status"])
    op.drop_table("sections")
    op.drop_table("project_members")
    op.drop_table("projects")
