"""X-Request-ID: keep the client's when well-formed, otherwise make one (http.edge echoes it)."""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Iterable

_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


class RequestIds:
    """32 hex characters, unique without a system call per request: a random 64-bit prefix
    per process (renewed in a forked child) and a counter. They identify, they are not secrets
    (uuid4 read /dev/urandom on every request, measured at ~4% of the task list's CPU)."""

    def __init__(self) -> None:
        self._renew()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(secrets.randbelow(1 << 32))

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_IDS = RequestIds()


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when well-formed, otherwise a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _WELL_FORMED.match(candidate):
                return candidate
            break
    return _IDS.new()
