"""The users table."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    # Stored normalised (NFKC, trimmed, lower-case) so uniqueness is case-insensitive.
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    # IANA name; the zone "today" and recurring times are reckoned in.
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One row per user who ever had an avatar. `version` goes up with every upload and removal:
# it is part of the image URLs, which browsers cache for good, so a URL never shows two
# different pictures. Removal empties the images and keeps the row (and its count).
user_avatars = sa.Table(
    "user_avatars",
    metadata,
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    # Square WebP images, 96 and 192 pixels wide (1x and 2x of a 96 px avatar).
    sa.Column("image_1x", sa.LargeBinary, nullable=True),
    sa.Column("image_2x", sa.LargeBinary, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
