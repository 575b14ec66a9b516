"""The client address: X-Forwarded-For counts only when the direct peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.types import Message, Receive, Scope, Send

from taskwell.http.client_context import CURRENT_CLIENT
from taskwell.http.client_ip import ClientIpMiddleware, parse_networks, resolve

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1, fd00::/8")


def test_networks_parse_from_a_comma_separated_list() -> None:
    assert parse_networks(" 10.0.0.0/8 , 127.0.0.1,, ::1 ,10.1.2.3/16") == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.1.0.0/16"),
    )
    assert parse_networks("") == ()


@pytest.mark.parametrize("spec", ["10.0.0.0/33", "not-a-network", "10.0.0.0/8,garbage"])
def test_bad_networks_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        parse_networks(spec)


@pytest.mark.parametrize("peer", ["198.51.100.20", "2001:db8::20", "testclient", ""])
def test_an_untrusted_peers_header_changes_nothing(peer: str) -> None:
    assert resolve(peer, "203.0.113.9", PROXIES) == peer


def test_nothing_is_trusted_by_default() -> None:
    assert resolve("127.0.0.1", "203.0.113.9", ()) == "127.0.0.1"


@pytest.mark.parametrize("header", [None, "", "   ", ",", " , ,"])
def test_a_trusted_peer_without_a_usable_header_is_the_client(header: str | None) -> None:
    assert resolve("10.0.0.1", header, PROXIES) == "10.0.0.1"


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        # Proxies append: the rightmost hop that is not a trusted proxy is the client.
        ("203.0.113.9, 10.0.0.2, 10.0.0.3", "203.0.113.9"),
        ("203.0.113.9,10.0.0.2", "203.0.113.9"),
        # Whatever the client wrote itself sits further left and is ignored.
        ("6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("1.1.1.1, 6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        ("garbage, 203.0.113.9", "203.0.113.9"),
        # Only proxies all the way: the furthest one is the best we know.
        ("10.0.0.5, 10.0.0.6", "10.0.0.5"),
    ],
)
def test_the_rightmost_untrusted_hop_is_the_client(header: str, client: str) -> None:
    assert resolve("10.0.0.1", header, PROXIES) == client


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("fd00::9", "2001:db8::7", "2001:db8::7"),
        ("fd00::1", "2001:db8::7, fd00::2", "2001:db8::7"),
        ("10.0.0.1", "2001:db8::7", "2001:db8::7"),
        ("fd00::1", "203.0.113.9", "203.0.113.9"),
        # One client, one spelling: the bucket key must not depend on how it was written.
        ("fd00::1", "2001:DB8:0:0::7", "2001:db8::7"),
        # A proxy reaching a dual-stack socket shows up IPv4-mapped; it is still that proxy.
        ("::ffff:10.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "::ffff:203.0.113.9", "203.0.113.9"),
        ("::ffff:198.51.100.20", "203.0.113.9", "198.51.100.20"),
    ],
)
def test_ipv6_hops_and_peers(peer: str, header: str, client: str) -> None:
    assert resolve(peer, header, PROXIES) == client


@pytest.mark.parametrize(
    "header",
    [
        "unknown",
        "999.0.0.1",
        "203.0.113.9, not-an-address",
        "203.0.113.9, 10.0.0.2, <script>",
        "203.0.113.9:5555",
        "x" * 10_000,
        "203.0.113.9\x00",
    ],
)
def test_garbage_on_the_proxy_side_falls_back_to_the_peer(header: str) -> None:
    """A hop that is not an address could have been written by anyone: stop believing there."""
    assert resolve("10.0.0.1", header, PROXIES) == "10.0.0.1"


def test_a_long_chain_is_resolved() -> None:
    header = ", ".join(["203.0.113.9", *(f"10.0.{i // 250}.{i % 250}" for i in range(500))])
    assert resolve("10.0.0.1", header, PROXIES) == "203.0.113.9"


async def _seen_by_app(
    headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None
) -> tuple[str, str]:
    seen: dict[str, str] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["state"] = scope["state"]["client_ip"]
        seen["context"] = CURRENT_CLIENT.get().ip

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    scope: Scope = {"type": "http", "path": "/", "headers": headers, "client": client}
    await ClientIpMiddleware(app, PROXIES)(scope, receive, send)
    return seen["state"], seen["context"]


async def test_the_middleware_puts_the_client_in_state_and_context() -> None:
    headers = [(b"x-forwarded-for", b"203.0.113.9")]
    assert await _seen_by_app(headers, ("10.0.0.1", 5000)) == ("203.0.113.9", "203.0.113.9")
    assert await _seen_by_app(headers, ("198.51.100.20", 5000)) == (
        "198.51.100.20",
        "198.51.100.20",
    )
    assert await _seen_by_app(headers, None) == ("", "")
    assert CURRENT_CLIENT.get().ip == ""


async def test_repeated_forwarded_for_headers_are_one_list_in_order() -> None:
    """A proxy may add its own header line rather than extend the client's; the client's
    line comes first and must not win (RFC 9110 5.3: repeated fields are one list)."""
    headers = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"203.0.113.9")]
    assert await _seen_by_app(headers, ("10.0.0.1", 5000)) == ("203.0.113.9", "203.0.113.9")
    headers = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9"), (b"x-forwarded-for", b"10.0.0.7")]
    assert await _seen_by_app(headers, ("10.0.0.1", 5000)) == ("203.0.113.9", "203.0.113.9")


async def _origin_seen(headers: list[tuple[bytes, bytes]], client: tuple[str, int]) -> str:
    seen: dict[str, str] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope["headers"]).get(b"host", b"").decode()
        seen["origin"] = f"{scope['scheme']}://{host}"

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    scope: Scope = {
        "type": "http",
        "path": "/",
        "scheme": "http",
        "headers": headers,
        "client": client,
    }
    await ClientIpMiddleware(app, PROXIES)(scope, receive, send)
    return seen["origin"]


async def test_a_trusted_proxy_sets_the_origin_the_browser_used() -> None:
    headers = [
        (b"host", b"app:8000"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"tasks.example.com"),
    ]
    assert await _origin_seen(headers, ("10.0.0.1", 5000)) == "https://tasks.example.com"
    assert await _origin_seen(headers, ("198.51.100.20", 5000)) == "http://app:8000"
    junk = [
        (b"host", b"app:8000"),
        (b"x-forwarded-proto", b"gopher"),
        (b"x-forwarded-host", b"evil.example/\r\nx"),
    ]
    assert await _origin_seen(junk, ("10.0.0.1", 5000)) == "http://app:8000"
