"""The subcommands: each takes parsed arguments, the environment and stdout, returns an exit code.

I/O lives here and in the client: reading manifests, the ledger, the API; rendering is
delegated to render.py and the decisions to plan.py.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from reconciler.auth import APP_ID_ENV, auth_from_environ
from reconciler.errors import (
    ExitStatus,
    ManifestError,
    ReconcilerError,
    UsageError,
)
from reconciler.github import GitHubClient, PublicKey
from reconciler.ledger import Ledger, LedgerKey
from reconciler.ledger_store import (
    DEFAULT_LEDGER_PATH,
    FileLedgerStore,
    GitHubLedgerStore,
    LedgerStore,
    parse_ledger_location,
)
from reconciler.ledger_sync import fingerprints
from reconciler.live import read_live
from reconciler.manifest import check_values, load_manifests
from reconciler.model import App, DesiredState, DriftPolicy, LiveState, Scope
from reconciler.output_files import check_writable, write_output
from reconciler.plan import (
    Plan,
    ValueFacts,
    ValuePolicy,
    ValueReason,
    diff,
)
from reconciler.pr_comment import (
    PullRequest,
    commenter_login,
    marker,
    parse_pr,
    pull_request_from_environ,
    upsert_comment,
)
from reconciler.render import (
    render_json,
    render_markdown,
    render_text,
)
from reconciler.safe_text import printable
from reconciler.safety import stale_sealed_values
from reconciler.sources import plan_notices
from reconciler.transport import DEFAULT_API_URL, ClientConfig

log = logging.getLogger(__name__)

LEDGER_ENV = "RECONCILER_LEDGER"
COMMENT_TOKEN_ENV = "RECONCILER_COMMENT_TOKEN"


class DriftError(ReconcilerError):
    """Secrets changed outside reconciler while the manifest's drift policy is `fail`."""


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


def _ledger_spec(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    return str(args.ledger or environ.get(LEDGER_ENV) or DEFAULT_LEDGER_PATH)


def _ledger_store(
    args: argparse.Namespace, environ: Mapping[str, str], client: GitHubClient | None
) -> LedgerStore | None:
    """The configured store; a `github:` one needs a client, a file one does not."""
    if getattr(args, "no_ledger", False):
        return None
    where = parse_ledger_location(_ledger_spec(args, environ))
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
    store = _ledger_store(args, environ, client)
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


def _colour(out: TextIO, environ: Mapping[str, str]) -> bool:
    return "NO_COLOR" not in environ and hasattr(out, "isatty") and out.isatty()


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")


# -- validate ----------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    result = load_manifests(args.paths, extra_allow_env=tuple(args.allow_env))
    if args.resolve_values:
        problems = check_values(result.desired, environ, tuple(args.allow_env))
        if problems:
            raise ManifestError(problems)
    desired = result.desired
    skipped = f"; skipped {len(result.skipped)} non-manifest files" if result.skipped else ""
    out.write(
        f"OK: {len(desired.files)} manifest files, {len(desired.groups)} scope/app groups, "
        f"{len(desired.secrets())} secrets{skipped}.\n"
    )
    for notice in plan_notices(desired, tuple(args.allow_env)):
        out.write(f"notice: {notice}\n")
    for skipped_path in result.skipped:
        out.write(f"  skipped {skipped_path}\n")
    return ExitStatus.OK


# -- plan --------------------------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    desired = load(args)
    # Usage problems before any request: where the plan goes, which pull request a comment goes to.
    if args.out:
        check_writable(args.out, "--out")
    pr = None
    if args.comment or args.pr:
        pr = parse_pr(args.pr) if args.pr else pull_request_from_environ(environ)
    client = make_client(args, environ)
    try:
        planned = make_plan(desired, client, args, environ)
        plan = planned.plan
        markdown = render_markdown(plan)
        if args.format == "json":
            out.write(render_json(plan.document()))
        elif args.format == "markdown":
            out.write(markdown)
        else:
            out.write(render_text(plan, colour=_colour(out, environ)))
        append_step_summary(environ, markdown)
        if args.out:
            write_output(args.out, render_json(plan.document()), "--out")
        if pr is not None:
            _comment(args, environ, client, markdown, pr)
    finally:
        client.close()
    check_drift(planned, args)
    return ExitStatus.CHANGES if args.detailed_exitcode and plan.has_changes else ExitStatus.OK


def _comment(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    client: GitHubClient,
    markdown: str,
    pr: PullRequest,
) -> None:
    token = environ.get(COMMENT_TOKEN_ENV)
    commenter = client
    if token:
        commenter = make_client(args, {**environ, "GITHUB_TOKEN": token, APP_ID_ENV: ""})
    # The same rule as auth_from_environ: the main credentials are an App's when its id is set.
    app = not token and bool(environ.get(APP_ID_ENV, "").strip())
    try:
        author = commenter_login(commenter, environ, app=app)
        url = upsert_comment(commenter, pr, markdown, marker(args.paths), author=author)
    finally:
        if commenter is not client:
            commenter.close()
    log.info("plan posted to %s as %s", printable(url or pr.repo), printable(author))


# -- ledger ------------------------------------------------------------------------------------


def cmd_ledger(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    needs_client = _ledger_spec(args, environ).startswith("github:")
    client = make_client(args, environ) if needs_client else None
    try:
        store = _ledger_store(args, environ, client)
        assert store is not None  # `ledger` has no --no-ledger
        ledger = store.load()
        if args.ledger_command == "show":
            out.write(f"ledger {printable(store.describe())}: {len(ledger.entries)} secrets\n")
            # Anyone who can push to the ledger's repository can write any of these fields.
            for (kind, target, app, name), entry in sorted(ledger.entries.items()):
                fp = "fingerprint" if entry.fingerprint else "no fingerprint"
                fields = (kind, target, app, name)
                out.write(f"  {' '.join(printable(f) for f in fields)}  ")
                out.write(f"updated {printable(entry.updated_at)}  ")
                out.write(f"{printable(entry.source or '-')}  {fp}\n")
            return ExitStatus.OK
        forgotten, count = ledger.forget(args.names)
        if count == 0:
            raise UsageError(f"no ledger entry named {', '.join(args.names)}")
        removed = {k: None for k in ledger.entries if k not in forgotten.entries}
        store.save(removed, None)
        out.write(
            f"forgot {count} ledger entries; their values are not comparable until the "
            "next apply writes them\n"
        )
        return ExitStatus.OK
    finally:
        if client:
            client.close()
