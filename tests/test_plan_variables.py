"""The pure diff of variables (compared by value) and environments (created, never deleted)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import VariableFacts, diff
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    Kind,
    LiveGroup,
    LiveState,
    Scope,
    Visibility,
)
from reconciler.plan import Action, ValuePolicy, ValueReason
from reconciler.render import render_markdown, render_text
from reconciler.review import explain_mismatch
from tests.support.builders import (
    ENV_SCOPE,
    LOC,
    ORG,
    REPO,
    live,
    live_variable,
    secret,
    variable,
)

SEL = Visibility.SELECTED


def _facts(
    *items: tuple[str, str], scope: Scope = ORG, app: App = App.ACTIONS, show: bool = True
) -> VariableFacts:
    return VariableFacts({(scope, app, name): value for name, value in items}, show)


def _group(
    *items: DesiredItem, scope: Scope = ORG, app: App = App.ACTIONS, prune: bool = False
) -> DesiredGroup:
    return DesiredGroup(scope, app, prune, items, LOC, frozenset({Kind.VARIABLE}))


def test_a_variable_is_compared_by_value_without_any_ledger() -> None:
    desired = (_group(variable("REGION", "eu-west-1"), variable("SAME", "x")),)
    held = LiveState(
        (
            LiveGroup(
                ORG, App.ACTIONS, (live_variable("REGION", "us-east-1"), live_variable("SAME", "x"))
            ),
        )
    )
    plan = diff(
        desired, held, ValuePolicy.AUTO, variables=_facts(("REGION", "eu-west-1"), ("SAME", "x"))
    )
    (change,) = plan.changes
    assert (change.kind, change.action, change.value) == (
        Kind.VARIABLE,
        Action.UPDATE,
        ValueReason.VALUE_CHANGED,
    )
    assert (change.variable_before, change.variable_after) == ("us-east-1", "eu-west-1")
    assert change.canonical()["variable"] == {"before": "us-east-1", "after": "eu-west-1"}
    # --values always rewrites secrets it cannot compare; a variable equal to the manifest's
    # is left alone whatever the policy.
    assert (
        len(
            diff(
                desired,
                held,
                ValuePolicy.ALWAYS,
                variables=_facts(("REGION", "eu-west-1"), ("SAME", "x")),
            ).changes
        )
        == 1
    )


def test_hidden_values_say_that_the_value_changes_but_not_what_it_is() -> None:
    desired = (_group(variable("REGION", "eu-west-1")),)
    held = LiveState((LiveGroup(ORG, App.ACTIONS, (live_variable("REGION", "us-east-1"),)),))
    plan = diff(
        desired, held, ValuePolicy.AUTO, variables=_facts(("REGION", "eu-west-1"), show=False)
    )
    (change,) = plan.changes
    assert change.value is ValueReason.VALUE_CHANGED
    assert change.variable_before is None and change.variable_after is None
    text = render_text(plan) + render_markdown(plan)
    assert "eu-west-1" not in text and "us-east-1" not in text
    assert "hidden by --hide-variable-values" in text


def test_an_unreadable_variable_source_is_not_comparable_never_no_change() -> None:
    desired = (_group(variable("REGION", "eu")),)
    held = LiveState((LiveGroup(ORG, App.ACTIONS, (live_variable("REGION", "eu"),)),))
    (change,) = diff(desired, held, ValuePolicy.AUTO, variables=_facts()).changes
    assert change.value is ValueReason.NOT_COMPARABLE
    assert "cannot be read" in render_text(
        diff(desired, held, ValuePolicy.AUTO, variables=_facts())
    )


def test_visibility_and_selection_of_an_org_variable() -> None:
    desired = (_group(variable("V", "x", visibility=SEL, repos=("web", "api"))),)
    private = LiveState((LiveGroup(ORG, App.ACTIONS, (live_variable("V", "x"),)),))
    (change,) = diff(desired, private, ValuePolicy.AUTO, variables=_facts(("V", "x"))).changes
    # One PATCH carries visibility and the selection: an update, value untouched.
    assert (change.action, change.value) == (Action.UPDATE, None)
    assert change.repos_added == ("api", "web")
    selected = LiveState(
        (LiveGroup(ORG, App.ACTIONS, (live_variable("V", "x", SEL, frozenset({"web", "docs"})),)),)
    )
    (change,) = diff(desired, selected, ValuePolicy.AUTO, variables=_facts(("V", "x"))).changes
    assert change.action is Action.SELECTION
    assert (change.repos_added, change.repos_removed) == (("api",), ("docs",))


def test_a_secret_and_a_variable_of_one_name_are_two_things() -> None:
    desired = (
        DesiredGroup(
            REPO,
            App.ACTIONS,
            True,
            (secret("TOKEN", scope=REPO, app=App.ACTIONS), variable("TOKEN", "t", scope=REPO)),
            LOC,
            frozenset({Kind.SECRET, Kind.VARIABLE}),
        ),
    )
    held = LiveState((LiveGroup(REPO, App.ACTIONS, (live("TOKEN", None),)),))
    plan = diff(
        desired, held, ValuePolicy.SKIP_UNKNOWN, variables=_facts(("TOKEN", "t"), scope=REPO)
    )
    assert [(c.kind, c.action) for c in plan.changes] == [(Kind.VARIABLE, Action.CREATE)]
    assert plan.changes[0].variable_after == "t"


def test_prune_covers_only_the_kinds_a_group_declares() -> None:
    held = LiveState(
        (
            LiveGroup(
                REPO, App.ACTIONS, (live("OLD_SECRET", None), live_variable("OLD_VAR", "x", None))
            ),
        )
    )
    secrets_only = DesiredGroup(REPO, App.ACTIONS, True, (), LOC, frozenset({Kind.SECRET}))
    plan = diff((secrets_only,), held, ValuePolicy.AUTO)
    assert [(c.kind, c.name, c.action) for c in plan.changes] == [
        (Kind.SECRET, "OLD_SECRET", Action.DELETE)
    ]
    both = DesiredGroup(REPO, App.ACTIONS, True, (), LOC, frozenset({Kind.SECRET, Kind.VARIABLE}))
    assert {c.name for c in diff((both,), held, ValuePolicy.AUTO).changes} == {
        "OLD_SECRET",
        "OLD_VAR",
    }


def test_a_missing_environment_is_created_first_and_an_existing_one_never_touched() -> None:
    desired = (
        _group(variable("URL", "u", scope=ENV_SCOPE), scope=ENV_SCOPE),
        DesiredGroup(
            REPO,
            App.ACTIONS,
            False,
            (variable("A", "a", scope=REPO),),
            LOC,
            frozenset({Kind.VARIABLE}),
        ),
    )
    facts = VariableFacts({(ENV_SCOPE, App.ACTIONS, "URL"): "u", (REPO, App.ACTIONS, "A"): "a"})
    plan = diff(desired, LiveState(()), ValuePolicy.AUTO, variables=facts)
    assert [(str(c.scope), c.kind, c.action) for c in plan.changes] == [
        ("octo-org/web", Kind.VARIABLE, Action.CREATE),
        ("octo-org/web/production", Kind.ENVIRONMENT, Action.CREATE),
        ("octo-org/web/production", Kind.VARIABLE, Action.CREATE),
    ]
    env_change = plan.changes[1]
    assert env_change.canonical() == {
        "scope": "environment",
        "target": "octo-org/web",
        "environment": "production",
        "app": "actions",
        "kind": "environment",
        "name": "production",
        "action": "create",
    }
    assert "no protection rules" in render_text(plan)
    existing = LiveState((), environments=frozenset({ENV_SCOPE}))
    assert all(
        c.kind is not Kind.ENVIRONMENT
        for c in diff(desired, existing, ValuePolicy.AUTO, variables=facts).changes
    )


def test_a_mismatch_names_the_kind_and_the_environment() -> None:
    desired = (_group(variable("URL", "u", scope=ENV_SCOPE), scope=ENV_SCOPE),)
    one = diff(
        desired,
        LiveState(()),
        ValuePolicy.AUTO,
        variables=VariableFacts({(ENV_SCOPE, App.ACTIONS, "URL"): "u"}),
    )
    other = diff(
        desired,
        LiveState(()),
        ValuePolicy.AUTO,
        variables=VariableFacts({(ENV_SCOPE, App.ACTIONS, "URL"): "w"}),
    )
    lines = explain_mismatch(one.canonical(), other.canonical())
    assert lines == [
        "octo-org/web/production actions variable URL: variable was "
        '{"before": null, "after": "u"}, now {"before": null, "after": "w"}'
    ]


def test_long_and_hostile_values_are_shortened_and_escaped_in_text() -> None:
    value = "\x1b[31m" + "x" * 500
    desired = (_group(variable("V", value)),)
    plan = diff(desired, LiveState(()), ValuePolicy.AUTO, variables=_facts(("V", value)))
    text = render_text(plan)
    assert "\x1b[31m" not in text
    assert "(505 bytes)" in text and "x" * 200 not in text


@given(
    want=st.dictionaries(st.sampled_from("ABCDE"), st.sampled_from(["1", "2"]), max_size=5),
    have=st.dictionaries(st.sampled_from("ABCDE"), st.sampled_from(["1", "2"]), max_size=5),
    prune=st.booleans(),
)
def test_variables_law_after_the_plan_live_equals_the_manifest(
    want: dict[str, str], have: dict[str, str], prune: bool
) -> None:
    """Carrying each change out on the live values gives the manifest's values (and, without
    prune, the unlisted ones untouched); an empty plan means they already matched."""
    desired = (
        _group(*(variable(n, v, scope=REPO) for n, v in want.items()), scope=REPO, prune=prune),
    )
    held = LiveState(
        (LiveGroup(REPO, App.ACTIONS, tuple(live_variable(n, v, None) for n, v in have.items())),)
    )
    plan = diff(desired, held, ValuePolicy.AUTO, variables=_facts(*want.items(), scope=REPO))
    after = dict(have)
    for c in plan.changes:
        if c.action is Action.DELETE:
            del after[c.name]
        elif c.action in (Action.CREATE, Action.UPDATE):
            assert c.variable_after is not None
            after[c.name] = c.variable_after
    expected = dict(want) if prune else {**have, **want}
    assert after == expected
    assert plan.has_changes == (after != have)
