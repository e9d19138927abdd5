"""One pull-request comment per manifest set, updated in place on every re-run.

The comment is found again by a hidden HTML marker in its body, so re-runs edit it instead
of stacking new comments on the pull request. Anyone can write that marker into a comment of
their own, so only a comment written by the identity the tool posts as is ever edited: the
tool never rewrites (and so never puts its name to) text someone else controls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reconciler.errors import CommentIdentityError, UsageError
from reconciler.github import GitHubClient
from reconciler.safe_text import printable

MARKER_PREFIX = "<!-- reconciler-plan"
_PERMISSION = (
    "the comment token (RECONCILER_COMMENT_TOKEN, else the main one) needs Repository "
    "permissions: Pull requests or Issues ({}); in a workflow: permissions: pull-requests: write"
)
# GitHub refuses a longer comment body with 422 "Body is too long".
MAX_COMMENT_CHARS = 65_536
_CUT_NOTICE = (
    "\n\n> **Truncated** to fit GitHub's 65,536-character comment limit; "
    "the job summary and log have the full plan.\n"
)


def marker(paths: Sequence[str]) -> str:
    """Distinct per manifest set, so two plan jobs in one PR keep one comment each."""
    digest = hashlib.sha256("\0".join(sorted(paths)).encode()).hexdigest()[:12]
    return f"{MARKER_PREFIX} {digest} -->"


@dataclass(frozen=True, slots=True)
class PullRequest:
    repo: str
    number: int


def pull_request_from_environ(environ: Mapping[str, str]) -> PullRequest:
    """The pull request a GitHub Actions run is about (GITHUB_REPOSITORY + the event file)."""
    repo = environ.get("GITHUB_REPOSITORY", "")
    event_path = environ.get("GITHUB_EVENT_PATH", "")
    number = None
    if event_path:
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            number = (event.get("pull_request") or {}).get("number") or event.get("number")
        except (OSError, ValueError, AttributeError):
            number = None
    if not repo or not isinstance(number, int):
        raise UsageError(
            "--comment needs a pull request: run it on a pull_request event in GitHub Actions "
            "(GITHUB_REPOSITORY and GITHUB_EVENT_PATH), or pass --pr OWNER/REPO#NUMBER",
        )
    return PullRequest(repo, number)


def parse_pr(text: str) -> PullRequest:
    repo, sep, number = text.partition("#")
    if not sep or repo.count("/") != 1 or not number.isdigit():
        raise UsageError(f'--pr "{text}" is not OWNER/REPO#NUMBER')
    return PullRequest(repo, int(number))


# The workflow's GITHUB_TOKEN is an installation token of the GitHub Actions app: `GET /user`
# refuses it with this message, and what it posts is signed by this bot.
ACTIONS_BOT = "github-actions[bot]"
NOT_ACCESSIBLE_BY_INTEGRATION = "Resource not accessible by integration"


def commenter_login(client: GitHubClient, environ: Mapping[str, str], *, app: bool) -> str:
    """The login GitHub shows as the author of what `client` posts.

    A token: `GET /user`. A GitHub App (`app`): `{app_slug}[bot]`, the slug read from the app's
    installations. The workflow's GITHUB_TOKEN cannot read `/user`; inside GitHub Actions that
    refusal means `github-actions[bot]`. Anything else is an error, not a guess: a wrong guess
    would either hijack someone's comment or stack a new one on every run."""
    if app:
        installations = [_json_object(i) for i in client.paginate("/app/installations", None)]
        slug = installations[0].get("app_slug") if installations else None
        if not isinstance(slug, str) or not slug:
            raise CommentIdentityError(
                "GET /app/installations",
                "GitHub named no installation (or no app_slug) for the GitHub App",
            )
        return f"{slug}[bot]"
    resp = client.request("GET", "/user", ok=(200, 403))
    data = _json_object(resp.json() if resp.content else None)
    if resp.status_code == 200:
        login = data.get("login")
        if not isinstance(login, str) or not login:
            raise CommentIdentityError("GET /user", "GitHub's answer has no login")
        return login
    said = str(data.get("message", ""))
    if said == NOT_ACCESSIBLE_BY_INTEGRATION and environ.get("GITHUB_ACTIONS") == "true":
        return ACTIONS_BOT
    raise CommentIdentityError(
        "GET /user -> 403",
        f'GitHub said "{printable(said)}", so the token\'s own login is unknown',
    )


def _json_object(data: object) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def _written_by(comment: Mapping[str, Any], login: str) -> bool:
    user = comment.get("user")
    author = user.get("login") if isinstance(user, Mapping) else None
    return isinstance(author, str) and author.lower() == login.lower()


def upsert_comment(
    client: GitHubClient, pr: PullRequest, body: str, tag: str, *, author: str
) -> str:
    """Create the comment, or update the one carrying `tag` that `author` wrote (anyone
    else's, marker or not, is left alone); returns its URL."""
    owner, name = pr.repo.split("/", 1)
    base = f"/repos/{quote(owner)}/{quote(name)}/issues"
    text = fit_comment(f"{tag}\n{body}")
    existing = None
    for item in client.paginate(
        f"{base}/{pr.number}/comments", None, permission=_PERMISSION.format("read")
    ):
        comment = _json_object(item)
        if str(comment.get("body", "")).startswith(tag) and _written_by(comment, author):
            existing = comment
            break
    if existing is not None and existing.get("body") == text:
        return str(existing.get("html_url", ""))  # unchanged: no edit, no notification
    if existing is None:
        resp = client.request(
            "POST",
            f"{base}/{pr.number}/comments",
            body={"body": text},
            ok=(201,),
            permission=_PERMISSION.format("write"),
        )
    else:
        resp = client.request(
            "PATCH",
            f"{base}/comments/{int(existing['id'])}",
            body={"body": text},
            ok=(200,),
            permission=_PERMISSION.format("write"),
        )
    return str(resp.json().get("html_url", ""))


def fit_comment(text: str) -> str:
    """`text` cut at a line boundary, with a notice, when it exceeds GitHub's limit."""
    if len(text) <= MAX_COMMENT_CHARS:
        return text
    room = MAX_COMMENT_CHARS - len(_CUT_NOTICE)
    cut = text.rfind("\n", 0, room)
    return text[: cut if cut > 0 else room] + _CUT_NOTICE
