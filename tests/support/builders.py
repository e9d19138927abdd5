"""Small constructors for model values in unit tests (no files, no network)."""

from __future__ import annotations

from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    EnvSource,
    InlineSource,
    Kind,
    LiveGroup,
    LiveItem,
    Location,
    Scope,
    ScopeKind,
    Visibility,
)

LOC = Location("m.yaml", 1, 1)
ORG = Scope(ScopeKind.ORG, "octo-org")
REPO = Scope(ScopeKind.REPO, "octo-org/web")


def secret(
    name: str,
    *,
    scope: Scope = ORG,
    app: App = App.DEPENDABOT,
    visibility: Visibility | None = Visibility.PRIVATE,
    repos: tuple[str, ...] | None = None,
    var: str = "X_TOKEN",
) -> DesiredItem:
    if scope.kind is ScopeKind.REPO:
        visibility = None
    return DesiredItem(
        scope,
        app,
        name,
        EnvSource(var, LOC),
        LOC,
        visibility,
        repos,
        tuple(LOC for _ in repos or ()),
    )


def group(
    *secrets: DesiredItem, scope: Scope = ORG, app: App = App.DEPENDABOT, prune: bool = False
) -> DesiredGroup:
    return DesiredGroup(scope, app, prune, secrets, LOC)


def live(
    name: str,
    visibility: Visibility | None = Visibility.PRIVATE,
    selected: frozenset[str] | None = None,
    updated_at: str = "2026-01-01T00:00:00Z",
) -> LiveItem:
    return LiveItem(name, updated_at, visibility, selected)


def live_group(*secrets: LiveItem, scope: Scope = ORG, app: App = App.DEPENDABOT) -> LiveGroup:
    return LiveGroup(scope, app, secrets)


ENV_SCOPE = Scope.of_environment("octo-org/web", "production")


def variable(
    name: str,
    value: str = "v",
    *,
    scope: Scope = ORG,
    app: App = App.ACTIONS,
    visibility: Visibility | None = Visibility.PRIVATE,
    repos: tuple[str, ...] | None = None,
) -> DesiredItem:
    """An inline variable (organisation ones private unless told)."""
    if scope.kind is not ScopeKind.ORG:
        visibility = None
    return DesiredItem(
        scope,
        app,
        name,
        InlineSource(value, LOC),
        LOC,
        visibility,
        repos,
        tuple(LOC for _ in repos or ()),
        kind=Kind.VARIABLE,
    )


def live_variable(
    name: str,
    value: str,
    visibility: Visibility | None = Visibility.PRIVATE,
    selected: frozenset[str] | None = None,
) -> LiveItem:
    return LiveItem(
        name, "2026-01-01T00:00:00Z", visibility, selected, kind=Kind.VARIABLE, value=value
    )
