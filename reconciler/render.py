"""Plans and results as text, JSON and markdown. Pure: strings in, strings out."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

from reconciler.model import ApiCost, Kind, ScopeKind
from reconciler.plan import (
    Action,
    ApplyProblem,
    Change,
    Plan,
    ValueReason,
    problems_headline,
)
from reconciler.safe_text import html_text, md_code, md_text, printable

GITHUB_COMMENT_LIMIT = 65_536
SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.SELECTION: "~",
    Action.DELETE: "-",
    Action.UNMANAGED: "!",
}
_COLOUR = {"+": "32", "~": "33", "-": "31", "!": "35"}
_NOUN = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.SELECTION: "selection changes",
    Action.DELETE: "to delete",
    Action.UNMANAGED: "unmanaged",
}


def describe(change: Change, show: Callable[[str], str] = printable) -> str:
    """One line of detail for a change; names its value source, never a value. Repository
    names and sources come from the manifest or the API: each goes through `show`."""
    parts: list[str] = []
    if change.kind is Kind.ENVIRONMENT:
        return "created, with no protection rules (reconciler never deletes environments)"
    if change.action is Action.UNMANAGED:
        return "not in the manifest; left alone (prune is off)"
    if change.action is Action.DELETE:
        return "deleted (prune is on)"
    if change.scope.kind is ScopeKind.ORG:
        before, after = change.visibility_before, change.visibility_after
        if change.action is Action.CREATE:
            parts.append(f"visibility: {after}")
        elif change.visibility_changed:
            parts.append(f"visibility: {before} -> {after}")
    if change.repos_added or change.repos_removed:
        repos = [f"+{show(r)}" for r in change.repos_added] + [
            f"-{show(r)}" for r in change.repos_removed
        ]
        parts.append("repositories: " + " ".join(repos))
    if change.kind is Kind.VARIABLE and change.value is not None:
        parts.append(_variable_value(change, show))
    elif change.value is not None:
        if change.value is ValueReason.NOT_COMPARABLE:
            parts.append(f"value: not comparable, will be written from {show(change.source)}")
        elif change.value is ValueReason.ROTATED:
            version = f" (version {show(change.version)})" if change.version else ""
            parts.append(f"value: rotated in {show(change.source)}{version}")
        elif change.value is ValueReason.CHECKED_AT_APPLY:
            parts.append(
                f"value: checked at apply (--values none reads no value from "
                f"{show(change.source)}; apply writes it only if it changed)"
            )
        else:
            parts.append(f"value: from {show(change.source)} ({change.value})")
    elif change.value_skipped:
        parts.append("value: not comparable, left as is (--values skip-unknown)")
    return "; ".join(parts)


_SHOWN_VALUE_MAX = 120  # characters of a variable's value a plan line shows
_SCOPE_NOUN = {ScopeKind.ORG: "organization", ScopeKind.REPO: "repository"}
_SCOPE_NOUN[ScopeKind.ENVIRONMENT] = "deployment environment"


def _shown(value: str, show: Callable[[str], str]) -> str:
    if len(value) > _SHOWN_VALUE_MAX:
        return show(value[:_SHOWN_VALUE_MAX]) + f"... ({len(value.encode())} bytes)"
    return show(value)


def _variable_value(change: Change, show: Callable[[str], str]) -> str:
    source = "" if change.source == "inline" else f" from {show(change.source)}"
    if change.value is ValueReason.NOT_COMPARABLE:
        return f"value: cannot be read{source}; apply would fail"
    if change.value is ValueReason.CHECKED_AT_APPLY:
        return f"value{source}: checked at apply (not read by --values none)"
    if change.variable_after is None:
        return f"value{source}: {change.value} (hidden by --hide-variable-values)"
    after = _shown(change.variable_after, show)
    before = "" if change.variable_before is None else _shown(change.variable_before, show)
    return f"value{source}: {before} -> {after}" if before else f"value{source}: {after}"


def change_name(change: Change, show: Callable[[str], str] = printable) -> str:
    """The name with its kind, where it is not a secret (the plan's usual subject)."""
    if change.kind is Kind.SECRET:
        return show(change.name)
    return f"{change.kind} {show(change.name)}"


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    if not plan.has_changes:
        head = "No changes. GitHub matches the manifest."
    else:
        head = (
            "Plan: "
            + ", ".join(
                f"{counts[a.value]} {_NOUN[a]}" for a in Action if a is not Action.UNMANAGED
            )
            + "."
        )
    if counts[Action.UNMANAGED.value]:
        head += f" {counts[Action.UNMANAGED.value]} unmanaged."
    # Only the request count: cache hits and the remaining budget vary from run to run, and
    # an unchanged plan must render the same (its PR comment is not edited).
    return (
        f"{head} API cost: {plan.cost.requests} requests made while planning; "
        f"apply would make {plan.writes} writes."
    )


def api_cost(cost: ApiCost) -> str:
    """Requests made, what the rate limit counted of them, and the budget GitHub reported."""
    text = f"{cost.counted} of the {cost.requests} requests counted"
    if cost.not_modified:
        text += f" ({cost.not_modified} answered 304 Not Modified from the cache)"
    if cost.rate_remaining is not None and cost.rate_limit:
        text += f", {cost.rate_remaining:,} of {cost.rate_limit:,} left this hour"
    return text


def _scope_title(change: Change) -> str:
    """Unescaped: a grouping key; each renderer shows it its own safe way."""
    return f"{change.scope} ({_SCOPE_NOUN[change.scope.kind]})"


def _problem_text(p: ApplyProblem) -> str:
    where = f"{printable(p.location)}  " if p.location else ""
    text = f"  {where}{printable(p.subject)}: {printable(p.message)}"
    return f"{text}\n      hint: {printable(p.hint)}" if p.hint else text


def render_text(plan: Plan, *, colour: bool = False) -> str:
    lines: list[str] = []
    if plan.problems:  # up front: a plan that cannot be applied as is must not look fine
        head = f"{problems_headline(plan.problems, applying=False)}:"
        lines.append(f"\x1b[31m{head}\x1b[0m" if colour else head)
        lines.extend(_problem_text(p) for p in plan.problems)
        lines.append("")
    for scope_title, in_scope in groupby(plan.changes, key=_scope_title):
        lines.append(printable(scope_title))
        for app, in_app in groupby(in_scope, key=lambda c: c.app):
            lines.append(f"  {printable(str(app))}")
            for change in in_app:
                symbol = SYMBOL[change.action]
                mark = f"\x1b[{_COLOUR[symbol]}m{symbol}\x1b[0m" if colour else symbol
                lines.append(f"    {mark} {change_name(change)}  {describe(change)}")
        lines.append("")
    lines.extend(f"Notice: {printable(n)}" for n in plan.notices)
    lines.append(summary_line(plan))
    lines.append(f"Rate limit: {api_cost(plan.cost)}.")
    lines.append(f"Checksum: {plan.checksum()}")
    return "\n".join(lines) + "\n"


def render_json(data: dict[str, Any]) -> str:
    """ASCII JSON (controls, bidi and every non-ASCII character are `\\u` escapes) in which no
    line can be read as a workflow command: outside strings JSON never has `::` or `##[`, so
    escaping them inside strings keeps the data exact."""
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True)
    return text.replace("::", ":\\u003a").replace("##[", "##\\u005b") + "\n"


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A PR comment: summary table, one collapsible section per scope, kept under `limit`."""
    counts = plan.counts()
    head = [
        "### reconciler plan",
        "",
        "| create | update | selection | delete | unmanaged | writes |",
        "|---:|---:|---:|---:|---:|---:|",
        "| " + " | ".join(str(counts[a.value]) for a in Action) + f" | {plan.writes} |",
        "",
        summary_line(plan),  # numbers and fixed words only
        "",
    ]
    head += _problems_markdown(
        plan.problems, head_line=problems_headline(plan.problems, applying=False), room=limit // 2
    )
    for notice in plan.notices:  # in the head: never truncated away
        head += [f"> **Notice:** {md_text(notice)}", ""]
    tail = ["", f"<sub>checksum `{plan.checksum()}`</sub>", ""]
    sections: list[str] = []
    for scope_title, in_scope in groupby(plan.changes, key=_scope_title):
        changes = list(in_scope)
        tally = ", ".join(
            f"{n} {a.value}" for a in Action if (n := sum(1 for c in changes if c.action is a))
        )
        rows = [
            f"| {SYMBOL[c.action]} | {c.app} | {change_name(c, md_code)} | {c.action.value} "
            f"| {describe(c, md_code)} |"
            for c in changes
        ]
        sections.append(
            "\n".join(
                [
                    f"<details><summary><b>{html_text(scope_title)}</b>: {tally}</summary>",
                    "",
                    "| | app | name | change | details |",
                    "|---|---|---|---|---|",
                    *rows,
                    "",
                    "</details>",
                ]
            )
        )
    return _fit("\n".join(head), sections, "\n".join(tail), limit)


def _problems_markdown(problems: Sequence[ApplyProblem], *, head_line: str, room: int) -> list[str]:
    """A caution block for the head (never truncated away): every problem that fits in
    `room` characters, then how many more there are."""
    if not problems:
        return []
    lines = ["> [!CAUTION]", f"> **{head_line}:**", ">"]
    used = sum(len(line) + 1 for line in lines)
    for shown, p in enumerate(problems):
        where = f"{md_code(p.location)} " if p.location else ""
        hint = f" — {md_text(p.hint)}" if p.hint else ""
        line = f"> - {where}{md_code(p.subject)}: {md_text(p.message)}{hint}"
        if used + len(line) + 1 > room:
            lines.append(
                f"> - … and {len(problems) - shown} more: run `reconciler plan --format text` "
                "(or see the job log) for all of them"
            )
            break
        lines.append(line)
        used += len(line) + 1
    return [*lines, ""]


def _fit(head: str, sections: Sequence[str], tail: str, limit: int) -> str:
    notice_room = 300
    budget = limit - len(head) - len(tail) - notice_room
    kept: list[str] = []
    used = 0
    for section in sections:
        if used + len(section) + 1 > budget:
            break
        kept.append(section)
        used += len(section) + 1
    body = "\n".join(kept)
    if len(kept) < len(sections):
        body += (
            f"\n\n> **Truncated:** {len(sections) - len(kept)} of {len(sections)} scopes are not "
            "shown to stay under GitHub's 65,536-character comment limit. "
            "Run `reconciler plan --format text` (or see the job log) for the full plan."
        )
    return f"{head}\n{body}\n{tail}"
