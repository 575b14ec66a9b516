"""PostgreSQL backups with pg_dump's custom format, restored by pg_restore in one transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from taskwell.backup import pgtools
from taskwell.backup.errors import BackupError
from taskwell.db.engine import make_engine
from taskwell.settings import Settings

# Connection variables the child must take from TASKWELL_DATABASE_URL, never from whatever
# the operator's shell happens to export.
_URL_DECIDES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
_URL_DECIDES_TOO = ("PGSERVICE", "PGSSLMODE", "PGREQUIRESSL")
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_CONNECT_TIMEOUT_SECONDS = 15


@dataclass(frozen=True, slots=True)
class PgConnection:
    """Where pg_dump and pg_restore connect: the application's own database URL."""

    database: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    sslmode: str | None = None
    sslrootcert: str | None = None

    @classmethod
    def from_url(cls, database_url: str) -> PgConnection:
        url = sa.make_url(database_url)
        if url.get_backend_name() != "postgresql" or not url.database:
            raise BackupError("TASKWELL_DATABASE_URL does not name a PostgreSQL database")
        query = url.query
        host = url.host or _first(query.get("host"))
        return cls(
            database=url.database,
            host=host,
            port=url.port,
            user=url.username,
            password=url.password,
            sslmode=_sslmode(_first(query.get("sslmode")) or _first(query.get("ssl"))),
        )

    def describe(self) -> str:
        where = f"{self.host or 'local socket'}{f':{self.port}' if self.port else ''}"
        return f"PostgreSQL database {self.database!r} on {where}"

    def environment(self) -> dict[str, str]:
        """The child's environment: the caller's (PATH, locale, PGSSLROOTCERT, ...) with the
        connection taken from the URL. The password travels here, never in argv, which any
        local user can read in the process list."""
        env = {k: v for k, v in os.environ.items() if k not in _URL_DECIDES + _URL_DECIDES_TOO}
        values = {
            "PGHOST": self.host,
            "PGPORT": str(self.port) if self.port else None,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGSSLMODE": self.sslmode,
            "PGSSLROOTCERT": self.sslrootcert,
        }
        env.update({k: v for k, v in values.items() if v})
        env["PGCONNECT_TIMEOUT"] = str(_CONNECT_TIMEOUT_SECONDS)
        env["PGAPPNAME"] = "taskwell-backup"
        return env

    def dbname_option(self) -> str:
        # A conninfo string, so a database name is never mistaken for an option or a URI.
        escaped = self.database.replace("\\", "\\\\").replace("'", "\\'")
        return f"--dbname=dbname='{escaped}'"


