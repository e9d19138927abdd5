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
from urllib.parse import quote

from reconciler.errors import CommentIdentityError, MalformedResponseError, UsageError
from reconciler.github.pagination import paginate
from reconciler.github.permissions import COMMENTS_READ, COMMENTS_WRITE
from reconciler.github.responses import Json
from reconciler.github.transport import Transport
from reconciler.safe_text import printable

MARKER_PREFIX = "<!-- reconciler-plan"
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


class Comments:
    """Issue comments of a pull request (`/repos/{owner}/{repo}/issues/…/comments`) and the
    identity that writes them."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def login(self, environ: Mapping[str, str], *, app: bool) -> str:
        """The login GitHub shows as the author of what this client posts.

        A token: `GET /user`. A GitHub App (`app`): `{app_slug}[bot]`, the slug read from the
        app's installations. The workflow's GITHUB_TOKEN cannot read `/user`; inside GitHub
        Actions that refusal means `github-actions[bot]`. Anything else is an error, not a
        guess: a wrong guess would either hijack someone's comment or stack a new one on
        every run."""
        transport = self._transport
        if app:
            for installation in paginate(transport, "/app/installations", None):
                return f"{installation.field('app_slug').name()}[bot]"
            raise CommentIdentityError(
                "GET /app/installations", "GitHub named no installation for the GitHub App"
            )
        resp = transport.request("GET", "/user", ok=(200, 403))
        if resp.status_code == 200:
            return transport.body(resp, "GET", "/user").field("login").name()
        try:
            said = transport.body(resp, "GET", "/user").optional("message")
            message = said.string() if said is not None else ""
        except MalformedResponseError:
            message = ""  # a 403 without GitHub's JSON: still no identity, said below
        if message == NOT_ACCESSIBLE_BY_INTEGRATION and environ.get("GITHUB_ACTIONS") == "true":
            return ACTIONS_BOT
        raise CommentIdentityError(
            "GET /user -> 403",
            f'GitHub said "{printable(message)}", so the token\'s own login is unknown',
        )

    def upsert(self, pr: PullRequest, body: str, tag: str, *, author: str) -> str:
        """Create the comment, or update the one carrying `tag` that `author` wrote (anyone
        else's, marker or not, is left alone); returns its URL."""
        owner, name = pr.repo.split("/", 1)
        base = f"/repos/{quote(owner)}/{quote(name)}/issues"
        text = fit_comment(f"{tag}\n{body}")
        existing: tuple[int, str, str] | None = None  # id, body, html_url
        for comment in paginate(
            self._transport, f"{base}/{pr.number}/comments", None, permission=COMMENTS_READ
        ):
            said = comment.optional("body")
            if said is not None and said.string().startswith(tag) and _written_by(comment, author):
                existing = (comment.field("id").id(), said.string(), _html_url(comment))
                break
        if existing is not None and existing[1] == text:
            return existing[2]  # unchanged: no edit, no notification
        if existing is None:
            method, path, ok = "POST", f"{base}/{pr.number}/comments", 201
        else:
            method, path, ok = "PATCH", f"{base}/comments/{existing[0]}", 200
        resp = self._transport.request(
            method, path, body={"body": text}, ok=(ok,), permission=COMMENTS_WRITE
        )
        return _html_url(self._transport.body(resp, method, path))


def _written_by(comment: Json, login: str) -> bool:
    user = comment.optional("user")
    author = user.optional("login") if user is not None else None
    return author is not None and author.name().lower() == login.lower()


def _html_url(comment: Json) -> str:
    url = comment.optional("html_url")
    return url.string() if url is not None else ""


def fit_comment(text: str) -> str:
    """`text` cut at a line boundary, with a notice, when it exceeds GitHub's limit."""
    if len(text) <= MAX_COMMENT_CHARS:
        return text
    room = MAX_COMMENT_CHARS - len(_CUT_NOTICE)
    cut = text.rfind("\n", 0, room)
    return text[: cut if cut > 0 else room] + _CUT_NOTICE
