"""What the edge remembers between requests instead of recomputing it, and its bounds."""

from __future__ import annotations

import os
from typing import Any

import pytest
from starlette.requests import Request

from taskwell.http import client_ip, query, request_id
from taskwell.http.client_ip import ClientIpMiddleware, parse_networks
from taskwell.tasks.schemas import TaskListParams


def test_request_ids_are_32_hex_and_never_repeat() -> None:
    ids = request_id.RequestIds()
    made = [ids.new() for _ in range(10_000)]
    assert len(set(made)) == len(made)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)


def test_a_forked_process_gets_its_own_request_id_prefix() -> None:
    ids = request_id.RequestIds()
    parent = ids.new()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first id and leave at once
        os.write(write, ids.new().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert len(child) == 32
    assert parent[:16] != child[:16]


async def test_resolved_client_addresses_are_remembered_boundedly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["client_ip"])

    middleware = ClientIpMiddleware(app, parse_networks("10.0.0.0/8"))
    calls = 0
    original = client_ip.resolve

    def counting(*args: Any) -> str:
        nonlocal calls
        calls += 1
        return original(*args)

    monkeypatch.setattr(client_ip, "resolve", counting)

    async def request(peer: str, forwarded: bytes | None = None) -> None:
        headers = [(b"x-forwarded-for", forwarded)] if forwarded else []
        scope = {"type": "http", "client": (peer, 1), "headers": headers}
        await middleware(scope, None, None)

    await request("10.0.0.1", b"203.0.113.9")
    await request("10.0.0.1", b"203.0.113.9")
    await request("192.0.2.1", b"203.0.113.9")  # not a proxy: its header is ignored
    assert seen == ["203.0.113.9", "203.0.113.9", "192.0.2.1"]
    assert calls == 2
    for i in range(client_ip._MEMO_ENTRIES + 10):
        await request(f"192.0.{i // 256 % 256}.{i % 256}")
    assert len(middleware._resolved) <= client_ip._MEMO_ENTRIES


def _request(query_string: bytes) -> Request:
    return Request({"type": "http", "query_string": query_string, "headers": []})


def test_a_frozen_query_model_is_validated_once_per_query_string() -> None:
    first = query.parse_query(TaskListParams, _request(b"limit=5&status=todo"))
    again = query.parse_query(TaskListParams, _request(b"limit=5&status=todo"))
    other = query.parse_query(TaskListParams, _request(b"limit=6"))
    assert first is again
    assert other.limit == 6
    with pytest.raises(Exception, match="frozen"):
        first.limit = 1  # type: ignore[misc]


def test_the_query_memo_is_bounded() -> None:
    for i in range(query._PARSED_ENTRIES + 5):
        query.parse_query(TaskListParams, _request(f"limit={i}".encode()))
    assert len(query._PARSED) <= query._PARSED_ENTRIES