def _first(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _sslmode(value: str | None) -> str | None:
    """asyncpg's `ssl=` and libpq's `sslmode=` as libpq's PGSSLMODE."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in _SSL_MODES:
        return lowered
    if lowered in {"true", "1", "on"}:
        return "require"
    if lowered in {"false", "0", "off"}:
        return "disable"
    raise BackupError(f"unsupported SSL mode {value!r} in TASKWELL_DATABASE_URL")


@dataclass(frozen=True, slots=True)
class ServerFacts:
    major: int
    tables: frozenset[tuple[str, str]]  # (schema, table) of every user table


def server_facts(settings: Settings, connection: PgConnection) -> ServerFacts:
    """The server's major version and its tables; a clear error when it cannot be reached."""

    async def read() -> ServerFacts:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                number = (await conn.execute(sa.text("SHOW server_version_num"))).scalar_one()
                rows = await conn.execute(
                    sa.text(
                        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
                        "('pg_catalog', 'information_schema')"
                    )
                )
                tables = frozenset((str(s), str(t)) for s, t in rows)
        finally:
            await engine.dispose()
        return ServerFacts(int(number) // 10_000, tables)

    async def bounded() -> ServerFacts:
        return await asyncio.wait_for(read(), _CONNECT_TIMEOUT_SECONDS)

    try:
        return asyncio.run(bounded())
    except TimeoutError as exc:
        raise BackupError(
            f"cannot reach the {connection.describe()}: no answer in {_CONNECT_TIMEOUT_SECONDS} s"
        ) from exc
    except (OSError, SQLAlchemyError) as exc:
        # The driver's own message ("connection refused", "password authentication failed"),
        # not SQLAlchemy's wrapper with its statement and documentation link.
        reason = getattr(exc, "orig", None) or exc
        raise BackupError(
            f"cannot reach the {connection.describe()}: {str(reason) or type(reason).__name__}"
        ) from exc


class PostgresBackend:
    """Back up and restore the configured PostgreSQL database with its client programs."""

    def __init__(self, settings: Settings) -> None:
        connection = PgConnection.from_url(settings.database_url)
        if settings.database_ssl_mode != "disable":
            # TASKWELL_DATABASE_SSL_MODE applies to the backup tools as to the app (libpq
            # takes the same mode names), so a dump is never taken over an unchecked link.
            connection = dataclasses.replace(
                connection,
                sslmode=settings.database_ssl_mode,
                sslrootcert=(
                    str(settings.database_ssl_root_cert)
                    if settings.database_ssl_root_cert
                    else None
                ),
            )
        self.connection = connection
        self.description = self.connection.describe()
        self._env = self.connection.environment()
        self._facts = server_facts(settings, self.connection)

    def _tool(self, name: str) -> pgtools.Tool:
        return pgtools.find_tool(name, self._facts.major, self._env)

    def dump(self, destination: Path) -> None:
        pg_dump = self._tool("pg_dump")
        # Written through our descriptor: the file keeps the 0600 mode it was created with.
        with destination.open("r+b") as out:
            args = ["--format=custom", "--no-password", self.connection.dbname_option()]
            pgtools.run(pg_dump.path, args, self._env, stdout=out)

    def inspect(self, archive: Path) -> str | None:
        """Read the whole archive (every data block decompresses) and return its schema
        revision; None when it holds no alembic_version row."""
        pg_restore = self._tool("pg_restore")
        pgtools.run(pg_restore.path, [f"--file={os.devnull}", str(archive)], self._env)
        script = pgtools.run(
            pg_restore.path,
            ["--data-only", "--table=alembic_version", "--file=-", str(archive)],
            self._env,
        )
        return _copied_value(script.decode(errors="replace"), "alembic_version")

    def check_restorable(self, archive: Path) -> None:
        """--clean drops only what the archive holds: tables the live schema has beyond it
        (a newer schema) would survive next to the older data. Refuse that up front."""
        listing = pgtools.run(self._tool("pg_restore").path, ["--list", str(archive)], self._env)
        in_archive = _archive_tables(listing.decode(errors="replace"))
        schemas = {schema for schema, _ in in_archive}
        extra = sorted(
            f"{schema}.{table}"
            for schema, table in self._facts.tables - in_archive
            if schema in schemas
        )
        if extra:
            raise BackupError(
                f"the database has tables the backup does not ({', '.join(extra)}); the "
                "restore would leave them next to the restored data. Is the database at a "
                "newer schema than the backup? Restore into an empty database, or first run "
                "`taskwell db downgrade` to the backup's revision"
            )

    def restore(self, archive: Path) -> None:
        pg_restore = self._tool("pg_restore")
        args = [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing: a failure leaves the database as it was
            "--exit-on-error",
            "--no-password",
            self.connection.dbname_option(),
            str(archive),
        ]
        pgtools.run(pg_restore.path, args, self._env)


def _archive_tables(listing: str) -> frozenset[tuple[str, str]]:
    """(schema, table) of each TABLE entry in `pg_restore --list` output, e.g.
    `215; 1259 16386 TABLE public users postgres`."""
    tables = set()
    for line in listing.splitlines():
        if line.startswith(";"):
            continue
        parts = line.split()
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] != "DATA":
            tables.add((parts[4], parts[5]))
    return frozenset(tables)


def _copied_value(script: str, table: str) -> str | None:
    """The first value of the first row a `COPY <schema>.<table> ... FROM stdin;` block loads."""
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith("COPY ") and f".{table} " in line and line.endswith("FROM stdin;"):
            first = next(lines, "\\.")
            return None if first == "\\." else first.split("\t")[0]
    return None
