"""Seed files -> the world. One JSON-able format for seeds and dumps (`dump.py`), so a dump
loads back.

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

A secret may also carry `created_at`/`updated_at` (`YYYY-MM-DDTHH:MM:SSZ`); dumps
always do, so timestamps survive a round trip. Key pairs are not part of the format:
each load makes new ones. Org secrets default to visibility `all`.

Variables (apps `actions` and `agents`) sit next to secrets, with plain-text values, and
repositories may have deployment environments (Actions secrets and variables, no app level;
`{}` makes an empty one; `id`, `created_at`, `updated_at` kept when given):

    orgs:
      octo-org:
        variables:
          actions:
            REGION: {value: eu-west-1, visibility: selected, repositories: [web]}
    repos:
      octo-org/web:
        variables:
          agents:
            MODEL: {value: small}
        environments:
          production:
            secrets: {DEPLOY_KEY: {value: "..."}}
            variables: {URL: {value: "https://example.com"}}
          staging: {}

A repository entry may also carry `files` (per branch) and `issues` (with comments):

    repos:
      octo-org/web:
        files:                      # branch -> path -> file; other branches start at main's
          main:                     # first commit, then get their own files
            ledger.json: {content: "{}"}          # or content_base64 for non-UTF-8 bytes
          reconciler-ledger: {}
        issues:
          7:
            pull_request: true
            comments:
              - {body: "plan ...", user: "sandbox-user"}   # id, created_at, updated_at kept
                                                            # when given (dumps give them)

Only the head of each branch is kept: commit history and commit shas do not survive
a round trip, blob shas (content) do.

GitHub Apps are not part of the format.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox.pipeline.auth import Authenticator
from reconciler.sandbox.rules.errors import ApiError
from reconciler.sandbox.rules.names import ENVIRONMENT_APP
from reconciler.sandbox.world.accounts import SANDBOX_USER, Author
from reconciler.sandbox.world.git import DEFAULT_BRANCH, SANDBOX_SIGNATURE, Signature
from reconciler.sandbox.world.issues import Comment, Issue
from reconciler.sandbox.world.scopes import Environment, Org, Repo, Secret, Variable
from reconciler.sandbox.world.state import World


class SeedError(ValueError):
    """A seed that does not follow the format; the message names where."""


def _mapping(value: object, where: str) -> Mapping[Any, Any]:
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


def _sharing(
    world: World, scope: Org | Repo | Environment, spec: Mapping[str, Any]
) -> tuple[str | None, set[int]]:
    """An organisation item's visibility (default `all`) and repository ids; None elsewhere."""
    if not isinstance(scope, Org):
        return None, set()
    names = spec.get("repositories") or []
    return str(spec.get("visibility", "all")), {world.repo(scope.login, str(n)).id for n in names}


def _secrets(world: World, scope: Org | Repo | Environment, data: object, where: str) -> None:
    for app, secrets in _mapping(data, where).items():
        _app_secrets(world, scope, str(app), secrets, f"{where}.{app}")


def _app_secrets(
    world: World, scope: Org | Repo | Environment, app: str, data: object, where: str
) -> None:
    for name, raw in _mapping(data, where).items():
        spec = _mapping(raw, f"{where}.{name}")
        value = _value(spec, f"{where}.{name}")
        visibility, selected = _sharing(world, scope, spec)
        if "updated_at" in spec:
            created = str(spec.get("created_at", spec["updated_at"]))
            secret = Secret(name.upper(), value, visibility, selected, created,
                            str(spec["updated_at"]))  # fmt: skip
            world.restore_secret(scope, app, secret)
        else:
            world.put_secret(
                scope, app, name, value, visibility=visibility,
                selected=selected if visibility == "selected" else None,
            )  # fmt: skip


def _variables(
    world: World,
    scope: Org | Repo | Environment,
    data: object,
    where: str,
    app: str | None = None,
) -> None:
    """`data` maps app -> variables, or is the variables of `app` (environments)."""
    by_app = _mapping(data, where) if app is None else {app: data}
    for app_name, variables in by_app.items():
        at = where if app is not None else f"{where}.{app_name}"
        for name, raw in _mapping(variables, at).items():
            spec = _mapping(raw, f"{at}.{name}")
            if "value" not in spec:
                raise SeedError(f"{at}.{name}: a variable needs `value`")
            value = str(spec["value"])
            visibility, selected = _sharing(world, scope, spec)
            if "updated_at" in spec:
                created = str(spec.get("created_at", spec["updated_at"]))
                variable = Variable(str(name).upper(), value, visibility, selected, created,
                                    str(spec["updated_at"]))  # fmt: skip
                world.restore_variable(scope, str(app_name), variable)
            else:
                world.put_variable(
                    scope, str(app_name), str(name), value, visibility=visibility,
                    selected=selected if visibility == "selected" else None,
                )  # fmt: skip


