"""What the sandbox keeps of each request: a printable log, raw exchanges (tests only), the
requests in flight, its own errors, and the latency it adds."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One handled request, safe to print: no headers, no bodies, no tokens."""

    method: str
    path: str
    query: str
    status: int  # 0 when a fault dropped the connection
    request_id: str
    api_version: str | None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A raw request/response pair, kept only with `SandboxConfig.record_exchanges`.

    It holds request headers (with the token) and sealed values: for conformance
    checks in tests, never for printing.
    """

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...] = field(default=())
    response_body: bytes = b""


class Flight:
    """Requests in flight and the most seen at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def enter(self) -> None:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        with self._lock:
            self.current -= 1

    def reset(self) -> None:
        with self._lock:
            self.peak = self.current


class Recorder:
    """What the HTTP side reports back: request log, raw exchanges, concurrency, latency."""

    def __init__(self, *, record_exchanges: bool, latency: float) -> None:
        self.record_exchanges = record_exchanges
        self.latency = latency
        self.flight = Flight()
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._exchanges: list[Exchange] = []
        self._errors: list[str] = []

    def error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    def errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)

    def enter(self) -> None:
        self.flight.enter()

    def leave(self) -> None:
        self.flight.leave()

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._requests.append(entry)

    def exchange(self, entry: Exchange) -> None:
        with self._lock:
            self._exchanges.append(entry)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
