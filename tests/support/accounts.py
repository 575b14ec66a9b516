"""Account state changed behind the API's back, as an administrator or a migration would."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.users.models import users


async def set_active(app: FastAPI, email: str, active: bool) -> None:
    async with app.state.context.db.transaction() as conn:
        await conn.execute(sa.update(users).where(users.c.email == email).values(is_active=active))
