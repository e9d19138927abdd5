"""`reconciler seal`: seal a value from stdin to a scope's public key, for a `sealed` source.

On a terminal the value is typed without echo, like a password: Enter ends it and is not part
of it. Piped input is sealed byte for byte; a trailing newline (as `echo` and most editors
add) is kept, and said so on stderr, unless `--strip-newline` drops it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from reconciler.commands.arguments import (
    Connection,
    add_connection_arguments,
    add_strip_newline_argument,
)
from reconciler.env import Env
from reconciler.errors import ExitStatus, UsageError
from reconciler.model import App, Scope, ScopeKind

NAME = "seal"
HELP = "seal a value from stdin for a `sealed` source"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument("--org", help="organization whose public key seals the value")
    parser.add_argument("--repo", metavar="OWNER/REPO", help="repository whose key seals it")
    parser.add_argument("--app", required=True, choices=[a.value for a in App])
    add_strip_newline_argument(parser, "sealed")


@dataclass(frozen=True, slots=True)
class Options:
    app: App
    org: str | None = None
    repo: str | None = None
    strip: bool = False
    connection: Connection = field(default_factory=Connection)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(App(ns.app), ns.org, ns.repo, ns.strip, Connection.from_args(ns))

    def scope(self) -> Scope:
        if bool(self.org) == bool(self.repo):
            raise UsageError("give exactly one of --org ORG or --repo OWNER/REPO")
        if self.org:
            return Scope(ScopeKind.ORG, self.org)
        assert self.repo is not None
        return Scope(ScopeKind.REPO, self.repo)


def run(options: Options, env: Env) -> int:
    """Read a value from stdin (never argv: it would land in shell history and `ps`)."""
    from reconciler.commands.common import connect
    from reconciler.values.sealing import seal
    from reconciler.values.sources import SecretValue

    scope = options.scope()
    data = read_value(env.stdin, env.stderr, strip=options.strip)
    client = connect(options.connection, env)
    try:
        key = client.secrets.public_key(scope, options.app)
    finally:
        client.close()
    ciphertext = seal(key.key, SecretValue(data))
    env.stdout.write(f'value: {{sealed: "{ciphertext}", key_id: "{key.key_id}"}}\n')
    return ExitStatus.OK


_KEPT_NEWLINE = "note: kept the value's trailing newline (pass --strip-newline to drop it)\n"


def read_value(stdin: TextIO, stderr: TextIO, *, strip: bool) -> bytes:
    """The value: one line typed without echo on a terminal, else stdin's bytes exactly
    (trailing newlines dropped with `strip`, reported when kept). Checked for GitHub's limit."""
    from reconciler.values.sources import MAX_VALUE_BYTES

    # One byte past the limit is enough to refuse: a huge pipe is never held in memory.
    limit = MAX_VALUE_BYTES + 1
    if hasattr(stdin, "isatty") and stdin.isatty():
        with _no_echo(stdin):  # off before the prompt: nothing typed after it is echoed
            stderr.write("value (not shown; Enter ends it): ")
            stderr.flush()
            data = _read(stdin, limit, line=True)
        stderr.write("\n")
        data = data.removesuffix(b"\n").removesuffix(b"\r")
    else:
        data = _read(stdin, limit, line=False)
        if strip:
            data = data.rstrip(b"\r\n")
        elif data.endswith(b"\n") and len(data) <= MAX_VALUE_BYTES:
            stderr.write(_KEPT_NEWLINE)
    if not data:
        raise UsageError("no value on stdin", hint="e.g. reconciler seal ... < value.txt")
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError("the value is larger than GitHub's 48 KB limit")
    return data


def _read(stdin: TextIO, limit: int, *, line: bool) -> bytes:
    if hasattr(stdin, "buffer"):
        return stdin.buffer.readline(limit) if line else stdin.buffer.read(limit)
    return (stdin.readline(limit) if line else stdin.read(limit)).encode()


@contextmanager
def _no_echo(stdin: TextIO) -> Iterator[None]:
    """Terminal echo off while the value is typed (as `getpass` does), restored on any exit,
    Ctrl-C included. A terminal whose echo cannot be turned off is refused, never echoed to."""
    try:
        import termios

        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
        quiet = list(saved)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    except (ImportError, OSError, ValueError) as e:
        raise UsageError(
            f"cannot turn off echo on this terminal ({type(e).__name__})",
            hint="pipe the value instead: reconciler seal ... < value.txt",
        ) from None
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
