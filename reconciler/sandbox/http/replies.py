"""What goes on the wire around a reply: request ids, GitHub's response headers and body
bytes, and the 500 that answers a sandbox bug."""

from __future__ import annotations

import itertools
import random
import threading
import time

from reconciler.sandbox.rules.errors import DOCS
from reconciler.sandbox.rules.messages import Reply, encode
from reconciler.sandbox.rules.versions import API_VERSIONS, V2022


class RequestIds:
    """`X-GitHub-Request-Id` values shaped like GitHub's (`C0DE:3B9F:1A2B3C:4D5E6F:65A1B2C3`)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._random = random.Random()
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            n = next(self._counter)
            a, b, c = (self._random.getrandbits(bits) for bits in (16, 16, 24))
        return f"{a:04X}:{b:04X}:{n:06X}:{c:06X}:{int(time.time()):08X}"


def wire(reply: Reply, version: str | None, request_id: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The payload and every response header, in the order GitHub sends them."""
    payload = b"" if reply.status in (204, 304) else encode(reply.body)
    headers: list[tuple[str, str]] = [("X-GitHub-Request-Id", request_id)]
    if reply.body is not None:
        headers.append(("Content-Type", "application/json; charset=utf-8"))
    headers.append(("X-GitHub-Media-Type", "github.v3; format=json"))
    if version is None or version in API_VERSIONS:
        headers.append(("X-GitHub-Api-Version-Selected", version or V2022))
    headers.extend(reply.headers)
    if reply.status not in (204, 304):
        headers.append(("Content-Length", str(len(payload))))
    return payload, headers


def server_error() -> Reply:
    body = {"message": "Server Error", "documentation_url": DOCS, "status": "500"}
    return Reply(500, body)
