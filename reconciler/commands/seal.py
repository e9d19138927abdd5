"""`reconciler seal`: seal a value from stdin to a scope's public key, for a `sealed` source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TextIO

from reconciler.commands.common import make_client
from reconciler.errors import ExitStatus, UsageError
from reconciler.model import App, Scope, ScopeKind
from reconciler.values.sealing import seal
from reconciler.values.sources import MAX_VALUE_BYTES, SecretValue


def _scope_from(args: argparse.Namespace) -> Scope:
    if bool(args.org) == bool(args.repo):
        raise UsageError("give exactly one of --org ORG or --repo OWNER/REPO")
    return Scope(ScopeKind.ORG, args.org) if args.org else Scope(ScopeKind.REPO, args.repo)


def cmd_seal(
    args: argparse.Namespace, environ: Mapping[str, str], out: TextIO, stdin: TextIO
) -> int:
    """Read a value from stdin (never argv: it would land in shell history and `ps`)."""
    scope = _scope_from(args)
    if hasattr(stdin, "isatty") and stdin.isatty():
        sys.stderr.write("value (end with Ctrl-D): ")
        sys.stderr.flush()
    # One byte past the limit is enough to refuse: a huge pipe is never held in memory.
    limit = MAX_VALUE_BYTES + 1
    data = stdin.buffer.read(limit) if hasattr(stdin, "buffer") else stdin.read(limit).encode()
    if args.strip:
        data = data.rstrip(b"\r\n")
    if not data:
        raise UsageError("no value on stdin", hint="e.g. reconciler seal ... < value.txt")
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError("the value is larger than GitHub's 48 KB limit")
    client = make_client(args, environ)
    try:
        key = client.public_key(scope, App(args.app))
    finally:
        client.close()
    ciphertext = seal(key.key, SecretValue(data))
    out.write(f'value: {{sealed: "{ciphertext}", key_id: "{key.key_id}"}}\n')
    return ExitStatus.OK
