"""The variables endpoints: Actions and agents, organisation and repository scope, Actions
environments; the selected repositories of an organisation variable; the organisation
variables a repository sees."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.endpoints.request_context import Context, paged, paged_variables
from reconciler.sandbox.endpoints.secrets import repository_id
from reconciler.sandbox.endpoints.shapes import minimal_repo_body
from reconciler.sandbox.rules import request_bodies
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.world.scopes import Environment, Holder, Org, Variable


def variable_body(api: str, scope: Holder, app: str, variable: Variable) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": variable.name,
        "value": variable.value,
        "created_at": variable.created_at,
        "updated_at": variable.updated_at,
    }
    if isinstance(scope, Org):
        body["visibility"] = variable.visibility
        if variable.visibility == "selected":
            body["selected_repositories_url"] = (
                f"{api}/orgs/{scope.login}/{app}/variables/{variable.name}/repositories"
            )
    return body


def _kind(scope: Holder) -> str:
    if isinstance(scope, Environment):
        return "environment"
    return "org" if isinstance(scope, Org) else "repo"


# -- variables, every scope ---------------------------------------------------------------


def list_variables(ctx: Context) -> Reply:
    scope = ctx.scope()
    variables = ctx.world.variables(scope, ctx.app)
    return paged_variables(ctx, [variable_body(ctx.api, scope, ctx.app, v) for v in variables])


def create_variable(ctx: Context) -> Reply:
    scope = ctx.scope()
    post = request_bodies.variable_write(ctx.request.body, _kind(scope), ctx.doc, create=True)
    assert post.name is not None and post.value is not None  # required by variable_write
    ctx.world.create_variable(
        scope,
        ctx.app,
        post.name,
        post.value,
        visibility=post.visibility,
        selected=post.selected,
        doc=ctx.doc,
    )
    # GitHub answers a create with an empty JSON object.
    return Reply(201, {})


def get_variable(ctx: Context) -> Reply:
    scope = ctx.scope()
    found = ctx.world.variable(scope, ctx.app, ctx.param("name"), ctx.doc)
    return Reply(200, variable_body(ctx.api, scope, ctx.app, found))


def update_variable(ctx: Context) -> Reply:
    scope = ctx.scope()
    patch = request_bodies.variable_write(ctx.request.body, _kind(scope), ctx.doc, create=False)
    ctx.world.update_variable(
        scope,
        ctx.app,
        ctx.param("name"),
        new_name=patch.name,
        value=patch.value,
        visibility=patch.visibility,
        selected=patch.selected,
        doc=ctx.doc,
    )
    return Reply(204)


def delete_variable(ctx: Context) -> Reply:
    ctx.world.delete_variable(ctx.scope(), ctx.app, ctx.param("name"), ctx.doc)
    return Reply(204)


# -- selected repositories of an organisation variable ------------------------------------


def list_selected(ctx: Context) -> Reply:
    repos = ctx.world.variable_repos(ctx.org(), ctx.app, ctx.param("name"), ctx.doc)
    return paged(ctx, "repositories", [minimal_repo_body(ctx.api, ctx.web, r) for r in repos])


def set_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ids = request_bodies.selection_put(ctx.request.body, ctx.doc)
    ctx.world.set_variable_repos(org, ctx.app, ctx.param("name"), ids, ctx.doc)
    return Reply(204)


def add_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.add_variable_repo(org, ctx.app, ctx.param("name"), repository_id(ctx), ctx.doc)
    return Reply(204)


def remove_selected(ctx: Context) -> Reply:
    org = ctx.org()
    ctx.world.remove_variable_repo(org, ctx.app, ctx.param("name"), repository_id(ctx), ctx.doc)
    return Reply(204)


def repo_org_variables(ctx: Context) -> Reply:
    """`.../organization-variables`: the `actions-variable` shape, no visibility."""
    repo = ctx.repo()
    variables = ctx.world.org_variables_for(repo, ctx.app)
    return paged_variables(ctx, [variable_body(ctx.api, repo, ctx.app, v) for v in variables])
