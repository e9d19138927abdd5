"""What a run's requests cost: reads, writes, the 304s the conditional-request cache earned
(free on GitHub's primary rate limit) and the budget GitHub last reported."""

from __future__ import annotations

import threading
from contextlib import suppress

import requests

from reconciler.model import ApiCost


class Counters:
    """Thread-safe counts, read as plain attributes or as an `ApiCost`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0
        self.not_modified = 0
        self.rate_remaining: int | None = None  # the lowest X-RateLimit-Remaining seen
        self.rate_limit: int | None = None

    def count(self, write: bool, resp: requests.Response | None = None) -> None:
        remaining = limit = None
        if resp is not None:
            with suppress(ValueError):
                remaining = int(resp.headers.get("X-RateLimit-Remaining", ""))
                limit = int(resp.headers.get("X-RateLimit-Limit", ""))
        with self._lock:
            if write:
                self.writes += 1
            else:
                self.reads += 1
            if resp is not None and resp.status_code == 304:
                self.not_modified += 1
            if remaining is not None and (
                self.rate_remaining is None or remaining < self.rate_remaining
            ):
                self.rate_remaining, self.rate_limit = remaining, limit

    def cost(self) -> ApiCost:
        with self._lock:
            return ApiCost(
                self.reads + self.writes, self.not_modified, self.rate_remaining, self.rate_limit
            )
