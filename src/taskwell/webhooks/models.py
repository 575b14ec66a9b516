"""The webhook tables: endpoints, their deliveries (the queue of record), and each attempt."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_DUE = sa.text("state = 'pending'")

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    # Space-separated patterns: "task.updated comment.*", or "*".
    sa.Column("event_types", sa.String(1000), nullable=False),
    # "whsec_..." encrypted at rest (crypto.Encryptor); after a rotation the old one keeps
    # signing too, until previous_secret_until.
    sa.Column("secret_enc", sa.String(400), nullable=False),
    sa.Column("previous_secret_enc", sa.String(400), nullable=True),
    sa.Column("previous_secret_until", UTCDateTime, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(200), nullable=True),
    # Consecutive failed attempts, and when the first of them was made.
    sa.Column("failure_count", sa.Integer, nullable=False),
    sa.Column("failing_since", UTCDateTime, nullable=True),
    # A sync token (changes/feed.py): the feed up to here has become deliveries.
    sa.Column("feed_cursor", sa.String(256), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_webhook_endpoints_user_id", "user_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    # Sent as webhook-id: the same on every attempt, so receivers can drop duplicates.
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "endpoint_id",
        sa.Uuid,
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_type", sa.String(40), nullable=False),
    # The exact body sent (and signed) on every attempt.
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    # Pending: when it is due. A worker that claims it moves this on by its lease, so if the
    # worker dies the delivery is due again when the lease runs out. NULL once finished.
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    # The claim of the worker sending it now; only that claim may record the outcome.
    sa.Column("lease_id", sa.Uuid, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
    # The worker's scan: what is due.
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=_DUE,
        postgresql_where=_DUE,
    ),
    # The delivery log, newest first, a page at a time.
    sa.Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "created_at", "id"),
    sa.Index("ix_webhook_deliveries_created_at", "created_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "delivery_id",
        sa.Uuid,
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Column("next_retry_at", UTCDateTime, nullable=True),
    sa.Index("ix_webhook_attempts_delivery_id", "delivery_id", "number"),
)
