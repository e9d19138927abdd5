"""`reconciler plan`: read live state, print the plan, optionally save it and comment on the PR."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import TextIO

from reconciler.commands.common import (
    COMMENT_TOKEN_ENV,
    append_step_summary,
    check_drift,
    load,
    make_client,
    make_plan,
    use_colour,
)
from reconciler.errors import (
    ExitStatus,
)
from reconciler.github.auth import APP_ID_ENV
from reconciler.github.client import GitHubClient
from reconciler.github.comments import (
    PullRequest,
    commenter_login,
    marker,
    parse_pr,
    pull_request_from_environ,
    upsert_comment,
)
from reconciler.local_files import check_writable, write_output
from reconciler.render import (
    render_json,
    render_markdown,
    render_text,
)
from reconciler.safe_text import printable

log = logging.getLogger(__name__)


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
            out.write(render_text(plan, colour=use_colour(out, environ)))
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