def _environments(world: World, repo: Repo, data: object, where: str) -> None:
    for name, raw in _mapping(data, where).items():
        spec = _mapping(raw, f"{where}.{name}")
        env = world.restore_environment(
            repo,
            str(name),
            env_id=int(spec["id"]) if "id" in spec else None,
            created_at=str(spec["created_at"]) if "created_at" in spec else None,
            updated_at=str(spec["updated_at"]) if "updated_at" in spec else None,
        )
        app = ENVIRONMENT_APP
        _app_secrets(world, env, app, spec.get("secrets"), f"{where}.{name}.secrets")
        _variables(world, env, spec.get("variables"), f"{where}.{name}.variables", app)


def load_seed(world: World, auth: Authenticator, data: Mapping[str, Any]) -> None:
    """Load `data` into the world (tokens into `auth`); anything malformed is a SeedError."""
    try:
        _load(world, auth, data)
    except SeedError:
        raise
    except ApiError as e:
        # A name or value GitHub would refuse: its own reason says which rule.
        reason = e.message.replace("\n\n", " ")
        raise SeedError(f"the seed does not follow the format ({reason})") from e
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        # The format is nested free-form data; the world's own checks name what is wrong.
        raise SeedError(f"the seed does not follow the format ({type(e).__name__}: {e})") from e


def _load(world: World, auth: Authenticator, data: Mapping[str, Any]) -> None:
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
            spec = _mapping(raw, f"orgs.{login}")
            _secrets(world, world.org(login), spec.get("secrets"), f"orgs.{login}.secrets")
            _variables(world, world.org(login), spec.get("variables"), f"orgs.{login}.variables")
        for full_name, raw in _mapping(data.get("repos"), "repos").items():
            spec = _mapping(raw, f"repos.{full_name}")
            target = world.scope(full_name)
            assert isinstance(target, Repo)  # add_repo above made it
            _secrets(world, target, spec.get("secrets"), f"repos.{full_name}.secrets")
            _variables(world, target, spec.get("variables"), f"repos.{full_name}.variables")
            envs = spec.get("environments")
            _environments(world, target, envs, f"repos.{full_name}.environments")
            _files(world, target, spec.get("files"), f"repos.{full_name}.files")
            _issues(world, target, spec.get("issues"), f"repos.{full_name}.issues")
        for token, permissions in _mapping(data.get("tokens"), "tokens").items():
            perms = _mapping(permissions, f"tokens.{token}")
            auth.add_token(token, {str(k): str(v) for k, v in perms.items()})


def _bytes(spec: Mapping[str, Any], where: str) -> bytes:
    if "content_base64" in spec:
        return base64.b64decode(str(spec["content_base64"]), validate=True)
    if "content" in spec:
        return str(spec["content"]).encode()
    raise SeedError(f"{where}: a file needs `content` or `content_base64`")


def _files(world: World, repo: Repo, data: object, where: str) -> None:
    branches = _mapping(data, where)
    git = repo.git
    start = git.branches[DEFAULT_BRANCH]
    for branch in branches:
        if str(branch) not in git.branches:
            git.branch(str(branch), start)
    for branch, files in branches.items():
        for path, raw in _mapping(files, f"{where}.{branch}").items():
            spec = _mapping(raw, f"{where}.{branch}.{path}")
            data_bytes = _bytes(spec, f"{where}.{branch}.{path}")
            author = Signature(*SANDBOX_SIGNATURE, world.clock.tick())
            git.commit(str(branch), str(path), data_bytes, "Seed", author)


def _author(raw: object) -> Author:
    if raw is None or raw == SANDBOX_USER.login:
        return SANDBOX_USER
    if isinstance(raw, str):
        return Author(raw, 0, "User", "NONE")
    spec = _mapping(raw, "user")
    return Author(
        str(spec["login"]),
        int(spec.get("id", 0)),
        str(spec.get("type", "User")),
        str(spec.get("author_association", "NONE")),
    )


def _issues(world: World, repo: Repo, data: object, where: str) -> None:
    for key, raw in _mapping(data, where).items():
        spec = _mapping(raw, f"{where}.{key}")
        number = int(key)
        issue = repo.issues.setdefault(number, Issue(number, bool(spec.get("pull_request"))))
        for index, entry in enumerate(spec.get("comments") or []):
            comment = _mapping(entry, f"{where}.{key}.comments[{index}]")
            if "id" in comment:
                comment_id = int(comment["id"])
                world.observe_comment_id(comment_id)
            else:
                comment_id = world.next_comment_id()
            if "updated_at" in comment:
                updated = str(comment["updated_at"])
                created = str(comment.get("created_at", updated))
                world.clock.observe(updated)
            else:
                created = updated = world.clock.tick()
            body = str(comment.get("body", ""))
            author = _author(comment.get("user"))
            issue.comments.append(Comment(comment_id, body, author, created, updated))


def read_seed(path: str) -> dict[str, Any]:
    """A seed file, YAML or JSON (JSON is YAML, so one loader reads both)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SeedError(f"not valid YAML or JSON: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedError("the seed must be a mapping at the top level")
    return data
