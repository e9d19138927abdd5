"""Reading the chosen scopes' secrets, variables and environments for `reconciler import`
(with one progress line per scope on stderr), and turning what was read into a DesiredState:
secrets read `env` sources, variables keep their values inline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TextIO

from reconciler.model import (
    VARIABLE_APPS,
    App,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    EnvSource,
    InlineSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    Settings,
    Visibility,
)

if TYPE_CHECKING:
    from reconciler.adoption.env_names import SecretKey
    from reconciler.github.client import GitHubClient

_HERE = Location("<import>", 0, 0)


@dataclass(frozen=True, slots=True)
class Found:
    """One secret or variable as GitHub lists it; `repositories` only for `visibility:
    selected`, `value` only for variables (GitHub shows theirs)."""

    scope: Scope
    app: App
    name: str  # upper-cased
    visibility: Visibility | None  # org items only
    repositories: tuple[str, ...] | None
    kind: Kind = Kind.SECRET
    value: str | None = field(default=None, repr=False)

    @property
    def key(self) -> SecretKey:
        return (self.scope, self.app, self.name)


Job = tuple[Scope, App, Kind]


def _jobs(scopes: Sequence[Scope], apps: Sequence[App]) -> list[Job]:
    """Every (scope, app, kind) listing: variables where the app and scope have them (an
    environment's belong to Actions)."""
    jobs: list[Job] = []
    for scope in scopes:
        scope_apps = [App.ACTIONS] if scope.kind is ScopeKind.ENVIRONMENT else apps
        for app in scope_apps:
            jobs.append((scope, app, Kind.SECRET))
            if app in VARIABLE_APPS:
                jobs.append((scope, app, Kind.VARIABLE))
    return jobs


def _list(client: GitHubClient, job: Job) -> list[Found]:
    scope, app, kind = job
    org = scope.kind is ScopeKind.ORG
    if kind is Kind.VARIABLE:
        return [
            Found(scope, app, v.name.upper(), v.visibility if org else None, None, kind, v.value)
            for v in client.variables.list(scope, app)
        ]
    return [
        Found(scope, app, s.name.upper(), s.visibility if org else None, None)
        for s in client.secrets.list(scope, app)
    ]


def _selection(client: GitHubClient, found: Found) -> tuple[str, ...]:
    repos = client.of_kind(found.kind).selected_repositories(found.scope, found.app, found.name)
    return tuple(sorted(r.name for r in repos))


def environment_scopes(client: GitHubClient, pool: Executor, repos: Sequence[Scope]) -> list[Scope]:
    """Every deployment environment of `repos`, in repository order: one listing each."""
    listed = pool.map(lambda r: client.environments.names(r.name), repos)
    return [
        Scope.of_environment(repo.name, name)
        for repo, names in zip(repos, listed, strict=True)
        for name in sorted(names, key=str.lower)
    ]


def read_scopes(
    client: GitHubClient,
    pool: Executor,
    scopes: Sequence[Scope],
    apps: Sequence[App],
    progress: TextIO,
) -> list[Found]:
    """Every secret and variable of `apps` in `scopes`, in that order; a line per scope once
    it is read."""
    jobs = _jobs(scopes, apps)
    per_scope: dict[Scope, list[Found]] = {scope: [] for scope in scopes}
    remaining = {scope: sum(1 for j in jobs if j[0] == scope) for scope in scopes}
    done = 0
    for job, items in zip(jobs, pool.map(lambda j: _list(client, j), jobs), strict=True):
        scope = job[0]
        per_scope[scope] += items
        remaining[scope] -= 1
        if not remaining[scope]:  # the scope's last listing: it has been read
            done += 1
            progress.write(f"read {done}/{len(scopes)} {scope}: {_tally(per_scope[scope])}\n")
            progress.flush()
    listed = [f for scope in scopes for f in per_scope[scope]]
    selected = [f for f in listed if f.visibility is Visibility.SELECTED]
    chosen = dict(
        zip(
            [id(f) for f in selected],
            pool.map(lambda f: _selection(client, f), selected),
            strict=True,
        )
    )
    ordered = sorted(listed, key=lambda f: (scopes.index(f.scope), f.kind.value, f.name))
    return [replace(f, repositories=chosen[id(f)]) if id(f) in chosen else f for f in ordered]


def _tally(found: Sequence[Found]) -> str:
    secrets = sum(1 for f in found if f.kind is Kind.SECRET)
    variables = len(found) - secrets
    text = f"{secrets} secret{'' if secrets == 1 else 's'}"
    return text + (f", {variables} variable{'' if variables == 1 else 's'}" if variables else "")


def build_state(
    found: Sequence[Found], names: Mapping[SecretKey, str]
) -> tuple[DesiredState, tuple[SecretKey, ...]]:
    """The manifest's desired state (each secret reading its environment variable, each
    variable's value written inline) and the secrets in the order the manifest lists them."""
    from reconciler.adoption.env_names import extra_allow_env

    groups: dict[tuple[Scope, App], list[DesiredItem]] = {}
    for f in found:
        source: EnvSource | InlineSource = (
            InlineSource(f.value or "", _HERE)
            if f.kind is Kind.VARIABLE
            else EnvSource(names[f.key], _HERE)
        )
        item = DesiredItem(
            f.scope, f.app, f.name, source, _HERE, f.visibility, f.repositories, kind=f.kind
        )
        groups.setdefault((f.scope, f.app), []).append(item)
    desired = DesiredState(
        tuple(
            DesiredGroup(scope, app, False, tuple(items), _HERE, _kinds(items))
            for (scope, app), items in groups.items()
        ),
        Settings(allow_env=extra_allow_env(names.values())),
    )
    order = tuple(f.key for f in found if f.kind is Kind.SECRET)
    return desired, order


def _kinds(items: Sequence[DesiredItem]) -> frozenset[Kind]:
    return frozenset(item.kind for item in items)
