"""Reading the chosen scopes' secrets for `reconciler import` (with one progress line per
scope on stderr), and turning what was read into a DesiredState of `env` sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    EnvSource,
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
    """One secret as GitHub lists it; `repositories` only for `visibility: selected`."""

    scope: Scope
    app: App
    name: str  # upper-cased
    visibility: Visibility | None  # org secrets only
    repositories: tuple[str, ...] | None

    @property
    def key(self) -> SecretKey:
        return (self.scope, self.app, self.name)


def read_scopes(
    client: GitHubClient,
    pool: Executor,
    scopes: Sequence[Scope],
    apps: Sequence[App],
    progress: TextIO,
) -> list[Found]:
    """Every secret of `apps` in `scopes`, in that order; a line per scope once it is read."""
    jobs = [(scope, app) for scope in scopes for app in apps]
    listed = []
    for i, ((scope, app), items) in enumerate(
        zip(jobs, pool.map(lambda j: client.secrets.list(j[0], j[1]), jobs), strict=True)
    ):
        listed.append(items)
        if app is apps[-1]:  # the scope's last app: it has been read
            count = sum(len(x) for x in listed[-len(apps) :])
            n = i // len(apps) + 1
            plural = "" if count == 1 else "s"
            progress.write(f"read {n}/{len(scopes)} {scope.name}: {count} secret{plural}\n")
            progress.flush()
    selected = [
        (scope, app, item.name.upper())
        for (scope, app), items in zip(jobs, listed, strict=True)
        for item in items
        if item.visibility is Visibility.SELECTED
    ]
    selections = pool.map(
        lambda j: sorted(r.name for r in client.secrets.selected_repositories(*j)), selected
    )
    chosen = dict(zip(selected, selections, strict=True))
    found: list[Found] = []
    for (scope, app), items in zip(jobs, listed, strict=True):
        for item in sorted(items, key=lambda i: i.name.upper()):
            name = item.name.upper()
            visibility = item.visibility if scope.kind is ScopeKind.ORG else None
            repos = chosen.get((scope, app, name)) if visibility is Visibility.SELECTED else None
            found.append(
                Found(scope, app, name, visibility, tuple(repos) if repos is not None else None)
            )
    return found


def build_state(
    found: Sequence[Found], names: Mapping[SecretKey, str]
) -> tuple[DesiredState, tuple[SecretKey, ...]]:
    """The manifest's desired state (each secret reading its variable) and the secrets in
    the order the manifest lists them."""
    from reconciler.adoption.env_names import extra_allow_env

    groups: dict[tuple[Scope, App], list[DesiredItem]] = {}
    for f in found:
        source = EnvSource(names[f.key], _HERE)
        secret = DesiredItem(f.scope, f.app, f.name, source, _HERE, f.visibility, f.repositories)
        groups.setdefault((f.scope, f.app), []).append(secret)
    desired = DesiredState(
        tuple(
            DesiredGroup(scope, app, False, tuple(secrets), _HERE)
            for (scope, app), secrets in groups.items()
        ),
        Settings(allow_env=extra_allow_env(names.values())),
    )
    order = tuple(f.key for f in found)
    return desired, order
