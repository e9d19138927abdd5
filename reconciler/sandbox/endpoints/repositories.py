"""Repositories: an organisation's listing and one repository."""

from __future__ import annotations

from reconciler.sandbox.endpoints.request_context import Context, list_of
from reconciler.sandbox.endpoints.shapes import full_repo_body, minimal_repo_body
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.rules.permissions import CONTENTS, grants


def list_org_repos(ctx: Context) -> Reply:
    org = ctx.org()
    query = dict(ctx.request.query)
    repos = list(org.repos.values())
    kind = query.get("type", "all")
    if kind == "public":
        repos = [r for r in repos if not r.private]
    elif kind in ("private", "internal"):
        repos = [r for r in repos if r.private]
    sort = query.get("sort", "created")
    if sort == "full_name":
        repos.sort(key=lambda r: r.name.lower(), reverse=query.get("direction") == "desc")
    else:
        # created/updated/pushed all follow creation order here; newest first by default.
        repos.sort(key=lambda r: r.id, reverse=query.get("direction", "desc") == "desc")
    return list_of(ctx, repos, lambda r: minimal_repo_body(ctx.api, ctx.web, r))


def get_repo(ctx: Context) -> Reply:
    body = full_repo_body(ctx.api, ctx.web, ctx.repo())
    if ctx.principal.kind == "token":
        # What the caller may do, as GitHub tells a user token (installation tokens get none).
        push = grants(ctx.principal.permissions, CONTENTS, "write")
        body["permissions"] = dict.fromkeys(("admin", "maintain", "push", "triage"), push)
        body["permissions"]["pull"] = True
    return Reply(200, body)
