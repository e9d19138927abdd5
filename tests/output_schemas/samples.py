"""Documents made by the tool's own pure builders (`Plan.document`, `results_document`,
`dump_ledger`) from a small hand-made plan: valid starting points the negative tests edit."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from reconciler.diff import VariableFacts, diff
from reconciler.ledger.format import Entry, Ledger, dump_ledger, entry_key
from reconciler.model import ApiCost, App, LiveState, Visibility
from reconciler.plan import ApplyProblem, Outcome, ProblemKind, Result, ValuePolicy
from reconciler.report import results_document
from tests.support.builders import (
    ENV_SCOPE,
    ORG,
    REPO,
    group,
    live,
    live_group,
    live_variable,
    secret,
    variable,
)

SELECTED = Visibility.SELECTED
WHEN = "2026-01-01T00:00:00Z"


def plan_document() -> dict[str, Any]:
    desired = (
        group(variable("V", "after"), app=App.ACTIONS),
        group(secret("NEW", visibility=SELECTED, repos=("web", "api"))),
        group(secret("R", scope=REPO), scope=REPO, prune=True),
        group(secret("E", scope=ENV_SCOPE, app=App.ACTIONS), scope=ENV_SCOPE, app=App.ACTIONS),
    )
    state = LiveState(
        (
            live_group(live_variable("V", "before"), app=App.ACTIONS),
            live_group(live("OLD")),
            live_group(live("GONE"), scope=REPO),
        )
    )
    facts = VariableFacts({(ORG, App.ACTIONS, "V"): "after"})
    plan = diff(desired, state, ValuePolicy.AUTO, cost=ApiCost(7, 2, 4990), variables=facts)
    problem = ApplyProblem(ProblemKind.UNSAFE, "octo-org dependabot", "too many", "--force")
    plan = replace(plan, manifests=("secrets/",), notices=("a notice",), problems=(problem,))
    return plan.document()


def results_and_ledger() -> tuple[dict[str, Any], dict[str, Any]]:
    """Results of applying the sample plan (every outcome), and the ledger it would leave."""
    desired = (group(secret("A"), secret("B"), secret("C"), secret("D"), prune=True),)
    state = LiveState((live_group(live("D"), live("GONE")),))
    plan = replace(diff(desired, state, ValuePolicy.AUTO), manifests=("m.yaml",))
    outcomes = [Outcome.DONE, Outcome.FAILED, Outcome.SKIPPED, Outcome.UNCHANGED, Outcome.DONE]
    results = [
        Result(c, o, "" if o is Outcome.DONE else "why")
        for c, o in zip(plan.actionable, outcomes, strict=True)
    ]
    entry = Entry(WHEN, "hmac-sha256:" + "a" * 64, "env:X_TOKEN", None, "sha256:" + "b" * 64)
    ledger = Ledger({entry_key(ORG, c.app, c.name): entry for c in plan.actionable}, "0" * 16)
    return results_document(results, plan, plan_checksum=plan.checksum()), json.loads(
        dump_ledger(ledger)
    )
