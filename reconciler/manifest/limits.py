"""GitHub's count and size limits that a manifest can be checked against offline.

Counts per group are errors (GitHub would refuse the writes). The 256 KB that a workflow
run's Actions variables may total is a warning: GitHub accepts the variables and leaves the
ones past the limit out of runs, and only repositories the manifest names can be checked
(offline, nothing says which other repositories an organisation variable reaches).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from reconciler.errors import Problem, SourceError
from reconciler.manifest.located import format_path, group_path
from reconciler.manifest.redact import describe
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    FileSource,
    InlineSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    Visibility,
)
from reconciler.values.sources import confined_path

MAX_ITEMS: dict[tuple[Kind, ScopeKind], int] = {
    (Kind.SECRET, ScopeKind.ORG): 1000,  # per app
    (Kind.SECRET, ScopeKind.REPO): 100,  # per app
    (Kind.SECRET, ScopeKind.ENVIRONMENT): 100,
    (Kind.VARIABLE, ScopeKind.ORG): 1000,
    (Kind.VARIABLE, ScopeKind.REPO): 500,
    (Kind.VARIABLE, ScopeKind.ENVIRONMENT): 100,
}
MAX_ORG_SECRETS = MAX_ITEMS[Kind.SECRET, ScopeKind.ORG]
MAX_REPO_SECRETS = MAX_ITEMS[Kind.SECRET, ScopeKind.REPO]
MAX_RUN_VARIABLE_BYTES = 256 * 1024  # organisation + repository variables one run can see
_PER = {
    ScopeKind.ORG: "organisation",
    ScopeKind.REPO: "repository",
    ScopeKind.ENVIRONMENT: "environment",
}


def scope_text(scope: Scope) -> str:
    """`octo-org`, `octo-org/web`, or `environment "production" of octo-org/web`."""
    if scope.kind is ScopeKind.ENVIRONMENT:
        return f"environment {describe(scope.environment, 'name')} of {scope.name}"
    return scope.name


def count_problems(group: DesiredGroup) -> Iterator[Problem]:
    """A problem for each kind of which `group` holds more than GitHub allows."""
    for kind in (Kind.SECRET, Kind.VARIABLE):
        limit = MAX_ITEMS[kind, group.scope.kind]
        count = sum(1 for item in group.items if item.kind is kind)
        if count <= limit:
            continue
        app = "" if group.scope.kind is ScopeKind.ENVIRONMENT else f"{group.app} "
        yield Problem(
            group.location,
            format_path(group_path(group.scope, group.app)),
            f"{count} {app}{kind}s for {scope_text(group.scope)}; GitHub allows at most "
            f"{limit} per {_PER[group.scope.kind]}",
        )


def run_size_warnings(desired: DesiredState) -> tuple[Problem, ...]:
    """A warning for each repository the manifest names whose workflow runs would see more
    than 256 KB of Actions variables (names and values) from its organisation and itself.

    Organisation variables with visibility all or private are counted for every named
    repository of the organisation (as if it were private: a public one sees only `all`).
    Values are not read: inline text counts, a file its size on disk, an env value nothing.
    """
    # Sizes are summed per organisation (variables every repository sees) and per repository
    # (organisation variables selecting it, its own): linear in the manifest, where checking
    # every variable against every repository was quadratic. Each: [bytes, values not counted].
    everywhere: dict[str, list[int]] = {}
    per_repo: dict[str, list[int]] = {}
    places: dict[str, tuple[Location, str]] = {}  # where to point for each repository
    named: dict[str, str] = {}
    for group in desired.groups:  # one per scope and app, once merged
        scope = group.scope
        if scope.kind is ScopeKind.ENVIRONMENT:
            named.setdefault(scope.name.lower(), scope.name)
            continue
        variables = [i for i in group.items if i.kind is Kind.VARIABLE]
        if scope.kind is ScopeKind.REPO:
            named.setdefault(scope.name.lower(), scope.name)
            if group.app is App.ACTIONS:
                for item in variables:
                    _add(per_repo, scope.name.lower(), _size(item))
                path = format_path(group_path(scope, group.app))
                places[scope.name.lower()] = (group.location, path)
        elif group.app is App.ACTIONS:
            org = scope.name.lower()
            everywhere.setdefault(org, [0, 0])
            path = format_path(group_path(scope, group.app))
            places.setdefault(org, (group.location, path))
            for item in variables:
                size = _size(item)
                if item.visibility is not Visibility.SELECTED:
                    _add(everywhere, org, size)
                    continue
                for repo in {r.lower() for r in item.repositories or ()}:
                    _add(per_repo, f"{org}/{repo}", size)
                for repo in item.repositories or ():
                    named.setdefault(f"{scope.name}/{repo}".lower(), f"{scope.name}/{repo}")
    warnings: list[Problem] = []
    for key, repo in sorted(named.items()):
        org = key.partition("/")[0]
        base, extra = everywhere.get(org, [0, 0]), per_repo.get(key, [0, 0])
        total = base[0] + extra[0]
        if total <= MAX_RUN_VARIABLE_BYTES:
            continue
        unknown = base[1] + extra[1]
        location, path = places.get(key) or places[org]
        values = "1 value" if unknown == 1 else f"{unknown} values"
        uncounted = f"; {values} from env or missing files not counted" if unknown else ""
        warnings.append(
            Problem(
                location,
                path,
                f"the Actions variables workflow runs of {repo} can see total at least {total} "
                f"bytes (names and values{uncounted}), more than GitHub's 256 KB per run "
                f"({MAX_RUN_VARIABLE_BYTES} bytes): runs get only the variables that fit, "
                "taken in alphabetical order",
                hint="counted: its repository variables and the organisation variables with "
                "visibility all or private (as if the repository were private) or selecting it; "
                "move large values elsewhere or narrow the organisation variables' visibility",
            )
        )
    return tuple(warnings)


def _add(sums: dict[str, list[int]], key: str, size: tuple[int, bool]) -> None:
    counted = sums.setdefault(key, [0, 0])
    counted[0] += size[0]
    counted[1] += 0 if size[1] else 1


def _size(variable: DesiredItem) -> tuple[int, bool]:
    """Bytes of name and value, and whether the value's size is known without reading it."""
    name = len(variable.name.encode("utf-8"))
    source = variable.source
    if isinstance(source, InlineSource):
        return name + len(source.text.encode("utf-8")), True
    if isinstance(source, FileSource):
        try:
            info = os.stat(confined_path(source))
        except (OSError, SourceError):
            return name, False
        if stat.S_ISREG(info.st_mode):
            return name + info.st_size, True
    return name, False
