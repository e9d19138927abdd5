"""GitHub App endpoints (JWT auth only): installations and installation access tokens."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.endpoints.request_context import Context, list_of
from reconciler.sandbox.endpoints.shapes import full_repo_body, owner_body
from reconciler.sandbox.rules.errors import ApiError, invalid, not_found
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.rules.permissions import METADATA, grants
from reconciler.sandbox.rules.request_bodies import json_object
from reconciler.sandbox.rules.versions import V2026
from reconciler.sandbox.world.clock import iso
from reconciler.sandbox.world.github_apps import Installation
from reconciler.sandbox.world.scopes import Org, Repo

NOT_ACCESSIBLE = (
    "There is at least one repository that does not exist or is not accessible to the parent "
    "installation."
)
NOT_GRANTED = "The permissions requested are not granted to this installation."


def _app_id(ctx: Context) -> int:
    app_id = ctx.principal.app_id
    assert app_id is not None  # JWT routes only run for an authenticated app
    return app_id


def installation_body(ctx: Context, inst: Installation) -> dict[str, Any]:
    org = ctx.world.org(inst.account)
    app = ctx.world.apps.app(str(inst.app_id))
    assert app is not None
    return {
        "id": inst.id,
        "account": owner_body(ctx.api, ctx.web, org),
        "repository_selection": "all" if inst.repo_ids is None else "selected",
        "access_tokens_url": f"{ctx.api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{ctx.api}/installation/repositories",
        "html_url": f"{ctx.web}/organizations/{org.login}/settings/installations/{inst.id}",
        "app_id": inst.app_id,
        "app_slug": app.slug,
        "client_id": app.client_id,
        "target_id": org.id,
        "target_type": "Organization",
        "permissions": dict(inst.permissions),
        "events": [],
        "created_at": inst.created_at,
        "updated_at": inst.created_at,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def list_installations(ctx: Context) -> Reply:
    found = ctx.world.apps.installations(_app_id(ctx))
    return list_of(ctx, [installation_body(ctx, i) for i in found])


def org_installation(ctx: Context) -> Reply:
    org = ctx.org()
    found = ctx.world.apps.for_account(_app_id(ctx), org.login)
    if found is None:
        raise not_found(ctx.doc)
    return Reply(200, installation_body(ctx, found))


def covers(inst: Installation, repo: Repo) -> bool:
    if repo.org.login.lower() != inst.account.lower():
        return False
    return inst.repo_ids is None or repo.id in inst.repo_ids


def repo_installation(ctx: Context) -> Reply:
    repo = ctx.repo()
    found = ctx.world.apps.for_account(_app_id(ctx), repo.org.login)
    if found is None or not covers(found, repo):
        raise not_found(ctx.doc)
    return Reply(200, installation_body(ctx, found))


def _list(data: dict[str, Any], key: str, kind: type, doc: str) -> list[Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, kind) and not isinstance(v, bool) for v in value
    ):
        raise invalid(f'"{key}" must be an array of {kind.__name__}s.', doc)
    return value


def _narrow_repos(org: Org, inst: Installation, data: dict[str, Any], doc: str) -> set[int] | None:
    names = _list(data, "repositories", str, doc)
    ids = _list(data, "repository_ids", int, doc)
    if names is None and ids is None:
        return None
    chosen: set[int] = set()
    for name in names or []:
        repo = org.repos.get(name.lower())
        if repo is None or not covers(inst, repo):
            raise ApiError(422, NOT_ACCESSIBLE, doc)
        chosen.add(repo.id)
    for repo_id in ids or []:
        repo = org.repo_by_id(repo_id)
        if repo is None or not covers(inst, repo):
            raise ApiError(422, NOT_ACCESSIBLE, doc)
        chosen.add(repo_id)
    return chosen


def _narrow_permissions(inst: Installation, data: dict[str, Any], doc: str) -> dict[str, str]:
    asked = data.get("permissions")
    if asked is None:
        return dict(inst.permissions)
    if not isinstance(asked, dict):
        raise invalid('"permissions" must be an object.', doc)
    for key, access in asked.items():
        if access not in ("read", "write") or not grants(inst.permissions, key, access):
            raise ApiError(422, NOT_GRANTED, doc)
    narrowed = {str(k): str(v) for k, v in asked.items()}
    if METADATA in inst.permissions:
        narrowed.setdefault(METADATA, "read")  # GitHub always grants metadata with a token
    return narrowed


def create_access_token(ctx: Context) -> Reply:
    raw = ctx.param("installation_id")
    inst = ctx.world.apps.installation(_app_id(ctx), int(raw)) if raw.isdigit() else None
    if inst is None:
        raise not_found(ctx.doc)
    data = json_object(ctx.request.body, ctx.doc) if ctx.request.body.strip() else {}
    org = ctx.world.org(inst.account)
    narrowed = _narrow_repos(org, inst, data, ctx.doc)
    repo_ids = inst.repo_ids if narrowed is None else frozenset(narrowed)
    permissions = _narrow_permissions(inst, data, ctx.doc)
    token = ctx.world.apps.mint(inst, ctx.world.clock.now(), permissions, repo_ids)
    body: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": dict(token.permissions),
        "repository_selection": "all" if repo_ids is None else "selected",
    }
    if narrowed is not None:
        repos = sorted((r for r in org.repos.values() if r.id in narrowed), key=lambda r: r.id)
        body["repositories"] = [_repository(ctx, r) for r in repos]
    return Reply(201, body)


def _repository(ctx: Context, repo: Repo) -> dict[str, Any]:
    body = full_repo_body(ctx.api, ctx.web, repo)
    if ctx.version != V2026:
        body["has_downloads"] = True  # dropped from `repository` in API version 2026-03-10
    return body
