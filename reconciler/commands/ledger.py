"""`reconciler ledger show|forget`: inspect or edit the value ledger."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.commands.arguments import (
    Connection,
    LedgerChoice,
    add_connection_arguments,
    add_ledger_arguments,
)
from reconciler.env import Env
from reconciler.errors import ExitStatus, UsageError

NAME = "ledger"
HELP = "inspect or edit the value ledger"


class Action(StrEnum):
    SHOW = "show"
    FORGET = "forget"


_ACTION_HELP = {Action.SHOW: "list the ledger's entries", Action.FORGET: "drop entries"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The CLI's parser class: `show` and `forget` take the global flags as every command does.
    actions = parser.add_subparsers(dest="ledger_command", required=True, parser_class=type(parser))
    for action, text in _ACTION_HELP.items():
        p = actions.add_parser(action.value, help=text)
        add_connection_arguments(p)
        add_ledger_arguments(p)
        if action is Action.FORGET:
            p.add_argument("names", nargs="+", metavar="NAME", help="secret names (any scope)")


@dataclass(frozen=True, slots=True)
class Options:
    action: Action
    names: tuple[str, ...] = ()  # forget: the secret names to drop
    connection: Connection = field(default_factory=Connection)
    ledger: LedgerChoice = field(default_factory=LedgerChoice)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(
            Action(ns.ledger_command),
            tuple(getattr(ns, "names", ())),
            Connection.from_args(ns),
            LedgerChoice.from_args(ns),
        )


def run(options: Options, env: Env) -> int:
    from reconciler.commands.common import connect, ledger_store
    from reconciler.safe_text import printable

    out = env.stdout
    needs_client = options.ledger.spec(env.environ).startswith("github:")
    client = connect(options.connection, env) if needs_client else None
    try:
        store = ledger_store(options.ledger, env.environ, client)
        assert store is not None  # `ledger` has no --no-ledger
        ledger = store.load()
        if options.action is Action.SHOW:
            out.write(f"ledger {printable(store.describe())}: {len(ledger.entries)} secrets\n")
            # Anyone who can push to the ledger's repository can write any of these fields.
            for (kind, target, app, name), entry in sorted(ledger.entries.items()):
                fp = "fingerprint" if entry.fingerprint else "no fingerprint"
                fields = (kind, target, app, name)
                out.write(f"  {' '.join(printable(f) for f in fields)}  ")
                out.write(f"updated {printable(entry.updated_at)}  ")
                out.write(f"{printable(entry.source or '-')}  {fp}\n")
            return ExitStatus.OK
        forgotten, count = ledger.forget(options.names)
        if count == 0:
            raise UsageError(f"no ledger entry named {', '.join(options.names)}")
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
