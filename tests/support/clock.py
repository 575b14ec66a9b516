"""A frozen clock to stand in for a module's `utcnow`, so lifetimes pass without sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from taskwell.db.types import utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def freeze(monkeypatch: pytest.MonkeyPatch, target: str) -> Clock:
    """Replace `target` (e.g. "taskwell.auth.service.utcnow") with a frozen clock."""
    frozen = Clock()
    monkeypatch.setattr(target, frozen)
    return frozen
