"""Staying under GitHub's secondary rate limit on REST points instead of tripping it.

GitHub allows "no more than 900 points per minute" for REST endpoints; most GET requests
cost 1 point and most POST, PATCH, PUT and DELETE requests 5 (docs: "Rate limits for the
REST API", secondary rate limits). A run that goes over is refused with a 403 and a wait of
a minute or more, and clients that keep going may be banned. So requests take their points
from a sliding minute: a run of up to 900 reads is never slowed; a larger one averages 15
reads a second. Whether a 304
costs points is not documented, so it is counted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_POINTS_PER_MINUTE = 900
READ_POINTS = 1
WRITE_POINTS = 5
WINDOW = 60.0


class Pacer:
    """A sliding minute: a request is sent at the first moment when it and everything sent
    in the minute before together stay within the budget, so no minute ever holds more.
    Points are reserved when asked (later askers wait longer, in order; nobody polls)."""

    def __init__(
        self,
        points_per_minute: int,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._budget = points_per_minute
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[tuple[float, int]] = deque()  # (when, points), in time order
        self._in_window = 0

    def take(self, points: int) -> None:
        if self._budget <= 0:
            return
        points = min(points, self._budget)
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0][0] <= now - WINDOW:
                self._in_window -= self._sent.popleft()[1]
            at = max(now, self._sent[-1][0]) if self._sent else now
            excess = self._in_window + points - self._budget
            for when, spent in self._sent:
                if excess <= 0:
                    break
                excess -= spent
                at = max(at, when + WINDOW)  # once that one has left the minute
            self._sent.append((at, points))
            self._in_window += points
        if at > now:
            self._sleep(at - now)
