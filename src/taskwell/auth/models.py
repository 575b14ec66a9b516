"""Login sessions (one per refresh-token family) and the refresh tokens issued in them."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("revoked_reason", sa.String(32), nullable=True),
    sa.Column("user_agent", sa.String(512), nullable=False, server_default=""),
    sa.Column("ip", sa.String(64), nullable=False, server_default=""),
    sa.Index("ix_auth_sessions_user_id", "user_id"),
)

refresh_tokens = sa.Table(
    "auth_refresh_tokens",
    metadata,
    # SHA-256 of the token: the token itself is never stored.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.Uuid,
        sa.ForeignKey("auth_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_auth_refresh_tokens_session_id", "session_id"),
)
