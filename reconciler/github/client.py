"""The GitHub REST endpoints the tool uses: secrets (four apps, two scopes), selected
repositories, public keys, repositories. Transport concerns live in transport.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.errors import MalformedResponseError, RequestInfo
from reconciler.github.responses import Json, parse_json
from reconciler.github.transport import MAX_PAGES, Transport
from reconciler.model import App, PublicKey, Scope, ScopeKind, Visibility

_LINK_LAST = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


@dataclass(frozen=True, slots=True)
class SecretItem:
    """One secret as a listing shows it (never a value: the API has none to show)."""

    name: str
    updated_at: str
    visibility: Visibility | None


@dataclass(frozen=True, slots=True)
class RepoItem:
    id: int
    name: str
    owner: str | None  # the owner's login, where the listing says


def secret_item(item: Json) -> SecretItem:
    vis = item.optional("visibility")
    updated = item.optional("updated_at")
    visibility = None
    if vis is not None:
        try:
            visibility = Visibility(vis.string())
        except ValueError:
            raise MalformedResponseError(
                item.request, vis.where, "not a visibility GitHub knows (all, private, selected)"
            ) from None
    return SecretItem(item.field("name").name(), updated.string() if updated else "", visibility)


def repo_item(item: Json) -> RepoItem:
    owner = item.optional("owner")
    login = owner.field("login").name() if owner is not None else None
    return RepoItem(item.field("id").id(), item.field("name").name(), login)


class GitHubClient(Transport):
    """The endpoints, on top of the transport's request and paginate. Every body is read
    through `Json`, so a wrong shape is a MalformedResponseError naming the request."""

    # -- secrets API ---------------------------------------------------------------------------

    def list_secrets(self, scope: Scope, app: App) -> list[SecretItem]:
        return [
            secret_item(item)
            for item in self.paginate_json(
                _secrets_path(scope, app), "secrets", app=app, scope_kind=scope.kind
            )
        ]

    def list_selected_repositories(self, scope: Scope, app: App, name: str) -> list[RepoItem]:
        path = f"{_secrets_path(scope, app)}/{quote(name)}/repositories"
        return [
            repo_item(item)
            for item in self.paginate_json(path, "repositories", app=app, scope_kind=scope.kind)
        ]

    def public_key(self, scope: Scope, app: App) -> PublicKey:
        data = self.get_json(
            f"{_secrets_path(scope, app)}/public-key", app=app, scope_kind=scope.kind
        )
        key = data.field("key")
        key.base64(length=32)  # a Curve25519 public key; anything else cannot seal
        key_id = data.field("key_id")
        # GitHub's key_id is a string of digits; some servers send the number.
        ident = str(key_id.id()) if isinstance(key_id.value, int) else key_id.name()
        return PublicKey(key_id=ident, key=key.string())

    def put_secret(self, scope: Scope, app: App, name: str, body: Mapping[str, Any]) -> int:
        path = f"{_secrets_path(scope, app)}/{quote(name)}"
        return self.request(
            "PUT", path, app=app, scope_kind=scope.kind, body=body, ok=(201, 204)
        ).status_code

    def delete_secret(self, scope: Scope, app: App, name: str) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name)}"
        self.request("DELETE", path, app=app, scope_kind=scope.kind, ok=(204,))

    def set_selected_repositories(
        self, scope: Scope, app: App, name: str, repo_ids: list[int]
    ) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name)}/repositories"
        body = {"selected_repository_ids": repo_ids}
        self.request("PUT", path, app=app, scope_kind=scope.kind, body=body, ok=(204,))

    def add_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name)}/repositories/{repo_id}"
        self.request("PUT", path, app=app, scope_kind=scope.kind, ok=(204,))

    def remove_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_secrets_path(scope, app)}/{quote(name)}/repositories/{repo_id}"
        self.request("DELETE", path, app=app, scope_kind=scope.kind, ok=(204,))

    # -- repositories --------------------------------------------------------------------------

    def org_repository_page(self, org: str, page: int) -> tuple[list[RepoItem], int]:
        """One page (100 per page) of `GET /orgs/{org}/repos`, and the number of the last
        page according to its `Link: rel="last"` (the page itself when there is none)."""
        resp = self.request(
            "GET",
            f"/orgs/{quote(org)}/repos",
            params={"per_page": 100, "type": "all", "page": page},
            ok=(200, 404),
        )
        if resp.status_code == 404:
            return [], 0  # a user account, not an organisation: callers GET repos one by one
        info = RequestInfo("GET", f"/orgs/{quote(org)}/repos", resp.status_code)
        last = _LINK_LAST.search(resp.headers.get("Link", ""))
        last_page = int(last.group(1)) if last else page
        if not page <= last_page <= MAX_PAGES:
            raise MalformedResponseError(
                info, "Link", f'rel="last" names page {last_page} (page {page} was asked for)'
            )
        return [repo_item(i) for i in parse_json(info, resp.content).items()], last_page

    def get_repository(self, full_name: str) -> RepoItem | None:
        """The repository, or None if it does not exist (or the token cannot see it)."""
        owner, repo = full_name.split("/", 1)
        path = f"/repos/{quote(owner)}/{quote(repo)}"
        resp = self.request("GET", path, ok=(200, 404))
        if resp.status_code == 404:
            return None
        return repo_item(parse_json(RequestInfo("GET", path, resp.status_code), resp.content))


def _secrets_path(scope: Scope, app: App) -> str:
    if scope.kind is ScopeKind.ORG:
        return f"/orgs/{quote(scope.name)}/{app.value}/secrets"
    owner, repo = scope.name.split("/", 1)
    return f"/repos/{quote(owner)}/{quote(repo)}/{app.value}/secrets"
