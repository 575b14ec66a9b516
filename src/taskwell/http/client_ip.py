"""The client's address: the direct peer, or X-Forwarded-For when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from taskwell.http.client_context import CURRENT_CLIENT, ClientContext

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """ "10.0.0.0/8, 127.0.0.1" -> networks; a bare address is a /32 (or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def resolve(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies; the first other hop is the
    client. An untrusted peer's header changes nothing, so it cannot be spoofed."""
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


class ClientIpMiddleware:
    """Puts the resolved address in scope["state"]["client_ip"] for limits and logs."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            peer = client[0] if client else ""
            forwarded = None
            if self.trusted:
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-for":
                        forwarded = value.decode("latin-1")
                        break
            state = scope.setdefault("state", {})
            state["client_ip"] = resolve(peer, forwarded, self.trusted)
            agent = ""
            for name, value in scope["headers"]:
                if name == b"user-agent":
                    agent = value.decode("latin-1")[:512]
                    break
            token = CURRENT_CLIENT.set(
                ClientContext(state["client_ip"], agent, state.get("request_id", ""))
            )
            try:
                await self.app(scope, receive, send)
            finally:
                CURRENT_CLIENT.reset(token)
            return
        await self.app(scope, receive, send)
