"""A webhook receiver for tests: a real HTTP server on 127.0.0.1, in a thread of its own.

It records every request, answers from a script of status codes (200 when the script is
empty), can hold its answers until released (a worker can then be killed mid-delivery), and
processes each webhook-id once, as a receiver should when deliveries come at least once.
Its signature check is written here from the Standard Webhooks text, independently of
taskwell.webhooks.signing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return orjson.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True if one of the v1 signatures in webhook-signature is ours for this body."""
    key = base64.b64decode(secret.split("_", 1)[1] if secret.startswith("whsec_") else secret)
    content = b".".join(
        [headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(), body]
    )
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.processed: dict[str, Received] = {}
        self.statuses: deque[int] = deque()
        self.redirect_to: str | None = None
        self._holding = threading.Event()  # set: hold answers
        self._released = threading.Event()
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Process what arrives, but keep each answer until release()."""
        self._released.clear()
        self._holding.set()

    def release(self) -> None:
        self._holding.clear()
        self._released.set()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least `count` requests have arrived (bounded)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
                self._arrived.wait(left)
            return list(self.requests)

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.requests if r.json()["type"] == event_type]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received = Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with receiver._arrived:
                    receiver.requests.append(received)
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    if 200 <= status < 300 and "webhook-id" in received.headers:
                        receiver.processed.setdefault(received.id, received)
                    receiver._arrived.notify_all()
                if receiver._holding.is_set():
                    receiver._released.wait(30.0)
                self.send_response(status)
                if 300 <= status < 400 and receiver.redirect_to:
                    self.send_header("location", receiver.redirect_to)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
