"""The SSRF guard: a webhook may only reach public addresses, unless settings allow a network.

A URL is checked when it is registered and again before every attempt, and the attempt
connects to the address that was checked (client.py), so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot point a delivery at the inside.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from taskwell.errors import DomainError
from taskwell.http.client_ip import Address, Network

Resolver = Callable[[str, int], Awaitable[list[str]]]
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
# IPv6 prefixes that carry an IPv4 address (RFC 6052 NAT64): the IPv4 one decides.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(DomainError):
    slug, title, status = "webhook-target-refused", "This webhook URL is not allowed", 422

    def __init__(self, message: str, code: str) -> None:
        super().__init__(
            message,
            extra={"errors": [{"field": "url", "in": "body", "message": message, "code": code}]},
        )
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    """A URL whose host resolved to `address`, an address the guard allows."""

    url: httpx.URL
    host: str  # ASCII (IDNA) form
    port: int
    address: Address

    @property
    def is_literal(self) -> bool:
        return _literal(self.host) is not None

    def connect_url(self) -> httpx.URL:
        """The same URL with the checked address in place of the name."""
        return self.url.copy_with(host=str(self.address))

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.url.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


async def resolve_host(host: str, port: int, executor: Executor | None = None) -> list[str]:
    """Every address the system resolver gives for host, looked up in `executor`'s threads
    (tests replace this function)."""
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = await asyncio.get_running_loop().run_in_executor(executor, lookup)
    return [str(info[4][0]) for info in infos]


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: Address) -> str | None:
    """Why connecting to ip is refused (before the allowlist), or None for a public address."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        reason = refusal(inner)
        if reason is not None:
            return reason
    checks = (
        (ip.is_unspecified, "an unspecified"),
        (ip.is_loopback, "a loopback"),
        (ip.is_link_local, "a link-local"),
        (ip.is_multicast, "a multicast"),
        (ip.is_private, "a private"),
        (ip.is_reserved, "a reserved"),
        (not ip.is_global, "a non-public"),
    )
    for refused, kind in checks:
        if refused:
            return f"{kind} address"
    return None


class TargetGuard:
    def __init__(
        self,
        *,
        allow_http: bool,
        allowed_networks: Iterable[Network],
        resolve_timeout: float,
        resolver_threads: int = 4,
        resolver: Resolver | None = None,
    ) -> None:
        self._schemes = ("https", "http") if allow_http else ("https",)
        self._allowed = tuple(allowed_networks)
        self._timeout = resolve_timeout
        self._resolver = resolver
        # Lookups get threads of their own. The system resolver cannot be interrupted: a name
        # whose servers never answer (down, or made to hang on purpose by whoever registers
        # the URL) holds its thread past `resolve_timeout`, until the resolver gives up. In
        # the event loop's default pool those would be the threads avatars and imports wait
        # for; here, at worst, lookups wait for lookups, and time out.
        self._pool = ThreadPoolExecutor(
            max_workers=resolver_threads, thread_name_prefix="taskwell-dns"
        )

    def close(self) -> None:
        """Stop the lookup threads (a hung lookup ends on its own, its answer unread)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def parse(self, text: str) -> tuple[httpx.URL, str, int]:
        """The URL, its host (ASCII) and port, if its form is acceptable."""
        try:
            url = httpx.URL(text)
            host = url.raw_host.decode("ascii").lower()
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise TargetRefused("This is not a valid URL.", "url") from exc
        if url.scheme not in self._schemes:
            allowed = " or ".join(self._schemes)
            raise TargetRefused(f"The URL must start with {allowed}://.", "scheme")
        if url.userinfo:
            raise TargetRefused(
                "Credentials in the URL are not accepted; verify deliveries by their signature.",
                "credentials",
            )
        if url.fragment:
            raise TargetRefused("The URL must not have a #fragment.", "url")
        if not host or (_literal(host) is None and not _HOST_NAME.match(host)):
            raise TargetRefused("The URL needs a valid host name or address.", "host")
        port = url.port or (443 if url.scheme == "https" else 80)
        return url, host, port

    def allows(self, ip: Address) -> bool:
        inner = _embedded_ipv4(ip)
        if any(ip in net or (inner is not None and inner in net) for net in self._allowed):
            return True
        return refusal(ip) is None

    async def vet(self, text: str) -> Target:
        """Resolve the URL's host; every address must be allowed. The first one is used."""
        url, host, port = self.parse(text)
        literal = _literal(host)
        if literal is not None:
            addresses: list[Address] = [literal]
        else:
            resolver = self._resolver or functools.partial(resolve_host, executor=self._pool)
            try:
                async with asyncio.timeout(self._timeout):
                    found = await resolver(host.rstrip("."), port)
            except (OSError, TimeoutError, UnicodeError) as exc:
                raise TargetRefused(
                    "The URL's host name could not be resolved.", "unresolvable"
                ) from exc
            # A scope ("fe80::1%eth0") is no part of the address's kind.
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
            if not addresses:
                raise TargetRefused("The URL's host name could not be resolved.", "unresolvable")
        for ip in addresses:
            if not self.allows(ip):
                # Which address is not said: it would map internal names for whoever asks.
                reason = refusal(ip) or "a refused address"
                raise TargetRefused(
                    f"The URL's host resolves to {reason}; webhooks only reach public addresses.",
                    "private_address",
                )
        return Target(url, host, port, addresses[0])
