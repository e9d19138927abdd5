"""Deployment environments of a repository: list, get, create-or-update (without protection
rules) and delete. Their secrets and variables are served by `secrets` and `variables`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reconciler.sandbox.endpoints.request_context import Context, paged
from reconciler.sandbox.endpoints.shapes import node_id
from reconciler.sandbox.rules import request_bodies
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.world.scopes import Environment


def environment_body(api: str, web: str, env: Environment) -> dict[str, Any]:
    full_name = env.repo.full_name
    return {
        "id": env.id,
        "node_id": node_id("Environment", env.id),
        "name": env.name,
        # A "/" in the name is encoded in the URL, as clients must send it.
        "url": f"{api}/repos/{full_name}/environments/{quote(env.name, safe='')}",
        "html_url": (
            f"{web}/{full_name}/deployments/activity_log?environments_filter="
            f"{quote(env.name, safe='')}"
        ),
        "created_at": env.created_at,
        "updated_at": env.updated_at,
        "protection_rules": [],
        "deployment_branch_policy": None,
    }


def list_environments(ctx: Context) -> Reply:
    envs = ctx.world.environments(ctx.repo())
    return paged(ctx, "environments", [environment_body(ctx.api, ctx.web, e) for e in envs])


def get_environment(ctx: Context) -> Reply:
    env = ctx.world.environment(ctx.repo(), ctx.param("environment_name"), ctx.doc)
    return Reply(200, environment_body(ctx.api, ctx.web, env))


def put_environment(ctx: Context) -> Reply:
    repo = ctx.repo()
    request_bodies.environment_put(ctx.request.body, ctx.doc)
    env, _created = ctx.world.put_environment(repo, ctx.param("environment_name"), ctx.doc)
    return Reply(200, environment_body(ctx.api, ctx.web, env))


def delete_environment(ctx: Context) -> Reply:
    ctx.world.delete_environment(ctx.repo(), ctx.param("environment_name"), ctx.doc)
    return Reply(204)
