"""What flows through the sandbox: a parsed request, a reply, and the records kept of both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

V2022 = "2022-11-28"
V2026 = "2026-03-10"
API_VERSIONS: tuple[str, ...] = (V2026, V2022)  # newest first, as GitHub lists them
GHES_PREFIX = "/api/v3"


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str  # as sent, percent-encoded, without the query
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    host: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any = None  # JSON-able; None means no body (204, 304)
    headers: tuple[tuple[str, str], ...] = ()


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
