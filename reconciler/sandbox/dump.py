"""The world -> a seed: the format `seed.py` reads, so a dump loads back.

Secrets and variables keep their timestamps, environments their ids and timestamps; files
keep only each branch's head; comments keep their ids, authors and timestamps.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from reconciler.sandbox.rules.names import ENVIRONMENT_APP
from reconciler.sandbox.world.git import DEFAULT_BRANCH
from reconciler.sandbox.world.scopes import Environment, Org, Repo, Shared, Variable
from reconciler.sandbox.world.state import World


def _item_dump(scope: Org | Repo | Environment, item: Shared) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(item, Variable):
        out["value"] = item.value
    else:
        try:
            out["value"] = item.value.decode()
        except UnicodeDecodeError:
            out["value_base64"] = base64.b64encode(item.value).decode()
    if isinstance(scope, Org):
        out["visibility"] = item.visibility
        if item.visibility == "selected":
            repos = (scope.repo_by_id(i) for i in item.selected)
            out["repositories"] = sorted(r.name for r in repos if r is not None)
    out["created_at"] = item.created_at
    out["updated_at"] = item.updated_at
    return out


def _by_app(
    scope: Org | Repo | Environment,
    stores: Mapping[str, Mapping[str, Shared]],
) -> dict[str, Any]:
    return {
        app: {name: _item_dump(scope, item) for name, item in sorted(items.items())}
        for app, items in sorted(stores.items())
        if items
    }


def _scope_secrets(scope: Org | Repo) -> dict[str, Any]:
    return _by_app(scope, scope.secrets)


def _environments(repo: Repo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for env in sorted(repo.environments.values(), key=lambda e: e.name.lower()):
        entry: dict[str, Any] = {
            "id": env.id,
            "created_at": env.created_at,
            "updated_at": env.updated_at,
        }
        secrets = _by_app(env, env.secrets).get(ENVIRONMENT_APP)
        variables = _by_app(env, env.variables).get(ENVIRONMENT_APP)
        if secrets:
            entry["secrets"] = secrets
        if variables:
            entry["variables"] = variables
        out[env.name] = entry
    return out


def dump_state(world: World, tokens: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The world (and the tokens given) in the seed format."""
    orgs: dict[str, Any] = {}
    repos: dict[str, Any] = {}
    with world.lock:
        for org in sorted(world.orgs.values(), key=lambda o: o.login.lower()):
            ordered = sorted(org.repos.values(), key=lambda r: r.id)
            orgs[org.login] = {
                "repos": [{"name": r.name, "private": r.private, "id": r.id} for r in ordered],
                "secrets": _scope_secrets(org),
            }
            if variables := _by_app(org, org.variables):
                orgs[org.login]["variables"] = variables
            for repo in ordered:
                secrets = _scope_secrets(repo)
                settings = {
                    "variables": _by_app(repo, repo.variables),
                    "environments": _environments(repo),
                }
                content = _content(repo)
                if secrets or content or any(settings.values()):
                    repos[repo.full_name] = {"private": repo.private, "secrets": secrets}
                    repos[repo.full_name].update({k: v for k, v in settings.items() if v})
                    repos[repo.full_name].update(content)
    return {"orgs": orgs, "repos": repos, "tokens": {t: dict(p) for t, p in tokens.items()}}


def _file_dump(data: bytes) -> dict[str, str]:
    try:
        return {"content": data.decode()}
    except UnicodeDecodeError:
        return {"content_base64": base64.b64encode(data).decode()}


def _content(repo: Repo) -> dict[str, Any]:
    """`files` and `issues` for a repository's dump entry; empty when there are none."""
    out: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for branch in sorted(repo.git.branches):
        head = repo.git.head(branch)
        assert head is not None
        if branch != DEFAULT_BRANCH or head.files:
            files[branch] = {p: _file_dump(d) for p, d in sorted(head.files.items())}
    if files:
        out["files"] = files
    if repo.issues:
        out["issues"] = {
            str(number): {
                "pull_request": issue.pull_request,
                "comments": [
                    {
                        "id": c.id,
                        "body": c.body,
                        "user": {
                            "login": c.author.login,
                            "id": c.author.id,
                            "type": c.author.type,
                            "author_association": c.author.association,
                        },
                        "created_at": c.created_at,
                        "updated_at": c.updated_at,
                    }
                    for c in issue.comments
                ],
            }
            for number, issue in sorted(repo.issues.items())
        }
    return out
