"""The primary rate limit: a per-token budget per hour (reported as a `Quota`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reconciler.sandbox.rules.quota import WINDOW, Quota


class RateLimiter:
    def __init__(self, limit: int, now: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._now = now
        self._used: dict[str, int] = {}
        self._reset: dict[str, int] = {}
        self._lock = threading.Lock()

    def _roll(self, token: str) -> None:
        now = int(self._now())
        if self._reset.get(token, 0) <= now:
            self._reset[token] = now + WINDOW
            self._used[token] = 0

    def _quota(self, token: str) -> Quota:
        used = self._used[token]
        return Quota(self.limit, max(self.limit - used, 0), used, self._reset[token])

    def peek(self, token: str) -> Quota:
        with self._lock:
            self._roll(token)
            return self._quota(token)

    def take(self, token: str) -> Quota | None:
        """Spend one request; None when the budget is gone (nothing is spent then)."""
        with self._lock:
            self._roll(token)
            if self._used[token] >= self.limit:
                return None
            self._used[token] += 1
            return self._quota(token)

    def refund(self, token: str) -> Quota:
        # A 304 does not count against the primary limit on GitHub.
        with self._lock:
            self._used[token] = max(self._used[token] - 1, 0)
            return self._quota(token)
