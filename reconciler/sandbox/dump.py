"""The world -> a seed: the format `seed.py` reads, so a dump loads back.

Secrets keep their timestamps; files keep only each branch's head; comments keep their
ids, authors and timestamps.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from reconciler.sandbox.world.git import DEFAULT_BRANCH
from reconciler.sandbox.world.scopes import Org, Repo, Secret
from reconciler.sandbox.world.state import World


def _secret_dump(scope: Org | Repo, secret: Secret) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        out["value"] = secret.value.decode()
    except UnicodeDecodeError:
        out["value_base64"] = base64.b64encode(secret.value).decode()
    if isinstance(scope, Org):
        out["visibility"] = secret.visibility
        if secret.visibility == "selected":
            repos = (scope.repo_by_id(i) for i in secret.selected)
            out["repositories"] = sorted(r.name for r in repos if r is not None)
    out["created_at"] = secret.created_at
    out["updated_at"] = secret.updated_at
    return out


def _scope_secrets(scope: Org | Repo) -> dict[str, Any]:
    return {
        app: {name: _secret_dump(scope, s) for name, s in sorted(secrets.items())}
        for app, secrets in sorted(scope.secrets.items())
        if secrets
    }


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
            for repo in ordered:
                secrets = _scope_secrets(repo)
                content = _content(repo)
                if secrets or content:
                    repos[repo.full_name] = {"private": repo.private, "secrets": secrets}
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
