"""`taskwell keys`: make encryption keys and re-encrypt stored secrets to the newest one."""

from __future__ import annotations

import asyncio

import typer

from taskwell.crypto import new_key

keys_app = typer.Typer(help="Encryption keys for sensitive data at rest.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate(kid: str = typer.Option("k1", help="Key id to label the key with.")) -> None:
    """Print a new key entry for TASKWELL_ENCRYPTION_KEYS (put it first to encrypt with it)."""
    typer.echo(f"{kid}:{new_key()}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every sensitive value with the first configured key, while the service runs.

    Keep the old key listed (after the new one) until this has finished everywhere."""
    from taskwell.cli import _settings
    from taskwell.context import AppContext

    settings = _settings()

    async def rotate() -> int:
        async with AppContext.open(settings) as ctx:
            return await ctx.totp.rotate_keys() + await ctx.webhooks.rotate_keys()

    moved = asyncio.run(rotate())
    typer.echo(f"Re-encrypted {moved} value(s) with the current key.")
