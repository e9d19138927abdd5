"""One function per endpoint: (context) -> Reply. They run under the world lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from reconciler.sandbox import bodies
from reconciler.sandbox.auth import Principal
from reconciler.sandbox.errors import invalid
from reconciler.sandbox.messages import V2026, ApiRequest, Reply
from reconciler.sandbox.pagination import Page, link_header
from reconciler.sandbox.permissions import CONTENTS, grants
from reconciler.sandbox.ratelimit import Quota
from reconciler.sandbox.shapes import (
    full_repo_body,
    minimal_repo_body,
    repo_secret_body,
    secret_body,
)
from reconciler.sandbox.state import Org, Repo, Scope, World

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Context:
    request: ApiRequest
    world: World
    params: dict[str, str]
    app: str
    doc: str
    api: str  # API root as the client addressed it, e.g. http://127.0.0.1:8080/api/v3
    web: str  # the server root, standing in for https://github.com
    version: str
    quota: Quota | None
    principal: Principal

    def param(self, name: str) -> str:
        return unquote(self.params[name])

    def org(self) -> Org:
        return self.world.org(self.param("org"))

    def repo(self) -> Repo:
        return self.world.repo(self.param("owner"), self.param("repo"))

    def scope(self) -> Scope:
        return self.org() if "org" in self.params else self.repo()


Handler = Callable[[Context], Reply]


def paged(ctx: Context, key: str, items: Sequence[Any], total: int | None = None) -> Reply:
    page = Page.from_query(ctx.request.query)
    count = len(items) if total is None else total
    body = {"total_count": count, key: page.slice(items)}
    link = link_header(ctx.web + ctx.request.path, ctx.request.query, page, count)
    return Reply(200, body, (("Link", link),) if link else ())


def list_of(
    ctx: Context, items: Sequence[T], render: Callable[[T], Any] = lambda item: item
) -> Reply:
    """One page of a bare-array listing; only the page's items are rendered."""
    page = Page.from_query(ctx.request.query)
    link = link_header(ctx.web + ctx.request.path, ctx.request.query, page, len(items))
    return Reply(200, [render(i) for i in page.slice(items)], (("Link", link),) if link else ())


# -- secrets, both scopes -----------------------------------------------------------------


def list_secrets(ctx: Context) -> Reply:
    scope = ctx.scope()
    items = [secret_body(ctx.api, scope, ctx.app, s) for s in ctx.world.secrets(scope, ctx.app)]
    return paged(ctx, "secrets", items)


def public_key(ctx: Context) -> Reply:
    pair = ctx.scope().keys[ctx.app]
    return Reply(200, {"key_id": pair.key_id, "key": pair.public_b64})


def get_secret(ctx: Context) -> Reply:
    scope = ctx.scope()
    found = ctx.world.secret(scope, ctx.app, ctx.param("name"), ctx.doc)
    return Reply(200, secret_body(ctx.api, scope, ctx.app, found))


def put_secret(ctx: Context) -> Reply:
    scope = ctx.scope()
    kind = "org" if isinstance(scope, Org) else "repo"
    put = bodies.secret_put(ctx.request.body, kind, ctx.app, ctx.version, ctx.doc)
    value = None
    if put.encrypted_value is not None and put.key_id is not None:
        value = scope.keys[ctx.app].open(put.key_id, put.encrypted_value, ctx.doc)
    created = ctx.world.put_secret(
        scope,
        ctx.app,
        ctx.param("name"),
        value,
        visibility=put.visibility,
        selected=put.selected,
        doc=ctx.doc,
    )
    # GitHub answers a create with an empty JSON object and an update with no body.
    return Reply(201, {}) if created else Reply(204)


def delete_secret(ctx: Context) -> Reply:
    ctx.world.delete_secret(ctx.scope(), ctx.app, ctx.param("name"), ctx.doc)
    return Reply(204)


# -- selected repositories of an organisation secret --------------------------------------


def list_selected(ctx: Context) -> Reply:
    repos = ctx.world.selected_repos(ctx.org(), ctx.app, ctx.param("name"), ctx.doc)
    return paged(ctx, "repositories", [minimal_repo_body(ctx.api, ctx.web, r) for r in repos])


def set_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ids = bodies.selection_put(ctx.request.body, ctx.doc)
    ctx.world.set_selected(org, ctx.app, ctx.param("name"), ids, ctx.doc)
    return Reply(204)


def _repository_id(ctx: Context) -> int:
    raw = ctx.param("repository_id")
    if not raw.isdigit():
        raise invalid("repository_id must be an integer.", ctx.doc)
    return int(raw)


def add_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.add_selected(org, ctx.app, ctx.param("name"), _repository_id(ctx), ctx.doc)
    return Reply(204)


def remove_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.remove_selected(org, ctx.app, ctx.param("name"), _repository_id(ctx), ctx.doc)
    return Reply(204)


def repo_org_secrets(ctx: Context) -> Reply:
    repo = ctx.repo()
    items = [repo_secret_body(s) for s in ctx.world.org_secrets_for(repo, ctx.app)]
    return paged(ctx, "secrets", items)


# -- repositories and rate limit ----------------------------------------------------------


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


def rate_limit(ctx: Context) -> Reply:
    quota = ctx.quota
    assert quota is not None  # /rate_limit is only routed for authenticated callers
    core = {"limit": quota.limit, "remaining": quota.remaining, "reset": quota.reset}
    core["used"] = quota.used
    idle = {"limit": 30, "remaining": 30, "reset": quota.reset, "used": 0}
    body: dict[str, Any] = {"resources": {"core": core, "search": idle}}
    if ctx.version != V2026:
        # API version 2026-03-10 dropped the deprecated top-level "rate".
        body["rate"] = core
    return Reply(200, body)
