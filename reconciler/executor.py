"""Carry a plan out, in plan order, one paced write per change.

Everything that can fail without touching GitHub (value sources, public keys, sealed
key ids) is settled before the first write, so a bad source never leaves a half-applied
scope. A failed write does not stop independent writes; deletes in a scope where an
earlier write failed are skipped, so a renamed secret never goes missing. A rate limit
is not independent: every write shares the token's budget, and GitHub may ban clients
that keep sending while limited, so the writes after one are skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ManifestError, RateLimitError, ReconcilerError, SourceError
from reconciler.github.client import GitHubClient
from reconciler.github.secrets import Secrets
from reconciler.github.transport import read_pool
from reconciler.model import (
    App,
    DesiredItem,
    LiveState,
    PublicKey,
    Scope,
    ScopeKind,
    SealedSource,
    Visibility,
)
from reconciler.plan import Action, Change, Outcome, Plan, Result
from reconciler.safety import stale_sealed_values
from reconciler.values.sealing import seal
from reconciler.values.sources import SecretValue, resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    environ: Mapping[str, str] = field(repr=False)  # holds the values: never in a repr
    allow_env: tuple[str, ...] = ()
    write_delay: float = 1.0
    concurrency: int = 8  # reads (public keys) in flight; writes are always one at a time


def resolve_values(
    plan: Plan, desired: Mapping[tuple[Scope, App, str], DesiredItem], options: ApplyOptions
) -> dict[tuple[Scope, App, str], SecretValue]:
    """Plaintext for every env/file value the plan writes; all source errors at once."""
    values: dict[tuple[Scope, App, str], SecretValue] = {}
    errors: list[SourceError] = []
    for change in plan.changes:
        if change.value is None:
            continue
        source = desired[(change.scope, change.app, change.name)].source
        if isinstance(source, SealedSource):
            continue
        try:
            values[(change.scope, change.app, change.name)] = resolve(
                source, options.environ, options.allow_env
            )
        except SourceError as e:
            errors.append(e)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise SourceError(
            None,
            f"{len(errors)} value sources cannot be read; nothing was written:\n"
            + "\n".join(f"  {e.render()}" for e in errors),
        )
    return values


def apply_plan(
    plan: Plan,
    desired_secrets: tuple[DesiredItem, ...],
    live: LiveState,
    keys: Mapping[tuple[Scope, App], PublicKey],
    client: GitHubClient,
    options: ApplyOptions,
    *,
    on_result: Callable[[Result], None] = lambda r: None,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], object] = time.sleep,
) -> tuple[Result, ...]:
    """`sleep` paces the writes; pass the stop event's `wait` so that a stop during a long
    `--write-delay` ends the pause at once, and the write after it is skipped."""
    desired = {(s.scope, s.app, s.name): s for s in desired_secrets}
    values = resolve_values(plan, desired, options)
    public_keys = dict(keys)
    # One key per scope and app, read concurrently: a run over 300 repositories needs 300.
    missing = sorted(
        {(c.scope, c.app) for c in plan.changes if c.value is not None} - public_keys.keys(),
        key=lambda k: (k[0].key, k[1].value),
    )
    with read_pool(client.transport, options.concurrency) as pool:
        fetched = list(pool.map(lambda k: client.secrets.public_key(k[0], k[1]), missing))
    public_keys.update(zip(missing, fetched, strict=True))
    stale = stale_sealed_values(desired_secrets, public_keys)
    if stale:
        raise ManifestError(stale)

    counters = client.transport.counters
    results: list[Result] = []
    failed_groups: set[tuple[Scope, App]] = set()
    rate_limited = False
    first_write = True
    for change in plan.actionable:
        group = (change.scope, change.app)
        if should_stop():
            result = Result(change, Outcome.SKIPPED, "interrupted before this write")
        elif rate_limited:
            result = Result(change, Outcome.SKIPPED, "not attempted: the token is rate limited")
        elif change.action is Action.DELETE and group in failed_groups:
            result = Result(
                change, Outcome.SKIPPED, "an earlier write in this scope failed; not deleting"
            )
        elif (
            not first_write
            and options.write_delay > 0
            and _paced_stop(sleep, options.write_delay, should_stop)
        ):
            result = Result(change, Outcome.SKIPPED, "interrupted before this write")
        else:
            first_write = False
            before = counters.writes
            try:
                _execute(change, desired, values, public_keys, live, client.secrets)
                result = Result(change, Outcome.DONE, requests=counters.writes - before)
            except ReconcilerError as e:
                failed_groups.add(group)
                if isinstance(e, RateLimitError):
                    rate_limited = True
                result = Result(
                    change, Outcome.FAILED, e.message, requests=counters.writes - before
                )
        results.append(result)
        on_result(result)
    return tuple(results)


def _paced_stop(
    sleep: Callable[[float], object], seconds: float, should_stop: Callable[[], bool]
) -> bool:
    """Wait between writes; whether a stop came meanwhile (then no further write is made)."""
    sleep(seconds)
    return should_stop()


def _execute(
    change: Change,
    desired: Mapping[tuple[Scope, App, str], DesiredItem],
    values: Mapping[tuple[Scope, App, str], SecretValue],
    keys: Mapping[tuple[Scope, App], PublicKey],
    live: LiveState,
    secrets: Secrets,
) -> None:
    ident = (change.scope, change.app, change.name)
    if change.action is Action.DELETE:
        secrets.delete(change.scope, change.app, change.name)
        return
    secret = desired[ident]
    if change.action is Action.SELECTION:
        _change_selection(change, secret, live, secrets)
        return
    body: dict[str, Any] = {}
    if change.value is not None:
        key = keys[(change.scope, change.app)]
        if isinstance(secret.source, SealedSource):
            body["encrypted_value"] = secret.source.ciphertext
        else:
            body["encrypted_value"] = seal(key.key, values[ident])
        body["key_id"] = key.key_id
    if change.scope.kind is ScopeKind.ORG:
        body["visibility"] = (secret.visibility or Visibility.PRIVATE).value
        if secret.visibility is Visibility.SELECTED:
            # A PUT replaces the selection, so it always carries the full list.
            body["selected_repository_ids"] = _repo_ids(secret, live)
    secrets.put(change.scope, change.app, change.name, body)


def _change_selection(
    change: Change, secret: DesiredItem, live: LiveState, secrets: Secrets
) -> None:
    """One request either way: a single add/remove touches only that repository; more
    than one difference is a single set call with the full list."""
    if len(change.repos_added) + len(change.repos_removed) == 1:
        (name,) = change.repos_added or change.repos_removed
        repo_id = live.repo_ids[f"{change.scope.org}/{name}".lower()]
        if change.repos_added:
            secrets.add_selected_repository(change.scope, change.app, change.name, repo_id)
        else:
            secrets.remove_selected_repository(change.scope, change.app, change.name, repo_id)
        return
    secrets.set_selected_repositories(
        change.scope, change.app, change.name, _repo_ids(secret, live)
    )


def _repo_ids(secret: DesiredItem, live: LiveState) -> list[int]:
    org = secret.scope.org
    return sorted(live.repo_ids[f"{org}/{name}".lower()] for name in secret.repositories or ())
