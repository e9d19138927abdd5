"""Reading API response bodies without trusting their shape.

A server that is not GitHub (a captive portal, a broken proxy, a hostile host behind
`--api-url`) can answer anything. Every parser reads bodies through `Json`, which knows the
request and the place inside the body it is reading, so a wrong shape becomes one
`MalformedResponseError` naming both, never a KeyError or a traceback. Messages name types and
places only, never a value from the body: a body may carry anything.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.errors import MalformedResponseError, RequestInfo

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)

if TYPE_CHECKING:  # annotations only: the ledger reads permission hints without loading requests
    import requests


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def request_info(resp: requests.Response, method: str, path: str) -> RequestInfo:
    """The request an answer belongs to, with its status and GitHub's request id."""
    return RequestInfo(method, path, resp.status_code, resp.headers.get("X-GitHub-Request-Id"))


def github_message(resp: requests.Response) -> str:
    """GitHub's own `message` in an error answer, or "" when the body has none."""
    try:
        data = resp.json()
    except ValueError:
        return ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def parse_json(request: RequestInfo, content: bytes) -> Json:
    """The body as JSON, or MalformedResponseError (HTML, truncated, not UTF-8)."""
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):
        head = content.lstrip()[:1]
        what = "HTML, not JSON" if head == b"<" else "not valid JSON (empty, truncated or garbled)"
        raise MalformedResponseError(request, "", f"the body is {what}") from None
    return Json(request, value, "")


class Json:
    """One value inside one response body, with where it sits (`secrets[3].name`)."""

    __slots__ = ("request", "value", "where")

    def __init__(self, request: RequestInfo, value: object, where: str) -> None:
        self.request = request
        self.value = value
        self.where = where

    def __repr__(self) -> str:
        return f"Json({self.request}, {self.where or '<body>'})"

    def _fail(self, expected: str) -> MalformedResponseError:
        return MalformedResponseError(
            self.request, self.where, f"expected {expected}, got {_kind(self.value)}"
        )

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _object(self) -> dict[str, object]:
        if not isinstance(self.value, dict):
            raise self._fail("an object")
        return self.value

    def field(self, key: str) -> Json:
        """A member that must be present (null counts as present)."""
        obj = self._object()
        if key not in obj:
            raise MalformedResponseError(self.request, self._at(key), "missing")
        return Json(self.request, obj[key], self._at(key))

    def optional(self, key: str) -> Json | None:
        """A member that may be absent or null."""
        value = self._object().get(key)
        return None if value is None else Json(self.request, value, self._at(key))

    def items(self) -> Iterator[Json]:
        if not isinstance(self.value, list):
            raise self._fail("a list")
        for i, item in enumerate(self.value):
            yield Json(self.request, item, f"{self.where}[{i}]")

    def string(self) -> str:
        if not isinstance(self.value, str):
            raise self._fail("a string")
        return self.value

    def timestamp(self) -> str:
        """An ISO 8601 date-time as GitHub writes them (`2024-01-02T03:04:05Z`): what the
        ledger records and compares, so nothing else may reach it."""
        text = self.string()
        if not _TIMESTAMP.fullmatch(text):
            raise MalformedResponseError(
                self.request,
                self.where,
                "expected an ISO 8601 date-time such as 2024-01-02T03:04:05Z",
            )
        return text

    def name(self) -> str:
        """A name (secret, repository, login): a non-empty string without control characters."""
        text = self.string()
        if not text or len(text) > 1000 or any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise MalformedResponseError(
                self.request, self.where, "expected a name, got an empty, huge or control string"
            )
        return text

    def id(self) -> int:
        """A positive integer id (booleans are not ids, though Python counts them as ints)."""
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value <= 0:
            raise self._fail("a positive integer id")
        return self.value

    def base64(self, length: int | None = None) -> bytes:
        try:
            raw = base64.b64decode(self.string(), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponseError(self.request, self.where, "not valid base64") from None
        if length is not None and len(raw) != length:
            raise MalformedResponseError(
                self.request, self.where, f"expected {length} bytes, got {len(raw)}"
            )
        return raw
