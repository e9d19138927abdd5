"""A hostile HTTP server for tests: a proxy on 127.0.0.1 in front of the sandbox whose answers a
test programs per request, and an "attacker" listener that records everything it is sent.

`Hostile(upstream)` forwards every request to the upstream sandbox unchanged, unless a rule
added with `on(...)` matches it: the rule gets the request and a `forward()` callable and
returns the `Reply` to send, which may be the sandbox's answer rewritten (a `Link` header to
the attacker, a broken body), or one made up (HTML, a redirect, a body dripping forever, no
answer at all). Both servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Longest a held request is kept open; a test releases it (or stops the server) much sooner.
_HOLD_MAX = 60.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    # Send the headers, then one byte every `drip` seconds until the client gives up.
    drip: float | None = None
    # Never answer: keep the connection open (until released) after signalling `held`.
    hold: bool = False
    # Declare this Content-Length instead of the body's own; -1 declares none.
    length: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, data: Any) -> Reply:
        return replace(self, body=json.dumps(data).encode())

    def with_header(self, name: str, value: str) -> Reply:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))


def json_reply(data: Any, status: int = 200, **kw: Any) -> Reply:
    return Reply(status, json.dumps(data).encode(), (("Content-Type", "application/json"),), **kw)


Forward = Callable[[], Reply]
Respond = Callable[[Seen, Forward], Reply]


@dataclass
class _Rule:
    match: Callable[[Seen], bool]
    respond: Respond
    times: int | None
    used: int = 0


@dataclass
class _State:
    rules: list[_Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Listener:
    """A threaded HTTP server on 127.0.0.1:0 recording every request."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler, Seen], None]) -> None:
        self.state = _State()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                with state.lock:
                    state.seen.append(seen)
                with suppress(BrokenPipeError, ConnectionResetError):
                    handle(self, seen)  # the client may give up on us, as it should

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _any  # noqa: N815

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def seen(self) -> list[Seen]:
        with self.state.lock:
            return list(self.state.seen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Attacker(_Listener):
    """Where a hostile server points clients: records every request, answers plausibly."""

    def __init__(self) -> None:
        stop = threading.Event()

        def handle(h: BaseHTTPRequestHandler, seen: Seen) -> None:
            _send(h, json_reply({"total_count": 0, "secrets": [], "token": "x", "id": 1}), stop)

        super().__init__(handle)


class Hostile(_Listener):
    """The proxy in front of the sandbox; see the module docstring."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.held = threading.Event()  # set when a request is being held
        self.release = threading.Event()

        def handle(h: BaseHTTPRequestHandler, seen: Seen) -> None:
            rule = self._rule_for(seen)
            reply = rule(seen, lambda: self._forward(seen)) if rule else self._forward(seen)
            if reply.hold:
                self.held.set()
                self.release.wait(_HOLD_MAX)
                return
            _send(h, reply, self.release)

        super().__init__(handle)

    def on(self, match: Callable[[Seen], bool], respond: Respond, times: int | None = None) -> None:
        """Answer requests that `match` with `respond` (the first `times` of them, or all)."""
        with self.state.lock:
            self.state.rules.append(_Rule(match, respond, times))

    def _rule_for(self, seen: Seen) -> Respond | None:
        with self.state.lock:
            for rule in self.state.rules:
                if (rule.times is None or rule.used < rule.times) and rule.match(seen):
                    rule.used += 1
                    return rule.respond
        return None

    def _forward(self, seen: Seen) -> Reply:
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            headers = {k: v for k, v in seen.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(seen.method, seen.path, body=seen.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            kept = tuple((k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP)
            return Reply(resp.status, body, kept)
        finally:
            conn.close()

    def stop(self) -> None:
        self.release.set()
        super().stop()


def _send(h: BaseHTTPRequestHandler, reply: Reply, stop: threading.Event) -> None:
    h.send_response(reply.status)
    for name, value in reply.headers:
        h.send_header(name, value)
    if reply.drip is not None:
        h.end_headers()  # no Content-Length: the body ends when the connection does
        h.wfile.write(b'{"secrets": [')
        # A byte per `drip` until the client hangs up (the write fails) or the test ends.
        while not stop.wait(reply.drip):
            h.wfile.write(b" ")
            h.wfile.flush()
        return
    length = reply.length if reply.length is not None else len(reply.body)
    if length >= 0:  # -1: no Content-Length; the body ends when the connection closes
        h.send_header("Content-Length", str(length))
    h.end_headers()
    h.wfile.write(reply.body)
