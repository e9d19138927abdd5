"""Located values: the dicts and lists a manifest is read into, remembering the file:line:col
of every key and item, and the JSON-path spelling of places in them.

Built by `build` from YAML nodes; read by `read` and the schema checks. Pure data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.manifest.redact import path_part
from reconciler.model import App, DesiredItem, Kind, Location, Scope, ScopeKind

PathItem = str | int


class LocMap(dict[str, Any]):
    """A mapping that knows where it, each key and each value were written."""

    __slots__ = ("key_locs", "loc", "value_locs")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self.key_locs: dict[str, Location] = {}
        self.value_locs: dict[str, Location] = {}


class LocList(list[Any]):
    """A sequence that knows where it and each item were written."""

    __slots__ = ("item_locs", "loc")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self.item_locs: list[Location] = []


def format_path(path: Sequence[PathItem]) -> str:
    """`orgs.octo-org.dependabot.secrets.NPM_TOKEN.repositories[2]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = path_part(part)
            out += f".{shown}" if out else shown
    return out


def locate(root: object, path: Sequence[PathItem]) -> Location | None:
    """Where the thing at `path` was written.

    A container is located at its key (that is what a reader looks for: `NPM_TOKEN:`),
    a scalar at its value.
    """
    node: object = root
    found: Location | None = root.loc if isinstance(root, LocMap | LocList) else None
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, LocMap) and isinstance(part, str) and part in node:
            child = node[part]
            scalar = not isinstance(child, LocMap | LocList)
            found = node.value_locs[part] if last and scalar else node.key_locs[part]
            node = child
        elif isinstance(node, LocList) and isinstance(part, int) and 0 <= part < len(node):
            found = node.item_locs[part]
            node = node[part]
        else:
            break
    return found


def key_location(mapping: LocMap, key: str) -> Location:
    return mapping.key_locs.get(key, mapping.loc)


def value_location(mapping: LocMap, key: str) -> Location:
    return mapping.value_locs.get(key, mapping.loc)


def scope_path(scope: Scope) -> list[PathItem]:
    """Where a scope is written: `orgs.ORG`, `repos.OWNER/REPO` or
    `repos.OWNER/REPO.environments.NAME`."""
    if scope.kind is ScopeKind.ORG:
        return ["orgs", scope.name]
    if scope.kind is ScopeKind.REPO:
        return ["repos", scope.name]
    return ["repos", scope.name, "environments", scope.environment]


def group_path(scope: Scope, app: App) -> list[PathItem]:
    # Environments hold Actions secrets and variables directly, without an app key.
    return scope_path(scope) if scope.kind is ScopeKind.ENVIRONMENT else [*scope_path(scope), app]


def item_path(item: DesiredItem) -> list[PathItem]:
    """`orgs.octo-org.actions.variables.REGION`: an item's path as the manifest spells its
    scope (names upper-cased, as the item holds them)."""
    kinds = "variables" if item.kind is Kind.VARIABLE else "secrets"
    return [*group_path(item.scope, item.app), kinds, item.name]
