"""diff(desired, live) -> Plan: the changes that make GitHub look like the manifest. Pure.

The comparison is plain set and dict comparison keyed by (scope, app, name), not deepdiff:
every field that matters (visibility, selected repositories, presence) has its own change
kind and wording, and a keyed comparison says which one changed in one line each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.ledger.format import EntryKey, Ledger, entry_key
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    LiveGroup,
    LiveItem,
    LiveState,
    ScopeKind,
    Visibility,
)
from reconciler.plan import Action, Change, Plan, ValuePolicy, ValueReason


@dataclass(frozen=True, slots=True)
class ValueFacts:
    """What the value ledger knows, and fingerprints of the sources' values now (only when
    a ledger key is set). Without facts every existing value is not comparable."""

    ledger: Ledger
    fingerprints: Mapping[EntryKey, str]
    drift: DriftPolicy = DriftPolicy.OVERWRITE


# These APIs require `encrypted_value` in every org-secret PUT, so a visibility change
# rewrites the value too; Dependabot and Codespaces accept visibility alone.
_VALUE_REQUIRED_FOR_PUT = frozenset({App.ACTIONS, App.AGENTS})


# -- the diff --------------------------------------------------------------------------------


def diff(
    groups: tuple[DesiredGroup, ...],
    live: LiveState,
    values: ValuePolicy,
    *,
    reads: int = 0,
    facts: ValueFacts | None = None,
) -> Plan:
    """Pure: the changes that make live look like desired, sorted for a safe apply."""
    changes: list[Change] = []
    for group in groups:
        changes.extend(_diff_group(group, live.group(group.scope, group.app), values, facts))
    return Plan(tuple(sorted(changes, key=Change.sort_key)), values, reads)


def _diff_group(
    group: DesiredGroup, live: LiveGroup, values: ValuePolicy, facts: ValueFacts | None
) -> list[Change]:
    live_by_name = live.by_name()
    changes: list[Change] = []
    for secret in group.items:
        current = live_by_name.get(secret.name)
        change = _create(secret) if current is None else _update(secret, current, values, facts)
        if change is not None:
            changes.append(change)
    wanted = {s.name for s in group.items}
    for name, current in live_by_name.items():
        if name not in wanted:
            changes.append(
                Change(
                    group.scope,
                    group.app,
                    name,
                    Action.DELETE if group.prune else Action.UNMANAGED,
                    visibility_before=current.visibility,
                    live_updated_at=current.updated_at,
                )
            )
    return changes


def _create(secret: DesiredItem) -> Change:
    return Change(
        secret.scope,
        secret.app,
        secret.name,
        Action.CREATE,
        value=ValueReason.NEW,
        visibility_after=secret.visibility,
        repos_added=tuple(sorted(r.lower() for r in secret.repositories or ())),
        source=secret.source.describe(),
    )


def _value_reason(
    secret: DesiredItem, current: LiveItem, values: ValuePolicy, facts: ValueFacts | None
) -> tuple[ValueReason | None, bool]:
    """Why the value of an existing secret is written (None: it is not), and whether it is
    left alone only because it cannot be compared."""
    if values is ValuePolicy.ALWAYS:
        return ValueReason.ALWAYS, False
    entry = facts.ledger.get(secret.scope, secret.app, secret.name) if facts else None
    if facts is not None and entry is not None:
        drifted = current.updated_at != entry.updated_at
        if drifted and facts.drift is DriftPolicy.FAIL:
            # Checked first: a value or source change must not write over someone's edit.
            return ValueReason.DRIFT, False
        if entry.source and entry.source != secret.source.describe():
            return ValueReason.SOURCE_CHANGED, False
        now = facts.fingerprints.get(entry_key(secret.scope, secret.app, secret.name))
        if entry.fingerprint and now and now != entry.fingerprint:
            return ValueReason.VALUE_CHANGED, False
        if drifted:
            if facts.drift is DriftPolicy.IGNORE:
                return None, False
            return ValueReason.DRIFT, False
        if entry.fingerprint and now:
            return None, False  # known equal
    if values is ValuePolicy.AUTO:
        return ValueReason.NOT_COMPARABLE, False
    return None, True


def _update(
    secret: DesiredItem, current: LiveItem, values: ValuePolicy, facts: ValueFacts | None
) -> Change | None:
    value, unknown = _value_reason(secret, current, values, facts)
    org = secret.scope.kind is ScopeKind.ORG
    visibility_changed = org and secret.visibility != current.visibility
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    if org and (secret.visibility is Visibility.SELECTED or current.selected is not None):
        want = frozenset(r.lower() for r in secret.repositories or ())
        have = current.selected or frozenset()
        if secret.visibility is not Visibility.SELECTED:
            want = frozenset()
        added, removed = tuple(sorted(want - have)), tuple(sorted(have - want))
    if visibility_changed and value is None and secret.app in _VALUE_REQUIRED_FOR_PUT:
        value = ValueReason.VISIBILITY
    if value is not None or visibility_changed:
        action = Action.UPDATE
    elif added or removed:
        action = Action.SELECTION
    else:
        return None
    return Change(
        secret.scope,
        secret.app,
        secret.name,
        action,
        value=value,
        value_skipped=value is None and unknown,
        visibility_before=current.visibility if org else None,
        visibility_after=secret.visibility if org else None,
        repos_added=added,
        repos_removed=removed,
        source=secret.source.describe(),
        live_updated_at=current.updated_at,
    )
