"""The client's address: the direct peer, or X-Forwarded-For when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from taskwell.http.client_context import CURRENT_CLIENT, ClientContext

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """ "10.0.0.0/8, 127.0.0.1" -> networks; a bare address is a /32 (or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """The address in text, IPv4-mapped IPv6 unwrapped (a dual-stack socket reports IPv4 peers
    that way); None when text is not an address."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: Address | None, networks: Iterable[Network]) -> bool:
    return ip is not None and any(ip in network for network in networks)


def resolve(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies; the first other hop is the
    client. An untrusted peer's header changes nothing, so it cannot be spoofed. Addresses come
    back in canonical form, so one client is one rate-limit bucket however it was written."""
    peer_ip = _address(peer)
    direct = str(peer_ip) if peer_ip is not None else peer
    if not forwarded_for or not _trusted(peer_ip, trusted):
        return direct
    furthest: Address | None = None
    for hop in reversed(forwarded_for.split(",")):
        if not hop.strip():
            continue
        ip = _address(hop)
        if ip is None:
            # Written by someone we cannot vouch for: believe nothing further left.
            return direct
        if not _trusted(ip, trusted):
            return str(ip)
        furthest = ip
    return str(furthest) if furthest is not None else direct


_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def _apply_forwarded_origin(scope: Scope) -> None:
    """Behind a trusted TLS-terminating proxy, the origin the browser used is the proxy's:
    take scheme and host from X-Forwarded-Proto / X-Forwarded-Host, so same-origin checks and
    absolute URLs match what the client sees. Malformed values change nothing."""
    proto = host = None
    for name, value in scope["headers"]:
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1").split(",")[-1].strip().lower()
        elif name == b"x-forwarded-host":
            host = value.decode("latin-1").split(",")[0].strip()
    if proto in {"http", "https"}:
        scope["scheme"] = proto
    if host and _HOST.match(host):
        scope["headers"] = [(n, v) for n, v in scope["headers"] if n != b"host"] + [
            (b"host", host.encode("latin-1"))
        ]


_MEMO_ENTRIES = 4096


class ClientIpMiddleware:
    """Puts the resolved address in scope["state"]["client_ip"] for limits and logs.

    Resolving parses addresses with `ipaddress` (measured at ~4% of the task list's CPU), and
    its answer depends only on the peer and X-Forwarded-For: remembered, boundedly."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted
        self._resolved: dict[tuple[str, str | None], str] = {}
        self._proxy_peers: dict[str, bool] = {}

    def _resolve(self, peer: str, forwarded: str | None) -> str:
        key = (peer, forwarded)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= _MEMO_ENTRIES:
                self._resolved.clear()
            found = self._resolved[key] = resolve(peer, forwarded, self.trusted)
        return found

    def _is_proxy(self, peer: str) -> bool:
        found = self._proxy_peers.get(peer)
        if found is None:
            if len(self._proxy_peers) >= _MEMO_ENTRIES:
                self._proxy_peers.clear()
            found = self._proxy_peers[peer] = _trusted(_address(peer), self.trusted)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            peer = client[0] if client else ""
            forwarded = None
            if self.trusted:
                # Repeated header lines are one list, in order (RFC 9110 5.3): a proxy that
                # adds its own line must not leave the client's line in charge.
                lines = [v for n, v in scope["headers"] if n == b"x-forwarded-for"]
                forwarded = b",".join(lines).decode("latin-1") if lines else None
                if self._is_proxy(peer):
                    _apply_forwarded_origin(scope)
            state = scope.setdefault("state", {})
            state["client_ip"] = client_ip = self._resolve(peer, forwarded)
            agent = ""
            for name, value in scope["headers"]:
                if name == b"user-agent":
                    agent = value.decode("latin-1")[:512]
                    break
            token = CURRENT_CLIENT.set(ClientContext(client_ip, agent, state.get("request_id", "")))
            try:
                await self.app(scope, receive, send)
            finally:
                CURRENT_CLIENT.reset(token)
            return
        await self.app(scope, receive, send)
