"""Adoption: `import` a manifest of what exists now, `seal` a value for a `sealed` source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TextIO

from reconciler.commands import make_client
from reconciler.crypto import seal
from reconciler.errors import ExitStatus, UsageError
from reconciler.importer import import_state
from reconciler.manifest_dump import dump_manifest
from reconciler.model import App, Scope, ScopeKind
from reconciler.output_files import check_writable, write_output
from reconciler.sources import MAX_VALUE_BYTES, SecretValue


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


def cmd_import(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    if not args.org and not args.repo:
        raise UsageError("give --org ORG and/or --repo OWNER/REPO")
    apps = [App(a) for a in args.app] if args.app else list(App)
    if args.out:
        check_writable(args.out, "--out")
    client = make_client(args, environ)
    try:
        desired = import_state(client, args.org, args.repo, apps, concurrency=args.concurrency)
    finally:
        client.close()
    text = dump_manifest(desired)
    header = (
        "# Imported by `reconciler import`: every value is an env reference named after the\n"
        "# secret. Set those variables (or change the sources) before the first apply.\n"
    )
    if args.out:
        write_output(args.out, header + text, "--out")
        count = len(desired.secrets())
        sys.stderr.write(f"wrote {count} secrets to {args.out}\n")
    else:
        out.write(header + text)
    return ExitStatus.OK
