"""The objects one app instance runs on, built once from settings when the app starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from taskwell.activity.service import ActivityLog
from taskwell.apikeys.service import ApiKeyService
from taskwell.audit.service import AuditLog
from taskwell.auth.cookies import CookieNames
from taskwell.auth.login_throttle import LoginThrottle
from taskwell.auth.passwords import PasswordHasher
from taskwell.auth.policy import PasswordPolicy
from taskwell.auth.service import AuthService
from taskwell.auth.session_guard import SessionGuard
from taskwell.auth.session_store import SessionStore
from taskwell.auth.session_store_sql import SqlSessionStore
from taskwell.auth.tokens import TokenCodec
from taskwell.auth.totp import TotpService
from taskwell.changes.feed import ChangeFeed
from taskwell.changes.service import SyncService
from taskwell.comments.service import CommentService
from taskwell.crypto import Encryptor
from taskwell.db.engine import Database
from taskwell.events.stream import EventStreams
from taskwell.events.wakeups import Wakeups, make_wakeups
from taskwell.kv.attempts import AttemptLog, MemoryAttemptLog, RedisAttemptLog
from taskwell.kv.cache import CachedReads, MemoryTaggedCache, RedisTaggedCache, TaggedCache
from taskwell.kv.ratelimit import RateLimiter, make_storage
from taskwell.labels.service import LabelService
from taskwell.portability.service import PortabilityService
from taskwell.projects.access import ProjectAccess
from taskwell.projects.service import ProjectService
from taskwell.reminders.service import ReminderService
from taskwell.search.service import SearchService
from taskwell.settings import Settings
from taskwell.tasks.repository import TaskRepository
from taskwell.tasks.service import TaskService
from taskwell.users.avatars import AvatarService
from taskwell.users.repository import UserRepository
from taskwell.users.service import UserService
from taskwell.webhooks.repository import WebhookRepository
from taskwell.webhooks.service import WebhookService
from taskwell.webhooks.ssrf import TargetGuard
from taskwell.worker.nudge import Nudges, waker

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    db: Database
    redis: Redis | None
    limiter: RateLimiter
    cache: CachedReads | None
    auth: AuthService
    users: UserService
    tasks: TaskService
    api_keys: ApiKeyService
    audit: AuditLog
    cookie_names: CookieNames
    totp: TotpService
    avatars: AvatarService
    access: ProjectAccess
    projects: ProjectService
    labels: LabelService
    activity: ActivityLog
    comments: CommentService
    portability: PortabilityService
    search: SearchService
    reminders: ReminderService
    sync: SyncService
    wakeups: Wakeups
    events: EventStreams
    webhooks: WebhookService
    webhook_guard: TargetGuard
    worker_nudges: Nudges

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[AppContext]:
        """Open the pools this instance needs, and close them when it stops."""
        redis: Redis | None = None
        if settings.redis_url:
            from taskwell.kv.redis_client import make_redis

            redis = make_redis(settings)
        try:
            db = Database.from_settings(settings, redis)
            try:
                context = cls.build(settings, db, redis)
                try:
                    await context.wakeups.start()
                    yield context
                finally:
                    await context.wakeups.close()
                    if context.cache is not None:
                        await context.cache.close()
                    context.webhook_guard.close()
            finally:
                await db.dispose()
        finally:
            if redis is not None:
                await redis.aclose()

    @classmethod
    def build(cls, settings: Settings, db: Database, redis: Redis | None = None) -> AppContext:
        user_repo = UserRepository(db)
        store: SessionStore
        if redis is not None:
            from taskwell.auth.session_store_redis import RedisSessionStore

            store = RedisSessionStore(redis)
        else:
            store = SqlSessionStore(db)
        guard = SessionGuard(
            store,
            user_repo,
            ttl_seconds=settings.session_check_cache_seconds,
            grace_seconds=settings.session_store_grace_seconds,
        )
        limiter = RateLimiter(
            make_storage(redis),
            settings.rate_limit_rules,
            fail_closed=settings.rate_limit_fail_closed_groups,
        )
        reads: CachedReads | None = None
        if settings.cache_enabled:
            cache: TaggedCache = (
                MemoryTaggedCache(settings.cache_ttl_seconds)
                if redis is None
                else RedisTaggedCache(redis, settings.cache_ttl_seconds)
            )
            reads = CachedReads(cache)
        audit = AuditLog(db)
        encryptor = Encryptor.from_settings(settings)
        totp = TotpService(db, encryptor, settings.secret_key.get_secret_value())
        attempts: AttemptLog = MemoryAttemptLog() if redis is None else RedisAttemptLog(redis)
        auth = AuthService(
            settings,
            db,
            user_repo,
            store,
            guard,
            PasswordHasher(settings),
            PasswordPolicy(settings),
            TokenCodec(settings),
            LoginThrottle(settings, attempts, limiter),
            audit,
            totp,
        )
        access = ProjectAccess(db)
        activity = ActivityLog(db, access, settings)
        feed = ChangeFeed(db.dialect.name)
        labels = LabelService(settings, db, feed)

        async def beacon() -> int:
            async with db.engine.connect() as conn:
                return await feed.watermark(conn)

        wakeups = make_wakeups(redis, settings, beacon)
        tasks = TaskService(
            settings, db, TaskRepository(db), access, activity, labels, feed, reads, wakeups
        )
        sync = SyncService(settings, db, feed)
        projects = ProjectService(settings, db, access, tasks.changed_for, feed)
        nudges = Nudges()
        target_guard = TargetGuard(
            allow_http=settings.webhook_allow_http,
            allowed_networks=settings.webhook_networks,
            resolve_timeout=settings.webhook_connect_timeout_seconds,
            resolver_threads=settings.webhook_resolver_threads,
        )
        auth.on_register(projects.create_inbox)
        return cls(
            settings=settings,
            db=db,
            redis=redis,
            limiter=limiter,
            auth=auth,
            users=UserService(db, user_repo, auth),
            cache=reads,
            api_keys=ApiKeyService(db),
            audit=audit,
            cookie_names=CookieNames(settings.cookie_secure),
            totp=totp,
            avatars=AvatarService(db, audit, max_pixels=settings.avatar_max_pixels),
            tasks=tasks,
            access=access,
            projects=projects,
            labels=labels,
            activity=activity,
            comments=CommentService(settings, db, access, activity, feed, tasks.changed_for),
            sync=sync,
            wakeups=wakeups,
            events=EventStreams(settings, sync, wakeups),
            webhooks=WebhookService(
                settings,
                db,
                WebhookRepository(db),
                target_guard,
                encryptor,
                sync,
                waker(wakeups.publish, nudges),
            ),
            webhook_guard=target_guard,
            worker_nudges=nudges,
            portability=PortabilityService(settings, db, access, feed, tasks.changed_for),
            search=SearchService(settings, db),
            reminders=ReminderService(settings, db, access),
        )


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
