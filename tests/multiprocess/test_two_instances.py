"""Two real `taskwell serve` processes sharing one database and one Redis behave as one
service: a login limit used up through A holds on B, a logout through A is refused by B within
a second, and a task changed through A is never read back stale through B.

Both instances trust 127.0.0.1 as a proxy, so each test is its own client (X-Forwarded-For)
and the tests' login budgets do not overlap."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import PG_URL, STRONG_PASSWORD
from tests.support import LOGIN, LOGOUT, ME, REGISTER, TASKS, bearer, forwarded
from tests.support.processes import REDIS_SERVER, AppProcess, RedisProcess, run_taskwell
from tests.support.sharing import PROJECTS

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

LOGIN_LIMIT = 3
GENEROUS = "100000/minute"


@dataclass
class Pair:
    a: httpx.Client
    b: httpx.Client


def _no_500(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.read())


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("two-instances")
    redis = RedisProcess(workdir)
    apps: list[AppProcess] = []
    try:
        redis.start()
        env = {
            "TASKWELL_ENV": "test",
            "TASKWELL_DATABASE_URL": PG_URL or f"sqlite+aiosqlite:///{workdir / 'taskwell.db'}",
            "TASKWELL_REDIS_URL": redis.url(),
            "TASKWELL_AUTO_MIGRATE": "false",  # migrated once, below, not by both at once
            "TASKWELL_TRUSTED_PROXIES": "127.0.0.1",
            "TASKWELL_RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
            "TASKWELL_RATE_LIMIT_DEFAULT": GENEROUS,
            "TASKWELL_RATE_LIMIT_USER": GENEROUS,
            "TASKWELL_RATE_LIMIT_LOGIN_ACCOUNT": GENEROUS,
            "TASKWELL_RATE_LIMIT_REGISTER": GENEROUS,
            "TASKWELL_RATE_LIMIT_REFRESH": GENEROUS,
            "TASKWELL_ACCESS_LOG": "false",
            "TASKWELL_LOG_LEVEL": "warning",
            # Event streams look by themselves only once a minute: what arrives sooner was
            # pushed by a wake-up through Redis.
            "TASKWELL_EVENTS_POLL_SECONDS": "60",
        }
        run_taskwell(env, "db", "upgrade", cwd=workdir)
        apps = [AppProcess(workdir, env, cwd=workdir), AppProcess(workdir, env, cwd=workdir)]
        for app in apps:
            app.start()
        for app in apps:
            app.wait_ready()
        hooks = {"response": [_no_500]}
        with (
            httpx.Client(base_url=apps[0].base_url, timeout=10, event_hooks=hooks) as a,
            httpx.Client(base_url=apps[1].base_url, timeout=10, event_hooks=hooks) as b,
        ):
            yield Pair(a, b)
    finally:
        for app in apps:
            app.stop()
        redis.stop()
        for app in apps:
            print(f"--- {app.base_url} ---\n{app.output()}")


class Visitor:
    """One client (its own forwarded address) with one account, talking to either instance."""

    def __init__(self, address: str) -> None:
        self.headers = forwarded(address)
        self.email = f"{uuid.uuid4().hex[:12]}@example.com"

    def register(self, via: httpx.Client) -> None:
        response = via.post(
            REGISTER, json={"email": self.email, "password": STRONG_PASSWORD}, headers=self.headers
        )
        assert response.status_code == 201, response.text

    def login(self, via: httpx.Client) -> httpx.Response:
        return via.post(
            LOGIN, json={"email": self.email, "password": STRONG_PASSWORD}, headers=self.headers
        )

    def sign_in(self, via: httpx.Client) -> dict[str, str]:
        self.register(via)
        response = self.login(via)
        assert response.status_code == 200, response.text
        return {**self.headers, **bearer(response.json())}


def test_a_login_limit_used_up_through_one_instance_holds_on_the_other(pair: Pair) -> None:
    visitor = Visitor("203.0.113.10")
    visitor.register(pair.a)
    through_a = [visitor.login(pair.a).status_code for _ in range(LOGIN_LIMIT)]
    through_b = visitor.login(pair.b)
    neighbour = Visitor("203.0.113.11")
    neighbour.register(pair.b)
    other_client = neighbour.login(pair.b)

    assert through_a == [200] * LOGIN_LIMIT
    assert through_b.status_code == 429
    assert through_b.json()["type"] == "urn:taskwell:problem:rate-limited"
    assert int(through_b.headers["retry-after"]) >= 1
    assert through_b.headers["ratelimit-limit"] == str(LOGIN_LIMIT)
    assert through_b.headers["ratelimit-remaining"] == "0"
    assert other_client.status_code == 200


def test_a_logout_through_one_instance_is_refused_by_the_other_within_a_second(
    pair: Pair,
) -> None:
    headers = Visitor("203.0.113.20").sign_in(pair.a)
    assert pair.b.get(ME, headers=headers).status_code == 200  # B now trusts it for a while
    assert pair.a.post(LOGOUT, headers=headers).status_code == 204
    logged_out_at = time.monotonic()

    polls: list[tuple[float, int]] = []
    while len(polls) < 1_000 and time.monotonic() - logged_out_at < 1.5:
        sent = time.monotonic() - logged_out_at
        polls.append((sent, pair.b.get(ME, headers=headers).status_code))
        time.sleep(0.01)

    statuses = [status for _, status in polls]
    assert 401 in statuses, polls
    first_refusal = statuses.index(401)
    assert set(statuses[first_refusal:]) == {401}, polls  # and it stays refused
    # Every request sent from 1.0 s after the logout answer on was refused.
    late = [status for sent, status in polls if sent >= 1.0]
    assert late, polls
    assert set(late) == {401}, polls
    assert pair.a.get(ME, headers=headers).status_code == 401


def _titles(page: httpx.Response) -> dict[str, str]:
    assert page.status_code == 200, page.text
    return {task["id"]: task["title"] for task in page.json()["items"]}


def test_a_task_changed_through_one_instance_is_never_stale_on_the_other(pair: Pair) -> None:
    headers = Visitor("203.0.113.30").sign_in(pair.a)
    created = pair.a.post(TASKS, json={"title": "v0"}, headers=headers)
    assert created.status_code == 201
    task_id = created.json()["id"]
    url = f"{TASKS}/{task_id}"
    for via in (pair.a, pair.b, pair.b):  # both instances have read it, and cached it
        assert via.get(url, headers=headers).json()["title"] == "v0"
        assert _titles(via.get(TASKS, headers=headers)) == {task_id: "v0"}

    for version in range(1, 6):
        old_etag = pair.b.get(url, headers=headers).headers["etag"]
        patched = pair.a.patch(url, json={"title": f"v{version}"}, headers=headers)
        assert patched.status_code == 200
        single = pair.b.get(url, headers=headers)
        listed = pair.b.get(TASKS, headers=headers)
        revalidated = pair.b.get(url, headers={**headers, "If-None-Match": old_etag})
        assert single.json()["title"] == f"v{version}"
        assert single.json()["version"] == patched.json()["version"]
        assert _titles(listed) == {task_id: f"v{version}"}
        assert revalidated.status_code == 200
        assert revalidated.json()["title"] == f"v{version}"

    second = pair.b.post(TASKS, json={"title": "from B"}, headers=headers).json()
    assert _titles(pair.a.get(TASKS, headers=headers)) == {task_id: "v5", second["id"]: "from B"}
    assert pair.a.delete(url, headers=headers).status_code == 204
    gone = pair.b.get(url, headers=headers)
    assert gone.status_code == 404
    assert _titles(pair.b.get(TASKS, headers=headers)) == {second["id"]: "from B"}


def _stream(via: httpx.Client, headers: dict[str, str]) -> tuple[httpx.Response, Iterator[str]]:
    request = via.build_request("GET", "/api/v1/events", headers=headers)
    response = via.send(request, stream=True)
    assert response.status_code == 200
    lines = response.iter_lines()
    assert "event: ready" in _lines(lines, 10)
    return response, lines


def _lines(lines: Iterator[str], most: int) -> list[str]:
    taken = []
    for _, line in zip(range(most), lines, strict=False):
        taken.append(line)
        if line.startswith("data: ") or line == "event: ready":
            break
    return taken


def _pushed(
    lines: Iterator[str], task_id: str, title: str, within: float = 3.0
) -> dict[str, object]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in _lines(lines, 10):
            if line.startswith('data: {"changes"'):
                for change in json.loads(line.removeprefix("data: "))["changes"]:
                    if change["id"] == task_id and change["data"]["title"] == title:
                        return dict(change)
    raise AssertionError(f"task {task_id} was not pushed within {within} s")


def test_two_clients_on_two_instances_see_each_others_changes_live(pair: Pair) -> None:
    alice, bob = Visitor("203.0.113.30"), Visitor("203.0.113.31")
    alices_headers, bobs_headers = alice.sign_in(pair.a), bob.sign_in(pair.b)
    project = pair.a.post(PROJECTS, json={"name": "Shared"}, headers=alices_headers).json()["id"]
    invited = pair.a.post(
        f"{PROJECTS}/{project}/members",
        json={"email": bob.email, "role": "editor"},
        headers=alices_headers,
    )
    assert invited.status_code == 201, invited.text
    # Alice follows through instance A, Bob through instance B.
    with (
        httpx.Client(base_url=str(pair.a.base_url), timeout=httpx.Timeout(5, read=5)) as a,
        httpx.Client(base_url=str(pair.b.base_url), timeout=httpx.Timeout(5, read=5)) as b,
    ):
        alices_stream, alices_lines = _stream(a, alices_headers)
        bobs_stream, bobs_lines = _stream(b, bobs_headers)
        try:
            by_alice = pair.a.post(
                TASKS, json={"title": "From A", "project_id": project}, headers=alices_headers
            )
            assert by_alice.status_code == 201
            assert _pushed(bobs_lines, by_alice.json()["id"], "From A")["op"] == "upsert"
            by_bob = pair.b.patch(
                f"{TASKS}/{by_alice.json()['id']}",
                json={"title": "Changed on B"},
                headers=bobs_headers,
            )
            assert by_bob.status_code == 200
            assert _pushed(alices_lines, by_alice.json()["id"], "Changed on B")
        finally:
            alices_stream.close()
            bobs_stream.close()
