"""The secrets API of every app (Dependabot, agents, Actions, Codespaces) at every scope
(organisation, repository, and a repository's deployment environments for Actions): listing,
writing and deleting secrets, their selected repositories, the scope's public key."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.errors import MalformedResponseError
from reconciler.github.pagination import Paged
from reconciler.github.repositories import RepoItem, repo_item
from reconciler.github.responses import Json
from reconciler.github.transport import Transport
from reconciler.model import App, PublicKey, Scope, ScopeKind, Visibility


@dataclass(frozen=True, slots=True)
class SecretItem:
    """One secret as a listing shows it (never a value: the API has none to show)."""

    name: str
    updated_at: str
    visibility: Visibility | None


def read_visibility(item: Json) -> Visibility | None:
    """An organisation item's `visibility` (None at the other scopes, which have none)."""
    vis = item.optional("visibility")
    if vis is None:
        return None
    try:
        return Visibility(vis.string())
    except ValueError:
        raise MalformedResponseError(
            item.request, vis.where, "not a visibility GitHub knows (all, private, selected)"
        ) from None


def secret_item(item: Json) -> SecretItem:
    name = item.field("name").name()
    # Required by GitHub's description; the ledger records it and refuses an empty one.
    return SecretItem(name, item.field("updated_at").timestamp(), read_visibility(item))


class Secrets:
    """`/orgs/{org}/{app}/secrets` and `/repos/{owner}/{repo}/{app}/secrets`. Every body is
    read through `Json`, so a wrong shape is a MalformedResponseError naming the request."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # `builtins.list` below: inside this class, `list` is the method.
    def list(self, scope: Scope, app: App) -> builtins.list[SecretItem]:
        return self.paged(scope, app).collect()

    def paged(self, scope: Scope, app: App) -> Paged[SecretItem]:
        kw = {"app": app, "scope_kind": scope.kind}
        return Paged(self._transport, _secrets_path(scope, app), "secrets", secret_item, kw=kw)

    def selected_repositories(self, scope: Scope, app: App, name: str) -> builtins.list[RepoItem]:
        return self.paged_selection(scope, app, name).collect()

    def paged_selection(self, scope: Scope, app: App, name: str) -> Paged[RepoItem]:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}/repositories"
        kw = {"app": app, "scope_kind": scope.kind}
        return Paged(self._transport, path, "repositories", repo_item, kw=kw)

    def public_key(self, scope: Scope, app: App) -> PublicKey:
        data = self._transport.get_json(
            f"{_secrets_path(scope, app)}/public-key", app=app, scope_kind=scope.kind
        )
        key = data.field("key")
        key.base64(length=32)  # a Curve25519 public key; anything else cannot seal
        key_id = data.field("key_id")
        # GitHub's key_id is a string of digits; some servers send the number.
        ident = str(key_id.id()) if isinstance(key_id.value, int) else key_id.name()
        return PublicKey(key_id=ident, key=key.string())

    def put(self, scope: Scope, app: App, name: str, body: Mapping[str, Any]) -> int:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}"
        return self._transport.request(
            "PUT", path, app=app, scope_kind=scope.kind, body=body, ok=(201, 204)
        ).status_code

    def delete(self, scope: Scope, app: App, name: str) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}"
        self._transport.request("DELETE", path, app=app, scope_kind=scope.kind, ok=(204,))

    def set_selected_repositories(
        self, scope: Scope, app: App, name: str, repo_ids: builtins.list[int]
    ) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}/repositories"
        body = {"selected_repository_ids": repo_ids}
        self._transport.request("PUT", path, app=app, scope_kind=scope.kind, body=body, ok=(204,))

    def add_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}/repositories/{repo_id}"
        self._transport.request("PUT", path, app=app, scope_kind=scope.kind, ok=(204,))

    def remove_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name, safe='')}/repositories/{repo_id}"
        self._transport.request("DELETE", path, app=app, scope_kind=scope.kind, ok=(204,))


def scope_path(scope: Scope, app: App) -> str:
    """The path an app's secrets and variables hang under in a scope. An environment's belong
    to Actions; its name is one path segment, so a "/" in it is escaped (%2F)."""
    if scope.kind is ScopeKind.ORG:
        return f"/orgs/{quote(scope.name, safe='')}/{app.value}"
    owner, repo = scope.name.split("/", 1)
    base = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
    if scope.kind is ScopeKind.ENVIRONMENT:
        return f"{base}/environments/{quote(scope.environment, safe='')}"
    return f"{base}/{app.value}"


def _secrets_path(scope: Scope, app: App) -> str:
    return f"{scope_path(scope, app)}/secrets"
