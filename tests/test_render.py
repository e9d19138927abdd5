"""Renderers: golden files for text, JSON and markdown; the comment-size limit.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 python -m pytest tests/test_render.py`.
"""

from __future__ import annotations

import json
import os

import pytest

from reconciler.diff import diff
from reconciler.model import ApiCost, App, LiveState, Scope, ScopeKind, Visibility
from reconciler.plan import Outcome, Plan, Result, ValuePolicy
from reconciler.render import (
    GITHUB_COMMENT_LIMIT,
    render_json,
    render_markdown,
    render_text,
)
from reconciler.report import render_results_markdown, render_results_text
from tests.support.builders import REPO, group, live, live_group, secret
from tests.support.markdown_check import inspect
from tests.support.paths import GOLDEN

SEL, ALL, PRIV = Visibility.SELECTED, Visibility.ALL, Visibility.PRIVATE


def _plan() -> Plan:
    desired = (
        group(
            secret("NEW_TOKEN", visibility=SEL, repos=("web", "api")),
            secret("KEEP", var="KEEP_TOKEN"),
            secret("MOVE", visibility=SEL, repos=("web",)),
            prune=True,
        ),
        group(secret("WIDEN", app=App.ACTIONS, visibility=ALL), app=App.ACTIONS),
        group(secret("REPO_PAT", scope=REPO, var="REPO_PAT"), scope=REPO),
    )
    state = LiveState(
        (
            live_group(
                live("KEEP"),
                live("MOVE", SEL, frozenset({"docs"})),
                live("OLD"),
            ),
            live_group(live("WIDEN", PRIV), live("HANDMADE"), app=App.ACTIONS),
            live_group(live("REPO_PAT", None), scope=REPO),
        )
    )
    return diff(desired, state, ValuePolicy.AUTO, cost=ApiCost(7))


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the module docstring"


def test_text_golden() -> None:
    _check("plan.txt", render_text(_plan()))


def test_text_colour_only_on_request() -> None:
    plain, coloured = render_text(_plan()), render_text(_plan(), colour=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m+\x1b[0m NEW_TOKEN" in coloured


def test_json_golden_and_versioned() -> None:
    text = render_json(_plan().document())
    _check("plan.json", text)
    doc = json.loads(text)
    assert (doc["format"], doc["version"]) == ("reconciler-plan", 2)
    assert doc["checksum"] == _plan().checksum()


def test_markdown_golden() -> None:
    _check("plan.md", render_markdown(_plan()))


def test_results_golden() -> None:
    plan = _plan()
    actionable = plan.actionable
    results = [Result(actionable[0], Outcome.DONE, requests=1)]
    results.append(
        Result(actionable[1], Outcome.FAILED, "PUT /orgs/octo-org/... -> 502 (request id R1)", 5)
    )
    results += [Result(c, Outcome.SKIPPED, "interrupted before this write") for c in actionable[2:]]
    _check("results.txt", render_results_text(results))
    _check("results.md", render_results_markdown(results, plan))


def test_markdown_stays_under_the_comment_limit() -> None:
    orgs = [Scope(ScopeKind.ORG, f"org-{i:03d}") for i in range(400)]
    desired = tuple(
        group(*(secret(f"S{j:02d}", scope=o) for j in range(30)), scope=o) for o in orgs
    )
    plan = diff(desired, LiveState(()), ValuePolicy.AUTO)
    text = render_markdown(plan)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "**Truncated:**" in text
    assert "scopes are not shown" in text
    assert text.rstrip().endswith("</sub>")  # the checksum line survives truncation
    small = render_markdown(_plan())
    assert "Truncated" not in small


@pytest.mark.parametrize("name", ["a|b", "<img src=x>"])
def test_markdown_escapes_table_breakers(name: str) -> None:
    desired = (group(secret("A", var=name)),)
    text = render_markdown(diff(desired, LiveState(()), ValuePolicy.AUTO))
    html = inspect(text)  # GitHub's own parser: the name stays text in its cell
    assert "img" not in html.tags
    assert html.rows == [6, 6, 5, 5]  # summary table, then the scope's: no cell split off
