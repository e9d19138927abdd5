"""Carry a plan out, in plan order, one paced write per change.

Everything that can fail without touching GitHub (value sources, public keys, sealed
key ids) is settled before the first write, so a bad source never leaves a half-applied
scope; only the key of an environment the plan creates is read right after creating it.
A failed write does not stop independent writes; deletes in a scope where an earlier write
failed are skipped, so a renamed secret never goes missing, and nothing is written into an
environment that could not be created. A rate limit
is not independent: every write shares the token's budget, and GitHub may ban clients
that keep sending while limited, so the writes after one are skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import (
    ApiError,
    ManifestError,
    RateLimitError,
    ReconcilerError,
    RequestInfo,
    SourceError,
)
from reconciler.github.client import GitHubClient
from reconciler.github.transport import read_pool
from reconciler.model import (
    App,
    DesiredItem,
    Kind,
    LiveState,
    PublicKey,
    Scope,
    ScopeKind,
    SealedSource,
    Visibility,
)
from reconciler.plan import Action, Change, Outcome, Plan, Result
from reconciler.safety import stale_sealed_values
from reconciler.values.resolver import Resolver
from reconciler.values.sealing import seal
from reconciler.values.sources import SecretValue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    resolver: Resolver  # reads the values (the plan's, so each source is read once a run)
    write_delay: float = 1.0
    concurrency: int = 8  # reads (public keys) in flight; writes are always one at a time


ItemKey = tuple[Scope, App, Kind, str]


def resolve_values(
    plan: Plan, desired: Mapping[ItemKey, DesiredItem], options: ApplyOptions
) -> dict[ItemKey, SecretValue | str]:
    """Plaintext for every env/file/inline value the plan writes (a variable's as text); all
    source errors at once."""
    values: dict[ItemKey, SecretValue | str] = {}
    errors: list[SourceError] = []
    resolver = options.resolver
    resolver.prefetch(desired[c.ident].source for c in plan.changes if c.ident in desired)
    for change in plan.changes:
        if change.value is None or change.kind is Kind.ENVIRONMENT:
            continue
        source = desired[change.ident].source
        if isinstance(source, SealedSource):
            continue
        try:
            if change.kind is Kind.VARIABLE:
                values[change.ident] = resolver.text(source)
            else:
                values[change.ident] = resolver.value(source)
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
    desired_items: tuple[DesiredItem, ...],
    live: LiveState,
    keys: Mapping[tuple[Scope, App], PublicKey],
    client: GitHubClient,
    options: ApplyOptions,
    *,
    on_result: Callable[[Result], None] = lambda r: None,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Result, ...]:
    """`sleep` paces the writes; pass the stop event's `wait` so that a stop during a long
    `--write-delay` ends the pause at once, and the write after it is skipped. The delay is
    measured between the starts of two writes: a write that took 0.4 s is followed by a
    0.6 s pause at a 1 s delay, not a 1 s one."""
    desired = {(s.scope, s.app, s.kind, s.name): s for s in desired_items}
    values = resolve_values(plan, desired, options)
    public_keys = dict(keys)
    created = {c.scope for c in plan.changes if c.kind is Kind.ENVIRONMENT}
    # One key per scope and app, read concurrently: a run over 300 repositories needs 300.
    # An environment this plan creates has none yet: its key is read once it exists.
    missing = sorted(
        {
            (c.scope, c.app)
            for c in plan.changes
            if c.value is not None and c.kind is Kind.SECRET and c.scope not in created
        }
        - public_keys.keys(),
        key=lambda k: (k[0].key, k[1].value),
    )
    with read_pool(client.transport, options.concurrency) as pool:
        fetched = list(pool.map(lambda k: client.secrets.public_key(k[0], k[1]), missing))
    public_keys.update(zip(missing, fetched, strict=True))
    stale = stale_sealed_values(
        tuple(s for s in desired_items if s.scope not in created), public_keys
    )
    if stale:
        raise ManifestError(stale)

    counters = client.transport.counters
    ids = RepoIds(live.repo_ids, client)
    results: list[Result] = []
    failed_groups: set[tuple[Scope, App]] = set()
    failed_environments: set[Scope] = set()
    rate_limited = False
    last_start: float | None = None
    for change in plan.actionable:
        group = (change.scope, change.app)
        if should_stop():
            result = Result(change, Outcome.SKIPPED, "interrupted before this write")
        elif rate_limited:
            result = Result(change, Outcome.SKIPPED, "not attempted: the token is rate limited")
        elif change.scope in failed_environments:
            result = Result(
                change, Outcome.SKIPPED, "not attempted: the environment could not be created"
            )
        elif change.action is Action.DELETE and group in failed_groups:
            result = Result(
                change, Outcome.SKIPPED, "an earlier write in this scope failed; not deleting"
            )
        elif (
            last_start is not None
            and options.write_delay > 0
            and _paced_stop(sleep, options.write_delay - (clock() - last_start), should_stop)
        ):
            result = Result(change, Outcome.SKIPPED, "interrupted before this write")
        else:
            last_start = clock()
            before = counters.writes
            try:
                _execute(change, desired, values, public_keys, ids, client)
                result = Result(change, Outcome.DONE, requests=counters.writes - before)
            except ReconcilerError as e:
                failed_groups.add(group)
                if change.kind is Kind.ENVIRONMENT:
                    failed_environments.add(change.scope)
                if isinstance(e, RateLimitError):
                    rate_limited = True
                # The hint says what to do (e.g. which permission the token lacks).
                detail = f"{e.message}; hint: {e.hint}" if e.hint else e.message
                result = Result(change, Outcome.FAILED, detail, requests=counters.writes - before)
        results.append(result)
        on_result(result)
    return tuple(results)


def _paced_stop(
    sleep: Callable[[float], object], seconds: float, should_stop: Callable[[], bool]
) -> bool:
    """Wait between writes (if any time is left to wait); whether a stop came meanwhile
    (then no further write is made)."""
    if seconds > 0:
        sleep(seconds)
    return should_stop()


def _execute(
    change: Change,
    desired: Mapping[ItemKey, DesiredItem],
    values: Mapping[ItemKey, SecretValue | str],
    keys: dict[tuple[Scope, App], PublicKey],
    ids: RepoIds,
    client: GitHubClient,
) -> None:
    if change.kind is Kind.ENVIRONMENT:
        client.environments.create(change.scope)
        return
    if change.action is Action.DELETE:
        client.of_kind(change.kind).delete(change.scope, change.app, change.name)
        return
    item = desired[change.ident]
    if change.action is Action.SELECTION:
        _change_selection(change, item, ids, client)
    elif change.kind is Kind.VARIABLE:
        _write_variable(change, item, values, ids, client)
    else:
        _write_secret(change, item, values, keys, ids, client)


def _write_secret(
    change: Change,
    secret: DesiredItem,
    values: Mapping[ItemKey, SecretValue | str],
    keys: dict[tuple[Scope, App], PublicKey],
    ids: RepoIds,
    client: GitHubClient,
) -> None:
    body: dict[str, Any] = {}
    if change.value is not None:
        group = (change.scope, change.app)
        if group not in keys:  # an environment created by this apply: it has a key now
            keys[group] = client.secrets.public_key(change.scope, change.app)
            stale = stale_sealed_values((secret,), keys)
            if stale:
                raise ManifestError(stale)
        key = keys[group]
        if isinstance(secret.source, SealedSource):
            body["encrypted_value"] = secret.source.ciphertext
        else:
            value = values[change.ident]
            assert isinstance(value, SecretValue)
            body["encrypted_value"] = seal(key.key, value)
        body["key_id"] = key.key_id
    body.update(_visibility_fields(secret, ids))
    client.secrets.put(change.scope, change.app, change.name, body)


def _write_variable(
    change: Change,
    variable: DesiredItem,
    values: Mapping[ItemKey, SecretValue | str],
    ids: RepoIds,
    client: GitHubClient,
) -> None:
    body: dict[str, Any] = {"name": change.name}
    if change.value is not None or change.action is Action.CREATE:
        body["value"] = values[change.ident]
    body.update(_visibility_fields(variable, ids))
    if change.action is Action.CREATE:
        client.variables.create(change.scope, change.app, body)
    else:
        client.variables.update(change.scope, change.app, change.name, body)


def _visibility_fields(item: DesiredItem, ids: RepoIds) -> dict[str, Any]:
    """An organisation item's visibility, and with `selected` the full selection (a PUT or
    PATCH replaces it)."""
    if item.scope.kind is not ScopeKind.ORG:
        return {}
    fields: dict[str, Any] = {"visibility": (item.visibility or Visibility.PRIVATE).value}
    if item.visibility is Visibility.SELECTED:
        fields["selected_repository_ids"] = ids.of_item(item)
    return fields


def _change_selection(
    change: Change, item: DesiredItem, ids: RepoIds, client: GitHubClient
) -> None:
    """One request either way: a single add/remove touches only that repository; more
    than one difference is a single set call with the full list."""
    family = client.of_kind(change.kind)
    if len(change.repos_added) + len(change.repos_removed) == 1:
        (name,) = change.repos_added or change.repos_removed
        repo_id = ids.of(change.scope.org, name)
        if change.repos_added:
            family.add_selected_repository(change.scope, change.app, change.name, repo_id)
        else:
            family.remove_selected_repository(change.scope, change.app, change.name, repo_id)
        return
    family.set_selected_repositories(change.scope, change.app, change.name, ids.of_item(item))


class RepoIds:
    """Repository ids for selections: those reading found, and (for selections taken on
    trust from the ledger, which were not listed) looked up when a write first needs one."""

    def __init__(self, known: Mapping[str, int], client: GitHubClient) -> None:
        self._ids = dict(known)
        self._client = client

    def of(self, org: str, name: str) -> int:
        full_name = f"{org}/{name}".lower()
        if full_name not in self._ids:
            repo = self._client.repos.get(full_name)
            if repo is None:
                raise ApiError(
                    RequestInfo("GET", f"/repos/{full_name}", 404),
                    f'unknown repository "{full_name}"',
                    hint="the token must be able to see it (Metadata: read); fix the manifest",
                )
            self._ids[full_name] = repo.id
        return self._ids[full_name]

    def of_item(self, item: DesiredItem) -> list[int]:
        return sorted(self.of(item.scope.org, name) for name in item.repositories or ())
