"""The delivery client connects to the checked address but speaks TLS to the URL's name: the
certificate must be valid for the name, not for the address."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from taskwell.http.client_ip import parse_networks
from taskwell.settings import Settings
from taskwell.webhooks.client import DeliveryClient
from taskwell.webhooks.ssrf import TargetGuard


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    hosts: list[str | None] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        _Handler.hosts.append(self.headers.get("host"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    """An HTTPS server on 127.0.0.1 with a certificate for hooks.test; the SNI names it saw."""
    cert, key = _certificate(tmp_path, "hooks.test")
    names: list[str] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def server_name(_socket: Any, name: str | None, _context: Any) -> None:
        names.append(name or "")

    context.sni_callback = server_name
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert, names
    finally:
        server.shutdown()
        server.server_close()


def _client(trust: Path, resolved: str) -> DeliveryClient:
    async def resolver(host: str, port: int) -> list[str]:
        return [resolved]

    guard = TargetGuard(
        allow_http=False,
        allowed_networks=parse_networks("127.0.0.0/8"),
        resolve_timeout=1.0,
        resolver=resolver,
    )
    settings = Settings(env="test")
    return DeliveryClient(settings, guard, verify=ssl.create_default_context(cafile=trust))


async def test_tls_goes_to_the_checked_address_under_the_urls_name(
    https_server: tuple[int, Path, list[str]],
) -> None:
    port, cert, names = https_server
    client = _client(cert, "127.0.0.1")
    try:
        outcome = await client.post(f"https://hooks.test:{port}/in", b"{}", {})
    finally:
        await client.close()

    assert outcome.ok, outcome
    assert outcome.status_code == 204
    assert names == ["hooks.test"]
    assert _Handler.hosts[-1] == f"hooks.test:{port}"


async def test_a_certificate_for_another_name_is_refused(
    https_server: tuple[int, Path, list[str]],
) -> None:
    port, cert, _names = https_server
    client = _client(cert, "127.0.0.1")
    try:
        # The server's certificate names hooks.test; the URL names other.test.
        outcome = await client.post(f"https://other.test:{port}/in", b"{}", {})
    finally:
        await client.close()

    assert not outcome.ok
    assert outcome.status_code is None
    assert outcome.error is not None
    assert "certificate" in outcome.error.lower() or "hostname" in outcome.error.lower()
