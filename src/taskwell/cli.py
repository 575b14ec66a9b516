"""The `taskwell` command: serve, work, migrate, bootstrap an admin, back up and restore."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from taskwell import __version__
from taskwell.db import migrate
from taskwell.keys_cli import keys_app
from taskwell.settings import Settings, UnsafeConfiguration

app = typer.Typer(help="Taskwell: a multi-user task service.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(keys_app, name="keys")


def _settings() -> Settings:
    try:
        return Settings()
    except (UnsafeConfiguration, ValidationError) as exc:
        typer.secho(f"Refusing to start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"taskwell {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Taskwell: a multi-user task service."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    ssl_certfile: Annotated[
        str | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Run the HTTP server (migrating the embedded database first unless in production)."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        typer.secho("Give both --ssl-certfile and --ssl-keyfile.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    settings = _settings()
    from taskwell.observability.logging import configure_logging

    configure_logging(settings)  # the supervisor's own lines share the workers' format
    if settings.migrates_on_start:
        migrate.upgrade(settings)
    if workers > 1 and settings.metrics_enabled:
        _prepare_multiprocess_metrics()
    uvicorn.run(
        "taskwell.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=False,
        server_header=False,
        access_log=False,  # the app logs each request once, in its own format
        log_config=None,  # ...and configures logging itself, uvicorn's loggers included
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        # TLS 1.2 and newer only (ASVS 12.1.1): Python's TLS server context refuses older.
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )


@app.command()
def worker(
    health_port: Annotated[
        int | None, typer.Option(help="Answer health checks (HTTP 200 / 503) on this port.")
    ] = None,
    health_host: Annotated[str, typer.Option(help="Address for the health checks.")] = "127.0.0.1",
) -> None:
    """Deliver webhooks and due reminders until SIGTERM (run one or more next to `serve`).

    With TASKWELL_REDIS_URL set the app instances leave this to worker processes; any number
    may run, each piece of work is claimed in the database by one of them. SIGTERM lets
    deliveries in flight finish; a killed worker's deliveries are sent again by another
    once their lease runs out."""
    settings = _settings()
    from taskwell.observability.logging import configure_logging
    from taskwell.worker.run import run_worker

    configure_logging(settings)
    health = (health_host, health_port) if health_port is not None else None
    asyncio.run(run_worker(settings, health))


def _prepare_multiprocess_metrics() -> None:
    """Workers share metrics through files in one directory (prometheus-client's
    multiprocess mode). It must be set before any worker imports prometheus_client, and
    start empty so a previous run's samples do not leak in."""
    import os
    import shutil
    import tempfile

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="taskwell-metrics-")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(_settings(), revision)
    typer.echo(f"Database upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(_settings(), revision)
    typer.echo(f"Database downgraded to {revision}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema's revision and the code's head."""
    settings = _settings()

    async def read() -> str | None:
        from taskwell.db.engine import make_engine

        engine = make_engine(settings)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(read())
    head = migrate.head_revision(settings)
    state = "up to date" if current == head else "needs `taskwell db upgrade`"
    typer.echo(f"current: {current or 'none'}  head: {head}  ({state})")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False,
) -> None:
    """Back up the database to FILE (SQLite file, or pg_dump custom archive), mode 0600."""
    from taskwell.backup import BackupError, create_backup

    try:
        report = create_backup(_settings(), file, force=force)
    except BackupError as exc:
        typer.secho(f"Backup failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"Backed up the {report.database} to {report.file} ({report.size} bytes, "
        f"schema revision {report.revision or 'none'}); integrity verified."
    )


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="Backup file made by `taskwell backup`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database's contents with the backup in FILE (stop the service first)."""
    from taskwell.backup import BackupError, plan_restore, run_restore

    settings = _settings()
    try:
        plan = plan_restore(settings, file)
        if not yes and not typer.confirm(
            f"Replace everything in the {plan.database} with {file} "
            f"(schema revision {plan.revision or 'none'})?"
        ):
            typer.secho("Not restored.", err=True)
            raise typer.Exit(1)
        report = run_restore(settings, plan)
    except BackupError as exc:
        typer.secho(f"Restore failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    except typer.Abort as exc:  # end of input at the prompt
        typer.secho("Not restored: no confirmation (use --yes).", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Restored {file} into the {plan.database}.")
    if report.needs_upgrade:
        typer.secho(
            f"Schema revision {report.revision or 'none (empty database)'} is behind head "
            f"{report.head}: run `taskwell db upgrade` before starting the service.",
            fg=typer.colors.YELLOW,
        )
    else:
        typer.echo(f"Schema revision {report.revision} is head.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(prompt=True, help="Email of the new account.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the app.")] = "",
    admin: Annotated[bool, typer.Option("--admin/--no-admin", help="Make an admin.")] = True,
) -> None:
    """Create an account (an admin by default): there is no built-in admin to log in with."""
    settings = _settings()
    password = _read_password()

    async def create() -> str:
        from taskwell.app import ensure_schema_current
        from taskwell.context import AppContext

        async with AppContext.open(settings) as ctx:
            await ensure_schema_current(ctx.db, settings)
            user = await ctx.auth.register(
                email=email, password=password, display_name=display_name, is_admin=admin
            )
            return str(user.id)

    from taskwell.errors import DomainError

    try:
        user_id = asyncio.run(create())
    except DomainError as exc:
        typer.secho(f"Not created: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {'admin ' if admin else ''}user {user_id}.")


def _read_password() -> str:
    if not sys.stdin.isatty():
        # Scripts pipe the password on stdin so it never shows in a process list.
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        typer.secho("The passwords differ.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    return first
