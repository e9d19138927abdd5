"""`reconciler seal`: seal a value from stdin to a scope's public key, for a `sealed` source."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from reconciler.commands.arguments import Connection, add_connection_arguments
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
    parser.add_argument(
        "--strip", action="store_true", help="drop trailing newlines from the value"
    )


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
    from reconciler.values.sources import MAX_VALUE_BYTES, SecretValue

    scope = options.scope()
    stdin = env.stdin
    if hasattr(stdin, "isatty") and stdin.isatty():
        env.stderr.write("value (end with Ctrl-D): ")
        env.stderr.flush()
    # One byte past the limit is enough to refuse: a huge pipe is never held in memory.
    limit = MAX_VALUE_BYTES + 1
    data = stdin.buffer.read(limit) if hasattr(stdin, "buffer") else stdin.read(limit).encode()
    if options.strip:
        data = data.rstrip(b"\r\n")
    if not data:
        raise UsageError("no value on stdin", hint="e.g. reconciler seal ... < value.txt")
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError("the value is larger than GitHub's 48 KB limit")
    client = connect(options.connection, env)
    try:
        key = client.secrets.public_key(scope, options.app)
    finally:
        client.close()
    ciphertext = seal(key.key, SecretValue(data))
    env.stdout.write(f'value: {{sealed: "{ciphertext}", key_id: "{key.key_id}"}}\n')
    return ExitStatus.OK
