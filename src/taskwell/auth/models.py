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

# Second factor. The secret is encrypted at rest (taskwell.crypto); recovery codes are kept
# only as keyed hashes and each works once.
auth_totp = sa.Table(
    "auth_totp",
    metadata,
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("secret_enc", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # The last 30-second step accepted: a code is never accepted twice.
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

recovery_codes = sa.Table(
    "auth_recovery_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_auth_recovery_codes_user_id", "user_id"),
)
