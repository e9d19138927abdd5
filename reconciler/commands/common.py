"""Steps several subcommands share: loading manifests, the client, the ledger store, making a
plan (live state, fingerprints, diff), the drift check and the job summary."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from reconciler.diff import ValueFacts, diff
from reconciler.errors import (
    DriftError,
    ManifestError,
    UsageError,
)
from reconciler.github.auth import auth_from_environ
from reconciler.github.client import GitHubClient
from reconciler.github.transport import DEFAULT_API_URL, ClientConfig
from reconciler.ledger.format import Ledger, LedgerKey
from reconciler.ledger.recording import fingerprints
from reconciler.ledger.stores import (
    DEFAULT_LEDGER_PATH,
    FileLedgerStore,
    GitHubLedgerStore,
    LedgerStore,
    parse_ledger_location,
)
from reconciler.live import read_live
from reconciler.manifest.load import load_manifests
from reconciler.model import App, DesiredState, DriftPolicy, LiveState, PublicKey, Scope
from reconciler.plan import Plan, ValuePolicy, ValueReason
from reconciler.safe_text import printable
from reconciler.safety import stale_sealed_values
from reconciler.values.sources import plan_notices

log = logging.getLogger(__name__)

LEDGER_ENV = "RECONCILER_LEDGER"
COMMENT_TOKEN_ENV = "RECONCILER_COMMENT_TOKEN"


# -- shared steps --------------------------------------------------------------------------------


def load(args: argparse.Namespace) -> DesiredState:
    result = load_manifests(args.paths, extra_allow_env=tuple(args.allow_env))
    for skipped in result.skipped:
        # A warning, not info: a manifest that is skipped cannot protect its secrets from prune.
        log.warning("skipped %s", skipped)
    return result.desired


def make_client(args: argparse.Namespace, environ: Mapping[str, str]) -> GitHubClient:
    api_url = args.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    concurrency = getattr(args, "concurrency", 8)
    config = ClientConfig(
        api_url=api_url,
        api_version=getattr(args, "api_version", None),
        max_wait=getattr(args, "max_wait", 120.0),
        timeout=getattr(args, "timeout", 30.0),
        pool_size=max(16, concurrency * 2),
    )
    return GitHubClient(config, auth=auth_from_environ(environ))


def ledger_spec(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    return str(args.ledger or environ.get(LEDGER_ENV) or DEFAULT_LEDGER_PATH)


def ledger_store(
    args: argparse.Namespace, environ: Mapping[str, str], client: GitHubClient | None
) -> LedgerStore | None:
    """The configured store; a `github:` one needs a client, a file one does not."""
    if getattr(args, "no_ledger", False):
        return None
    where = parse_ledger_location(ledger_spec(args, environ))
    if isinstance(where, Path):
        return FileLedgerStore(where)
    if client is None:
        raise UsageError("a github: ledger needs GitHub credentials")
    repo, path, branch = where
    return GitHubLedgerStore(client, repo, path, branch)


@dataclass
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
    args: argparse.Namespace,
    environ: Mapping[str, str],
) -> Planned:
    allow = tuple(args.allow_env) + desired.settings.allow_env
    store = ledger_store(args, environ, client)
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
    live, keys = read_live(desired, client, concurrency=args.concurrency)
    stale = stale_sealed_values(desired.secrets(), keys)
    if stale:
        raise ManifestError(stale)
    drift = DriftPolicy(args.drift) if args.drift else desired.settings.drift
    facts = ValueFacts(ledger_for_diff, prints, drift or DriftPolicy.OVERWRITE) if store else None
    plan = diff(
        desired.groups,
        live,
        ValuePolicy(args.values),
        reads=client.counters.reads,
        facts=facts,
    )
    plan = replace(
        plan,
        notices=plan_notices(desired, tuple(args.allow_env)),
        manifests=tuple(args.paths),
        allow_env=tuple(args.allow_env),
    )
    if getattr(args, "command", "") == "apply":  # apply shows results, not the plan
        for notice in plan.notices:
            log.warning("%s", notice)
    return Planned(desired, live, keys, plan, store, ledger, key, prints)


def check_drift(planned: Planned, args: argparse.Namespace) -> None:
    drift = DriftPolicy(args.drift) if args.drift else planned.desired.settings.drift
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
    return "NO_COLOR" not in environ and hasattr(out, "isatty") and out.isatty()


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
