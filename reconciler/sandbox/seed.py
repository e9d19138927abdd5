"""Seed files and state dumps: one JSON-able format for both, so a dump loads back.

    orgs:
      octo-org:
        repos: [web, api, {name: infra, private: true}]   # or {name, private, id}
        secrets:
          dependabot:
            NPM_TOKEN: {value: "s3cr3t", visibility: selected, repositories: [web]}
    repos:
      octo-org/web:
        private: false          # optional; creates the repository (and org) if missing
        secrets:
          actions:
            DEPLOY_KEY: {value: "..."}          # or value_base64 for non-UTF-8 bytes
    tokens:
      t-readonly: {organization_dependabot_secrets: read, metadata: read}

A repository entry may also carry `files` (per branch) and `issues` (with comments);
`seed_content.py` documents those keys. GitHub Apps are not part of the format.

A secret may also carry `created_at`/`updated_at` (`YYYY-MM-DDTHH:MM:SSZ`); dumps
always do, so timestamps survive a round trip. Key pairs are not part of the format:
each load makes new ones. Org secrets default to visibility `all`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.sandbox.seed_content import (
    ContentSeedError,
    dump_content,
    load_files,
    load_issues,
)
from reconciler.sandbox.state import Org, Repo, Secret

if TYPE_CHECKING:
    from reconciler.sandbox.server import Sandbox


class SeedError(ValueError):
    """A seed that does not follow the format; the message names where."""


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SeedError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _value(spec: Mapping[str, Any], where: str) -> bytes:
    if "value_base64" in spec:
        return base64.b64decode(str(spec["value_base64"]), validate=True)
    if "value" in spec:
        return str(spec["value"]).encode()
    raise SeedError(f"{where}: a secret needs `value` or `value_base64`")


def _secrets(sb: Sandbox, scope: Org | Repo, data: object, where: str) -> None:
    for app, secrets in _mapping(data, where).items():
        for name, raw in _mapping(secrets, f"{where}.{app}").items():
            spec = _mapping(raw, f"{where}.{app}.{name}")
            value = _value(spec, f"{where}.{app}.{name}")
            visibility = None
            selected: set[int] = set()
            if isinstance(scope, Org):
                visibility = str(spec.get("visibility", "all"))
                for repo_name in spec.get("repositories") or []:
                    selected.add(sb.world.repo(scope.login, str(repo_name)).id)
            if "updated_at" in spec:
                created = str(spec.get("created_at", spec["updated_at"]))
                secret = Secret(name.upper(), value, visibility, selected, created,
                                str(spec["updated_at"]))  # fmt: skip
                sb.world.restore_secret(scope, app, secret)
            else:
                sb.world.put_secret(
                    scope, app, name, value, visibility=visibility,
                    selected=selected if visibility == "selected" else None,
                )  # fmt: skip


def load_seed(sb: Sandbox, data: Mapping[str, Any]) -> None:
    """Load `data` into the sandbox's world; anything malformed is a SeedError."""
    try:
        _load(sb, data)
    except SeedError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        # The format is nested free-form data; the world's own checks name what is wrong.
        raise SeedError(f"the seed does not follow the format ({type(e).__name__}: {e})") from e


def _load(sb: Sandbox, data: Mapping[str, Any]) -> None:
    world = sb.world
    with world.lock:
        for login, raw in _mapping(data.get("orgs"), "orgs").items():
            spec = _mapping(raw, f"orgs.{login}")
            world.add_org(login)
            for entry in spec.get("repos") or []:
                if isinstance(entry, str):
                    world.add_repo(f"{login}/{entry}")
                else:
                    repo = _mapping(entry, f"orgs.{login}.repos")
                    world.add_repo(f"{login}/{repo['name']}", private=bool(repo.get("private")),
                                   repo_id=repo.get("id"))  # fmt: skip
        for full_name, raw in _mapping(data.get("repos"), "repos").items():
            spec = _mapping(raw, f"repos.{full_name}")
            world.add_repo(full_name, private=bool(spec.get("private")))
        for login, raw in _mapping(data.get("orgs"), "orgs").items():
            secrets = _mapping(raw, f"orgs.{login}").get("secrets")
            _secrets(sb, world.org(login), secrets, f"orgs.{login}.secrets")
        for full_name, raw in _mapping(data.get("repos"), "repos").items():
            spec = _mapping(raw, f"repos.{full_name}")
            target = world.scope(full_name)
            assert isinstance(target, Repo)  # add_repo above made it
            _secrets(sb, target, spec.get("secrets"), f"repos.{full_name}.secrets")
            try:
                load_files(world, target, spec.get("files"), f"repos.{full_name}.files")
                load_issues(world, target, spec.get("issues"), f"repos.{full_name}.issues")
            except ContentSeedError as e:
                raise SeedError(str(e)) from e
        for token, permissions in _mapping(data.get("tokens"), "tokens").items():
            perms = _mapping(permissions, f"tokens.{token}")
            sb.add_token(token, {str(k): str(v) for k, v in perms.items()})


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


def dump_state(sb: Sandbox) -> dict[str, Any]:
    world = sb.world
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
                content = dump_content(repo)
                if secrets or content:
                    repos[repo.full_name] = {"private": repo.private, "secrets": secrets}
                    repos[repo.full_name].update(content)
    tokens = {t: p for t, p in sb.app.tokens().items() if t != sb.token}
    return {"orgs": orgs, "repos": repos, "tokens": tokens}
