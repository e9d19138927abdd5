"""diff(desired, live) -> Plan: the changes that make GitHub look like the manifest. Pure.

The comparison is plain set and dict comparison keyed by (scope, app, kind, name), not
deepdiff: every field that matters (visibility, selected repositories, presence, a variable's
value) has its own change kind and wording, and a keyed comparison says which one changed in
one line each. Secrets' values are compared through the value ledger (GitHub never shows
them); variables' values directly (GitHub does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.ledger.format import EntryKey, Ledger, entry_key
from reconciler.model import (
    NO_COST,
    ApiCost,
    App,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    Kind,
    LiveGroup,
    LiveItem,
    LiveState,
    Scope,
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
    # Version identities of the sources now, where knowable without the value (see
    # values/resolver.py): what `--values none` compares with the ledger's.
    versions: Mapping[EntryKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VariableFacts:
    """The manifest's variable values as their sources give them now (an unreadable one is
    absent: apply would fail on it, which the plan reports), and whether the plan shows them."""

    values: Mapping[tuple[Scope, App, str], str]
    show: bool = True
    # False under `--values none`: only inline values were read; the others apply checks.
    read: bool = True


# These APIs require `encrypted_value` in every org-secret PUT, so a visibility change
# rewrites the value too; Dependabot and Codespaces accept visibility alone.
_VALUE_REQUIRED_FOR_PUT = frozenset({App.ACTIONS, App.AGENTS})


# -- the diff --------------------------------------------------------------------------------


def diff(
    groups: tuple[DesiredGroup, ...],
    live: LiveState,
    values: ValuePolicy,
    *,
    cost: ApiCost = NO_COST,
    facts: ValueFacts | None = None,
    variables: VariableFacts | None = None,
) -> Plan:
    """Pure: the changes that make live look like desired, sorted for a safe apply."""
    changes: list[Change] = [
        Change(scope, App.ACTIONS, scope.environment, Action.CREATE, kind=Kind.ENVIRONMENT)
        for scope in sorted({g.scope for g in groups if g.scope.kind is ScopeKind.ENVIRONMENT})
        if scope not in live.environments
    ]
    variable_facts = variables or VariableFacts({})
    for group in groups:
        held = live.group(group.scope, group.app)
        if group.manages(Kind.SECRET):
            changes.extend(_diff_secrets(group, held, values, facts))
        if group.manages(Kind.VARIABLE):
            changes.extend(_diff_variables(group, held, variable_facts))
    return Plan(tuple(sorted(changes, key=Change.sort_key)), values, cost)


def _unlisted(group: DesiredGroup, live: LiveGroup, kind: Kind) -> list[Change]:
    """Live items of `kind` no manifest lists: deleted with prune, else reported."""
    wanted = {s.name for s in group.items if s.kind is kind}
    return [
        Change(
            group.scope,
            group.app,
            name,
            Action.DELETE if group.prune else Action.UNMANAGED,
            visibility_before=current.visibility,
            live_updated_at=current.updated_at,
            kind=kind,
        )
        for name, current in live.by_name(kind).items()
        if name not in wanted
    ]


def _diff_secrets(
    group: DesiredGroup, live: LiveGroup, values: ValuePolicy, facts: ValueFacts | None
) -> list[Change]:
    live_by_name = live.by_name(Kind.SECRET)
    changes: list[Change] = []
    for secret in group.items:
        if secret.kind is not Kind.SECRET:
            continue
        current = live_by_name.get(secret.name)
        change = _create(secret) if current is None else _update(secret, current, values, facts)
        if change is not None:
            changes.append(change)
    return changes + _unlisted(group, live, Kind.SECRET)


def _diff_variables(group: DesiredGroup, live: LiveGroup, facts: VariableFacts) -> list[Change]:
    live_by_name = live.by_name(Kind.VARIABLE)
    changes: list[Change] = []
    for item in group.items:
        if item.kind is not Kind.VARIABLE:
            continue
        want = facts.values.get((item.scope, item.app, item.name))
        current = live_by_name.get(item.name)
        change = (
            _create_variable(item, want, facts)
            if current is None
            else _update_variable(item, current, want, facts)
        )
        if change is not None:
            changes.append(change)
    return changes + _unlisted(group, live, Kind.VARIABLE)


def _create_variable(item: DesiredItem, want: str | None, facts: VariableFacts) -> Change:
    unread = want is None and not facts.read
    return Change(
        item.scope,
        item.app,
        item.name,
        Action.CREATE,
        value=ValueReason.CHECKED_AT_APPLY if unread else ValueReason.NEW_VARIABLE,
        visibility_after=item.visibility,
        repos_added=tuple(sorted(r.lower() for r in item.repositories or ())),
        source=item.source.describe(),
        kind=Kind.VARIABLE,
        variable_after=want if facts.show else None,
    )


def _update_variable(
    item: DesiredItem, current: LiveItem, want: str | None, facts: VariableFacts
) -> Change | None:
    show = facts.show
    # An unreadable source cannot be compared; apply fails on it, and the plan says so. Under
    # --values none it was not read: apply compares it.
    if want is None:
        value: ValueReason | None = (
            ValueReason.NOT_COMPARABLE if facts.read else ValueReason.CHECKED_AT_APPLY
        )
    else:
        value = ValueReason.VALUE_CHANGED if want != current.value else None
    org = item.scope.kind is ScopeKind.ORG
    visibility_changed = org and item.visibility != current.visibility
    added, removed = _selection_change(item, current)
    if value is not None or visibility_changed:
        action = Action.UPDATE  # one PATCH: value, visibility and selection together
    elif added or removed:
        action = Action.SELECTION
    else:
        return None
    return Change(
        item.scope,
        item.app,
        item.name,
        action,
        value=value,
        visibility_before=current.visibility if org else None,
        visibility_after=item.visibility if org else None,
        repos_added=added,
        repos_removed=removed,
        source=item.source.describe(),
        live_updated_at=current.updated_at,
        kind=Kind.VARIABLE,
        variable_before=current.value if show and value is not None else None,
        variable_after=want if show and value is not None else None,
    )


def _selection_change(
    item: DesiredItem, current: LiveItem
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Repositories to add to and remove from an organisation item's selection."""
    if item.scope.kind is not ScopeKind.ORG:
        return (), ()
    if item.visibility is not Visibility.SELECTED and current.selected is None:
        return (), ()
    want = frozenset(r.lower() for r in item.repositories or ())
    have = current.selected or frozenset()
    if item.visibility is not Visibility.SELECTED:
        want = frozenset()
    return tuple(sorted(want - have)), tuple(sorted(have - want))


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
        key = entry_key(secret.scope, secret.app, secret.name)
        now = facts.fingerprints.get(key)
        if entry.fingerprint and now and now != entry.fingerprint:
            return ValueReason.VALUE_CHANGED, False
        version = facts.versions.get(key)
        if values is ValuePolicy.NONE and version and entry.version:
            if version != entry.version:
                return ValueReason.ROTATED, False  # _update records the new version
            if not drifted:
                return None, False  # the same version of the same source: known equal
        if drifted:
            if facts.drift is DriftPolicy.IGNORE:
                return None, False
            return ValueReason.DRIFT, False
        if entry.fingerprint and now:
            return None, False  # known equal
    if values is ValuePolicy.AUTO or (values is ValuePolicy.NONE and entry is None):
        return ValueReason.NOT_COMPARABLE, False
    if values is ValuePolicy.NONE:
        return ValueReason.CHECKED_AT_APPLY, False  # never "no change": apply finds out
    return None, True


def _update(
    secret: DesiredItem, current: LiveItem, values: ValuePolicy, facts: ValueFacts | None
) -> Change | None:
    value, unknown = _value_reason(secret, current, values, facts)
    org = secret.scope.kind is ScopeKind.ORG
    visibility_changed = org and secret.visibility != current.visibility
    added, removed = _selection_change(secret, current)
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
        version=_rotated_to(secret, facts) if value is ValueReason.ROTATED else "",
    )


def _rotated_to(secret: DesiredItem, facts: ValueFacts | None) -> str:
    if facts is None:
        return ""
    return facts.versions.get(entry_key(secret.scope, secret.app, secret.name), "")
