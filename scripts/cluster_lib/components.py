"""The cluster's parts, each a server that can be started, stopped, killed and asked about.

Every part has a name, a port, a pid file and a log in the state directory. `start` is
idempotent (a running part is left alone) and returns once the part answers; `stop` is the
polite way (what an operator's restart does); `kill` is SIGKILL, for fault drills.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import ssl
import urllib.request
from pathlib import Path

from . import nginx
from .config import DATABASE, DB_USER, REPLICATION_SLOT, REPLICATION_USER, ClusterConfig
from .processes import (
    ClusterError,
    environment,
    give_to_service_user,
    listening,
    read_pid,
    run,
    service_user_ids,
    spawn,
    stop_pid,
    tail,
    wait_until,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT = 60.0


class Server:
    """What every part shares: a pid file, a log, a port; start/stop/kill with bounded waits."""

    name: str
    stop_signal = signal.SIGTERM
    stop_timeout = 30.0

    def __init__(self, config: ClusterConfig, name: str) -> None:
        self.config = config
        self.name = name
        self.port = config.port(name)
        self.logs = config.state_dir / "logs"
        self.log = self.logs / f"{name}.log"
        self.pid_file = config.state_dir / "run" / f"{name}.pid"

    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self) -> bool:
        return self.running() and listening(self.port)

    def start(self) -> None:
        if self.running():
            self.wait_ready()
            return
        if listening(self.port):
            raise ClusterError(f"{self.name}: port {self.port} is taken by another process")
        self.logs.mkdir(parents=True, exist_ok=True)
        self.launch()
        self.wait_ready()

    def wait_ready(self) -> None:
        def check() -> bool:
            if not self.running():
                raise ClusterError(f"{self.name} exited while starting{tail(self.log)}")
            return self.ready()

        wait_until(check, START_TIMEOUT, f"{self.name} was not ready", self.log)

    def launch(self) -> None:
        """Start the process (its pid into pid_file); start() waits for it to be ready."""
        raise NotImplementedError

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, self.stop_signal, self.stop_timeout, self.log)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        pid = self.pid()
        if pid is None:
            raise ClusterError(f"{self.name} is not running")
        stop_pid(pid, signal.SIGKILL, 5.0, self.log)

    def restart(self) -> None:
        self.stop()
        self.start()

    def detail(self) -> str:
        return ""


class Postgres(Server):
    """A PostgreSQL 15 server in its own data directory, run with pg_ctl as the service user."""

    def __init__(self, config: ClusterConfig, name: str) -> None:
        super().__init__(config, name)
        self.data = config.state_dir / "postgres" / name
        self.sockets = config.state_dir / "postgres" / "sockets"
        self.pid_file = self.data / "postmaster.pid"

    @staticmethod
    def superuser() -> str:
        return "postgres" if service_user_ids() is not None else getpass.getuser()

    def pg_ctl(self, *args: str) -> str:
        return run([PG_BIN / "pg_ctl", "-D", self.data, *args], service_user=True, timeout=90)

    def launch(self) -> None:
        self.prepare()
        log = self.logs / f"{self.name}.log"
        if not log.exists():
            log.touch()
            give_to_service_user(log)
        # -w: pg_ctl returns when the server accepts connections (or fails, with the log).
        self.pg_ctl("start", "-w", "-t", "60", "-l", str(log), "-o", f"-p {self.port}")

    def prepare(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.running():
            # fast: roll back open transactions, end sessions, checkpoint, exit.
            self.pg_ctl("stop", "-w", "-t", "60", "-m", "fast")

    def psql(self, sql: str, database: str = "postgres", **variables: str) -> str:
        """Run SQL as the superuser over the Unix socket (peer authentication); the SQL
        reads `variables` as :'name' (psql quotes them)."""
        settings = [f"--variable={name}={value}" for name, value in variables.items()]
        return run(
            [
                PG_BIN / "psql",
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                *settings,
                "-h",
                self.sockets,
                "-p",
                str(self.port),
                "-U",
                self.superuser(),
                "-d",
                database,
                "-f",
                "-",
            ],
            service_user=True,
            cwd=self.config.state_dir,
            input=sql,
        ).strip()

    def _make_dirs(self) -> None:
        for directory in (self.data.parent, self.sockets):
            directory.mkdir(parents=True, exist_ok=True)
            give_to_service_user(directory)
        self.data.parent.chmod(0o755)


class Primary(Postgres):
    def prepare(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self._make_dirs()
        run(
            [
                PG_BIN / "initdb",
                "-D",
                self.data,
                "-U",
                self.superuser(),
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--no-instructions",
            ],
            service_user=True,
            cwd=self.config.state_dir,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# scripts/cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockets}'\n"
                "max_connections = 200\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "max_replication_slots = 5\n"
                "hot_standby = on\n"
                # The replica tells the primary which rows its queries still read, so
                # vacuum on the primary does not cancel them.
                "hot_standby_feedback = on\n"
            )

    def create_roles(self) -> None:
        """The app's role and database and the replication role (kept if they exist)."""
        keys = self.config.secrets()
        # psql quotes the variables (:'name'); format() quotes them again inside the DDL.
        script = """
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \\gexec
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', :'repl_user', :'repl_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl_user') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db_name', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db_name') \\gexec
"""
        self.psql(
            script,
            app_user=DB_USER,
            app_password=keys.db_password,
            repl_user=REPLICATION_USER,
            repl_password=keys.replication_password,
            db_name=DATABASE,
        )

    def replication(self) -> list[str]:
        """One line per connected standby: state, replay lag in ms and in bytes."""
        if not self.running():
            return []
        rows = self.psql(
            "SELECT state, COALESCE(round(EXTRACT(EPOCH FROM replay_lag) * 1000, 1), 0), "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"
        )
        return [line for line in rows.splitlines() if line]

    def detail(self) -> str:
        return "primary"


