"""A mixed load through nginx that remembers what the service acknowledged.

Each worker is one user with its own HTTPS client, working on its own tasks one request at a
time: reads (the list, one task), creates with an Idempotency-Key (retried with the same key
until acknowledged, bounded), and updates with If-Match. Every request's outcome is kept with
its start and end time, so failures can be matched against fault windows, and every write the
service acknowledged (2xx) is kept, so it can be checked afterwards."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import STRONG_PASSWORD

TASKS = "/api/v1/tasks"
CREATE_ATTEMPTS = 12
RETRY_PAUSE = 0.25
EXPECTED = {"read": {200, 304}, "create": {200, 201}, "update": {200, 412}, "refresh": {200}}


@dataclass(frozen=True)
class Outcome:
    op: str
    started: float
    ended: float
    status: int | None  # None: no answer (connection error, timeout)
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status not in EXPECTED[self.op]

    def describe(self) -> str:
        return f"{self.op} {self.status or self.error} at {self.started:.2f}-{self.ended:.2f}"


@dataclass
class TaskState:
    """What the service acknowledged for one task, and updates whose answer was lost."""

    id: str
    title: str
    description: str
    version: int
    unconfirmed: list[tuple[str, str]] = field(default_factory=list)
    stale: bool = False  # the version may have moved on (an update's answer was lost)

    def allows(self, title: str, description: str) -> bool:
        """The stored content is the last acknowledged one, or a later unanswered update."""
        return (title, description) in [(self.title, self.description), *self.unconfirmed]


@dataclass
class Worker:
    name: str
    client: httpx.AsyncClient
    rng: random.Random
    email: str = field(default_factory=lambda: f"{uuid.uuid4().hex[:12]}@example.com")
    headers: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, TaskState] = field(default_factory=dict)
    # Every create tried: idempotency key -> title (unique per key, so duplicates show).
    attempted: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    counter: int = 0

    async def sign_in(self) -> None:
        account = {"email": self.email, "password": STRONG_PASSWORD}
        registered = await self.client.post("/api/v1/auth/register", json=account)
        assert registered.status_code == 201, registered.text
        login = await self.client.post("/api/v1/auth/login", json=account)
        assert login.status_code == 200, login.text
        self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def _send(self, op: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        started = time.monotonic()
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            self.outcomes.append(Outcome(op, started, time.monotonic(), None, repr(exc)))
            return None
        self.outcomes.append(Outcome(op, started, time.monotonic(), response.status_code))
        return response

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            choice = self.rng.random()
            if choice < 0.25 or not self.tasks:
                await self.create()
            elif choice < 0.5:
                await self.update(self.rng.choice(list(self.tasks.values())))
            elif choice < 0.75:
                await self._send("read", "GET", TASKS, params={"limit": 50})
            else:
                task = self.rng.choice(list(self.tasks.values()))
                await self._send("read", "GET", f"{TASKS}/{task.id}")
            await asyncio.sleep(self.rng.uniform(0.0, 0.02))

    async def create(self) -> None:
        self.counter += 1
        key = uuid.uuid4().hex
        body = {"title": f"{self.name} #{self.counter} {key[:8]}", "description": _text(self.rng)}
        self.attempted[key] = body["title"]
        for attempt in range(CREATE_ATTEMPTS):
            response = await self._send(
                "create", "POST", TASKS, json=body, headers={"Idempotency-Key": key}
            )
            if response is not None and response.status_code in (200, 201):
                task = response.json()
                self.tasks[task["id"]] = TaskState(
                    task["id"], task["title"], task["description"], task["version"]
                )
                return
            await asyncio.sleep(RETRY_PAUSE * (attempt + 1))

    async def update(self, task: TaskState) -> None:
        if task.stale and not await self.refresh(task):
            return
        self.counter += 1
        title, description = f"{task.title.split(' ~')[0]} ~{self.counter}", _text(self.rng)
        response = await self._send(
            "update",
            "PATCH",
            f"{TASKS}/{task.id}",
            json={"title": title, "description": description},
            headers={"If-Match": f'"v{task.version}"'},
        )
        if response is not None and response.status_code == 200:
            changed = response.json()
            task.title, task.description = changed["title"], changed["description"]
            task.version, task.unconfirmed, task.stale = changed["version"], [], False
            return
        if response is None or response.status_code >= 500:
            task.unconfirmed.append((title, description))  # it may have been applied
        task.stale = True

    async def refresh(self, task: TaskState) -> bool:
        """Learn the task's current version (for If-Match) after an unanswered update."""
        response = await self._send("refresh", "GET", f"{TASKS}/{task.id}")
        if response is None or response.status_code != 200:
            return False
        task.version, task.stale = response.json()["version"], False
        return True


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(("alpha", "beta", "gamma", "delta", "omega")) for _ in range(6))


@dataclass
class Load:
    """Several workers through one nginx until stopped."""

    workers: list[Worker]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    running: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        await asyncio.gather(*(worker.sign_in() for worker in self.workers))
        self.running = [asyncio.create_task(worker.run(self.stop)) for worker in self.workers]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.running), timeout=120)

    @property
    def outcomes(self) -> list[Outcome]:
        return sorted((o for w in self.workers for o in w.outcomes), key=lambda o: o.started)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]
