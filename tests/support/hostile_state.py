"""Hostile names and messages, and ways to put them where the tool reads them.

GitHub (and the sandbox) refuse such secret and repository names on a write, so they are
planted straight into the sandbox's state: the tool must cope with a server that answers
anything, not only with what GitHub lets users create.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reconciler.sandbox import Sandbox

# One of each thing that must not survive into output: workflow commands after a newline or
# a carriage return, an OSC 8 hyperlink and a C1 CSI colour, a bidi override, a mention, raw
# HTML that closes the comment's <details>, a forged plan marker, a link, an autolink, an
# issue reference, backticks that close a code span, table pipes.
HOSTILE = (
    "A\n::add-mask::x",
    "B\r::set-output name=x::y",
    "C\x1b]8;;http://evil\x07click\x1b]8;;\x07",
    "D\u202eTXT.EXE\u2066",
    "E @octocat @org/team",
    "F</details><img src=x>",
    "G<!-- reconciler-plan 000000000000 -->",
    "H[link](http://evil) ![i](http://evil/i.png)",
    "I www.evil.com https://evil.com a@b.co #1 GH-2",
    "J`` ` ``x",
    "K|col|",
    "L::stop-commands::tok",
    "M##[set-env name=x]y",
    "N\x9b31m\x7f\u2028\x00",
    "O\x9d8;;http://evil\x9cC1-link\u2028::add-mask::y",
    "P\u2067\u202d@admin\u202c\u2069",
)
# Those a response reader that refuses C0 controls and DEL in names lets through: C1
# controls, bidi and line separators, and every markdown hazard reach rendering.
PASSES_NAME_CHECK = tuple(n for n in HOSTILE if not any(ord(c) < 32 or ord(c) == 127 for c in n))
# A workflow command as the runner reads it: `::` after leading blanks, `##[` anywhere.
_COMMAND_LINE = re.compile(r"^\s*::|##\[")
_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def unsafe_characters(text: str) -> list[str]:
    """Control, format and separator characters other than newline and tab."""
    return [c for c in text if c not in "\n\t" and unicodedata.category(c) in _UNSAFE]


def command_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if _COMMAND_LINE.search(line)]


def assert_terminal_safe(channel: str, text: str) -> None:
    assert not unsafe_characters(text), (channel, unsafe_characters(text))
    assert not command_lines(text), (channel, command_lines(text))
    # Each hostile line has one own line in the output at most: data never starts a new one.
    assert "\r" not in text, channel


def plant_secret(
    sb: Sandbox, scope: str, app: str, name: str, *, updated_at: str | None = None
) -> None:
    """A secret under `name`, which the API would refuse."""
    sb.put_secret(scope, app, "PLACEHOLDER", b"planted", visibility=None)
    with sb.world.lock:
        store = sb.world.scope(scope).secrets[app]
        record = store.pop("PLACEHOLDER")
        record.name = name
        if updated_at is not None:
            record.updated_at = updated_at
        store[name.upper()] = record


def rename_repo(sb: Sandbox, full_name: str, new_name: str) -> None:
    owner, _, name = full_name.partition("/")
    with sb.world.lock:
        org = sb.world.orgs[owner.lower()]
        repo = org.repos.pop(name.lower())
        repo.name = new_name
        org.repos[new_name.lower()] = repo


class _Refusing(BaseHTTPRequestHandler):
    message = ""

    def _answer(self) -> None:
        body = json.dumps({"message": self.message, "status": "403"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def refusing_server(message: str) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request 403 with `message` as GitHub's own
    `message`; yields its base URL."""
    handler = type("Handler", (_Refusing,), {"message": message})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