class Replica(Postgres):
    """A streaming replica of the primary, made with pg_basebackup on first start."""

    def __init__(self, config: ClusterConfig, name: str, primary: Primary) -> None:
        super().__init__(config, name)
        self.primary = primary

    def prepare(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self._make_dirs()
        # A slot left by an earlier attempt would make -C fail.
        self.primary.psql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = :'slot' AND NOT active",
            slot=REPLICATION_SLOT,
        )
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user={REPLICATION_USER} "
            f"password={self.config.secrets().replication_password} "
            f"application_name={self.name}"
        )
        run(
            [
                PG_BIN / "pg_basebackup",
                "-D",
                self.data,
                "-R",
                "-X",
                "stream",
                "-C",
                "-S",
                REPLICATION_SLOT,
                "--checkpoint=fast",
                "-d",
                conninfo,
            ],
            service_user=True,
            cwd=self.config.state_dir,
        )

    def detail(self) -> str:
        try:
            rows = self.primary.replication()
        except ClusterError:
            return "lag unknown (primary unreachable)"
        if not rows:
            return "not streaming"
        state, lag_ms, lag_bytes = rows[0].split("|")
        return f"{state}, replay lag {lag_ms} ms, {lag_bytes} bytes behind"


class PgBouncer(Server):
    """PgBouncer in transaction mode in front of the primary, run as the service user."""

    stop_signal = signal.SIGINT  # "safe shutdown": running transactions finish first
    stop_timeout = 10.0

    def launch(self) -> None:
        binary = shutil.which("pgbouncer")
        if binary is None:
            raise ClusterError("pgbouncer is not installed (apt-get install pgbouncer)")
        directory = self.config.state_dir / "pgbouncer"
        directory.mkdir(parents=True, exist_ok=True)
        keys = self.config.secrets()
        users = directory / "userlist.txt"
        users.write_text(f'"{DB_USER}" "{keys.db_password}"\n')
        users.chmod(0o600)
        ini = directory / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"{DATABASE} = host=127.0.0.1 port={self.config.port('primary')} dbname={DATABASE}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            f"auth_file = {users}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 1000\n"
            "default_pool_size = 40\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            "server_check_delay = 1\n"
        )
        give_to_service_user(directory, users, ini)
        if not self.log.exists():
            self.log.touch()
        give_to_service_user(self.log)
        spawn([binary, ini], self.log, self.pid_file, service_user=True, cwd=directory)


class Redis(Server):
    """redis-server with a password and an append-only file: a restart keeps the sessions."""

    def launch(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError("redis-server is not installed (apt-get install redis-server)")
        directory = self.config.state_dir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        conf = directory / "redis.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode yes\n"
            f"requirepass {self.config.secrets().redis_password}\n"
            f'dir {directory}\nsave ""\nappendonly yes\nappendfsync everysec\n'
            "daemonize no\n"
        )
        conf.chmod(0o600)
        spawn([binary, conf], self.log, self.pid_file, cwd=directory)

    def ready(self) -> bool:
        if not self.running():
            return False
        password = self.config.secrets().redis_password
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as conn:
                conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
                answer = b""
                while answer.count(b"\r\n") < 2:
                    chunk = conn.recv(64)
                    if not chunk:
                        break
                    answer += chunk
                # Loading the append-only file answers -LOADING until done.
                return answer == b"+OK\r\n+PONG\r\n"
        except OSError:
            return False


