"""Making a plan, the step plan and apply share: the ledger and value facts, live state, the
diff, targets, and everything apply would refuse or fail on; then the drift check.

One `Resolver` reads the values for the run, so apply reuses what planning read. Under
`--values none` nothing is read but version identities (a pull-request job holds no secret,
no ledger key, no age identity): apply then settles the "checked at apply" values
(`checked_at_apply.settle_unread`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from reconciler.commands.arguments import LEDGER_ENV, LedgerChoice, Manifests, Remote
from reconciler.commands.common import ledger_store
from reconciler.diff import ValueFacts, VariableFacts, diff
from reconciler.errors import DriftError, TargetMatchesNothingError
from reconciler.ledger.format import EntryKey, Ledger, LedgerKey, entry_key
from reconciler.model import (
    App,
    DesiredState,
    DriftPolicy,
    Kind,
    LiveState,
    PublicKey,
    Scope,
    Visibility,
)
from reconciler.plan import Action, Change, Plan, ValuePolicy, ValueReason
from reconciler.safe_text import printable
from reconciler.safety import Thresholds, apply_problems
from reconciler.targets import Target, describe, selected, unmatched
from reconciler.values.resolver import Resolver, read_variables
from reconciler.values.sources import plan_notices

if TYPE_CHECKING:
    from reconciler.github.client import GitHubClient
    from reconciler.ledger.stores import LedgerStore

log = logging.getLogger(__name__)


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
    prints: dict[EntryKey, str]
    resolver: Resolver  # the values read for this run (apply reuses them)
    versions: dict[EntryKey, str] = field(default_factory=dict)  # sources' identities now


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
    resolver = Resolver(environ, allow, commands_allowed=inputs.manifests.commands_allowed(environ))
    reading = inputs.values is not ValuePolicy.NONE
    store = ledger_store(inputs.ledger, environ, client)
    ledger = store.load() if store else Ledger()
    # --values none reads no key either: the job that plans may hold none.
    key = LedgerKey.from_environ(environ) if reading else None
    prints = fingerprints(desired.secrets(), key, resolver) if key else {}
    # Only a plan that reads no value compares identities; apply records them after writing.
    versions = source_versions(desired, resolver) if store and not reading else {}
    if key and ledger.key_id and ledger.key_id != key.key_id():
        log.warning(
            "the ledger's fingerprints were made with another RECONCILER_LEDGER_KEY; "
            "values are not comparable until the next apply records them again"
        )
        # Compare against no fingerprints, but keep `prints`: apply records them under the new key.
        ledger_for_diff = ledger.without_fingerprints()
    else:
        ledger_for_diff = ledger
    trusted = _trusted_selections(desired, ledger) if inputs.ledger.trust_selections else {}
    live, keys = read_live(desired, client, concurrency=inputs.concurrency, trusted=trusted)
    drift = inputs.drift or desired.settings.drift
    facts = (
        ValueFacts(ledger_for_diff, prints, drift or DriftPolicy.OVERWRITE, versions)
        if store
        else None
    )
    variables = VariableFacts(
        read_variables(desired, resolver, inline_only=not reading),
        show=not inputs.hide_variable_values,
        read=reading,
    )
    plan = diff(
        desired.groups,
        live,
        inputs.values,
        cost=client.transport.counters.cost(),
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
        # Under --values none no source is read: apply finds an unreadable one before writing.
        unreadable=(
            (lambda item: resolver.problem(item.source, text=item.kind is Kind.VARIABLE))
            if reading
            else (lambda item: None)
        ),
        ledger_without_key=(
            _ledger_without_key(inputs.ledger, store, ledger, key, environ) if reading else None
        ),
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
    return Planned(desired, live, keys, plan, store, ledger, key, prints, resolver, versions)


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


def _trusted_selections(
    desired: DesiredState, ledger: Ledger
) -> dict[tuple[Scope, App, str], tuple[str, str]]:
    """(scope, app, NAME) -> (updated_at, selection digest) the ledger recorded, for the
    `selected` secrets whose selection apply last wrote."""
    trusted: dict[tuple[Scope, App, str], tuple[str, str]] = {}
    for s in desired.secrets():
        entry = ledger.get(s.scope, s.app, s.name)
        if s.visibility is Visibility.SELECTED and entry and entry.selection:
            trusted[(s.scope, s.app, s.name.upper())] = (entry.updated_at, entry.selection)
    return trusted


def source_versions(
    desired: DesiredState, resolver: Resolver, only: Sequence[Change] | None = None
) -> dict[EntryKey, str]:
    """Each secret's version identity where its source has one readable without the value
    (`only`: the secrets of these changes); one that cannot be found is left out (its value
    is then checked at apply)."""
    wanted = None if only is None else {c.ident for c in only}
    secrets = [
        s for s in desired.secrets() if wanted is None or (s.scope, s.app, s.kind, s.name) in wanted
    ]
    found = resolver.versions(s.source for s in secrets)
    versions: dict[EntryKey, str] = {}
    for s in secrets:
        version = found.get(s.source)
        if isinstance(version, str):
            versions[entry_key(s.scope, s.app, s.name)] = version
        elif version is not None:
            log.info("version of %s not known: %s", s.source.describe(), version.detail)
    return versions


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
