"""`reconciler apply`: plan (or re-derive a reviewed plan), check, write, record, report.

Nothing is lost: a reviewed plan file is verified (format, version, its changes against its
checksum) before anything else; where the results and the ledger go is checked before the
first write; and the results are written even when recording in the ledger fails after it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from reconciler.commands.common import (
    Planned,
    append_step_summary,
    check_drift,
    load,
    make_client,
    make_plan,
)
from reconciler.errors import (
    ExitStatus,
    LedgerError,
    LocalFileError,
    NotRecordedError,
    PlanFileError,
    PlanMismatchError,
    ReconcilerError,
    UnsafePlanError,
    UsageError,
)
from reconciler.executor import ApplyOptions, apply_plan
from reconciler.github.client import GitHubClient
from reconciler.ledger.recording import ledger_changes, updated_at_after
from reconciler.local_files import check_writable, read_regular_file, write_output
from reconciler.plan import (
    PLAN_FORMAT,
    PLAN_VERSION,
    Outcome,
    Plan,
    Result,
    ValuePolicy,
    document_checksum,
    explain_mismatch,
)
from reconciler.progress import Progress, interruptible
from reconciler.render import (
    render_json,
    render_results_markdown,
    render_results_text,
    results_document,
)
from reconciler.safety import Thresholds, unsafe_reasons

log = logging.getLogger(__name__)


# A plan for thousands of changes is a few MB; anything far larger is not a plan file.
PLAN_FILE_LIMIT = 64 * 1024 * 1024


def _saved_plan(paths: Sequence[str]) -> dict[str, Any] | None:
    """The reviewed plan named by a single `*.json` argument, verified; None for manifests."""
    if len(paths) != 1 or not paths[0].lower().endswith(".json"):
        return None
    path = paths[0]
    return verify_plan_document(_read_plan_file(path), path)


def _read_plan_file(path: str) -> Any:
    try:
        data = read_regular_file(path, PLAN_FILE_LIMIT, limit_text="any plan file (64 MB)")
    except LocalFileError as e:
        raise PlanFileError(path, e.problem) from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanFileError(path, "is not UTF-8 text, so not a reconciler plan file") from None
    except json.JSONDecodeError as e:
        raise PlanFileError(
            path, f"is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
        ) from None
    except RecursionError:
        raise PlanFileError(path, "is nested too deeply to be a reconciler plan file") from None


def verify_plan_document(doc: Any, path: str) -> dict[str, Any]:
    """Refuse a plan file unless it is one this reconciler wrote and nobody edited since:
    a known format and version, the fields apply uses, and changes hashing to its checksum."""
    if not isinstance(doc, dict):
        raise PlanFileError(path, "is not a reconciler plan file (not a JSON object)")
    if doc.get("format") != PLAN_FORMAT:
        raise PlanFileError(
            path,
            f'is not a reconciler plan file ("format" is {_shown(doc.get("format"))}, '
            f'not "{PLAN_FORMAT}")',
            hint="pass the file `reconciler plan --out FILE` wrote, or the manifests",
        )
    version = doc.get("version")
    if type(version) is not int or version != PLAN_VERSION:  # `true == 1` in Python
        raise PlanFileError(
            path,
            f"plan format version {_shown(version)} is not supported (this reconciler "
            f"applies version {PLAN_VERSION})",
            hint="make and apply the plan with the same reconciler version",
        )
    if doc.get("values") not in {v.value for v in ValuePolicy}:
        raise PlanFileError(path, f'"values" is {_shown(doc.get("values"))}, not a known policy')
    if not isinstance(doc.get("changes"), list) or not all(
        isinstance(c, dict) for c in doc["changes"]
    ):
        raise PlanFileError(path, '"changes" is not a list of changes')
    manifests = doc.get("manifests")
    if not _strings(manifests) or not manifests:
        raise PlanFileError(
            path,
            'has no "manifests" list: it was not written by `reconciler plan --out`',
        )
    if not _strings(doc.get("allow_env")):
        raise PlanFileError(path, '"allow_env" is not a list of names')
    if not isinstance(doc.get("checksum"), str):
        raise PlanFileError(path, 'has no "checksum"')
    if document_checksum(doc) != doc["checksum"]:
        raise PlanFileError(
            path,
            "its changes do not match its checksum: the file was edited after "
            "`reconciler plan` wrote it",
            hint="never edit a plan file; run `reconciler plan --out FILE` again and review it",
        )
    return doc


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _shown(value: object) -> str:
    """A field's value, short and on one line, for an error message."""
    if value is None:
        return "missing"
    return json.dumps(value)[:40]


def cmd_apply(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    reviewed = _saved_plan(args.paths)
    if reviewed is not None:
        if args.allow_env:
            raise UsageError(
                "--allow-env cannot be given with a reviewed plan: the plan file fixes which "
                "variables may be read, and its checksum covers that",
                hint="re-run `reconciler plan --out FILE` with the --allow-env you need",
            )
        args.paths = reviewed["manifests"]
        args.values = reviewed["values"]
        args.allow_env = list(reviewed["allow_env"])
    if args.results:
        check_writable(args.results, "--results")
    desired = load(args)
    client = make_client(args, environ)
    progress = Progress(sys.stderr, 0)
    not_recorded: BaseException | None = None
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
        if planned.store is not None and plan.has_changes:
            try:
                planned.store.check_writable()
            except LedgerError as e:
                raise LedgerError(
                    f"{e.message}; nothing was written to GitHub", hint=e.hint
                ) from None
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
                sleep=stopped.wait,  # a stop ends the pause between writes at once
            )
        progress.done()
        try:
            _record(planned, results, client, args)
        except BaseException as e:  # even Ctrl-C or a bug: reported after the results
            not_recorded = e
    finally:
        client.close()
    output_errors = _emit_results(results, plan, args, environ, out)
    if isinstance(not_recorded, ReconcilerError) and planned.store is not None:
        written = tuple(
            f"{r.change.scope} {r.change.app} {r.change.name} ({r.change.action})"
            for r in results
            if r.outcome is Outcome.DONE
        )
        raise NotRecordedError(planned.store.describe(), not_recorded.render(), written)
    if not_recorded is not None:
        raise not_recorded
    if output_errors:
        raise output_errors[0]
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
) -> list[ReconcilerError]:
    """Every output is attempted even when one fails (GitHub is changed either way); the
    failures are returned to be raised after the rest are written."""
    doc = results_document(results, plan)
    if args.format == "json":
        out.write(render_json(doc))
    elif args.format == "markdown":
        out.write(render_results_markdown(results, plan))
    else:
        out.write(render_results_text(results))
    errors: list[ReconcilerError] = []
    if args.results:
        try:
            write_output(args.results, render_json(doc), "--results")
        except ReconcilerError as e:
            errors.append(e)
    try:
        append_step_summary(environ, render_results_markdown(results, plan))
    except OSError as e:
        errors.append(
            ReconcilerError(
                f"GITHUB_STEP_SUMMARY {environ.get('GITHUB_STEP_SUMMARY')}: cannot append the "
                f"results ({e.strerror or type(e).__name__}); they are on stdout",
            )
        )
    return errors
