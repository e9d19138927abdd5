"""The variables API of Actions (organisation, repository, environment) and agents
(organisation, repository): listing with values, creating (POST), updating (PATCH), deleting,
and the selected repositories of organisation variables.

Unlike secrets, a variable's value is plain text that GitHub shows, so a listing says all
there is to compare, and writes are POST (create) and PATCH (update) rather than one PUT.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from reconciler.github.pagination import Paged
from reconciler.github.permissions import permission_hint
from reconciler.github.repositories import RepoItem, repo_item
from reconciler.github.responses import Json
from reconciler.github.secrets import read_visibility, scope_path
from reconciler.github.transport import Transport
from reconciler.model import App, Kind, Scope, Visibility

# GitHub pages variable lists at 30 at most (secrets: 100).
VARIABLES_PER_PAGE = 30


@dataclass(frozen=True, slots=True)
class VariableItem:
    """One variable as a listing shows it, value included."""

    name: str
    value: str = field(repr=False)  # configuration some teams treat as sensitive
    updated_at: str
    visibility: Visibility | None


def variable_item(item: Json) -> VariableItem:
    return VariableItem(
        item.field("name").name(),
        item.field("value").string(),
        item.field("updated_at").timestamp(),  # required by GitHub's description
        read_visibility(item),
    )


class Variables:
    """`/orgs/{org}/{app}/variables`, `/repos/{owner}/{repo}/{app}/variables` and
    `/repos/{owner}/{repo}/environments/{environment}/variables`."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _request(
        self,
        method: str,
        path: str,
        scope: Scope,
        app: App,
        *,
        ok: tuple[int, ...],
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self._transport.request(
            method,
            path,
            app=app,
            scope_kind=scope.kind,
            body=body,
            ok=ok,
            permission=permission_hint(scope.kind, app, method != "GET", Kind.VARIABLE),
        )

    # `builtins.list` below: inside this class, `list` is the method.
    def list(self, scope: Scope, app: App) -> builtins.list[VariableItem]:
        return self.paged(scope, app).collect()

    def paged(self, scope: Scope, app: App) -> Paged[VariableItem]:
        return Paged(
            self._transport,
            _variables_path(scope, app),
            "variables",
            variable_item,
            VARIABLES_PER_PAGE,
            self._read(scope, app),
        )

    def selected_repositories(self, scope: Scope, app: App, name: str) -> builtins.list[RepoItem]:
        return self.paged_selection(scope, app, name).collect()

    def paged_selection(self, scope: Scope, app: App, name: str) -> Paged[RepoItem]:
        path = f"{_variable_path(scope, app, name)}/repositories"
        return Paged(self._transport, path, "repositories", repo_item, kw=self._read(scope, app))

    @staticmethod
    def _read(scope: Scope, app: App) -> dict[str, Any]:
        hint = permission_hint(scope.kind, app, False, Kind.VARIABLE)
        return {"app": app, "scope_kind": scope.kind, "permission": hint}

    def create(self, scope: Scope, app: App, body: Mapping[str, Any]) -> None:
        """`body` holds `name` and `value` (and, in an organisation, the visibility)."""
        self._request("POST", _variables_path(scope, app), scope, app, ok=(201,), body=body)

    def update(self, scope: Scope, app: App, name: str, body: Mapping[str, Any]) -> None:
        path = _variable_path(scope, app, name)
        self._request("PATCH", path, scope, app, ok=(204,), body=body)

    def delete(self, scope: Scope, app: App, name: str) -> None:
        self._request("DELETE", _variable_path(scope, app, name), scope, app, ok=(204,))

    def set_selected_repositories(
        self, scope: Scope, app: App, name: str, repo_ids: builtins.list[int]
    ) -> None:
        path = f"{_variable_path(scope, app, name)}/repositories"
        body = {"selected_repository_ids": repo_ids}
        self._request("PUT", path, scope, app, ok=(204,), body=body)

    def add_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_variable_path(scope, app, name)}/repositories/{repo_id}"
        self._request("PUT", path, scope, app, ok=(204,))

    def remove_selected_repository(self, scope: Scope, app: App, name: str, repo_id: int) -> None:
        path = f"{_variable_path(scope, app, name)}/repositories/{repo_id}"
        self._request("DELETE", path, scope, app, ok=(204,))


def _variables_path(scope: Scope, app: App) -> str:
    return f"{scope_path(scope, app)}/variables"


def _variable_path(scope: Scope, app: App, name: str) -> str:
    return f"{_variables_path(scope, app)}/{quote(name, safe='')}"
