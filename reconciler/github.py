"""The GitHub REST endpoints the tool uses: secrets (four apps, two scopes), selected
repositories, public keys, repositories. Transport concerns live in transport.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.model import App, Scope, ScopeKind
from reconciler.transport import Transport

_LINK_LAST = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_id: str
    key: str


class GitHubClient(Transport):
    """The endpoints, on top of the transport's request and paginate."""

    # -- secrets API ---------------------------------------------------------------------------

    def list_secrets(self, scope: Scope, app: App) -> list[dict[str, Any]]:
        return list(
            self.paginate(_secrets_path(scope, app), "secrets", app=app, scope_kind=scope.kind)
        )

    def list_selected_repositories(self, scope: Scope, app: App, name: str) -> list[dict[str, Any]]:
        path = f"{_secrets_path(scope, app)}/{quote(name)}/repositories"
        return list(self.paginate(path, "repositories", app=app, scope_kind=scope.kind))

    def public_key(self, scope: Scope, app: App) -> PublicKey:
        data = self.get_json(
            f"{_secrets_path(scope, app)}/public-key", app=app, scope_kind=scope.kind
        )
        return PublicKey(key_id=str(data["key_id"]), key=str(data["key"]))

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

    def org_repository_page(self, org: str, page: int) -> tuple[list[dict[str, Any]], int]:
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
        last = _LINK_LAST.search(resp.headers.get("Link", ""))
        return list(resp.json()), int(last.group(1)) if last else page

    def get_repository(self, full_name: str) -> dict[str, Any] | None:
        """The repository, or None if it does not exist (or the token cannot see it)."""
        owner, repo = full_name.split("/", 1)
        resp = self.request("GET", f"/repos/{quote(owner)}/{quote(repo)}", ok=(200, 404))
        return None if resp.status_code == 404 else dict(resp.json())


def _secrets_path(scope: Scope, app: App) -> str:
    if scope.kind is ScopeKind.ORG:
        return f"/orgs/{quote(scope.name)}/{app.value}/secrets"
    owner, repo = scope.name.split("/", 1)
    return f"/repos/{quote(owner)}/{quote(repo)}/{app.value}/secrets"
