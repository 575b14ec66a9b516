"""audit_events (one row per security event) and audit_chain (the chain's current head)."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    # Who acted (None for an anonymous failed login), and whom or what it concerned.
    sa.Column("actor_id", sa.Uuid, nullable=True),
    sa.Column("subject_id", sa.Uuid, nullable=True),
    sa.Column("target", sa.String(128), nullable=True),
    sa.Column("ip", sa.String(64), nullable=False, server_default=""),
    sa.Column("user_agent", sa.String(512), nullable=False, server_default=""),
    sa.Column("request_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    # SHA-256 over the previous row's hash and this row's content: editing or deleting a
    # row in the middle breaks every hash after it (ASVS 16.4.2).
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_actor", "actor_id", "id"),
    sa.Index("ix_audit_events_subject", "subject_id", "id"),
)

audit_chain = sa.Table(
    "audit_chain",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("head", sa.String(64), nullable=False),
)

GENESIS = "0" * 64
