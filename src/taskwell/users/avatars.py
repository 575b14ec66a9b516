"""Avatar rules: upload (checked and re-encoded off the event loop), removal, the images."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from taskwell.audit.service import AuditLog
from taskwell.auth.session_guard import Principal
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import NotFound
from taskwell.http import API_V1
from taskwell.users.images import SIZE_1X, SIZE_2X, image_format, make_avatar
from taskwell.users.repository import AvatarRepository

SIZES = (SIZE_1X, SIZE_2X)


class AvatarNotFound(NotFound):
    slug, title, status = "avatar-not-found", "No such avatar", 404


@dataclass(frozen=True, slots=True)
class AvatarImage:
    body: bytes  # WebP
    version: int


def avatar_urls(user_id: uuid.UUID, version: int) -> tuple[str, str]:
    """The 1x and 2x image addresses of one avatar version. The version in the query makes
    each address name one picture for ever, so browsers may cache it without asking."""
    base = f"{API_V1}/avatars/{user_id}"
    return f"{base}/{SIZE_1X}.webp?v={version}", f"{base}/{SIZE_2X}.webp?v={version}"


class AvatarService:
    def __init__(self, db: Database, audit: AuditLog, *, max_pixels: int) -> None:
        self._db = db
        self._audit = audit
        self._max_pixels = max_pixels
        self._avatars = AvatarRepository()

    async def upload(
        self,
        principal: Principal,
        content_type: str | None,
        read_body: Callable[[], Awaitable[bytes]],
    ) -> int:
        """Check and store a new avatar for the principal; returns its version. The type is
        checked before the body is read."""
        declared = image_format(content_type)
        data = await read_body()
        images = await asyncio.to_thread(make_avatar, data, declared, self._max_pixels)
        async with self._db.transaction() as conn:
            version = await self._avatars.store(
                conn,
                principal.user_id,
                image_1x=images.image_1x,
                image_2x=images.image_2x,
                now=utcnow(),
            )
        await self._audit.record(
            "avatar.updated",
            actor=principal,
            details={
                "version": version,
                "format": declared.lower(),
                "bytes": len(data),
                "width": images.width,
                "height": images.height,
            },
        )
        return version

    async def remove(self, principal: Principal) -> None:
        """Remove the principal's avatar; nothing to do (and nothing recorded) without one."""
        async with self._db.transaction() as conn:
            version = await self._avatars.clear(conn, principal.user_id, utcnow())
        if version is not None:
            await self._audit.record(
                "avatar.removed", actor=principal, details={"version": version}
            )

    async def image(self, user_id: uuid.UUID, size: int) -> AvatarImage:
        if size not in SIZES:
            raise AvatarNotFound(f"Avatars come in {SIZE_1X} and {SIZE_2X} pixels.")
        async with self._db.transaction() as conn:
            found = await self._avatars.image(conn, user_id, large=size == SIZE_2X)
        if found is None:
            raise AvatarNotFound("This user has no avatar.")
        return AvatarImage(*found)
