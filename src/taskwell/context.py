"""The objects one app instance runs on, built once from settings in create_app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from taskwell.auth.passwords import PasswordHasher
from taskwell.auth.policy import PasswordPolicy
from taskwell.auth.repository import SessionRepository
from taskwell.auth.service import AuthService
from taskwell.auth.session_guard import SessionGuard
from taskwell.auth.tokens import TokenCodec
from taskwell.db.engine import Database
from taskwell.settings import Settings
from taskwell.tasks.repository import TaskRepository
from taskwell.tasks.service import TaskService
from taskwell.users.repository import UserRepository
from taskwell.users.service import UserService


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    db: Database
    auth: AuthService
    users: UserService
    tasks: TaskService

    @classmethod
    def build(cls, settings: Settings, db: Database) -> AppContext:
        user_repo = UserRepository()
        sessions = SessionRepository(db)
        guard = SessionGuard(sessions, settings.session_check_cache_seconds)
        auth = AuthService(
            settings,
            db,
            user_repo,
            sessions,
            guard,
            PasswordHasher(settings),
            PasswordPolicy(settings),
            TokenCodec(settings),
        )
        return cls(
            settings=settings,
            db=db,
            auth=auth,
            users=UserService(db, user_repo, auth),
            tasks=TaskService(settings, db, TaskRepository(db)),
        )


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