def _get_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


class App(Server):
    """One `taskwell serve` instance; SIGTERM makes it finish in-flight requests, then exit."""

    def launch(self) -> None:
        directory = self.config.state_dir / "apps"  # its cwd: no developer's .env applies
        directory.mkdir(parents=True, exist_ok=True)
        spawn(
            [
                self.config.python,
                "-m",
                "taskwell",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            self.log,
            self.pid_file,
            env=environment(self.config.app_environment()),
            cwd=directory,
        )

    def ready(self) -> bool:
        return self.running() and _get_ok(f"http://127.0.0.1:{self.port}/readyz")


class Worker(Server):
    """`taskwell worker`: webhook deliveries and due reminders, off the app instances (they
    leave it to workers when Redis is configured). SIGTERM lets deliveries in flight finish;
    a SIGKILLed worker's claimed deliveries are sent again once their lease runs out."""

    def launch(self) -> None:
        directory = self.config.state_dir / "apps"
        directory.mkdir(parents=True, exist_ok=True)
        spawn(
            [self.config.python, "-m", "taskwell", "worker", "--health-port", str(self.port)],
            self.log,
            self.pid_file,
            env=environment(self.config.app_environment()),
            cwd=directory,
        )

    def ready(self) -> bool:
        return self.running() and _get_ok(f"http://127.0.0.1:{self.port}/healthz")


class Nginx(Server):
    """nginx from deploy/nginx: TLS, HTTP/2, the WAF, limits, compression, static files."""

    stop_signal = signal.SIGQUIT  # graceful: workers finish their requests, then exit
    stop_timeout = 15.0

    def __init__(self, config: ClusterConfig, name: str) -> None:
        super().__init__(config, name)
        self.prefix = config.state_dir / "nginx"

    def launch(self) -> None:
        binary = nginx.binary()
        if binary is None:
            raise ClusterError("nginx is not installed (apt-get install nginx)")
        conf = self.render()
        run([binary, "-p", self.prefix, "-c", conf, "-t"])
        spawn(
            [binary, "-p", self.prefix, "-c", conf, "-g", "daemon off; master_process on;"],
            self.log,
            self.pid_file,
        )

    def render(self) -> Path:
        conf_dir, tmp = self.prefix / "conf", self.prefix / "tmp"
        for directory in (conf_dir, tmp, self.prefix / "logs"):
            directory.mkdir(parents=True, exist_ok=True)
        # Workers run as an unprivileged user and must reach the static files through here.
        for directory in (self.config.state_dir, self.prefix, tmp):
            directory.chmod(0o755)
        cert, key = nginx.self_signed_certificate(self.prefix / "tls")
        nginx.render_templates(
            {
                "TASKWELL_NGINX_DIR": str(conf_dir),
                "TASKWELL_NGINX_HTTP_LISTEN": f"127.0.0.1:{self.config.port('nginx-http')}",
                "TASKWELL_NGINX_HTTPS_LISTEN": f"127.0.0.1:{self.port}",
                "TASKWELL_NGINX_SERVER_NAME": "localhost",
                "TASKWELL_NGINX_PUBLIC_ORIGIN": self.config.https_origin,
                "TASKWELL_NGINX_TLS_CERT": str(cert),
                "TASKWELL_NGINX_TLS_KEY": str(key),
                "TASKWELL_NGINX_STATIC_ROOT": str(self.config.static_root),
                "TASKWELL_NGINX_MODSEC_TMP_DIR": str(tmp),
                "TASKWELL_NGINX_MODSEC_AUDIT_LOG": str(self.prefix / "logs" / "modsec_audit.log"),
            },
            conf_dir,
        )
        ports = [self.config.port(name) for name in self.config.app_names]
        (conf_dir / "taskwell-instances.conf").write_text(nginx.instances_conf(ports))
        main = conf_dir / "nginx.conf"
        main.write_text(nginx.main_conf(self.prefix, conf_dir, workers="auto"))
        return main

    def ready(self) -> bool:
        """Ready through nginx: it answers over TLS and reaches a ready instance."""
        if not self.running():
            return False
        context = ssl.create_default_context(cafile=str(self.config.cafile))
        return _get_ok(f"{self.config.https_origin}/readyz", context)
