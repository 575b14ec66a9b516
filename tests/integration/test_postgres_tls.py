"""TLS to PostgreSQL, against a real server of our own that accepts nothing but TLS.

The module starts a throw-away PostgreSQL 15 (initdb as the postgres user, a CA and a server
certificate for "localhost" made here, `hostssl ... trust` and `hostnossl ... reject`) on a port
below 32768, and stops and removes it afterwards. Without the PostgreSQL binaries (or root, for
`runuser`) the server tests skip, and fail instead when CI is set.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError

from taskwell.app import create_app
from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD
from tests.support.processes import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
COMMAND_TIMEOUT = 60  # seconds, for initdb and pg_ctl
CONNECT_TIMEOUT = 20  # seconds, for one connection attempt

# ---------------------------------------------------------------------------------------------
# Settings and engine: no server needed.
# ---------------------------------------------------------------------------------------------


def test_verify_modes_need_a_root_certificate() -> None:
    with pytest.raises(ValidationError, match="TASKWELL_DATABASE_SSL_ROOT_CERT"):
        Settings(database_ssl_mode="verify-full")


def test_a_missing_root_certificate_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ValidationError, match=r"nowhere\.pem is not a readable file"):
        Settings(database_ssl_mode="verify-ca", database_ssl_root_cert=missing)


@pytest.mark.parametrize("mode", ["disable", "require"])
def test_a_root_certificate_that_would_not_be_checked_is_refused(mode: str, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("unused")
    with pytest.raises(ValidationError, match="only used with verify-ca or verify-full"):
        Settings(database_ssl_mode=mode, database_ssl_root_cert=ca)


def test_tls_in_the_url_and_in_the_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="configure TLS in TASKWELL_DATABASE_SSL_MODE only"):
        Settings(
            database_url="postgresql+asyncpg://db/taskwell?ssl=require", database_ssl_mode="require"
        )


def test_tls_settings_are_ignored_for_sqlite(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    engine = make_engine(settings.model_copy(update={"database_ssl_mode": "require"}))
    assert engine.dialect.name == "sqlite"


def test_tls_with_a_driver_that_does_not_apply_it_is_refused() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://db/taskwell", database_ssl_mode="require"
    )
    with pytest.raises(ValueError, match="asyncpg driver only"):
        make_engine(settings)


# ---------------------------------------------------------------------------------------------
# A PostgreSQL server that only speaks TLS.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca_file: Path  # signed the server certificate
    other_ca_file: Path  # a CA that has nothing to do with this server

    def settings(
        self, host: str, mode: str, root_cert: Path | None = None, query: str = ""
    ) -> Settings:
        return Settings(
            env="test",
            database_url=f"postgresql+asyncpg://postgres@{host}:{self.port}/postgres{query}",
            database_ssl_mode=mode,
            database_ssl_root_cert=root_cert,
            maintenance_interval_seconds=0,
        )


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure)")
    pytest.skip(reason)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_server_cert(
    ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, dns_name: str
) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _as_postgres(*args: str | Path, cwd: Path) -> None:
    command = ["runuser", "-u", "postgres", "--", *map(str, args)]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def _write_owned(path: Path, data: bytes, mode: int) -> None:
    path.write_bytes(data)
    postgres = pwd.getpwnam("postgres")
    os.chown(path, postgres.pw_uid, postgres.pw_gid)
    path.chmod(mode)


def _configure(data: Path, port: int, cert_pem: bytes, key_pem: bytes) -> None:
    _write_owned(data / "server.crt", cert_pem, 0o644)
    _write_owned(data / "server.key", key_pem, 0o600)  # PostgreSQL refuses a readable key
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{data}'\n"
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            "ssl_min_protocol_version = 'TLSv1.2'\nfsync = off\n"
        )
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "hostssl all all 127.0.0.1/32 trust\n"
        "hostnossl all all 127.0.0.1/32 reject\n"
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    if not (PG_BIN / "initdb").exists():
        _skip_or_fail(f"{PG_BIN / 'initdb'} is missing")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        _skip_or_fail("starting PostgreSQL as the postgres user needs root and runuser")
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        _skip_or_fail("there is no postgres user")
        raise

    certs = tmp_path_factory.mktemp("tls")
    ca_cert, ca_key = _make_ca("Taskwell test CA")
    other_ca_cert, _ = _make_ca("Some other CA")
    (certs / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (certs / "other-ca.pem").write_bytes(other_ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_pem, key_pem = _make_server_cert(ca_cert, ca_key, "localhost")

    # Not under pytest's tmp dir: that one is 0700 root, and postgres must reach its files.
    base = Path(tempfile.mkdtemp(prefix="tw_h10_pg_"))
    os.chown(base, postgres.pw_uid, postgres.pw_gid)
    data, log = base / "data", base / "server.log"
    port = free_port()
    started = False
    try:
        _as_postgres(
            PG_BIN / "initdb", "-D", data, "--auth=trust", "--username=postgres",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
            cwd=base,
        )  # fmt: skip
        _configure(data, port, cert_pem, key_pem)
        try:
            _as_postgres(
                PG_BIN / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "30", "start", cwd=base
            )
        except RuntimeError as exc:
            log_text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{exc}\nserver log:\n{log_text}") from exc
        started = True
        yield TlsServer(port, certs / "ca.pem", certs / "other-ca.pem")
    finally:
        if started:
            _as_postgres(
                PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop", cwd=base
            )
        shutil.rmtree(base, ignore_errors=True)


async def _connection_tls(settings: Settings) -> tuple[bool, str | None]:
    """Connect the way the app does; return whether the session is encrypted, and how."""
    engine = make_engine(settings)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                )
            ).one()
        return bool(row.ssl), row.version
    finally:
        await engine.dispose()


async def _connection_error(settings: Settings) -> BaseException:
    try:
        await _connection_tls(settings)
    except Exception as exc:
        return exc
    pytest.fail("the connection was expected to fail but succeeded")


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _is_certificate_failure(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(exc))


def _explained(exc: BaseException) -> str:
    return " | ".join(f"{type(e).__name__}: {e}" for e in _chain(exc))


# ---------------------------------------------------------------------------------------------
# The behaviour.
# ---------------------------------------------------------------------------------------------


async def test_verify_full_with_the_servers_ca_migrates_and_serves(tls_server: TlsServer) -> None:
    settings = tls_server.settings("localhost", "verify-full", tls_server.ca_file)
    async with asyncio.timeout(120):
        await asyncio.to_thread(migrate.upgrade, settings)

        app = create_app(settings)
        async with app.router.lifespan_context(app):
            async with app.state.context.db.transaction() as conn:
                encrypted = (
                    await conn.execute(
                        sa.text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    )
                ).scalar_one()
            assert encrypted is True
            await _register_create_and_list(app)


async def _register_create_and_list(app: Any) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        account = {"email": "tls@example.com", "password": STRONG_PASSWORD}
        assert (await client.post("/api/v1/auth/register", json=account)).status_code == 201
        login = await client.post("/api/v1/auth/login", json=account)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = await client.post("/api/v1/tasks", json={"title": "over TLS"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = await client.get("/api/v1/tasks", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [t["title"] for t in listed.json()["items"]] == ["over TLS"]


async def test_verify_ca_checks_the_chain_but_not_the_host_name(tls_server: TlsServer) -> None:
    settings = tls_server.settings("127.0.0.1", "verify-ca", tls_server.ca_file)
    encrypted, version = await _connection_tls(settings)
    assert encrypted
    assert version in {"TLSv1.2", "TLSv1.3"}


async def test_require_encrypts_without_checking_the_certificate(tls_server: TlsServer) -> None:
    encrypted, _ = await _connection_tls(tls_server.settings("127.0.0.1", "require"))
    assert encrypted


async def test_a_certificate_from_another_ca_is_refused(tls_server: TlsServer) -> None:
    settings = tls_server.settings("localhost", "verify-full", tls_server.other_ca_file)
    error = await _connection_error(settings)
    assert _is_certificate_failure(error), _explained(error)
    assert "unable to get local issuer certificate" in _explained(error)


async def test_verify_full_refuses_a_certificate_for_another_name(tls_server: TlsServer) -> None:
    # The certificate names "localhost" only; 127.0.0.1 is the same machine but not that name.
    settings = tls_server.settings("127.0.0.1", "verify-full", tls_server.ca_file)
    error = await _connection_error(settings)
    assert _is_certificate_failure(error), _explained(error)
    assert "mismatch, certificate is not valid for '127.0.0.1'" in _explained(error)


async def test_without_tls_the_server_refuses_the_connection(tls_server: TlsServer) -> None:
    error = await _connection_error(tls_server.settings("localhost", "disable"))
    assert "no encryption" in _explained(error), _explained(error)


async def test_a_url_that_sets_ssl_itself_still_decides(tls_server: TlsServer) -> None:
    # Deployments from before the setting existed put asyncpg's ssl= in the URL.
    settings = tls_server.settings("localhost", "disable", query="?ssl=require")
    encrypted, _ = await _connection_tls(settings)
    assert encrypted
