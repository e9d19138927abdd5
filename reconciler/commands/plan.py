"""`reconciler plan`: read live state, print the plan, optionally save it and comment on the PR.

A plan predicts its apply: what apply would refuse or fail on before its first write (see
`safety.apply_problems`) is reported first in every output, and the exit code is apply's:
1 when apply would fail, 3 when it would refuse without --force, even without
--detailed-exitcode.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.commands.arguments import (
    Manifests,
    OutputFormat,
    Remote,
    add_manifest_arguments,
    add_remote_arguments,
    add_threshold_arguments,
    thresholds_from_args,
)
from reconciler.env import Env
from reconciler.errors import ExitStatus
from reconciler.safety import Thresholds

if TYPE_CHECKING:
    from reconciler.github.client import GitHubClient
    from reconciler.github.comments import PullRequest
    from reconciler.plan import Plan

log = logging.getLogger(__name__)

NAME = "plan"
HELP = "show what apply would change"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_remote_arguments(parser)
    parser.add_argument("--out", metavar="FILE", help="write the plan (JSON, no values) here")
    parser.add_argument(
        "--comment",
        action="store_true",
        help="post the markdown plan as one pull-request comment, updated on re-runs "
        "(GitHub Actions pull_request events)",
    )
    parser.add_argument("--pr", metavar="OWNER/REPO#N", help="the pull request to comment on")
    add_threshold_arguments(parser)  # apply's, so the plan predicts its refusals


@dataclass(frozen=True, slots=True)
class Options:
    manifests: Manifests
    remote: Remote = field(default_factory=Remote)
    out: str | None = None
    comment: bool = False
    pr: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(
            Manifests.from_args(ns),
            Remote.from_args(ns),
            ns.out,
            ns.comment,
            ns.pr,
            thresholds_from_args(ns),
        )


def run(options: Options, env: Env) -> int:
    from reconciler.commands.common import append_step_summary, connect, load, use_colour
    from reconciler.commands.planning import PlanInputs, check_drift, make_plan
    from reconciler.github.comments import parse_pr, pull_request_from_environ
    from reconciler.local_files import check_writable, write_output
    from reconciler.render import render_json, render_markdown, render_text

    remote = options.remote
    out = env.stdout
    desired = load(options.manifests)
    # Usage problems before any request: where the plan goes, which pull request a comment goes to.
    if options.out:
        check_writable(options.out, "--out")
    pr = None
    if options.comment or options.pr:
        pr = parse_pr(options.pr) if options.pr else pull_request_from_environ(env.environ)
    client = connect(remote.connection, env)
    try:
        inputs = PlanInputs.of(options.manifests, remote, thresholds=options.thresholds)
        planned = make_plan(desired, client, inputs, env.environ)
        plan = planned.plan
        markdown = render_markdown(plan)
        if remote.format is OutputFormat.JSON:
            out.write(render_json(plan.document()))
        elif remote.format is OutputFormat.MARKDOWN:
            out.write(markdown)
        else:
            out.write(render_text(plan, colour=use_colour(out, env.environ)))
        append_step_summary(env.environ, markdown)
        if options.out:
            write_output(options.out, render_json(plan.document()), "--out")
        if pr is not None:
            _comment(options, env, client, markdown, pr)
    finally:
        client.close()
    check_drift(planned, remote.drift)
    if plan.problems:
        return problems_status(plan)
    if remote.detailed_exitcode and plan.has_changes:
        return ExitStatus.CHANGES
    return ExitStatus.OK


def problems_status(plan: Plan) -> ExitStatus:
    """The code apply would exit with on this plan: 3 when --force would let it run, else 1.
    The problems are on stdout with the plan; stderr gets them too, for a log read alone."""
    from reconciler.safety import needs_force_only, problems_message

    log.error("%s", problems_message(plan.problems, applying=False))
    return ExitStatus.UNSAFE if needs_force_only(plan.problems) else ExitStatus.ERROR


def _comment(
    options: Options, env: Env, client: GitHubClient, markdown: str, pr: PullRequest
) -> None:
    from reconciler.commands.common import COMMENT_TOKEN_ENV, connect
    from reconciler.github.auth import APP_ID_ENV
    from reconciler.github.comments import marker
    from reconciler.safe_text import printable

    environ = env.environ
    token = environ.get(COMMENT_TOKEN_ENV)
    commenter = client
    if token:
        commenter_environ = {**environ, "GITHUB_TOKEN": token, APP_ID_ENV: ""}
        commenter = connect(options.remote.connection, env, commenter_environ)
    # The same rule as auth_from_environ: the main credentials are an App's when its id is set.
    app = not token and bool(environ.get(APP_ID_ENV, "").strip())
    try:
        author = commenter.comments.login(environ, app=app)
        url = commenter.comments.upsert(
            pr, markdown, marker(options.manifests.paths), author=author
        )
    finally:
        if commenter is not client:
            commenter.close()
    log.info("plan posted to %s as %s", printable(url or pr.repo), printable(author))
