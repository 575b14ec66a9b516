"""The SSRF guard: what a webhook URL may be, and which addresses it may reach."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import threading
from typing import Any

import pytest

from taskwell.http.client_ip import parse_networks
from taskwell.webhooks.ssrf import TargetGuard, TargetRefused, refusal


def guard(allowed: str = "", *, allow_http: bool = False, **names: list[str]) -> TargetGuard:
    table = {name.replace("_", "."): addresses for name, addresses in names.items()}

    async def resolver(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return TargetGuard(
        allow_http=allow_http,
        allowed_networks=parse_networks(allowed),
        resolve_timeout=1.0,
        resolver=resolver,
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - refused, not bound
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.1.2.3",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:0a00:0001::1",  # 6to4 of 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.com/hook", "scheme"),
        ("ftp://example.com/hook", "scheme"),
        ("example.com/hook", "scheme"),
        ("https://user:secret@example.com/hook", "credentials"),
        ("https:///hook", "host"),
        ("https://exa mple.com/hook", "host"),
        ("https://example.com/hook#part", "url"),
    ],
)
async def test_urls_of_the_wrong_form_are_refused(url: str, code: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await guard(example_com=["93.184.215.14"]).vet(url)

    assert refused.value.code == code


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(TargetRefused) as refused:
        await guard(internal_example=["10.1.2.3"]).vet("https://internal.example/hook")

    assert refused.value.code == "private_address"
    assert "10.1.2.3" not in refused.value.detail  # no map of the inside for whoever asks


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    g = guard(mixed_example=["93.184.215.14", "127.0.0.1"])

    with pytest.raises(TargetRefused):
        await g.vet("https://mixed.example/hook")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(TargetRefused) as refused:
        await guard().vet("https://nowhere.example/hook")

    assert refused.value.code == "unresolvable"


async def test_the_allowlist_admits_its_networks_only() -> None:
    g = guard("127.0.0.0/8", allow_http=True, local_test=["127.0.0.1"], other_test=["10.0.0.1"])

    target = await g.vet("http://local.test:8080/hook")
    with pytest.raises(TargetRefused):
        await g.vet("http://other.test/hook")

    assert str(target.address) == "127.0.0.1"
    assert str(target.connect_url()) == "http://127.0.0.1:8080/hook"
    assert target.host_header() == "local.test:8080"


async def test_an_ipv4_mapped_address_is_judged_by_its_ipv4_address() -> None:
    g = guard("127.0.0.0/8", allow_http=True)

    target = await g.vet("http://[::ffff:127.0.0.1]/hook")

    assert target.host_header() == "[::ffff:127.0.0.1]"
    with pytest.raises(TargetRefused):
        await guard().vet("https://[::ffff:169.254.169.254]/hook")


async def test_the_connection_goes_to_the_vetted_address_under_the_urls_name() -> None:
    target = await guard(hooks_example_com=["93.184.215.14"]).vet(
        "https://hooks.example.com/in?x=1"
    )

    assert str(target.connect_url()) == "https://93.184.215.14/in?x=1"
    assert target.host_header() == "hooks.example.com"
    assert not target.is_literal


async def test_lookups_that_hang_hold_only_threads_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The system resolver cannot be interrupted: a lookup that hangs keeps its thread after
    the guard has given up on it. More of them than the event loop's default pool has threads
    (min(32, cores + 4)) must leave that pool free for everything else (avatars, imports)."""
    release = threading.Event()

    def hanging(*_args: Any, **_kwargs: Any) -> Any:
        release.wait(10)  # bounded: released at the end of the test
        raise OSError("the resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    hung = TargetGuard(
        allow_http=False, allowed_networks=(), resolve_timeout=0.2, resolver_threads=2
    )
    try:
        many = min(32, (os.cpu_count() or 1) + 4) + 2
        answers = await asyncio.gather(
            *(hung.vet(f"https://h{i}.example.com/") for i in range(many)),
            return_exceptions=True,
        )
        assert {a.code if isinstance(a, TargetRefused) else repr(a) for a in answers} == {
            "unresolvable"
        }
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), 2.0) == "free"
    finally:
        release.set()
        hung.close()
