"""What the pipeline and the endpoints exchange: a parsed request and a JSON reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.rules.errors import ApiError


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


def encode(body: object) -> bytes:
    """A reply body as GitHub sends it: compact JSON, nothing for no body."""
    return b"" if body is None else json.dumps(body, separators=(",", ":")).encode()


def error_reply(error: ApiError) -> Reply:
    """The reply for an `ApiError`: its status, GitHub's error body and its headers."""
    return Reply(error.status, json.loads(error.body()), error.headers)
