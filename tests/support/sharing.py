"""Projects shared through the API, for the tests of what members may do with a task."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.projects.models import project_members
from taskwell.users.models import users
from tests.conftest import Account

PROJECTS = "/api/v1/projects"
TASKS = "/api/v1/tasks"


async def user_id(client: httpx.AsyncClient, account: Account) -> str:
    response = await client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def make_project(
    client: httpx.AsyncClient, owner: Account, members: Sequence[tuple[Account, str]] = ()
) -> str:
    """A project of owner's, shared with each member in the role named: [(bob, "editor")]."""
    response = await client.post(PROJECTS, json={"name": "Garden"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    project_id = str(response.json()["id"])
    for member, role in members:
        response = await client.post(
            f"{PROJECTS}/{project_id}/members",
            json={"email": member.email, "role": role},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
    return project_id


async def make_task(
    client: httpx.AsyncClient, account: Account, project_id: str, title: str = "Plant roses"
) -> str:
    response = await client.post(
        TASKS, json={"title": title, "project_id": project_id}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def set_role(app: FastAPI, project_id: str, account: Account, role: str) -> None:
    """Change a member's role behind the API's back, as the owner's sharing dialog would."""
    async with app.state.context.db.transaction() as conn:
        member = sa.select(users.c.id).where(users.c.email == account.email).scalar_subquery()
        await conn.execute(
            sa.update(project_members)
            .where(
                project_members.c.project_id == uuid.UUID(project_id),
                project_members.c.user_id == member,
            )
            .values(role=role)
        )
