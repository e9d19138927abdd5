"""Property: whatever the state and the facts, the pure builders write documents that conform.

`diff` makes a plan from generated desired and live state, ledger and variable facts and a
value policy; `Plan.document` writes it; `results_document` writes what apply could make of
it (every outcome, with the rewrites `--values none` makes at apply); `ledger_changes` and
`dump_ledger` write the ledger such an apply leaves. Each validates against its schema."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.diff import diff
from reconciler.ledger.format import Ledger, dump_ledger, entry_key
from reconciler.ledger.recording import ledger_changes
from reconciler.model import App, Kind, Scope, ScopeKind, Visibility, selection_digest
from reconciler.plan import Action, Change, Outcome, Plan, Result, ValuePolicy, ValueReason
from reconciler.report import results_document
from tests.output_schemas import strategies as gen
from tests.output_schemas.validation import problems

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plans(draw: st.DrawFn) -> tuple[Plan, Ledger]:
    """A plan as `make_plan` finishes it, and the ledger it was made with."""
    desired, live = draw(gen.estates())
    facts = draw(gen.value_facts(desired, live))
    variables = draw(gen.variable_facts(desired))
    values = draw(st.sampled_from(ValuePolicy))
    cost = draw(gen.costs)
    plan = diff(desired, live, values, cost=cost, facts=facts, variables=variables)
    plan = replace(
        plan,
        notices=draw(gen.notices),
        manifests=draw(gen.manifests),
        allow_env=draw(gen.allow_env),
        targets=draw(gen.targets),
        variables_hidden=not variables.show,
        problems=tuple(draw(gen.problems)),
    )
    return plan, facts.ledger if facts else Ledger()


@st.composite
def settled(draw: st.DrawFn, c: Change) -> tuple[Change, bool]:
    """What `checked_at_apply.settle_unread` can make of a change, and whether it found the
    value unchanged (then apply reports it without writing)."""
    if c.value is not ValueReason.CHECKED_AT_APPLY:
        return c, False
    found = "changed" if c.action is Action.CREATE else draw(st.sampled_from(["?", "changed", "="]))
    if found == "?":
        return replace(c, value=ValueReason.NOT_COMPARABLE), False
    if found == "changed":
        new = ValueReason.NEW_VARIABLE if c.action is Action.CREATE else ValueReason.VALUE_CHANGED
        return replace(c, value=new), False
    if c.visibility_changed:
        needs_value = c.kind is Kind.SECRET and c.app in (App.ACTIONS, App.AGENTS)
        return replace(c, value=ValueReason.VISIBILITY if needs_value else None), False
    if c.repos_added or c.repos_removed:
        return replace(c, action=Action.SELECTION, value=None), False
    return c, True


@st.composite
def applied(draw: st.DrawFn, plan: Plan) -> tuple[Result, ...]:
    unchanged: list[Result] = []
    ran: list[Result] = []
    for change in plan.actionable:
        c, same = draw(settled(change))
        if same:
            unchanged.append(Result(c, Outcome.UNCHANGED, "value checked at apply: unchanged"))
            continue
        outcome = draw(st.sampled_from([Outcome.DONE, Outcome.FAILED, Outcome.SKIPPED]))
        detail = "" if outcome is Outcome.DONE else draw(gen.texts)
        ran.append(Result(c, outcome, detail, requests=int(outcome is not Outcome.SKIPPED)))
    return (*unchanged, *ran)


def _as_json(doc: dict[str, Any]) -> Any:
    """The document as a reader parses it (tuples become arrays, as in the written file)."""
    return json.loads(json.dumps(doc))


@PROPERTY
@given(data=st.data())
def test_the_builders_write_only_conforming_documents(data: st.DataObject) -> None:
    plan, ledger = data.draw(plans())
    assert problems("plan", _as_json(plan.document())) == []
    results = data.draw(applied(plan))
    assert (
        problems(
            "results", _as_json(results_document(results, plan, plan_checksum=plan.checksum()))
        )
        == []
    )
    # The ledger that apply leaves: GitHub's updated_at after the writes, the fingerprints
    # and versions of what it wrote (a key makes fingerprints), the selections it left.
    secrets = [r.change for r in results if r.change.kind is Kind.SECRET]
    after: dict[tuple[Scope, App], dict[str, str]] = {}
    for c in secrets:
        after.setdefault((c.scope, c.app), {})[c.name.upper()] = data.draw(gen.timestamps)
    keyed = data.draw(st.booleans())
    keys = sorted({entry_key(c.scope, c.app, c.name) for c in secrets})
    prints = {k: data.draw(gen.fingerprints) for k in keys if keyed and data.draw(st.booleans())}
    versions = {k: data.draw(gen.versions) for k in keys if data.draw(st.booleans())}
    selections = {
        entry_key(c.scope, c.app, c.name): selection_digest(c.repos_added)
        for c in secrets
        if c.scope.kind is ScopeKind.ORG and c.visibility_after is Visibility.SELECTED
    }
    changes = ledger_changes(results, after, prints, ledger, versions, selections)
    key_id = data.draw(gen.hex16) if keyed else None
    written = json.loads(dump_ledger(ledger.updated(changes, key_id)))
    assert problems("ledger", written) == []
