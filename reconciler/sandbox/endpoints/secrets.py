"""The secrets endpoints of the four apps, in both scopes (and Actions environments), and the
selected repositories of an organisation secret."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.endpoints.request_context import Context, paged
from reconciler.sandbox.endpoints.shapes import minimal_repo_body
from reconciler.sandbox.rules import request_bodies
from reconciler.sandbox.rules.errors import invalid
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.world.scopes import Holder, Org, Secret


def secret_body(api: str, scope: Holder, app: str, secret: Secret) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": secret.name,
        "created_at": secret.created_at,
        "updated_at": secret.updated_at,
    }
    if isinstance(scope, Org):
        body["visibility"] = secret.visibility
        if secret.visibility == "selected":
            body["selected_repositories_url"] = (
                f"{api}/orgs/{scope.login}/{app}/secrets/{secret.name}/repositories"
            )
    return body


def repo_secret_body(secret: Secret) -> dict[str, Any]:
    """An organisation secret as `.../organization-secrets` lists it: no visibility."""
    return {"name": secret.name, "created_at": secret.created_at, "updated_at": secret.updated_at}


# -- secrets, every scope -----------------------------------------------------------------


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
    # An environment secret's PUT schema is the repository one's.
    kind = "org" if isinstance(scope, Org) else "repo"
    put = request_bodies.secret_put(ctx.request.body, kind, ctx.app, ctx.version, ctx.doc)
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
    ids = request_bodies.selection_put(ctx.request.body, ctx.doc)
    ctx.world.set_selected(org, ctx.app, ctx.param("name"), ids, ctx.doc)
    return Reply(204)


def repository_id(ctx: Context) -> int:
    """The `{repository_id}` of a selection path (a number, else 422)."""
    raw = ctx.param("repository_id")
    if not raw.isdigit():
        raise invalid("repository_id must be an integer.", ctx.doc)
    return int(raw)


def add_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.add_selected(org, ctx.app, ctx.param("name"), repository_id(ctx), ctx.doc)
    return Reply(204)


def remove_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.remove_selected(org, ctx.app, ctx.param("name"), repository_id(ctx), ctx.doc)
    return Reply(204)


def repo_org_secrets(ctx: Context) -> Reply:
    repo = ctx.repo()
    items = [repo_secret_body(s) for s in ctx.world.org_secrets_for(repo, ctx.app)]
    return paged(ctx, "secrets", items)
