"""`reconciler ledger show|forget`: inspect or edit the value ledger.

Both take the same selection: secret names (globs, any case) and `--org` / `--repo` / `--app`
filters (globs, repeatable). `forget` needs at least one of them; `show` lists everything by
default. A name given without a scope filter matches in every scope, and `forget` then lists
every entry it dropped and says when they span more than one scope."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import TextIO

from reconciler.commands.arguments import (
    Connection,
    LedgerChoice,
    add_connection_arguments,
    add_ledger_arguments,
)
from reconciler.commands.manual import MANUALS
from reconciler.env import Env
from reconciler.errors import ExitStatus, UsageError
from reconciler.model import App, ScopeKind

NAME = "ledger"
HELP = "inspect or edit the value ledger"

EntryKey = tuple[str, str, str, str]  # (scope kind, scope name, app, NAME), as the ledger keys


class Action(StrEnum):
    SHOW = "show"
    FORGET = "forget"


_ACTION_HELP = {
    Action.SHOW: "list the ledger's entries (all, or those the filters select)",
    Action.FORGET: "drop entries: their values are rewritten by the next apply",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The CLI's parser class: `show` and `forget` take the global flags as every command does.
    actions = parser.add_subparsers(dest="ledger_command", required=True, parser_class=type(parser))
    for action, text in _ACTION_HELP.items():
        p = actions.add_parser(
            action.value,
            help=text,
            description=text,
            epilog=MANUALS[NAME].epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_connection_arguments(p)
        add_ledger_arguments(p)
        p.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help="secret names or globs (`NPM_*`), any case; without --org/--repo, in every scope",
        )
        p.add_argument(
            "--org",
            action="append",
            default=[],
            dest="orgs",
            metavar="ORG",
            help="only the organization-level entries of ORG (a glob; repeatable)",
        )
        p.add_argument(
            "--repo",
            action="append",
            default=[],
            dest="repos",
            metavar="OWNER/REPO",
            help="only the entries of repositories matching OWNER/REPO, or of environments "
            "matching OWNER/REPO/ENV (globs: `acme/*`, `acme/web/*`)",
        )
        p.add_argument(
            "--app",
            action="append",
            default=[],
            dest="apps",
            choices=[a.value for a in App],
            help="only the entries of this app (repeatable)",
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """Which ledger entries a command line names. Empty parts select everything."""

    names: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    apps: tuple[App, ...] = ()

    def __post_init__(self) -> None:
        for repo in self.repos:
            if repo.count("/") < 1 or "" in repo.split("/", 2):
                raise UsageError(
                    "--repo takes OWNER/REPO, or OWNER/REPO/ENVIRONMENT for an environment's "
                    "secrets (globs allowed, e.g. `acme/*`, `acme/web/*`)",
                    hint="for an organization's own entries use --org ORG",
                )

    @property
    def empty(self) -> bool:
        return not (self.names or self.orgs or self.repos or self.apps)

    @property
    def scoped(self) -> bool:
        return bool(self.orgs or self.repos)

    def matches(self, key: EntryKey) -> bool:
        kind, target, app, name = key
        if self.names and not any(fnmatchcase(name, n.upper()) for n in self.names):
            return False
        if self.apps and app not in {a.value for a in self.apps}:
            return False
        if not self.scoped:
            return True
        if kind == ScopeKind.ORG.value:
            patterns = self.orgs
        else:  # an environment's target is OWNER/REPO/ENV: only such patterns name it
            level = 1 if kind == ScopeKind.REPO.value else 2
            patterns = tuple(r for r in self.repos if min(r.count("/"), 2) == level)
        return any(fnmatchcase(target, p.lower()) for p in patterns)

    def select(self, keys: Iterable[EntryKey]) -> list[EntryKey]:
        return sorted(k for k in keys if self.matches(k))

    def describe(self) -> str:
        parts = [", ".join(self.names)] if self.names else []
        parts += [f"--org {o}" for o in self.orgs] + [f"--repo {r}" for r in self.repos]
        parts += [f"--app {a.value}" for a in self.apps]
        from reconciler.safe_text import printable

        return printable(" ".join(parts))


@dataclass(frozen=True, slots=True)
class Options:
    action: Action
    names: tuple[str, ...] = ()  # secret names or globs
    connection: Connection = field(default_factory=Connection)
    ledger: LedgerChoice = field(default_factory=LedgerChoice)
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    apps: tuple[App, ...] = ()

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(
            Action(ns.ledger_command),
            tuple(ns.names),
            Connection.from_args(ns),
            LedgerChoice.from_args(ns),
            tuple(ns.orgs),
            tuple(ns.repos),
            tuple(App(a) for a in ns.apps),
        )

    def selection(self) -> Selection:
        return Selection(self.names, self.orgs, self.repos, self.apps)


def run(options: Options, env: Env) -> int:
    from reconciler.commands.common import connect, ledger_store

    selection = options.selection()
    if options.action is Action.FORGET and selection.empty:
        raise UsageError(
            "name what to forget: secret NAMEs and/or --org, --repo, --app filters",
            hint="e.g. `reconciler ledger forget NPM_TOKEN --repo acme/web`",
        )
    out = env.stdout
    needs_client = options.ledger.spec(env.environ).startswith("github:")
    client = connect(options.connection, env) if needs_client else None
    try:
        store = ledger_store(options.ledger, env.environ, client)
        assert store is not None  # `ledger` has no --no-ledger
        ledger = store.load()
        selected = selection.select(ledger.entries)
        if options.action is Action.SHOW:
            from reconciler.safe_text import printable

            shown = f"{len(selected)} of {len(ledger.entries)}" if not selection.empty else ""
            count = shown or str(len(ledger.entries))
            out.write(f"ledger {printable(store.describe())}: {count} secrets\n")
            # Anyone who can push to the ledger's repository can write any of these fields.
            for key in selected:
                entry = ledger.entries[key]
                fp = "fingerprint" if entry.fingerprint else "no fingerprint"
                out.write(f"  {_entry(key)}  updated {printable(entry.updated_at)}  ")
                out.write(f"{printable(entry.source or '-')}  {fp}\n")
            return ExitStatus.OK
        if not selected:
            raise UsageError(
                f"no ledger entry matches {selection.describe()}",
                hint="`reconciler ledger show` lists the entries",
            )
        store.save(dict.fromkeys(selected), None)
        _report_forgotten(selected, selection, out)
        return ExitStatus.OK
    finally:
        if client:
            client.close()


def _entry(key: EntryKey) -> str:
    from reconciler.safe_text import printable

    return " ".join(printable(part) for part in key)


def _report_forgotten(dropped: list[EntryKey], selection: Selection, out: TextIO) -> None:
    for key in dropped:
        out.write(f"  forgot {_entry(key)}\n")
    out.write(
        f"forgot {len(dropped)} ledger entries; their values are not comparable until the "
        "next apply writes them\n"
    )
    scopes = {(kind, target) for kind, target, _, _ in dropped}
    if len(scopes) > 1 and not selection.scoped:
        out.write(
            f"note: that was in {len(scopes)} scopes; to forget a name in one scope only, "
            "add --org ORG or --repo OWNER/REPO\n"
        )
