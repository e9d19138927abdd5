"""`reconciler apply`: plan (or re-derive a reviewed plan), check, write, record, report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from reconciler.commands import (
    Planned,
    append_step_summary,
    check_drift,
    load,
    make_client,
    make_plan,
)
from reconciler.errors import ExitStatus, PlanMismatchError, UnsafePlanError, UsageError
from reconciler.executor import ApplyOptions, Outcome, Result, apply_plan
from reconciler.github import GitHubClient
from reconciler.ledger_sync import ledger_changes, updated_at_after
from reconciler.plan import PLAN_FORMAT, Plan, explain_mismatch
from reconciler.progress import Progress, interruptible
from reconciler.render import (
    render_json,
    render_results_markdown,
    render_results_text,
    results_document,
)
from reconciler.safety import Thresholds, unsafe_reasons

log = logging.getLogger(__name__)


def _saved_plan(paths: Sequence[str]) -> dict[str, Any] | None:
    if len(paths) != 1 or not paths[0].endswith(".json"):
        return None
    try:
        doc = json.loads(Path(paths[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{paths[0]}: cannot read the plan file ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise UsageError(f"{paths[0]}: not a reconciler plan file")
    return doc


def cmd_apply(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    reviewed = _saved_plan(args.paths)
    if reviewed is not None:
        args.paths = reviewed["manifests"]
        args.values = reviewed["values"]
        args.allow_env = list(args.allow_env) + list(reviewed.get("allow_env", []))
    desired = load(args)
    client = make_client(args, environ)
    progress = Progress(sys.stderr, 0)
    try:
        planned = make_plan(desired, client, args, environ)
        plan = planned.plan
        if reviewed is not None and plan.checksum() != reviewed.get("checksum"):
            lines = explain_mismatch(reviewed, plan.canonical())
            raise PlanMismatchError(
                "the reviewed plan no longer matches: live state or the manifest changed since "
                "it was made; nothing was written.\n"
                + "\n".join(f"  {line}" for line in lines[:20]),
                hint="run `reconciler plan` again, review it, and apply the new plan",
            )
        check_drift(planned, args)
        reasons = unsafe_reasons(
            plan, planned.live, Thresholds(args.delete_threshold, args.delete_threshold_min)
        )
        if reasons and not args.force:
            raise UnsafePlanError(
                "refusing an unsafe plan; nothing was written:\n"
                + "\n".join(f"  {r}" for r in reasons),
                hint="review the plan; re-run with --force if it is intended",
            )
        progress = Progress(sys.stderr, len(plan.actionable))
        allow = tuple(args.allow_env) + desired.settings.allow_env
        with interruptible() as stopped:
            results = apply_plan(
                plan,
                desired.secrets(),
                planned.live,
                planned.keys,
                client,
                ApplyOptions(environ, allow, args.write_delay, args.concurrency),
                on_result=progress.update,
                should_stop=stopped.is_set,
            )
        progress.done()
        _record(planned, results, client, args)
    finally:
        client.close()
    _emit_results(results, plan, args, environ, out)
    if stopped.is_set():
        return ExitStatus.INTERRUPTED
    if any(r.outcome is not Outcome.DONE for r in results):
        return ExitStatus.ERROR
    changed = any(r.outcome is Outcome.DONE for r in results)
    return ExitStatus.CHANGES if args.detailed_exitcode and changed else ExitStatus.OK


def _record(
    planned: Planned, results: Sequence[Result], client: GitHubClient, args: argparse.Namespace
) -> None:
    """Write what apply did into the ledger; a failure here never undoes the writes."""
    done = [r for r in results if r.outcome is Outcome.DONE]
    if planned.store is None or not done:
        return
    touched = {(r.change.scope, r.change.app) for r in done}
    after = updated_at_after(client, touched, args.concurrency)
    changes = ledger_changes(done, after, planned.prints, planned.ledger)
    key_id = planned.key.key_id() if planned.key else None
    planned.store.save(changes, key_id)
    log.info("recorded %d secrets in the ledger %s", len(changes), planned.store.describe())


def _emit_results(
    results: Sequence[Result],
    plan: Plan,
    args: argparse.Namespace,
    environ: Mapping[str, str],
    out: TextIO,
) -> None:
    doc = results_document(results, plan)
    if args.format == "json":
        out.write(render_json(doc))
    elif args.format == "markdown":
        out.write(render_results_markdown(results, plan))
    else:
        out.write(render_results_text(results))
    if args.results:
        Path(args.results).write_text(render_json(doc), encoding="utf-8")
    append_step_summary(environ, render_results_markdown(results, plan))
