"""`reconciler apply`: plan (or re-derive a reviewed plan), check, write, record, report.

Nothing is lost: a reviewed plan file is verified (format, version, its changes against its
checksum) before anything else; where the results and the ledger go is checked before the
first write; and the results are written even when recording in the ledger fails after it.
At a terminal, the plan is shown and a typed `yes` asked for before the first write (see
`approval`; --auto-approve skips it; CI and pipes are never asked).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reconciler.commands.argument_types import seconds
from reconciler.commands.arguments import (
    Manifests,
    OutputFormat,
    Remote,
    add_manifest_arguments,
    add_remote_arguments,
    add_threshold_arguments,
    thresholds_from_args,
)
from reconciler.commands.reviewed_plan import saved_plan
from reconciler.env import Env
from reconciler.errors import (
    ExitStatus,
    LedgerError,
    NotRecordedError,
    PlanFileError,
    PlanMismatchError,
    PlanProblemsError,
    ReconcilerError,
    UnsafePlanError,
    UsageError,
)
from reconciler.model import Kind
from reconciler.plan import Outcome, Plan, Result, ValuePolicy
from reconciler.safety import Thresholds
from reconciler.targets import TargetSyntaxError, parse_target

if TYPE_CHECKING:
    from reconciler.commands.planning import Planned
    from reconciler.github.client import GitHubClient

log = logging.getLogger(__name__)

NAME = "apply"
HELP = "converge GitHub to the manifest (or a saved plan)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_remote_arguments(parser)
    parser.add_argument("--force", action="store_true", help="apply even an unsafe plan")
    parser.add_argument(
        "--write-delay", type=seconds, default=1.0, help="seconds between writes (default 1)"
    )
    parser.add_argument("--results", metavar="FILE", help="write the results as JSON here")
    parser.add_argument(
        "--auto-approve",
        action="store_true",
        help="at a terminal, apply without showing the plan and asking for 'yes' first",
    )
    add_threshold_arguments(parser)


@dataclass(frozen=True, slots=True)
class Options:
    manifests: Manifests  # or a single reviewed plan file
    remote: Remote = field(default_factory=Remote)
    force: bool = False
    write_delay: float = 1.0
    results: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    auto_approve: bool = False  # no question at a terminal (none is asked elsewhere)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(
            Manifests.from_args(ns),
            Remote.from_args(ns),
            force=ns.force,
            write_delay=ns.write_delay,
            results=ns.results,
            thresholds=thresholds_from_args(ns),
            auto_approve=ns.auto_approve,
        )


def reviewed_options(options: Options) -> tuple[Options, dict[str, Any] | None]:
    """The options to plan with: for a reviewed plan file, its manifests, value policy and
    allowed variables (a new Options; the given one is left as it is), and the verified plan."""
    reviewed = saved_plan(options.manifests.paths)
    if reviewed is None:
        return options, None
    if options.manifests.allow_env:
        raise UsageError(
            "--allow-env cannot be given with a reviewed plan: the plan file fixes which "
            "variables may be read, and its checksum covers that",
            hint="re-run `reconciler plan --out FILE` with the --allow-env you need",
        )
    if options.remote.targets:
        raise UsageError(
            "--target cannot be given with a reviewed plan: the plan file fixes its targets, "
            "and its checksum covers them",
            hint="re-run `reconciler plan --out FILE` with the --target you need",
        )
    manifests = Manifests(tuple(reviewed["manifests"]), tuple(reviewed["allow_env"]))
    try:
        targets = tuple(parse_target(str(t)) for t in reviewed.get("targets") or ())
    except TargetSyntaxError as e:
        raise PlanFileError(options.manifests.paths[0], f'"targets": {e}') from None
    remote = replace(
        options.remote,
        values=ValuePolicy(reviewed["values"]),
        targets=targets,
        hide_variable_values=reviewed.get("variable_values") == "hidden",
    )
    return replace(options, manifests=manifests, remote=remote), reviewed


def run(options: Options, env: Env) -> int:
    from reconciler.commands.approval import confirm, interactive
    from reconciler.commands.checked_at_apply import settle_unread
    from reconciler.commands.common import connect, load
    from reconciler.commands.planning import PlanInputs, check_drift, make_plan
    from reconciler.executor import ApplyOptions, apply_plan
    from reconciler.local_files import check_writable
    from reconciler.progress import Progress, interruptible
    from reconciler.review import explain_mismatch

    options, reviewed = reviewed_options(options)
    remote = options.remote
    if options.results:
        check_writable(options.results, "--results")
    desired = load(options.manifests)
    client = connect(remote.connection, env)
    progress = Progress(env.stderr, 0)
    not_recorded: BaseException | None = None
    try:
        inputs = PlanInputs.of(
            options.manifests, remote, log_notices=True, thresholds=options.thresholds
        )
        planned = make_plan(desired, client, inputs, env.environ)
        plan = planned.plan
        made_checksum = plan.checksum()  # the results name this one, as `plan` printed it
        if reviewed is not None and made_checksum != reviewed.get("checksum"):
            lines = explain_mismatch(reviewed, plan.canonical())
            raise PlanMismatchError(
                "the reviewed plan no longer matches: live state or the manifest changed since "
                "it was made; nothing was written.\n"
                + "\n".join(f"  {line}" for line in lines[:20]),
                hint="run `reconciler plan` again, review it, and apply the new plan",
            )
        check_drift(planned, remote.drift)
        refuse(plan, force=options.force)
        # --values none: the values the reviewed plan could not read are read, and compared, now.
        planned, unchanged = settle_unread(planned, env.environ)
        plan = planned.plan
        if planned.store is not None and plan.has_changes:
            try:
                planned.store.check_writable()
            except LedgerError as e:
                raise LedgerError(
                    f"{e.message}; nothing was written to GitHub", hint=e.hint
                ) from None
        if plan.has_changes and not options.auto_approve and interactive(env):
            confirm(plan, env)  # raises, before any write, unless the answer is `yes`
        progress = Progress(env.stderr, len(plan.actionable))
        apply_options = ApplyOptions(
            planned.resolver, options.write_delay, remote.connection.concurrency
        )
        with interruptible() as stopped:
            results = apply_plan(
                plan,
                desired.items(),
                planned.live,
                planned.keys,
                client,
                apply_options,
                on_result=progress.update,
                should_stop=stopped.is_set,
                sleep=stopped.wait,  # a stop ends the pause between writes at once
            )
        progress.done()
        results = (
            tuple(
                Result(c, Outcome.UNCHANGED, "value checked at apply: unchanged") for c in unchanged
            )
            + results
        )
        try:
            _record(planned, results, client, remote.connection.concurrency)
        except BaseException as e:  # even Ctrl-C or a bug: reported after the results
            not_recorded = e
    finally:
        client.close()
    output_errors = _emit_results(results, plan, made_checksum, options, env)
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
    if any(r.outcome not in (Outcome.DONE, Outcome.UNCHANGED) for r in results):
        return ExitStatus.ERROR
    changed = any(r.outcome is Outcome.DONE for r in results)
    return ExitStatus.CHANGES if remote.detailed_exitcode and changed else ExitStatus.OK


def refuse(plan: Plan, *, force: bool) -> None:
    """Raise if apply must not run `plan`: its problems (the ones `plan` reported, in the same
    words), less those --force overrides when it is given."""
    from reconciler.safety import needs_force_only, problems_message

    problems = [p for p in plan.problems if not (force and p.kind.needs_force)]
    if not problems:
        return
    message = problems_message(problems, applying=True)
    if needs_force_only(problems):
        raise UnsafePlanError(
            message, hint="review the plan; re-run with --force if it is intended"
        )
    raise PlanProblemsError(message, len(problems))


def _record(
    planned: Planned, results: Sequence[Result], client: GitHubClient, concurrency: int
) -> None:
    """Write what apply did into the ledger; a failure here never undoes the writes."""
    from reconciler.commands.planning import source_versions
    from reconciler.ledger.format import entry_key
    from reconciler.ledger.recording import ledger_changes, updated_at_after
    from reconciler.model import Visibility, selection_digest

    # Secrets only: a variable's value is readable, so the ledger keeps nothing of it.
    kept = (Outcome.DONE, Outcome.UNCHANGED)
    done = [r for r in results if r.outcome in kept and r.change.kind is Kind.SECRET]
    if planned.store is None or not done:
        return
    touched = {(r.change.scope, r.change.app) for r in done if r.outcome is Outcome.DONE}
    after = updated_at_after(client, touched, concurrency)
    versions = source_versions(planned.desired, planned.resolver, [r.change for r in done])
    selections = {
        entry_key(s.scope, s.app, s.name): selection_digest(s.repositories or ())
        for s in planned.desired.secrets()
        if s.visibility is Visibility.SELECTED
    }
    changes = ledger_changes(done, after, planned.prints, planned.ledger, versions, selections)
    key_id = planned.key.key_id() if planned.key else None
    planned.store.save(changes, key_id)
    log.info("recorded %d secrets in the ledger %s", len(changes), planned.store.describe())


def _emit_results(
    results: Sequence[Result], plan: Plan, made_checksum: str, options: Options, env: Env
) -> list[ReconcilerError]:
    """Every output is attempted even when one fails (GitHub is changed either way); the
    failures are returned to be raised after the rest are written."""
    from reconciler.commands.common import append_step_summary
    from reconciler.local_files import write_output
    from reconciler.render import render_json
    from reconciler.report import render_results_markdown, render_results_text, results_document

    doc = results_document(results, plan, plan_checksum=made_checksum)
    output_format = options.remote.format
    if output_format is OutputFormat.JSON:
        env.stdout.write(render_json(doc))
    elif output_format is OutputFormat.MARKDOWN:
        env.stdout.write(render_results_markdown(results, plan))
    else:
        env.stdout.write(render_results_text(results))
    errors: list[ReconcilerError] = []
    if options.results:
        try:
            write_output(options.results, render_json(doc), "--results")
        except ReconcilerError as e:
            errors.append(e)
    try:
        append_step_summary(env.environ, render_results_markdown(results, plan))
    except OSError as e:
        errors.append(
            ReconcilerError(
                f"GITHUB_STEP_SUMMARY {env.environ.get('GITHUB_STEP_SUMMARY')}: cannot append "
                f"the results ({e.strerror or type(e).__name__}); they are on stdout",
            )
        )
    return errors
