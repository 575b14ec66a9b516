"""All configuration: read once from TASKWELL_* variables (and .env), validated, passed down."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal, Self
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from taskwell.http.client_ip import Network, parse_networks

# The development secret: fine on a laptop, refused in production.
BUILTIN_SECRET = "taskwell-development-secret-do-not-use-in-production"  # noqa: S105


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class UnsafeConfiguration(Exception):
    """Production was asked to start with a setting that would make it unsafe."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TASKWELL_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Environment.development
    debug: bool = False
    database_url: str = "sqlite+aiosqlite:///taskwell.db"
    # TLS to PostgreSQL (ignored for SQLite): require encrypts, verify-* also checks the server.
    database_ssl_mode: Literal["disable", "require", "verify-ca", "verify-full"] = "disable"
    # PEM file of the CA(s) that verify-ca / verify-full check the server certificate against.
    database_ssl_root_cert: Path | None = None
    # Set: sessions, cache and rate limits live in Redis, shared by every instance.
    redis_url: str | None = None
    redis_timeout_seconds: float = Field(default=0.5, gt=0, le=30)
    redis_max_connections: int = Field(default=50, ge=1)
    # While the session store is unreachable, valid access tokens keep working this long.
    session_store_grace_seconds: float = Field(default=300.0, ge=0)
    secret_key: SecretStr = SecretStr(BUILTIN_SECRET)
    # Key id written into each JWT header; rotate by adding a new id (see docs/security.md).
    jwt_key_id: str = "k1"
    # Extra verification keys "kid=secret,kid2=secret2" still accepted while tokens signed
    # with them expire after a rotation.
    jwt_previous_keys: SecretStr = SecretStr("")
    jwt_issuer: str = "taskwell"
    jwt_audience: str = "taskwell-api"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    # Absolute lifetime of a login session (its refresh-token family) and its idle timeout.
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300)
    session_idle_timeout_seconds: int = Field(default=7 * 86_400, ge=300)
    # How long one process trusts its cached "this session is alive" answer; logouts
    # made in the same process take effect at once.
    session_check_cache_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    cookie_secure: bool = True

    # Database pool (ignored for SQLite, which uses one connection per task).
    db_pool_size: int = Field(default=10, ge=1, le=500)
    # PostgreSQL only: the prepared hot reads have their own asyncpg pool (db/read_pool.py).
    db_read_pool_size: int = Field(default=10, ge=1, le=500)
    # Overflow connections are opened and closed per request under bursts: measured as
    # churn on the hot path (docs/benchmarks.md), so none by default; raise pool_size instead.
    db_max_overflow: int = Field(default=0, ge=0, le=500)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # Connections older than this are replaced at checkout (below server/proxy idle cut-offs).
    db_pool_recycle_seconds: int = Field(default=1_800, ge=-1)
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Read replicas (PostgreSQL streaming replicas), comma-separated URLs; none by default.
    # Task reads use one when it has replayed the reader's own last write (docs/scaling.md).
    database_replica_urls: str = ""
    db_replica_pool_size: int = Field(default=10, ge=1, le=500)
    # A replica further behind the primary than this is skipped until it catches up.
    db_replica_max_lag_seconds: float = Field(default=2.0, gt=0, le=300)
    # How often each instance asks every replica how far it has replayed (and the primary
    # where it is); a replica that does not answer within this is skipped until it does.
    db_replica_check_interval_seconds: float = Field(default=0.5, ge=0.05, le=30)
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0)
    # Embedded default: `serve` migrates the schema on start. Production never does.
    auto_migrate: bool | None = None

    # Argon2id parameters (OWASP minimum: m=19 MiB, t=2, p=1).
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_min_length: int = Field(default=12, ge=8)
    password_max_length: int = Field(default=128, ge=64, le=1024)
    # zxcvbn score (0..4) a new password must reach.
    password_min_score: int = Field(default=3, ge=0, le=4)

    # Addresses whose X-Forwarded-For is believed ("10.0.0.0/8,127.0.0.1"); none by default.
    trusted_proxies: str = ""

    # Rate limits ("N/second|minute|hour|day"), per client address unless noted.
    rate_limit_default: str = "600/minute"
    rate_limit_user: str = "1200/minute"  # per signed-in user, on every authenticated route
    rate_limit_login: str = "30/minute"
    rate_limit_login_account: str = "10/minute"  # per target email, whatever the address
    rate_limit_register: str = "10/hour"
    rate_limit_refresh: str = "60/minute"
    rate_limit_rum: str = "120/minute"  # browser vitals and error reports (no session)
    rate_limit_portability: str = "30/hour"  # per user: imports and exports together
    # Groups that refuse requests (503) rather than let them through when Redis is down.
    rate_limit_fail_closed: str = "login,login_account,register,refresh"
    # Account protection: after this many failed logins for one email within the window,
    # each further attempt waits base * 2^(failures - threshold) seconds, capped at max.
    login_failure_threshold: int = Field(default=10, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_backoff_base_seconds: float = Field(default=1.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900.0, gt=0)

    # Caching of task reads (per-owner buckets; writes invalidate exactly what they change).
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(default=3_600, ge=1)

    # Observability. log_format "auto": JSON lines in production, console text elsewhere.
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True  # one line per request
    metrics_enabled: bool = True
    # Who may read /metrics: these addresses, or anyone presenting metrics_token as Bearer.
    metrics_allowed_networks: str = "127.0.0.0/8,::1/128"
    metrics_token: SecretStr | None = None
    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = None  # defaults to TASKWELL_ENV
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    # Browser-facing security. CORS is closed unless origins are listed ("https://a,https://b").
    cors_origins: str = ""
    hsts: bool = False  # always on in production
    # Request shape caps (the app server's own; nginx has its own, see deploy/nginx).
    max_url_bytes: int = Field(default=8_192, ge=256)
    max_header_bytes: int = Field(default=16_384, ge=1_024)
    max_json_depth: int = Field(default=20, ge=2)
    max_json_items: int = Field(default=1_000, ge=10)

    # Keys for sensitive columns at rest: "kid:base64key,kid2:base64key" (first encrypts;
    # all decrypt). Empty: a key derived from secret_key. `taskwell keys generate` makes one.
    encryption_keys: SecretStr = SecretStr("")

    # On SIGTERM, keep serving this long (every response closing its connection, /readyz 503)
    # before stopping, so a load balancer never reuses a connection the app is closing
    # (src/taskwell/drain.py). Unset: 5 s in production, 0 elsewhere.
    shutdown_drain_seconds: float | None = Field(default=None, ge=0, le=300)

    # How often each instance purges expired rows (idempotency keys, ended sessions, old
    # audit events); 0 turns it off.
    maintenance_interval_seconds: float = Field(default=3_600.0, ge=0)

    # How long audit events are kept (ASVS 16: long enough to investigate, no longer).
    audit_retention_days: int = Field(default=365, ge=1)

    # Request limits.
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)

    # Projects: how many one user may be a member of (GET /projects answers with all of them,
    # unpaged), members of one project, sections in one project.
    projects_max_per_user: int = Field(default=1_000, ge=1, le=100_000)
    members_max_per_project: int = Field(default=250, ge=2, le=10_000)
    sections_max_per_project: int = Field(default=200, ge=1, le=10_000)
    # Incremental sync (GET /sync): changes are kept this long (older tokens answer 410), and
    # one answer holds at most this many changes by default / at most.
    sync_retention_days: int = Field(default=30, ge=1, le=3_650)
    sync_page_default: int = Field(default=500, ge=1)
    sync_page_max: int = Field(default=1_000, ge=1)
    # Server-sent events (GET /events): a heartbeat comment this often (proxies close quiet
    # connections); each stream also looks for changes this often by itself (wake-ups make
    # it look at once, this covers a lost one); a reconnect (Last-Event-ID) replays changes
    # this far back, an older id gets a `resync` event (never more than the sync retention);
    # a stream ends after this long (the client reconnects; its credential is also checked
    # at every heartbeat); open streams per user, and in all, on one instance.
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    events_poll_seconds: float = Field(default=5.0, gt=0, le=3_600)
    events_replay_seconds: int = Field(default=86_400, ge=60)
    events_stream_max_seconds: float = Field(default=3_600.0, ge=0.1)
    events_streams_per_user: int = Field(default=10, ge=1, le=1_000)
    events_streams_max: int = Field(default=2_000, ge=1)
    # Without Redis: how often a process with open streams reads the change feed's watermark
    # to notice writes made by other processes (serve --workers N, a separate worker).
    events_beacon_seconds: float = Field(default=0.25, gt=0, le=60)
    # Reminders one user may set on one task.
    reminders_max_per_task: int = Field(default=10, ge=1, le=1_000)
    # Deleted tasks and projects stay restorable this long, then maintenance purges them.
    trash_retention_days: int = Field(default=30, ge=1, le=3_650)

    # --- The worker: webhook deliveries and due reminders (webhooks/, worker/) ---
    # Run the worker loop inside each app process. Unset: yes on the embedded default (no
    # Redis), no when Redis is configured (run `taskwell worker` processes instead) and under
    # the test profile (tests drive the worker themselves).
    worker_in_process: bool | None = None
    # The longest the worker idles before it looks for due deliveries and reminders again;
    # without Redis it also scans every endpoint's changes that often. With Redis, wake-ups
    # after each write make it look at once, and a full scan runs every sweep interval.
    worker_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    worker_sweep_seconds: float = Field(default=30.0, gt=0, le=3_600)
    # Changes, reminders or deliveries one worker takes in one go; deliveries in flight at once.
    worker_batch_size: int = Field(default=100, ge=1, le=1_000)
    webhook_concurrency: int = Field(default=16, ge=1, le=1_000)
    # Deliveries to one endpoint in flight at once, across all workers: an endpoint that
    # answers slowly or never holds at most this many of the slots above.
    webhook_concurrency_per_endpoint: int = Field(default=4, ge=1, le=1_000)
    # ...and to all of one account's endpoints together (ten endpoints at one slow host).
    webhook_concurrency_per_account: int = Field(default=8, ge=1, le=1_000)
    webhooks_max_per_user: int = Field(default=10, ge=1, le=1_000)
    # Targets: https only unless http is allowed (local development, tests); addresses that are
    # not public (private, loopback, link-local, ...) only inside these networks
    # ("10.0.0.0/8,::1"); none by default.
    webhook_allow_http: bool = False
    webhook_allowed_networks: str = ""
    # One attempt's deadline (DNS, connect, TLS, request, answer), its connect part, and the
    # most of an answer read. A claimed delivery whose worker dies is due again after the lease.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # Threads for looking up webhook host names (at registration and before each attempt),
    # apart from every other thread: a lookup that hangs holds one until the system resolver
    # gives up, whatever the timeout above (webhooks/ssrf.py).
    webhook_resolver_threads: int = Field(default=4, ge=1, le=64)
    webhook_max_response_bytes: int = Field(default=16_384, ge=0, le=10_485_760)
    webhook_lease_seconds: float = Field(default=60.0, gt=0, le=3_600)
    # Retries: base * 2^(attempt-1) seconds, +-25% jitter, capped; a delivery that failed this
    # many attempts is given up. An endpoint is disabled after this many failed attempts in a
    # row (and at least the given time after the first of them).
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=3_600)
    webhook_retry_max_seconds: float = Field(default=21_600.0, gt=0, le=604_800)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_disable_after_failures: int = Field(default=20, ge=1, le=10_000)
    webhook_disable_after_seconds: float = Field(default=3_600.0, ge=0, le=2_592_000)
    # After a secret rotation the old secret signs too (a second signature) this long.
    webhook_secret_grace_seconds: int = Field(default=86_400, ge=0, le=2_592_000)
    # Finished deliveries and their attempts are kept this long in the delivery log.
    webhook_log_retention_days: int = Field(default=30, ge=1, le=3_650)

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _webhook_networks_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _webhook_lease_outlasts_an_attempt(self) -> Self:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "TASKWELL_WEBHOOK_LEASE_SECONDS must be longer than "
                "TASKWELL_WEBHOOK_TIMEOUT_SECONDS, or a slow attempt would be sent twice"
            )
        return self

    @property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.redis_url is None and self.env is not Environment.test

    @cached_property
    def webhook_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.webhook_allowed_networks)

    # --- end of the worker's settings ---

    # Search (GET /search): hits ranked and paged per query (the best this many), and the
    # longest query text accepted.
    search_max_results: int = Field(default=500, ge=1, le=10_000)
    search_query_max_length: int = Field(default=200, ge=1, le=1_000)

    # Labels one user may own: GET /labels answers with all of them, unpaged.
    labels_max_per_user: int = Field(default=500, ge=1, le=10_000)

    # Import and export (portability/): the import routes' own body cap (TASKWELL_MAX_BODY_BYTES
    # does not apply to them), the most tasks and comments one import may hold, and the most
    # tasks one export may hold (written to a temporary file, then sent).
    import_max_bytes: int = Field(default=20 * 1_048_576, ge=1_024, le=1_024 * 1_048_576)
    import_max_tasks: int = Field(default=50_000, ge=1, le=1_000_000)
    import_max_comments: int = Field(default=100_000, ge=1, le=1_000_000)
    export_max_tasks: int = Field(default=100_000, ge=1, le=10_000_000)

    # Avatars: the upload's own body cap (TASKWELL_MAX_BODY_BYTES does not apply to it), and
    # the most pixels an image may declare before it is decoded (decompression bombs).
    avatar_max_bytes: int = Field(default=5 * 1_048_576, ge=1_024, le=100 * 1_048_576)
    avatar_max_pixels: int = Field(default=40_000_000, ge=10_000, le=1_000_000_000)

    # The browser app: the built files (default: the copy inside the package, webapp/dist).
    webapp_dir: Path | None = None
    # Response compression (brotli or gzip, as Accept-Encoding allows) of text bodies at
    # least this large; off when nginx in front compresses instead.
    compression_enabled: bool = True
    compression_min_bytes: int = Field(default=1_024, ge=0)

    @field_validator(
        "rate_limit_default",
        "rate_limit_user",
        "rate_limit_login",
        "rate_limit_login_account",
        "rate_limit_register",
        "rate_limit_refresh",
        "rate_limit_rum",
        "rate_limit_portability",
    )
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        # Imported here: kv.ratelimit imports errors, which imports this module.
        from taskwell.kv.ratelimit import parse_rule

        parse_rule(value)  # raises ValueError with the reason
        return value

    @field_validator("trusted_proxies", "metrics_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _database_tls_is_consistent(self) -> Self:
        mode, root_cert = self.database_ssl_mode, self.database_ssl_root_cert
        if mode.startswith("verify-"):
            if root_cert is None:
                raise ValueError(
                    f"TASKWELL_DATABASE_SSL_MODE={mode} needs TASKWELL_DATABASE_SSL_ROOT_CERT, "
                    "the CA file the server certificate is checked against"
                )
            if not root_cert.is_file():
                raise ValueError(
                    f"TASKWELL_DATABASE_SSL_ROOT_CERT={root_cert} is not a readable file"
                )
        elif root_cert is not None:
            # A CA that is never checked gives a false sense of safety: say so instead.
            raise ValueError(
                f"TASKWELL_DATABASE_SSL_ROOT_CERT is only used with verify-ca or verify-full, "
                f"but TASKWELL_DATABASE_SSL_MODE is {mode}"
            )
        url_tls = {"ssl", "sslmode"} & parse_qs(urlsplit(self.database_url).query).keys()
        if mode != "disable" and url_tls:
            raise ValueError(
                f"TASKWELL_DATABASE_URL sets {sorted(url_tls)[0]}= and TASKWELL_DATABASE_SSL_MODE "
                "is set too; configure TLS in TASKWELL_DATABASE_SSL_MODE only"
            )
        return self

    @model_validator(mode="after")
    def _replicas_are_postgres(self) -> Self:
        urls = self.replica_urls
        if urls and not self.database_url.startswith("postgresql+asyncpg://"):
            raise ValueError(
                "TASKWELL_DATABASE_REPLICA_URLS needs a PostgreSQL primary: set "
                "TASKWELL_DATABASE_URL to postgresql+asyncpg://..."
            )
        for url in urls:
            if not url.startswith(("postgresql+asyncpg://", "postgresql://")):
                raise ValueError(
                    "TASKWELL_DATABASE_REPLICA_URLS holds a URL that is not PostgreSQL "
                    "(postgresql+asyncpg://user@host:port/db)"
                )
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> Self:
        if self.env is not Environment.production:
            return self
        secret = self.secret_key.get_secret_value()
        problems = []
        if secret == BUILTIN_SECRET:
            problems.append("TASKWELL_SECRET_KEY is the built-in development secret; set your own")
        if len(secret.encode()) < 32:
            problems.append("TASKWELL_SECRET_KEY must be at least 32 bytes")
        if self.debug:
            problems.append("TASKWELL_DEBUG must be false in production")
        if not self.cookie_secure:
            problems.append("TASKWELL_COOKIE_SECURE must be true in production")
        if self.auto_migrate:
            problems.append(
                "TASKWELL_AUTO_MIGRATE must be off in production; run `taskwell db upgrade`"
            )
        if problems:
            raise UnsafeConfiguration("; ".join(problems))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def drain_seconds(self) -> float:
        if self.shutdown_drain_seconds is not None:
            return self.shutdown_drain_seconds
        return 5.0 if self.env is Environment.production else 0.0

    @property
    def migrates_on_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.env is not Environment.production

    @cached_property
    def replica_urls(self) -> tuple[str, ...]:
        return tuple(u.strip() for u in self.database_replica_urls.split(",") if u.strip())

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @cached_property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @cached_property
    def metrics_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.metrics_allowed_networks)

    @cached_property
    def rate_limit_rules(self) -> dict[str, str]:
        return {
            "default": self.rate_limit_default,
            "user": self.rate_limit_user,
            "login": self.rate_limit_login,
            "login_account": self.rate_limit_login_account,
            "register": self.rate_limit_register,
            "refresh": self.rate_limit_refresh,
            "rum": self.rate_limit_rum,
            "portability": self.rate_limit_portability,
        }

    @cached_property
    def rate_limit_fail_closed_groups(self) -> frozenset[str]:
        return frozenset(g.strip() for g in self.rate_limit_fail_closed.split(",") if g.strip())

    @cached_property
    def jwt_keys(self) -> dict[str, str]:
        """Every key id this process accepts, the signing key first."""
        keys = {self.jwt_key_id: self.secret_key.get_secret_value()}
        for pair in self.jwt_previous_keys.get_secret_value().split(","):
            kid, sep, secret = pair.partition("=")
            kid, secret = kid.strip(), secret.strip()
            if sep and kid and secret:
                keys.setdefault(kid, secret)
        return keys
