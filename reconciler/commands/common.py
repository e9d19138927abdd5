"""Steps several subcommands share: loading manifests, connecting to GitHub, the ledger store,
making a plan (live state, fingerprints, diff), the drift check and the job summary.

Each takes the few typed options it needs, never a command's whole options. What talks to
GitHub is imported where it is first used, so `--help` and `validate` never load it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.commands.arguments import LEDGER_ENV, Connection, LedgerChoice, Manifests, Remote
from reconciler.diff import ValueFacts, VariableFacts, diff
from reconciler.env import Env
from reconciler.errors import DriftError, SourceError, TargetMatchesNothingError, UsageError
from reconciler.github.urls import DEFAULT_API_URL
from reconciler.ledger.format import Ledger, LedgerKey
from reconciler.manifest.load import load_manifests
from reconciler.model import (
    App,
    DesiredItem,
    DesiredState,
    DriftPolicy,
    Kind,
    LiveState,
    PublicKey,
    Scope,
    SealedSource,
)
from reconciler.plan import Action, Plan, ValuePolicy, ValueReason
from reconciler.safe_text import printable
from reconciler.safety import Thresholds, apply_problems
from reconciler.targets import Target, describe, selected, unmatched
from reconciler.values.sources import plan_notices, read_variables, resolve, resolve_text

if TYPE_CHECKING:
    from reconciler.github.client import GitHubClient
    from reconciler.ledger.stores import LedgerStore

log = logging.getLogger(__name__)

COMMENT_TOKEN_ENV = "RECONCILER_COMMENT_TOKEN"


def load(manifests: Manifests) -> DesiredState:
    result = load_manifests(manifests.paths, extra_allow_env=manifests.allow_env)
    for skipped in result.skipped:
        # A warning, not info: a manifest that is skipped cannot protect its secrets from prune.
        log.warning("skipped %s", skipped)
    for warning in result.warnings:
        log.warning("%s", "\n".join(map(printable, str(warning).split("\n"))))
    return result.desired


def connect(
    connection: Connection, env: Env, environ: Mapping[str, str] | None = None
) -> GitHubClient:
    """A client made by the Env's factory; credentials and `$GITHUB_API_URL` are read from
    `environ` (default: the Env's)."""
    from reconciler.github.auth import auth_from_environ
    from reconciler.github.transport import ClientConfig

    environ = env.environ if environ is None else environ
    config = ClientConfig(
        api_url=connection.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        api_version=connection.api_version,
        max_wait=connection.max_wait,
        timeout=connection.timeout,
        pool_size=max(16, connection.concurrency * 2),
    )
    return env.make_client(config, auth=auth_from_environ(environ), sleep=env.sleep)


def ledger_store(
    choice: LedgerChoice, environ: Mapping[str, str], client: GitHubClient | None
) -> LedgerStore | None:
    """The configured store; a `github:` one needs a client, a file one does not."""
    from reconciler.ledger.stores import FileLedgerStore, GitHubLedgerStore, parse_ledger_location

    if not choice.enabled:
        return None
    where = parse_ledger_location(choice.spec(environ))
    if isinstance(where, Path):
        return FileLedgerStore(where)
    if client is None:
        raise UsageError("a github: ledger needs GitHub credentials")
    repo, path, branch = where
    return GitHubLedgerStore(client.contents, repo, path, branch)


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What a plan is made from besides the manifests' contents and live state."""

    manifests: Manifests
    ledger: LedgerChoice
    values: ValuePolicy
    drift: DriftPolicy | None
    concurrency: int
    log_notices: bool = False  # apply shows results, not the plan: notices go to the log
    thresholds: Thresholds = field(default_factory=Thresholds)  # apply's, for its refusals
    targets: tuple[Target, ...] = ()  # --target: only changes within these
    hide_variable_values: bool = False

    @classmethod
    def of(
        cls,
        manifests: Manifests,
        remote: Remote,
        *,
        log_notices: bool = False,
        thresholds: Thresholds | None = None,
    ) -> PlanInputs:
        return cls(
            manifests,
            remote.ledger,
            remote.values,
            remote.drift,
            remote.connection.concurrency,
            log_notices,
            thresholds or Thresholds(),
            remote.targets,
            remote.hide_variable_values,
        )


@dataclass(frozen=True, slots=True)
class Planned:
    """Everything a plan was made from, for apply and for the ledger afterwards."""

    desired: DesiredState
    live: LiveState
    keys: dict[tuple[Scope, App], PublicKey]
    plan: Plan
    store: LedgerStore | None
    ledger: Ledger
    key: LedgerKey | None
    prints: dict[tuple[str, str, str, str], str]


def make_plan(
    desired: DesiredState,
    client: GitHubClient,
    inputs: PlanInputs,
    environ: Mapping[str, str],
) -> Planned:
    from reconciler.commands.siblings import declared_elsewhere, sibling_declarations
    from reconciler.ledger.recording import fingerprints
    from reconciler.live import read_live

    allow_env = inputs.manifests.allow_env
    allow = allow_env + desired.settings.allow_env
    store = ledger_store(inputs.ledger, environ, client)
    ledger = store.load() if store else Ledger()
    key = LedgerKey.from_environ(environ)
    prints = fingerprints(desired.secrets(), key, environ, allow) if key else {}
    if key and ledger.key_id and ledger.key_id != key.key_id():
        log.warning(
            "the ledger's fingerprints were made with another RECONCILER_LEDGER_KEY; "
            "values are not comparable until the next apply records them again"
        )
        # Compare against no fingerprints, but keep `prints`: apply records them under the new key.
        ledger_for_diff = ledger.without_fingerprints()
    else:
        ledger_for_diff = ledger
    live, keys = read_live(desired, client, concurrency=inputs.concurrency)
    drift = inputs.drift or desired.settings.drift
    facts = ValueFacts(ledger_for_diff, prints, drift or DriftPolicy.OVERWRITE) if store else None
    variables = VariableFacts(
        read_variables(desired, environ, allow), show=not inputs.hide_variable_values
    )
    plan = diff(
        desired.groups,
        live,
        inputs.values,
        reads=client.transport.counters.reads,
        facts=facts,
        variables=variables,
    )
    plan = replace(plan, variables_hidden=inputs.hide_variable_values)
    targets = inputs.targets
    if targets:
        _check_targets(targets, desired, live)
        kept = [c for c in plan.changes if selected(targets, c.scope, c.app, c.name)]
        # An environment is created for the writes into it that the targets keep.
        needed = {c.scope for c in kept if c.kind is not Kind.ENVIRONMENT}
        kept = [c for c in kept if c.kind is not Kind.ENVIRONMENT or c.scope in needed]
        kept += [c for c in plan.changes if c.kind is Kind.ENVIRONMENT and c.scope in needed]
        plan = replace(
            plan,
            changes=tuple(sorted(set(kept), key=lambda c: c.sort_key())),
            targets=tuple(str(t) for t in targets),
        )
    problems = apply_problems(
        plan,
        tuple(s for s in desired.items() if selected(targets, s.scope, s.app, s.name)),
        live,
        keys,
        inputs.thresholds,
        unreadable=lambda secret: _unreadable(secret, environ, allow),
        ledger_without_key=_ledger_without_key(inputs.ledger, store, ledger, key, environ),
    )
    if any(c.action is Action.DELETE for c in plan.changes):  # a split manifest's siblings
        declared = sibling_declarations(inputs.manifests.paths, desired, allow_env)
        problems += tuple(declared_elsewhere(plan.changes, declared))
    plan = replace(
        plan,
        notices=((describe(targets),) if targets else ()) + plan_notices(desired, allow_env),
        manifests=inputs.manifests.paths,
        allow_env=allow_env,
        problems=problems,
    )
    if inputs.log_notices:
        for notice in plan.notices:
            log.warning("%s", notice)
    return Planned(desired, live, keys, plan, store, ledger, key, prints)


def _check_targets(targets: tuple[Target, ...], desired: DesiredState, live: LiveState) -> None:
    """Raise naming every target that selects nothing declared or live (a typo, most likely)."""
    subjects: list[tuple[Scope, App, str | None]] = []
    for group in desired.groups:
        subjects.append((group.scope, group.app, None))
        subjects += [(group.scope, group.app, s.name) for s in group.items]
    for held in live.groups:
        subjects.append((held.scope, held.app, None))
        subjects += [(held.scope, held.app, s.name) for s in held.items]
    missing = unmatched(targets, subjects)
    if missing:
        raise TargetMatchesNothingError(tuple(str(t) for t in missing))


def _unreadable(
    item: DesiredItem, environ: Mapping[str, str], allow: tuple[str, ...]
) -> SourceError | None:
    """Why apply could not read this item's value, read exactly as apply reads it (the
    value itself is dropped at once), or None."""
    if isinstance(item.source, SealedSource):
        return None
    try:
        if item.kind is Kind.VARIABLE:
            resolve_text(item.source, environ, allow)
        else:
            resolve(item.source, environ, allow)
    except SourceError as e:
        return e
    return None


def _ledger_without_key(
    choice: LedgerChoice,
    store: LedgerStore | None,
    ledger: Ledger,
    key: LedgerKey | None,
    environ: Mapping[str, str],
) -> str | None:
    """The ledger's description when one is meant to compare values but there is no key: it
    holds fingerprints, or a flag or $RECONCILER_LEDGER asks for it. Else None."""
    if store is None or key is not None:
        return None
    fingerprinted = bool(ledger.key_id) or any(e.fingerprint for e in ledger.entries.values())
    asked = bool(choice.location or environ.get(LEDGER_ENV))
    return store.describe() if fingerprinted or asked else None


def check_drift(planned: Planned, drift_override: DriftPolicy | None) -> None:
    drift = drift_override or planned.desired.settings.drift
    drifted = [c for c in planned.plan.changes if c.value is ValueReason.DRIFT]
    if drift is DriftPolicy.FAIL and drifted:
        raise DriftError(
            "secrets were changed outside reconciler (drift policy: fail):\n"
            + "\n".join(
                f"  {printable(str(c.scope))} {c.app} {printable(c.name)} "
                f"(updated {printable(c.live_updated_at)})"
                for c in drifted
            ),
            hint="find out who changed them; then `reconciler ledger forget NAME` to accept "
            "GitHub's value, or set the drift policy to overwrite to restore the manifest's",
        )


def use_colour(out: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour on `out`? The one place that decides; see `colour_wanted`."""
    return colour_wanted(environ, tty=hasattr(out, "isatty") and out.isatty())


def colour_wanted(environ: Mapping[str, str], *, tty: bool) -> bool:
    """A non-empty NO_COLOR turns colour off (https://no-color.org; an empty one is unset);
    else a non-empty FORCE_COLOR turns it on, even off a terminal (https://force-color.org);
    else TERM=dumb turns it off; else colour exactly when the stream is a terminal."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return tty


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
