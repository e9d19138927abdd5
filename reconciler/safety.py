"""Checks on a plan before anything is written: stale sealed values, and octodns-style
safety thresholds that refuse an unsafe plan without --force. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import Problem
from reconciler.model import (
    App,
    DesiredSecret,
    LiveState,
    PublicKey,
    Scope,
    SealedSource,
    Visibility,
)
from reconciler.plan import Action, Plan


def stale_sealed_values(
    secrets: tuple[DesiredSecret, ...], keys: Mapping[tuple[Scope, App], PublicKey]
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


def unsafe_reasons(plan: Plan, live: LiveState, thresholds: Thresholds) -> list[str]:
    """Why this plan must not run without --force (octodns-style), or [] if it may."""
    reasons: list[str] = []
    deletes: dict[tuple[Scope, App], int] = {}
    for c in plan.changes:
        if c.action is Action.DELETE:
            deletes[(c.scope, c.app)] = deletes.get((c.scope, c.app), 0) + 1
        if (
            c.action is Action.UPDATE
            and c.visibility_after is Visibility.ALL
            and c.visibility_before is not Visibility.ALL
        ):
            reasons.append(
                f"{c.scope} {c.app} {c.name}: visibility widens from "
                f"{c.visibility_before} to all (every repository in the organization)"
            )
    for (scope, app), count in sorted(deletes.items(), key=lambda kv: (kv[0][0].key, kv[0][1])):
        total = len(live.group(scope, app).secrets)
        if total >= thresholds.delete_min_live and count / total > thresholds.delete_fraction:
            reasons.append(
                f"{scope} {app}: {count} of {total} live secrets would be deleted "
                f"({count / total:.0%}, above the {thresholds.delete_fraction:.0%} threshold)"
            )
    return reasons
