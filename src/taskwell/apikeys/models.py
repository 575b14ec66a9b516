"""The api_keys table and the scopes a key can hold."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

SCOPES = ("tasks:read", "tasks:write", "account:read", "webhooks:manage")

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    # Shown in lists so people can tell keys apart; not enough to use the key.
    sa.Column("prefix", sa.String(16), nullable=False),
    # SHA-256 of the whole key: the key itself is shown once and never stored.
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Index("ix_api_keys_user_id", "user_id"),
)
