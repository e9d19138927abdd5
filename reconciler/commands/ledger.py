"""`reconciler ledger show|forget`: inspect or edit the value ledger."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import TextIO

from reconciler.commands.common import ledger_spec, ledger_store, make_client
from reconciler.errors import (
    ExitStatus,
    UsageError,
)
from reconciler.safe_text import printable

log = logging.getLogger(__name__)


def cmd_ledger(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    needs_client = ledger_spec(args, environ).startswith("github:")
    client = make_client(args, environ) if needs_client else None
    try:
        store = ledger_store(args, environ, client)
        assert store is not None  # `ledger` has no --no-ledger
        ledger = store.load()
        if args.ledger_command == "show":
            out.write(f"ledger {printable(store.describe())}: {len(ledger.entries)} secrets\n")
            # Anyone who can push to the ledger's repository can write any of these fields.
            for (kind, target, app, name), entry in sorted(ledger.entries.items()):
                fp = "fingerprint" if entry.fingerprint else "no fingerprint"
                fields = (kind, target, app, name)
                out.write(f"  {' '.join(printable(f) for f in fields)}  ")
                out.write(f"updated {printable(entry.updated_at)}  ")
                out.write(f"{printable(entry.source or '-')}  {fp}\n")
            return ExitStatus.OK
        forgotten, count = ledger.forget(args.names)
        if count == 0:
            raise UsageError(f"no ledger entry named {', '.join(args.names)}")
        removed = {k: None for k in ledger.entries if k not in forgotten.entries}
        store.save(removed, None)
        out.write(
            f"forgot {count} ledger entries; their values are not comparable until the "
            "next apply writes them\n"
        )
        return ExitStatus.OK
    finally:
        if client:
            client.close()
