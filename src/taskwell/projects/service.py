"""Project rules: roles, the Inbox, sharing, sections, the trash."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.feed import DELETE, UPSERT, Changed, ChangeFeed
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, NotFound, VersionMismatch
from taskwell.http.conditional import version_etag
from taskwell.projects.access import ProjectAccess, ProjectNotFound
from taskwell.projects.models import MANAGE, READ, WRITE, Role
from taskwell.projects.repository import ProjectRepository
from taskwell.projects.schemas import (
    MemberInvite,
    ProjectCreate,
    ProjectPatch,
    SectionCreate,
    SectionPatch,
)
from taskwell.settings import Settings
from taskwell.validation import normalise_email

INBOX_NAME = "Inbox"


class InboxProtected(Conflict):
    slug, title, status = "inbox-protected", "The Inbox cannot be renamed, archived or deleted", 409


class InboxNotShareable(Conflict):
    slug, title, status = "inbox-not-shareable", "The Inbox cannot be shared", 409


class ProjectLimit(Conflict):
    slug, title, status = "project-limit", "Too many projects", 409


class MemberLimit(Conflict):
    slug, title, status = "member-limit", "Too many members", 409


class SectionLimit(Conflict):
    slug, title, status = "section-limit", "Too many sections", 409


class MemberExists(Conflict):
    slug, title, status = "member-exists", "Already a member of this project", 409


class OwnerMustTransfer(Conflict):
    slug, title, status = "owner-must-transfer", "The owner must transfer the project first", 409


class UserNotFound(NotFound):
    slug, title, status = "user-not-found", "No user with this email", 404


class MemberNotFound(NotFound):
    slug, title, status = "member-not-found", "Not a member of this project", 404


class SectionNotFound(NotFound):
    slug, title, status = "section-not-found", "Section not found", 404


class ProjectVersionConflict(VersionMismatch):
    """If-Match named an older version of the project or section."""


class ProjectService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: ProjectAccess,
        changed_for: Changed,
        feed: ChangeFeed,
    ) -> None:
        self._feed = feed
        self._db = db
        self._access = access
        self._repo = ProjectRepository()
        self._changed_for = changed_for
        self._settings = settings

    # Registration

    async def create_inbox(self, conn: AsyncConnection, user_id: uuid.UUID, now: datetime) -> None:
        """Inside the registration's transaction: every account has an Inbox from its start."""
        await self._repo.insert(
            conn,
            owner_id=user_id,
            name=INBOX_NAME,
            color=None,
            position=0.0,
            is_inbox=True,
            now=now,
        )

    # Projects

    async def list(self, user_id: uuid.UUID, *, archived: bool) -> builtins.list[dict[str, Any]]:
        async with self._db.engine.connect() as conn:
            return await self._repo.list(conn, user_id, archived=archived)

    async def get(self, user_id: uuid.UUID, project_id: uuid.UUID) -> dict[str, Any]:
        async with self._db.engine.connect() as conn:
            found = await self._repo.get(conn, user_id, project_id)
        if found is None:
            raise ProjectNotFound("No project with this id.")
        return found

    async def create(self, user_id: uuid.UUID, payload: ProjectCreate) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            limit = self._settings.projects_max_per_user
            if await self._repo.count_memberships(conn, user_id) >= limit:
                raise ProjectLimit(f"You can be a member of at most {limit} projects.")
            position = payload.position
            if position is None:
                position = await self._repo.next_member_position(conn, user_id)
            project_id = await self._repo.insert(
                conn,
                owner_id=user_id,
                name=payload.name,
                color=payload.color,
                position=float(position),
                is_inbox=False,
                now=now,
            )
            await self._project_changed(conn, project_id, now)
            found = await self._repo.get(conn, user_id, project_id)
        assert found is not None
        await self._changed_for([user_id])
        return found

    async def update(
        self,
        user_id: uuid.UUID,
        project_id: uuid.UUID,
        patch: ProjectPatch,
        expected_versions: frozenset[int] | None,
    ) -> dict[str, Any]:
        changes = patch.model_dump(exclude_unset=True)
        now = utcnow()
        readers: builtins.list[uuid.UUID] = [user_id]
        async with self._db.transaction(reader=user_id) as conn:
            grant = await self._access.project(conn, user_id, project_id, READ, "see it")
            # Locked, so the version If-Match names is still the one written over.
            await self._access.lock(conn, project_id)
            current = await self._repo.get(conn, user_id, project_id)
            if current is None:
                raise ProjectNotFound("No project with this id.")
            if expected_versions is not None and current["version"] not in expected_versions:
                raise self._conflict(current["version"])
            if "position" in changes:  # each member's own sidebar order
                await self._repo.set_position(
                    conn, project_id, user_id, float(changes.pop("position"))
                )
                await self._feed.record(
                    conn, "project", [project_id], UPSERT, now=now, user_id=user_id
                )
            values: dict[str, Any] = {}
            if changes:
                grant.require(MANAGE, "rename, recolour or archive the project")
                if current["is_inbox"] and ({"name", "archived"} & changes.keys()):
                    raise InboxProtected("Your Inbox keeps its name and cannot be archived.")
                if "name" in changes:
                    values["name"] = changes["name"]
                if "color" in changes:
                    values["color"] = changes["color"]
                if "archived" in changes and changes["archived"] != current["archived"]:
                    values["archived_at"] = now if changes["archived"] else None
            if values:
                await self._repo.update(conn, project_id, values, None, now)
                await self._project_changed(conn, project_id, now)
                # Every member sees the change (and an archived project's tasks leave or
                # rejoin their lists).
                readers = await self._access.members(conn, project_id)
            found = await self._repo.get(conn, user_id, project_id)
        assert found is not None
        await self._changed_for(readers)
        return found

    async def delete(
        self, user_id: uuid.UUID, project_id: uuid.UUID, expected_versions: frozenset[int] | None
    ) -> None:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            await self._access.project(conn, user_id, project_id, MANAGE, "delete the project")
            await self._access.lock(conn, project_id)
            current = await self._repo.get(conn, user_id, project_id)
            assert current is not None
            if current["is_inbox"]:
                raise InboxProtected("Your Inbox cannot be deleted.")
            if not await self._repo.update(
                conn, project_id, {"deleted_at": now}, expected_versions, now
            ):
                raise self._conflict(await self._repo.version(conn, project_id))
            await self._feed.record(
                conn, "project", [project_id], DELETE, now=now, project_id=project_id
            )
            readers = await self._access.members(conn, project_id)
        await self._changed_for(readers)

    async def restore(self, user_id: uuid.UUID, project_id: uuid.UUID) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            if not await self._repo.trashed(conn, user_id, project_id):
                raise ProjectNotFound("No project of yours with this id in the trash.")
            await self._repo.restore(conn, project_id, now)
            await self._project_changed(conn, project_id, now)
            readers = await self._access.members(conn, project_id)
            found = await self._repo.get(conn, user_id, project_id)
        assert found is not None
        await self._changed_for(readers)
        return found

    async def trash(self, user_id: uuid.UUID) -> builtins.list[dict[str, Any]]:
        days = timedelta(days=self._settings.trash_retention_days)
        async with self._db.engine.connect() as conn:
            items = await self._repo.trash_list(conn, user_id)
        for item in items:
            item["purge_at"] = item["deleted_at"] + days
        return items

    async def purge_trash(self, now: datetime) -> int:
        before = now - timedelta(days=self._settings.trash_retention_days)
        async with self._db.transaction() as conn:
            return await self._repo.purge(conn, before)

    # Members

    async def members(
        self, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> builtins.list[dict[str, Any]]:
        async with self._db.engine.connect() as conn:
            await self._access.project(conn, user_id, project_id, READ, "see its members")
            return await self._repo.members(conn, project_id)

    async def invite(
        self, user_id: uuid.UUID, project_id: uuid.UUID, invite: MemberInvite
    ) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            await self._access.project(conn, user_id, project_id, MANAGE, "add members")
            # Membership changes of one project take turns: two invitations of one user
            # cannot both pass the check below.
            await self._access.lock(conn, project_id)
            await self._not_inbox(conn, user_id, project_id)
            invitee = await self._repo.active_user_by_email(conn, normalise_email(invite.email))
            if invitee is None:
                raise UserNotFound("There is no account with this email; they must sign up first.")
            if await self._repo.member_role(conn, project_id, invitee) is not None:
                raise MemberExists("This user is already a member.")
            limit = self._settings.members_max_per_project
            if await self._repo.count_members(conn, project_id) >= limit:
                raise MemberLimit(f"A project can have at most {limit} members.")
            if (
                await self._repo.count_memberships(conn, invitee)
                >= self._settings.projects_max_per_user
            ):
                raise ProjectLimit("This user is a member of as many projects as allowed.")
            position = await self._repo.next_member_position(conn, invitee)
            await self._repo.add_member(conn, project_id, invitee, invite.role, position, now)
            await self._project_changed(conn, project_id, now)
            members = await self._repo.members(conn, project_id)
        await self._changed_for(m["user_id"] for m in members)
        return next(m for m in members if m["user_id"] == invitee)

    async def change_role(
        self, user_id: uuid.UUID, project_id: uuid.UUID, member_id: uuid.UUID, role: str
    ) -> dict[str, Any]:
        async with self._db.transaction(reader=user_id) as conn:
            await self._access.project(conn, user_id, project_id, MANAGE, "change roles")
            await self._access.lock(conn, project_id)
            await self._access.project(conn, user_id, project_id, MANAGE, "change roles")
            current = await self._repo.member_role(conn, project_id, member_id)
            if current is None:
                raise MemberNotFound("This user is not a member of the project.")
            if current == Role.owner:
                raise OwnerMustTransfer("The owner's role changes only by a transfer.")
            await self._repo.set_role(conn, project_id, member_id, role)
            await self._project_changed(conn, project_id, utcnow())
            members = await self._repo.members(conn, project_id)
        await self._changed_for(m["user_id"] for m in members)
        return next(m for m in members if m["user_id"] == member_id)

    async def remove(self, user_id: uuid.UUID, project_id: uuid.UUID, member_id: uuid.UUID) -> None:
        """An owner removing a member, or a member leaving (member_id is themself)."""
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            if member_id == user_id:
                grant = await self._access.project(conn, user_id, project_id, READ, "leave")
            else:
                grant = await self._access.project(
                    conn, user_id, project_id, MANAGE, "remove members"
                )
            await self._access.lock(conn, project_id)
            current = await self._repo.member_role(conn, project_id, member_id)
            if current is None:
                raise MemberNotFound("This user is not a member of the project.")
            if current == Role.owner:
                raise OwnerMustTransfer(
                    "Transfer the project to another member first (POST .../transfer)."
                )
            readers = await self._access.members(conn, grant.project_id)
            unassigned = await self._repo.remove_member(conn, project_id, member_id, now)
            # Gone for them; changed (its members, their tasks) for everyone left.
            await self._feed.record(
                conn, "project", [project_id], DELETE, now=now, user_id=member_id
            )
            await self._project_changed(conn, project_id, now)
            await self._feed.record(
                conn, "task", unassigned, UPSERT, now=now, project_id=project_id
            )
        await self._changed_for(readers)

    async def transfer(
        self, user_id: uuid.UUID, project_id: uuid.UUID, new_owner: uuid.UUID
    ) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            await self._access.project(conn, user_id, project_id, MANAGE, "transfer it")
            # Locked, then checked again: a transfer that ran meanwhile may have made the
            # caller an editor.
            await self._access.lock(conn, project_id)
            await self._access.project(conn, user_id, project_id, MANAGE, "transfer it")
            await self._not_inbox(conn, user_id, project_id)
            role = await self._repo.member_role(conn, project_id, new_owner)
            if role is None:
                raise MemberNotFound("Add them as a member before transferring the project.")
            if new_owner != user_id:
                await self._repo.set_role(conn, project_id, user_id, Role.editor)
                await self._repo.set_role(conn, project_id, new_owner, Role.owner)
                await self._repo.update(conn, project_id, {"owner_id": new_owner}, None, now)
                await self._project_changed(conn, project_id, now)
            found = await self._repo.get(conn, user_id, project_id)
            readers = await self._access.members(conn, project_id)
        assert found is not None
        await self._changed_for(readers)
        return found

    async def _project_changed(
        self, conn: AsyncConnection, project_id: uuid.UUID, now: datetime
    ) -> None:
        await self._feed.record(
            conn, "project", [project_id], UPSERT, now=now, project_id=project_id
        )

    async def _not_inbox(
        self, conn: AsyncConnection, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> None:
        current = await self._repo.get(conn, user_id, project_id)
        if current is not None and current["is_inbox"]:
            raise InboxNotShareable("Share another project; the Inbox stays yours alone.")

    # Sections

    async def sections(
        self, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> builtins.list[dict[str, Any]]:
        async with self._db.engine.connect() as conn:
            await self._access.project(conn, user_id, project_id, READ, "see its sections")
            return await self._repo.sections(conn, project_id)

    async def create_section(
        self, user_id: uuid.UUID, project_id: uuid.UUID, payload: SectionCreate
    ) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            await self._access.project(conn, user_id, project_id, WRITE, "add sections")
            await self._access.lock(conn, project_id)  # the count below holds until commit
            limit = self._settings.sections_max_per_project
            if await self._repo.count_sections(conn, project_id) >= limit:
                raise SectionLimit(f"A project can have at most {limit} sections.")
            position = payload.position
            if position is None:
                position = await self._repo.next_section_position(conn, project_id)
            section_id = await self._repo.insert_section(
                conn, project_id, payload.name, float(position), now
            )
            await self._feed.record(
                conn, "section", [section_id], UPSERT, now=now, project_id=project_id
            )
            found = await self._repo.section(conn, project_id, section_id)
            readers = await self._access.members(conn, project_id)
        assert found is not None
        await self._changed_for(readers)
        return found

    async def update_section(
        self,
        user_id: uuid.UUID,
        project_id: uuid.UUID,
        section_id: uuid.UUID,
        patch: SectionPatch,
        expected_versions: frozenset[int] | None,
    ) -> dict[str, Any]:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            grant = await self._access.project(conn, user_id, project_id, READ, "see it")
            current = await self._section(conn, project_id, section_id)
            grant.require(WRITE, "change sections")
            values = patch.model_dump(exclude_unset=True)
            if "position" in values:
                values["position"] = float(values["position"])
            if values and not await self._repo.update_section(
                conn, section_id, values, expected_versions, now
            ):
                raise self._conflict(current["version"])
            readers: builtins.list[uuid.UUID] = []
            if values:
                await self._feed.record(
                    conn, "section", [section_id], UPSERT, now=now, project_id=project_id
                )
                readers = await self._access.members(conn, project_id)
            if (
                not values
                and expected_versions is not None
                and current["version"] not in expected_versions
            ):
                raise self._conflict(current["version"])
            found = await self._section(conn, project_id, section_id)
        await self._changed_for(readers)
        return found

    async def delete_section(
        self,
        user_id: uuid.UUID,
        project_id: uuid.UUID,
        section_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
    ) -> None:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            grant = await self._access.project(conn, user_id, project_id, READ, "see it")
            current = await self._section(conn, project_id, section_id)
            grant.require(WRITE, "delete sections")
            held = await self._repo.delete_section(conn, section_id, expected_versions, now)
            if held is None:
                raise self._conflict(current["version"])
            await self._feed.record(
                conn, "section", [section_id], DELETE, now=now, project_id=project_id
            )
            await self._feed.record(conn, "task", held, UPSERT, now=now, project_id=project_id)
            readers = await self._access.members(conn, project_id)
        await self._changed_for(readers)

    async def _section(
        self, conn: AsyncConnection, project_id: uuid.UUID, section_id: uuid.UUID
    ) -> dict[str, Any]:
        found = await self._repo.section(conn, project_id, section_id)
        if found is None:
            raise SectionNotFound("No section with this id in this project.")
        return found

    @staticmethod
    def _conflict(current: int) -> ProjectVersionConflict:
        return ProjectVersionConflict(
            "It was changed by someone else; fetch it and send If-Match with its new ETag.",
            extra={"current_version": current},
            headers={"ETag": version_etag(current)},
        )
