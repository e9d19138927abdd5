"""Between the ledger and a run: fingerprint the sources now, record what apply wrote, and
what `baseline` records when the sources already hold what GitHub holds."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from reconciler.errors import SourceError
from reconciler.github.client import GitHubClient
from reconciler.github.transport import read_pool
from reconciler.ledger.format import Entry, EntryKey, Ledger, LedgerKey, entry_key
from reconciler.model import App, DesiredItem, Kind, LiveState, Scope, SealedSource
from reconciler.plan import Action, Outcome, Result
from reconciler.values.resolver import Resolver
from reconciler.values.sources import SecretValue

log = logging.getLogger(__name__)


def fingerprints(
    secrets: Iterable[DesiredItem], key: LedgerKey, resolver: Resolver
) -> dict[EntryKey, str]:
    """Keyed fingerprints of every value the manifest's sources hold now. A source that cannot
    be read here (e.g. a plan job without that variable) is left out: not comparable."""
    prints, unreadable = read_all_sources(secrets, key, resolver)
    for u in unreadable:
        s = u.secret
        log.info("value of %s %s %s not comparable: %s", s.scope, s.app, s.name, u.reason)
    return prints


def updated_at_after(
    client: GitHubClient, groups: Iterable[tuple[Scope, App]], concurrency: int
) -> dict[tuple[Scope, App], dict[str, str]]:
    """`updated_at` of every secret in the groups apply wrote to: one listing per group,
    not one read per write."""
    ordered = sorted(set(groups), key=lambda g: (g[0].key, g[1].value))
    with read_pool(client.transport, concurrency) as pool:
        listed = list(pool.map(lambda g: client.secrets.list(g[0], g[1]), ordered))
    return {
        group: {item.name.upper(): item.updated_at for item in items}
        for group, items in zip(ordered, listed, strict=True)
    }


def ledger_changes(
    results: Iterable[Result],
    after: Mapping[tuple[Scope, App], Mapping[str, str]],
    prints: Mapping[EntryKey, str],
    ledger: Ledger,
    versions: Mapping[EntryKey, str] | None = None,
    selections: Mapping[EntryKey, str] | None = None,
) -> dict[EntryKey, Entry | None]:
    """The entries to record for what apply did: new fingerprint and version where a value was
    written, new updated_at after every write (selection and visibility ones included), gone on
    delete; for a value found unchanged at apply, its version now. `selections`: the
    selection digest of each `selected` secret as the manifest has it, which every write of
    it leaves in place."""
    versions = versions or {}
    selections = selections or {}
    changes: dict[EntryKey, Entry | None] = {}
    for r in results:
        c = r.change
        if c.kind is not Kind.SECRET:  # variables are compared directly; nothing to record
            continue
        k = entry_key(c.scope, c.app, c.name)
        previous = ledger.entries.get(k)
        if r.outcome is Outcome.UNCHANGED and previous is not None:
            changes[k] = replace(previous, version=versions.get(k, previous.version))
            continue
        if r.outcome is not Outcome.DONE:
            continue
        if c.action is Action.DELETE:
            changes[k] = None
            continue
        updated_at = after.get((c.scope, c.app), {}).get(c.name.upper())
        if updated_at is None:
            continue
        if c.value is not None:
            fingerprint, version = prints.get(k), versions.get(k)
        else:
            fingerprint = previous.fingerprint if previous else None
            version = previous.version if previous else None
        changes[k] = Entry(updated_at, fingerprint, c.source or None, version, selections.get(k))
    return changes


# -- baseline: record that the sources hold what GitHub holds now, without writing to GitHub ---


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A secret whose source cannot be read now, and why (never the value)."""

    secret: DesiredItem
    reason: str
    hint: str | None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What `reconciler baseline` records, and what it leaves out and why."""

    entries: dict[EntryKey, Entry]
    recorded: tuple[DesiredItem, ...]  # in the ledger after the save
    absent: tuple[DesiredItem, ...]  # not in GitHub: the next plan creates them
    kept: tuple[DesiredItem, ...]  # already in the ledger, left as they are (no --force)


def read_all_sources(
    secrets: Iterable[DesiredItem], key: LedgerKey, resolver: Resolver
) -> tuple[dict[EntryKey, str], tuple[Unreadable, ...]]:
    """Fingerprints of every source's value, and every source that cannot be read. Unlike
    `fingerprints`, nothing is left out quietly: a baseline of a source it cannot read would
    record a guess. Sealed sources are fingerprinted as apply records them (the ciphertext)."""
    prints: dict[EntryKey, str] = {}
    unreadable: list[Unreadable] = []
    secrets = list(secrets)
    resolver.prefetch(s.source for s in secrets)
    for s in secrets:
        if isinstance(s.source, SealedSource):
            value = SecretValue(s.source.ciphertext.encode("ascii"))
        else:
            try:
                value = resolver.value(s.source)
            except SourceError as e:
                unreadable.append(Unreadable(s, e.detail, e.hint))
                continue
        prints[entry_key(s.scope, s.app, s.name)] = key.fingerprint(s.scope, s.app, s.name, value)
    return prints, tuple(unreadable)


def baseline(
    secrets: Iterable[DesiredItem],
    live: LiveState,
    prints: Mapping[EntryKey, str],
    ledger: Ledger,
    *,
    force: bool,
    versions: Mapping[EntryKey, str] | None = None,
) -> Baseline:
    """Entries saying each secret's source holds what GitHub holds now: the fingerprint of the
    source's value, GitHub's `updated_at`, the source descriptor. Secrets GitHub does not have
    are left to the next plan; those the ledger already knows are kept unless `force`."""
    entries: dict[EntryKey, Entry] = {}
    recorded: list[DesiredItem] = []
    absent: list[DesiredItem] = []
    kept: list[DesiredItem] = []
    by_name = {(g.scope, g.app): g.by_name() for g in live.groups}
    for s in secrets:
        k = entry_key(s.scope, s.app, s.name)
        current = by_name.get((s.scope, s.app), {}).get(s.name.upper())
        if current is None:
            absent.append(s)
        elif k in ledger.entries and not force:
            kept.append(s)
        else:
            version = (versions or {}).get(k)
            entries[k] = Entry(current.updated_at, prints[k], s.source.describe(), version)
            recorded.append(s)
    return Baseline(entries, tuple(recorded), tuple(absent), tuple(kept))
