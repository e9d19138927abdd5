"""`--values none` at apply: the values the reviewed plan could not read ("checked at apply")
are read now, and only those that changed are written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.commands.planning import Planned
from reconciler.errors import SourceError
from reconciler.ledger.format import EntryKey, LedgerKey, entry_key
from reconciler.model import App, DesiredItem, Kind
from reconciler.plan import Action, Change, ValuePolicy, ValueReason
from reconciler.values.resolver import Resolver


def settle_unread(
    planned: Planned, environ: Mapping[str, str]
) -> tuple[Planned, tuple[Change, ...]]:
    """Under `--values none`, read now the values the plan left "checked at apply": a secret
    whose fingerprint equals the ledger's (under RECONCILER_LEDGER_KEY), or a variable equal to
    GitHub's, is not written; the others are. Returns the run with the plan to carry out (its
    fingerprints extended) and the changes found unchanged. Unreadable sources stay in the
    plan, so apply fails on them before its first write."""
    from reconciler.ledger.recording import fingerprints

    plan = planned.plan
    if plan.values is not ValuePolicy.NONE:
        return planned, ()
    desired = {(i.scope, i.app, i.kind, i.name): i for i in planned.desired.items()}
    resolver = planned.resolver
    writing = [c for c in plan.changes if c.value is not None and c.ident in desired]
    resolver.prefetch(desired[c.ident].source for c in writing)
    # The key the plan did not read: for comparing, and for recording what apply writes.
    key = LedgerKey.from_environ(environ)
    secrets = [desired[c.ident] for c in writing if c.kind is Kind.SECRET]
    prints = {**planned.prints, **(fingerprints(secrets, key, resolver) if key else {})}
    carried: list[Change] = []
    unchanged: list[Change] = []
    for c in plan.changes:
        if c.value is not ValueReason.CHECKED_AT_APPLY:
            carried.append(c)
            continue
        same = _unchanged(c, desired[c.ident], planned, resolver, prints)
        if same is None:
            carried.append(replace(c, value=ValueReason.NOT_COMPARABLE))
        elif not same:
            changed = ValueReason.NEW_VARIABLE if c.action is Action.CREATE else None
            carried.append(replace(c, value=changed or ValueReason.VALUE_CHANGED))
        elif c.visibility_changed:
            needs_value = c.kind is Kind.SECRET and c.app in (App.ACTIONS, App.AGENTS)
            value = ValueReason.VISIBILITY if needs_value else None
            carried.append(replace(c, value=value, variable_after=c.variable_before))
        elif c.repos_added or c.repos_removed:
            # The variable's value stays what GitHub shows (None where the plan hides it).
            same_value = replace(c, variable_after=c.variable_before)
            carried.append(replace(same_value, action=Action.SELECTION, value=None))
        else:
            unchanged.append(c)
    settled = replace(planned, plan=replace(plan, changes=tuple(carried)), prints=prints, key=key)
    return settled, tuple(unchanged)


def _unchanged(
    c: Change,
    item: DesiredItem,
    planned: Planned,
    resolver: Resolver,
    prints: Mapping[EntryKey, str],
) -> bool | None:
    """Whether the value now equals what GitHub holds; None when that cannot be told (no key,
    no fingerprint, or an unreadable source: apply then writes, or fails before writing)."""
    if c.action is Action.CREATE:
        return False
    if c.kind is Kind.VARIABLE:
        try:
            want = resolver.text(item.source)
        except SourceError:
            return None
        held = planned.live.group(c.scope, c.app).by_name(Kind.VARIABLE).get(c.name)
        return held is not None and held.value == want
    entry = planned.ledger.get(c.scope, c.app, c.name)
    now = prints.get(entry_key(c.scope, c.app, c.name))
    if entry is None or not entry.fingerprint or now is None:
        return None
    return now == entry.fingerprint
