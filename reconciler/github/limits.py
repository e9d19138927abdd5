"""Waiting before a retry: how long a rate-limited answer asks us to wait, and the jittered
back-off after a transient failure."""

from __future__ import annotations

import random
import time

import requests

from reconciler.github.responses import github_message


def rate_limit_wait(resp: requests.Response) -> float | None:
    """Seconds to wait if this response is a rate limit, else None."""
    if resp.status_code not in (403, 429):
        return None
    retry_after = resp.headers.get("Retry-After")
    if retry_after and retry_after.isdigit():
        return float(retry_after)
    if resp.headers.get("X-RateLimit-Remaining") == "0":
        reset = resp.headers.get("X-RateLimit-Reset", "")
        if reset.isdigit():
            return max(0.0, int(reset) - time.time()) + 1.0
        return 60.0
    if "secondary rate limit" in github_message(resp).lower():
        return 60.0  # GitHub: wait at least a minute when no header says otherwise
    return None


def backoff_delay(rng: random.Random, base: float, attempt: int) -> float:
    """Full jitter: anywhere from 0 to `base` doubled for each attempt after the first."""
    return rng.uniform(0, base * 2 ** (attempt - 1))
