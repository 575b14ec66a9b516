"""Where the cluster lives and what every part of it is told: ports, paths, secrets, settings.

Every value a component needs comes from here, so a port or a setting is changed in one place.
The state directory holds data, logs, pid files and the generated secrets; it is kept between
`up` and `down` (data survives a restart), and `down --purge` removes it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO / ".cluster"
DEFAULT_BASE_PORT = 24100
DEFAULT_INSTANCES = 2
# Fixed offsets from the base port; the app instances count up from APP_OFFSET.
# The worker's port answers its health check only.
OFFSETS = {
    "nginx": 0,
    "nginx-http": 1,
    "primary": 2,
    "replica": 3,
    "pgbouncer": 4,
    "redis": 5,
    "worker": 6,
}
APP_OFFSET = 10
MAX_INSTANCES = 20
DATABASE = "taskwell"
DB_USER = "taskwell"
REPLICATION_USER = "replicator"
REPLICATION_SLOT = "replica1"


def _default_python() -> Path:
    """The project's virtualenv, where `taskwell` is installed; else this interpreter."""
    venv = REPO / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


@dataclass(frozen=True)
class Secrets:
    """Generated once per state directory and kept there (mode 0600)."""

    db_password: str
    replication_password: str
    redis_password: str
    secret_key: str

    @classmethod
    def load_or_create(cls, path: Path) -> Secrets:
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(
            db_password=secrets.token_urlsafe(24),
            replication_password=secrets.token_urlsafe(24),
            redis_password=secrets.token_urlsafe(24),
            secret_key=secrets.token_urlsafe(48),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(made.__dict__, out)
        return made


@dataclass(frozen=True)
class ClusterConfig:
    state_dir: Path = DEFAULT_STATE_DIR
    base_port: int = DEFAULT_BASE_PORT
    instances: int = DEFAULT_INSTANCES
    # Extra TASKWELL_* settings for the app instances (tests raise the rate limits with it).
    app_overrides: dict[str, str] = field(default_factory=dict)
    static_root: Path = REPO / "src" / "taskwell" / "webapp" / "dist"
    python: Path = field(default_factory=lambda: _default_python())

    def __post_init__(self) -> None:
        if not 1 <= self.instances <= MAX_INSTANCES:
            raise ValueError(f"instances must be 1..{MAX_INSTANCES}, not {self.instances}")
        top = self.base_port + APP_OFFSET + self.instances - 1
        if self.base_port < 1024 or top >= 32768:
            # 32768 and up is the kernel's ephemeral range: a client socket could hold the port.
            raise ValueError(f"ports {self.base_port}..{top} must lie within 1024..32767")

    def port(self, name: str) -> int:
        if name.startswith("app"):
            return self.base_port + APP_OFFSET + int(name[3:]) - 1
        return self.base_port + OFFSETS[name]

    @property
    def app_names(self) -> list[str]:
        return [f"app{i}" for i in range(1, self.instances + 1)]

    @property
    def all_ports(self) -> list[int]:
        return [self.base_port + o for o in OFFSETS.values()] + [
            self.port(n) for n in self.app_names
        ]

    @property
    def https_origin(self) -> str:
        return f"https://localhost:{self.port('nginx')}"

    @property
    def cafile(self) -> Path:
        return self.state_dir / "nginx" / "tls" / "cert.pem"

    def secrets(self) -> Secrets:
        return Secrets.load_or_create(self.state_dir / "secrets.json")

    def database_url(self, via: str = "pgbouncer") -> str:
        """The app database as a SQLAlchemy URL: through PgBouncer, or straight to a server."""
        password = self.secrets().db_password
        return f"postgresql+asyncpg://{DB_USER}:{password}@127.0.0.1:{self.port(via)}/{DATABASE}"

    def app_environment(self) -> dict[str, str]:
        """The TASKWELL_* settings of every instance: production, behind nginx and PgBouncer."""
        keys = self.secrets()
        return {
            "TASKWELL_ENV": "production",
            "TASKWELL_SECRET_KEY": keys.secret_key,
            "TASKWELL_COOKIE_SECURE": "true",
            # Writes and read-your-writes reads go to the primary through PgBouncer, whose
            # transaction mode cannot keep server-side prepared statements between queries.
            "TASKWELL_DATABASE_URL": self.database_url("pgbouncer"),
            "TASKWELL_DB_STATEMENT_CACHE_SIZE": "0",
            # Replica reads go straight to the replica (see docs/scaling.md).
            "TASKWELL_DATABASE_REPLICA_URLS": self.database_url("replica"),
            "TASKWELL_REDIS_URL": f"redis://:{keys.redis_password}@127.0.0.1:{self.port('redis')}/0",
            # nginx connects from 127.0.0.1: believe its X-Forwarded-For, nobody else's.
            "TASKWELL_TRUSTED_PROXIES": "127.0.0.1",
            # nginx compresses (and knows which routes must not be): the app does not.
            "TASKWELL_COMPRESSION_ENABLED": "false",
            "TASKWELL_AUTO_MIGRATE": "false",
            "TASKWELL_LOG_FORMAT": "json",
            **self.app_overrides,
        }

    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "cluster.json").write_text(
            json.dumps(
                {
                    "base_port": self.base_port,
                    "instances": self.instances,
                    "app_overrides": self.app_overrides,
                    "static_root": str(self.static_root),
                },
                indent=2,
            )
        )

    @classmethod
    def load(cls, state_dir: Path) -> ClusterConfig | None:
        """The configuration `up` saved in this state directory, if any."""
        path = state_dir / "cluster.json"
        if not path.exists():
            return None
        saved = json.loads(path.read_text())
        return cls(
            state_dir=state_dir,
            base_port=int(saved["base_port"]),
            instances=int(saved["instances"]),
            app_overrides=dict(saved.get("app_overrides", {})),
            static_root=Path(saved["static_root"]),
        )
