"""The pure diff: change kinds, order, value policy, checksum, safety."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import diff
from reconciler.model import ApiCost, App, LiveState, Scope, ScopeKind, Visibility
from reconciler.plan import Action, ValuePolicy, ValueReason
from reconciler.review import explain_mismatch
from reconciler.safety import Thresholds, unsafe_reasons
from tests.support.builders import ORG, REPO, group, live, live_group, secret

SEL = Visibility.SELECTED


def test_create_carries_visibility_and_sorted_repositories() -> None:
    plan = diff(
        (group(secret("A", visibility=SEL, repos=("web", "Api"))),), LiveState(()), ValuePolicy.AUTO
    )
    (c,) = plan.changes
    assert c.action is Action.CREATE
    assert c.value is ValueReason.NEW
    assert c.visibility_after is SEL
    assert c.repos_added == ("api", "web")
    assert plan.writes == 1


def test_existing_secret_value_policy() -> None:
    desired = (group(secret("A")),)
    state = LiveState((live_group(live("A")),))
    auto = diff(desired, state, ValuePolicy.AUTO)
    assert [(c.action, c.value) for c in auto.changes] == [
        (Action.UPDATE, ValueReason.NOT_COMPARABLE)
    ]
    assert diff(desired, state, ValuePolicy.SKIP_UNKNOWN).changes == ()
    always = diff(desired, state, ValuePolicy.ALWAYS)
    assert [c.value for c in always.changes] == [ValueReason.ALWAYS]


def test_selection_only_change_is_not_an_update() -> None:
    desired = (group(secret("A", visibility=SEL, repos=("web", "api"))),)
    state = LiveState((live_group(live("A", SEL, frozenset({"web", "docs"}))),))
    (c,) = diff(desired, state, ValuePolicy.SKIP_UNKNOWN).changes
    assert c.action is Action.SELECTION
    assert (c.repos_added, c.repos_removed) == (("api",), ("docs",))
    assert c.value is None and c.value_skipped


def test_visibility_change_for_actions_requires_value_but_not_for_dependabot() -> None:
    for app, expected in ((App.ACTIONS, ValueReason.VISIBILITY), (App.DEPENDABOT, None)):
        desired = (group(secret("A", app=app, visibility=Visibility.ALL), app=app),)
        state = LiveState((live_group(live("A", Visibility.PRIVATE), app=app),))
        (c,) = diff(desired, state, ValuePolicy.SKIP_UNKNOWN).changes
        assert c.action is Action.UPDATE
        assert c.value is expected, app


def test_prune_deletes_and_unmanaged_otherwise() -> None:
    state = LiveState((live_group(live("OLD")),))
    (c,) = diff((group(prune=True),), state, ValuePolicy.AUTO).changes
    assert c.action is Action.DELETE
    (c,) = diff((group(prune=False),), state, ValuePolicy.AUTO).changes
    assert c.action is Action.UNMANAGED
    assert c.writes == 0


def test_order_scope_then_app_then_action() -> None:
    desired = (
        group(secret("Z", scope=REPO), scope=REPO, prune=True),
        group(secret("B"), secret("NEW"), prune=True),
        group(secret("C", app=App.ACTIONS), app=App.ACTIONS),
    )
    state = LiveState(
        (
            live_group(live("B"), live("A_OLD")),
            live_group(live("Q"), scope=REPO),
        )
    )
    plan = diff(desired, state, ValuePolicy.AUTO)
    assert [(str(c.scope), c.app.value, c.action.value, c.name) for c in plan.changes] == [
        ("octo-org", "actions", "create", "C"),
        ("octo-org", "dependabot", "create", "NEW"),
        ("octo-org", "dependabot", "update", "B"),
        ("octo-org", "dependabot", "delete", "A_OLD"),
        ("octo-org/web", "dependabot", "create", "Z"),
        ("octo-org/web", "dependabot", "delete", "Q"),
    ]


def test_checksum_is_stable_and_sensitive() -> None:
    desired = (group(secret("A")),)
    one = diff(desired, LiveState(()), ValuePolicy.AUTO, cost=ApiCost(3))
    two = diff(desired, LiveState(()), ValuePolicy.AUTO, cost=ApiCost(99))
    assert one.checksum() == two.checksum()  # request counts are not part of it
    other = diff((group(secret("B")),), LiveState(()), ValuePolicy.AUTO)
    assert other.checksum() != one.checksum()
    lines = explain_mismatch(one.canonical(), other.canonical())
    assert any("octo-org dependabot A" in line for line in lines)
    assert any("octo-org dependabot B" in line for line in lines)


def test_safety_deletes_and_widening() -> None:
    names = [f"S{i}" for i in range(10)]
    state = LiveState((live_group(*(live(n) for n in names)),))
    keep = tuple(secret(n) for n in names[:6])
    plan = diff((group(*keep, prune=True),), state, ValuePolicy.SKIP_UNKNOWN)
    (reason,) = unsafe_reasons(plan, state, Thresholds())
    assert reason == (
        "octo-org dependabot: 4 of 10 live secrets would be deleted (40%, above the 30% threshold)"
    )
    assert unsafe_reasons(plan, state, Thresholds(delete_fraction=0.5)) == []
    widen = diff(
        (group(secret("A", visibility=Visibility.ALL)),),
        LiveState((live_group(live("A")),)),
        ValuePolicy.SKIP_UNKNOWN,
    )
    assert unsafe_reasons(widen, LiveState(()), Thresholds()) == [
        "octo-org dependabot A: visibility widens from private to all "
        "(every repository in the organization)"
    ]


names = st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True)


@given(want=st.sets(names, max_size=6), have=st.sets(names, max_size=6), prune=st.booleans())
def test_every_secret_appears_once(want: set[str], have: set[str], prune: bool) -> None:
    """Law: each name in desired or live appears in at most one change; creates are exactly
    desired - live; deletes/unmanaged exactly live - desired."""
    desired = (group(*(secret(n) for n in sorted(want)), prune=prune),)
    state = LiveState((live_group(*(live(n) for n in sorted(have))),))
    plan = diff(desired, state, ValuePolicy.AUTO)
    seen = [c.name for c in plan.changes]
    assert len(seen) == len(set(seen))
    assert {c.name for c in plan.changes if c.action is Action.CREATE} == want - have
    gone = Action.DELETE if prune else Action.UNMANAGED
    assert {c.name for c in plan.changes if c.action is gone} == have - want
    assert {c.name for c in plan.changes if c.action is Action.UPDATE} == want & have


def test_scope_identity_is_case_insensitive() -> None:
    assert Scope(ScopeKind.ORG, "Octo-Org") == ORG
    assert hash(Scope(ScopeKind.REPO, "OCTO-ORG/Web")) == hash(REPO)
