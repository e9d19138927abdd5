"""Checks on a plan before anything is written: unreadable value sources, stale sealed values,
octodns-style safety thresholds that refuse an unsafe plan without --force, and a ledger that
cannot compare values. Pure: what needs I/O (reading a source) is passed in.

`apply_problems` is the one place that decides what apply would refuse or fail on; plan reports
its answer and apply refuses on it, in the words of `problems_message`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.errors import Problem, SourceError
from reconciler.model import (
    App,
    DesiredItem,
    Kind,
    LiveState,
    PublicKey,
    Scope,
    SealedSource,
    Visibility,
)
from reconciler.plan import (
    Action,
    ApplyProblem,
    Change,
    Plan,
    ProblemKind,
    ValueReason,
    problems_headline,
)


def stale_sealed_values(
    secrets: tuple[DesiredItem, ...], keys: Mapping[tuple[Scope, App], PublicKey]
) -> list[Problem]:
    """Sealed values whose key_id is no longer the scope's public key: GitHub would reject them."""
    problems = []
    for s in secrets:
        key = keys.get((s.scope, s.app))
        if isinstance(s.source, SealedSource) and key and s.source.key_id != key.key_id:
            problems.append(
                Problem(
                    s.source.location,
                    f"{s.scope} {s.app} {s.name}",
                    f'sealed value was sealed to key "{s.source.key_id}", but the current '
                    f'public key is "{key.key_id}"',
                    f"re-seal it: reconciler seal --{s.scope.kind.value} {s.scope} --app {s.app}",
                )
            )
    return problems


# -- safety ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thresholds:
    delete_fraction: float = 0.30
    delete_min_live: int = 10


_FORCE_HINT = "review the plan; apply needs --force if it is intended"


def unsafe_problems(plan: Plan, live: LiveState, thresholds: Thresholds) -> list[ApplyProblem]:
    """Why this plan must not run without --force (octodns-style), or [] if it may."""
    problems: list[ApplyProblem] = []
    deletes: dict[tuple[Scope, App, Kind], int] = {}
    for c in plan.changes:
        if c.action is Action.DELETE:
            group = (c.scope, c.app, c.kind)
            deletes[group] = deletes.get(group, 0) + 1
        if (
            c.action is Action.UPDATE
            and c.visibility_after is Visibility.ALL
            and c.visibility_before is not Visibility.ALL
        ):
            problems.append(
                ApplyProblem(
                    ProblemKind.UNSAFE,
                    _subject(c),
                    f"visibility widens from {c.visibility_before} to all "
                    "(every repository in the organization)",
                    _FORCE_HINT,
                )
            )
    for (scope, app, kind), count in sorted(
        deletes.items(), key=lambda kv: (kv[0][0].key, kv[0][1], kv[0][2])
    ):
        total = sum(1 for item in live.group(scope, app).items if item.kind is kind)
        if total >= thresholds.delete_min_live and count / total > thresholds.delete_fraction:
            problems.append(
                ApplyProblem(
                    ProblemKind.UNSAFE,
                    f"{scope} {app}",
                    f"{count} of {total} live {kind}s would be deleted ({count / total:.0%}, "
                    f"above the {thresholds.delete_fraction:.0%} threshold)",
                    f"{_FORCE_HINT}, or tune --delete-threshold / --delete-threshold-min",
                )
            )
    return problems


def _subject(c: Change) -> str:
    """`octo-org actions NPM_TOKEN`; a variable says so (a secret may share its name)."""
    kind = "" if c.kind is Kind.SECRET else f"{c.kind} "
    return f"{c.scope} {c.app} {kind}{c.name}"


def unsafe_reasons(plan: Plan, live: LiveState, thresholds: Thresholds) -> list[str]:
    """`unsafe_problems` as one line each: `subject: message`."""
    return [f"{p.subject}: {p.message}" for p in unsafe_problems(plan, live, thresholds)]


# -- everything apply would refuse or fail on ----------------------------------------------------


def apply_problems(
    plan: Plan,
    secrets: tuple[DesiredItem, ...],
    live: LiveState,
    keys: Mapping[tuple[Scope, App], PublicKey],
    thresholds: Thresholds,
    *,
    unreadable: Callable[[DesiredItem], SourceError | None],
    ledger_without_key: str | None = None,
) -> tuple[ApplyProblem, ...]:
    """Every reason apply would refuse or fail on `plan` before its first write: the value
    sources it writes from that cannot be read (`unreadable` reads one the way apply does and
    says why not, keeping nothing), stale sealed values, the safety thresholds, and a ledger
    (`ledger_without_key`, its description) that has no key to compare values with."""
    by_name = {(s.scope, s.app, s.kind, s.name): s for s in secrets}
    problems: list[ApplyProblem] = []
    for c in plan.changes:
        secret = by_name.get(c.ident)
        if c.value is None or secret is None or isinstance(secret.source, SealedSource):
            continue
        error = unreadable(secret)
        if error is not None:
            problems.append(
                ApplyProblem(
                    ProblemKind.SOURCE,
                    _subject(c),
                    f"the value cannot be read: {error.detail}",
                    error.hint or "",
                    str(error.location or ""),
                )
            )
    for stale in stale_sealed_values(secrets, keys):
        problems.append(
            ApplyProblem(
                ProblemKind.SEALED,
                stale.path,
                stale.message,
                stale.hint or "",
                str(stale.location or ""),
            )
        )
    problems += unsafe_problems(plan, live, thresholds)
    rewritten = sum(1 for c in plan.changes if c.value is ValueReason.NOT_COMPARABLE)
    if ledger_without_key is not None and rewritten:
        problems.append(
            ApplyProblem(
                ProblemKind.LEDGER_KEY,
                f"ledger {ledger_without_key}",
                f"RECONCILER_LEDGER_KEY is not set, so no value can be compared with the "
                f"ledger: every value ({rewritten}) will be rewritten as not comparable",
                "set RECONCILER_LEDGER_KEY in this job (the key the other jobs use), or pass "
                "--no-ledger; apply needs --force to rewrite them anyway",
            )
        )
    return tuple(problems)


def needs_force_only(problems: Sequence[ApplyProblem]) -> bool:
    """Whether --force would let apply run despite `problems`."""
    return all(p.kind.needs_force for p in problems)


def problems_message(problems: Sequence[ApplyProblem], *, applying: bool) -> str:
    """The same words for plan (what apply would do) and apply (what it does): the headline,
    then one indented entry per problem."""
    lines = "\n".join("  " + str(p).replace("\n", "\n  ") for p in problems)
    return f"{problems_headline(problems, applying=applying)}:\n{lines}"
