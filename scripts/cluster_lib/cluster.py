"""The whole loopback deployment: bring it up in order, report on it, take it down, and let
a fault drill stop, kill or restart any one part."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .components import App, Nginx, PgBouncer, Primary, Redis, Replica, Server, Worker
from .config import REPO, ClusterConfig
from .processes import (
    ClusterError,
    children,
    environment,
    identities,
    listening,
    run,
    still_running,
    wait_until,
)

# How long `down` waits for a stopped part's last process (a worker, a backend) to end.
LEFTOVER_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    port: int
    up: bool
    detail: str


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.primary = Primary(config, "primary")
        self.replica = Replica(config, "replica", self.primary)
        self.apps = [App(config, name) for name in config.app_names]
        self.nginx = Nginx(config, "nginx")
        # The order they start in; they stop in reverse.
        self.components: list[Server] = [
            self.primary,
            self.replica,
            PgBouncer(config, "pgbouncer"),
            Redis(config, "redis"),
            *self.apps,
            Worker(config, "worker"),
            self.nginx,
        ]

    def component(self, name: str) -> Server:
        for component in self.components:
            if component.name == name:
                return component
        known = ", ".join(c.name for c in self.components)
        raise ClusterError(f"no component {name!r} (known: {known})")

    def up(self) -> float:
        """Start whatever is not running, wait until nginx reaches a ready instance; seconds."""
        started = time.monotonic()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self.config.state_dir.chmod(0o755)  # PostgreSQL's user and nginx's workers pass through
        self.config.save()
        self.config.secrets()
        self._ensure_static_files()
        self.primary.start()
        self.primary.create_roles()
        for component in self.components[1:]:
            if isinstance(component, App) and component is self.apps[0]:
                self.migrate()
            component.start()
        return time.monotonic() - started

    def migrate(self) -> None:
        """`taskwell db upgrade`, straight to the primary (DDL needs no pooler)."""
        env = {
            **self.config.app_environment(),
            "TASKWELL_DATABASE_URL": self.config.database_url("primary"),
        }
        workdir = self.config.state_dir / "apps"
        workdir.mkdir(parents=True, exist_ok=True)
        run(
            [self.config.python, "-m", "taskwell", "db", "upgrade"],
            env=environment(env),
            cwd=workdir,
        )

    def _ensure_static_files(self) -> None:
        root = self.config.static_root
        if (root / "index.html").exists():
            return
        frontend = REPO / "frontend"
        npm = shutil.which("npm")
        if npm is None or root != REPO / "src" / "taskwell" / "webapp" / "dist":
            raise ClusterError(
                f"the browser app is not built: no {root}/index.html "
                "(cd frontend && npm ci && npm run build)"
            )
        if not (frontend / "node_modules").exists():
            run([npm, "ci", "--no-audit", "--no-fund"], cwd=frontend, timeout=600)
        run([npm, "run", "build"], cwd=frontend, timeout=600)

    def status(self) -> list[ComponentStatus]:
        return [
            ComponentStatus(c.name, c.pid(), c.port, c.ready(), c.detail() if c.running() else "")
            for c in self.components
        ]

    def down(self, purge: bool = False) -> None:
        """Stop everything, newest first, and check that no process or port is left."""
        # Each part's own pid and its children's (nginx workers, PostgreSQL backends).
        pids = [pid for c in self.components if (pid := c.pid()) is not None]
        processes = identities([*pids, *(child for pid in pids for child in children(pid))])
        errors = []
        for component in reversed(self.components):
            try:
                component.stop()
            except ClusterError as exc:
                errors.append(str(exc))
        leftovers = self.leftovers(processes)
        if leftovers:
            errors.append("still running after down: " + ", ".join(leftovers))
        if errors:
            raise ClusterError("\n".join(errors))
        if purge:
            shutil.rmtree(self.config.state_dir)

    def leftovers(self, processes: Mapping[int, str]) -> list[str]:
        """What survives: any of `processes` (processes.identities) still running a moment
        after the stop (a child's exit can trail its parent's), and any port of the cluster
        still open."""
        deadline = time.monotonic() + LEFTOVER_WAIT_SECONDS
        while (running := still_running(processes)) and time.monotonic() < deadline:
            time.sleep(0.05)
        found = [f"pid {pid}" for pid in running]
        found += [f"port {port}" for port in self.config.all_ports if listening(port)]
        return found

    # Fault drills: one part at a time.
    def start(self, name: str) -> None:
        self.component(name).start()

    def stop(self, name: str) -> None:
        self.component(name).stop()

    def kill(self, name: str) -> None:
        self.component(name).kill()

    def restart(self, name: str) -> None:
        self.component(name).restart()

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        component = self.component(name)
        wait_until(component.ready, timeout, f"{name} was not ready", component.log)
