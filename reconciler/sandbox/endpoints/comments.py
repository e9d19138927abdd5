"""Issue comments: list (paginated), create, get and edit, on issues and pull requests.

Issues and pull requests exist only when added (`Sandbox.add_issue`,
`Sandbox.add_pull_request`); any other number is a 404, as on GitHub. A body over 65536
characters is GitHub's 422 "Validation Failed" with an `IssueComment` error entry.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.endpoints.request_context import Context, list_of
from reconciler.sandbox.endpoints.shapes import account_body, node_id
from reconciler.sandbox.rules.errors import ApiError, invalid, not_found
from reconciler.sandbox.rules.limits import MAX_COMMENT_LENGTH
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.rules.request_bodies import json_object
from reconciler.sandbox.world.accounts import Author
from reconciler.sandbox.world.issues import Comment, Issue
from reconciler.sandbox.world.scopes import Repo

TOO_LONG = f"Body is too long (maximum is {MAX_COMMENT_LENGTH} characters)"


def user_body(api: str, web: str, author: Author) -> dict[str, Any]:
    return account_body(api, web, author.login, author.id, author.type)


def comment_body(ctx: Context, repo: Repo, issue: Issue, comment: Comment) -> dict[str, Any]:
    api = f"{ctx.api}/repos/{repo.full_name}"
    kind = "pull" if issue.pull_request else "issues"
    return {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": f"{api}/issues/comments/{comment.id}",
        "html_url": f"{ctx.web}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user_body(ctx.api, ctx.web, comment.author),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "issue_url": f"{api}/issues/{issue.number}",
        "author_association": comment.author.association,
    }


def check_body(raw: bytes, doc: str) -> str:
    data = json_object(raw, doc)
    body = data.get("body")
    if not isinstance(body, str):
        raise invalid('"body" wasn\'t supplied.', doc)
    if len(body) > MAX_COMMENT_LENGTH:
        error = {"resource": "IssueComment", "code": "unprocessable", "field": "data"}
        raise ApiError(422, "Validation Failed", doc, errors=({**error, "message": TOO_LONG},))
    return body


def _issue(ctx: Context, repo: Repo) -> Issue:
    raw = ctx.param("number")
    issue = repo.issues.get(int(raw)) if raw.isdigit() else None
    if issue is None:
        raise not_found(ctx.doc)
    return issue


def _comment(ctx: Context, repo: Repo) -> tuple[Issue, Comment]:
    raw = ctx.param("comment_id")
    if raw.isdigit():
        for issue in repo.issues.values():
            for comment in issue.comments:
                if comment.id == int(raw):
                    return issue, comment
    raise not_found(ctx.doc)


def list_comments(ctx: Context) -> Reply:
    repo = ctx.repo()
    issue = _issue(ctx, repo)
    since = dict(ctx.request.query).get("since")
    # ISO 8601 stamps in one format compare correctly as strings.
    chosen = [c for c in issue.comments if since is None or c.updated_at >= since]
    return list_of(ctx, [comment_body(ctx, repo, issue, c) for c in chosen])


def create_comment(ctx: Context) -> Reply:
    repo = ctx.repo()
    issue = _issue(ctx, repo)
    text = check_body(ctx.request.body, ctx.doc)
    now = ctx.world.clock.tick()
    comment = Comment(ctx.world.next_comment_id(), text, ctx.principal.author, now, now)
    issue.comments.append(comment)
    body = comment_body(ctx, repo, issue, comment)
    return Reply(201, body, (("Location", body["url"]),))


def get_comment(ctx: Context) -> Reply:
    repo = ctx.repo()
    issue, comment = _comment(ctx, repo)
    return Reply(200, comment_body(ctx, repo, issue, comment))


def edit_comment(ctx: Context) -> Reply:
    repo = ctx.repo()
    issue, comment = _comment(ctx, repo)
    comment.body = check_body(ctx.request.body, ctx.doc)
    comment.updated_at = ctx.world.clock.tick()
    return Reply(200, comment_body(ctx, repo, issue, comment))
