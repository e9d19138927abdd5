"""Timestamps for writes: ISO 8601 with second resolution, strictly increasing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """Hands out write times that always move forward by at least one second.

    GitHub's timestamps have second resolution; two writes within the same second
    would otherwise look like no change to a client comparing `updated_at`.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._last = 0
        self._lock = threading.Lock()

    def tick(self) -> str:
        with self._lock:
            current = int(self._now())
            self._last = current if current > self._last else self._last + 1
            return iso(self._last)

    def observe(self, stamp: str) -> None:
        """Never hand out a time at or before `stamp` (a restored `updated_at`)."""
        epoch = int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
        with self._lock:
            self._last = max(self._last, epoch)

    def now(self) -> int:
        """The current time in epoch seconds (for expiry checks; not a write slot)."""
        return int(self._now())

    def peek(self) -> str:
        """The current wall time, without reserving a write slot (for read-only stamps)."""
        return iso(max(int(self._now()), self._last))
