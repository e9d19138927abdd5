"""What apply did, as text (progress lines and the summary), JSON and markdown. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.plan import Outcome, Plan, Result
from reconciler.render import SYMBOL, change_name
from reconciler.safe_text import md_code, md_text, printable

_RESULT_MARK = {
    Outcome.DONE: "ok",
    Outcome.FAILED: "FAILED",
    Outcome.SKIPPED: "skipped",
    Outcome.UNCHANGED: "same",
}


def result_line(result: Result) -> str:
    c = result.change
    shown = f"{printable(str(c.scope))} {c.app} {change_name(c)}"
    text = f"{_RESULT_MARK[result.outcome]:>7}  {SYMBOL[c.action]} {shown}"
    return f"{text}: {printable(result.detail)}" if result.detail else text


def result_counts(results: Sequence[Result]) -> dict[str, int]:
    counts = {o.value: 0 for o in Outcome}
    for r in results:
        counts[r.outcome.value] += 1
    return counts


def results_summary(results: Sequence[Result]) -> str:
    counts = result_counts(results)
    writes = sum(r.requests for r in results)
    same = f", {counts['unchanged']} unchanged" if counts["unchanged"] else ""
    return (
        f"Apply: {counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped"
        f"{same} ({writes} write requests)."
    )


def render_results_text(results: Sequence[Result]) -> str:
    """The summary, after the failures and skips again: each change already had its
    progress line on stderr as it completed."""
    lines = [result_line(r) for r in results if r.outcome is not Outcome.DONE]
    return "\n".join([*lines, results_summary(results)]) + "\n"


def results_document(
    results: Sequence[Result], plan: Plan, *, plan_checksum: str
) -> dict[str, Any]:
    """`plan_checksum` is the plan's as `plan` printed it and a reviewer approved it: under
    `--values none` apply settles the unread values into a plan of its own, which `plan` is."""
    return {
        "format": "reconciler-apply-results",
        "version": 1,
        "plan_checksum": plan_checksum,
        **({"notices": list(plan.notices)} if plan.notices else {}),
        "summary": result_counts(results),
        "results": [
            {**r.change.canonical(), "outcome": r.outcome.value, "detail": r.detail}
            for r in results
        ],
    }


def render_results_markdown(results: Sequence[Result], plan: Plan) -> str:
    rows = [
        f"| {r.outcome.value} | {SYMBOL[r.change.action]} | {md_code(str(r.change.scope))} | "
        f"{r.change.app} | {change_name(r.change, md_code)} | {md_text(r.detail)} |"
        for r in results
    ]
    body = [
        "### reconciler apply",
        "",
        results_summary(results),  # numbers and fixed words only
        "",
        *(f"> **Notice:** {md_text(n)}\n" for n in plan.notices),
        "| outcome | | scope | app | name | detail |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"<sub>plan checksum `{plan.checksum()}`</sub>",
        "",
    ]
    return "\n".join(body)
