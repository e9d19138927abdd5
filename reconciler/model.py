"""The domain model: scopes, apps, desired and live secrets and variables. Frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

# Re-exported: the model is where callers find every domain type.
from reconciler.value_sources import (
    AgeSource,
    AwsSource,
    CommandSource,
    EnvSource,
    FileSource,
    InlineSource,
    Location,
    SealedSource,
    Source,
)

__all__ = [
    "VARIABLE_APPS",
    "AgeSource",
    "App",
    "AwsSource",
    "CommandSource",
    "DesiredGroup",
    "DesiredItem",
    "DesiredState",
    "DriftPolicy",
    "EnvSource",
    "FileSource",
    "InlineSource",
    "Kind",
    "LiveGroup",
    "LiveItem",
    "LiveState",
    "Location",
    "PublicKey",
    "Scope",
    "ScopeKind",
    "SealedSource",
    "Settings",
    "Source",
    "Visibility",
]


class App(StrEnum):
    """A GitHub product that stores secrets; the value is its URL path segment."""

    ACTIONS = "actions"
    AGENTS = "agents"
    CODESPACES = "codespaces"
    DEPENDABOT = "dependabot"


class Visibility(StrEnum):
    ALL = "all"
    PRIVATE = "private"
    SELECTED = "selected"


class DriftPolicy(StrEnum):
    """What to do with a secret changed outside reconciler (see the value ledger)."""

    OVERWRITE = "overwrite"
    IGNORE = "ignore"
    FAIL = "fail"


class ScopeKind(StrEnum):
    # Declaration order is the plan order: organisations before repositories before their
    # deployment environments.
    ORG = "org"
    REPO = "repo"
    ENVIRONMENT = "environment"


class Kind(StrEnum):
    """What a change is about. Declaration order is the order inside a scope: an environment
    is created before the secrets and variables written into it."""

    ENVIRONMENT = "environment"  # a deployment environment itself (created, never deleted)
    SECRET = "secret"  # write-only: GitHub never shows the value
    VARIABLE = "variable"  # plain text: GitHub shows the value, so it is compared directly


# Which apps have variables; Dependabot and Codespaces have secrets only.
VARIABLE_APPS = frozenset({App.ACTIONS, App.AGENTS})


_KIND_ORDER = {kind: i for i, kind in enumerate(ScopeKind)}


@dataclass(frozen=True, slots=True, eq=False)
class Scope:
    """An organisation (`octo-org`), a repository (`octo-org/web`) or a repository's
    deployment environment (name `octo-org/web`, environment `production`).

    GitHub matches all three case-insensitively, so identity is the lower-cased name;
    `name` and `environment` keep the spelling the manifest used, for display.
    """

    kind: ScopeKind
    name: str
    environment: str = ""  # set for ScopeKind.ENVIRONMENT only

    @property
    def key(self) -> tuple[int, str, str]:
        return (_KIND_ORDER[self.kind], self.name.lower(), self.environment.lower())

    @property
    def org(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def repository(self) -> Scope:
        """The repository an environment belongs to (a repository is its own)."""
        return Scope(ScopeKind.REPO, self.name) if self.kind is ScopeKind.ENVIRONMENT else self

    @classmethod
    def of_environment(cls, repository: str, environment: str) -> Scope:
        return cls(ScopeKind.ENVIRONMENT, repository, environment)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Scope) -> bool:
        return self.key < other.key

    def __str__(self) -> str:
        # owner/repo/environment: what `--target` takes (environment names may hold "/").
        if self.kind is ScopeKind.ENVIRONMENT:
            return f"{self.name}/{self.environment}"
        return self.name


@dataclass(frozen=True, slots=True)
class DesiredItem:
    """One secret or variable as the manifest wants it (`kind` is never ENVIRONMENT).

    `visibility` and `repositories` are set for organisation items only.
    `repositories` holds bare repository names inside the organisation; it is
    None unless visibility is `selected`. `repository_locations` parallels it.
    """

    scope: Scope
    app: App
    name: str  # upper-cased: GitHub stores names upper-case
    source: Source
    location: Location
    visibility: Visibility | None = None
    repositories: tuple[str, ...] | None = None
    repository_locations: tuple[Location, ...] = ()
    kind: Kind = Kind.SECRET


@dataclass(frozen=True, slots=True)
class DesiredGroup:
    """The secrets and variables of one app in one scope, and whether unlisted live ones
    (of either kind) are deleted."""

    scope: Scope
    app: App
    prune: bool
    items: tuple[DesiredItem, ...]
    location: Location
    # The kinds the manifest writes here (a `secrets:` or `variables:` key, even empty): the
    # ones read, reported when unlisted, and pruned. A `prune: true` next to `secrets:` alone
    # never deletes variables nobody declared.
    kinds: frozenset[Kind] = frozenset({Kind.SECRET})

    def manages(self, kind: Kind) -> bool:
        return kind in self.kinds or any(item.kind is kind for item in self.items)


@dataclass(frozen=True, slots=True)
class Settings:
    """Manifest-level settings, merged over all manifest files."""

    allow_env: tuple[str, ...] = ()
    drift: DriftPolicy | None = None  # None: not set in any manifest (overwrite)
    # Where each `allow_env` entry was written (first occurrence), for the plan's notice when
    # an entry admits a well-known credential by its exact name.
    allow_env_at: tuple[tuple[str, Location], ...] = ()


@dataclass(frozen=True, slots=True)
class DesiredState:
    groups: tuple[DesiredGroup, ...]
    settings: Settings = field(default_factory=Settings)
    files: tuple[str, ...] = ()

    def items(self) -> tuple[DesiredItem, ...]:
        return tuple(s for g in self.groups for s in g.items)

    def secrets(self) -> tuple[DesiredItem, ...]:
        return tuple(s for s in self.items() if s.kind is Kind.SECRET)

    def environments(self) -> tuple[Scope, ...]:
        """Every deployment environment the manifest writes into, in plan order."""
        envs = {g.scope for g in self.groups if g.scope.kind is ScopeKind.ENVIRONMENT}
        return tuple(sorted(envs))


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One secret or variable as GitHub reports it. `selected` holds lower-cased repository
    names and is None unless visibility is `selected`; `value` is a variable's value (None
    for secrets: GitHub never shows theirs)."""

    name: str
    updated_at: str
    visibility: Visibility | None = None
    selected: frozenset[str] | None = None
    kind: Kind = Kind.SECRET
    value: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class LiveGroup:
    scope: Scope
    app: App
    items: tuple[LiveItem, ...]

    def by_name(self, kind: Kind = Kind.SECRET) -> dict[str, LiveItem]:
        return {s.name.upper(): s for s in self.items if s.kind is kind}


@dataclass(frozen=True, slots=True)
class LiveState:
    """What GitHub has for the scopes a manifest names.

    `repo_ids` maps lower-cased `owner/repo` to GitHub's repository id, for every
    repository the manifest refers to by name. `environments` holds the deployment
    environments the manifest names that exist (the others are created by the plan).
    """

    groups: tuple[LiveGroup, ...]
    repo_ids: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    environments: frozenset[Scope] = frozenset()
    _index: Mapping[tuple[Scope, App], LiveGroup] = field(
        init=False, repr=False, compare=False, default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        # Derived once: diff looks a group up per desired group.
        index = MappingProxyType({(g.scope, g.app): g for g in self.groups})
        object.__setattr__(self, "_index", index)

    def group(self, scope: Scope, app: App) -> LiveGroup:
        return self._index.get((scope, app)) or LiveGroup(scope, app, ())


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A scope's libsodium public key, as GitHub serves it for sealing values."""

    key_id: str
    key: str


@dataclass(frozen=True, slots=True)
class ApiCost:
    """What reading live state cost: requests sent, how many GitHub answered `304 Not Modified`
    from the conditional-request cache (those do not count against the primary rate limit),
    and the primary budget GitHub last reported (None when no answer carried it)."""

    requests: int = 0
    not_modified: int = 0
    rate_remaining: int | None = None
    rate_limit: int | None = None

    @property
    def counted(self) -> int:
        return self.requests - self.not_modified

    def document(self) -> dict[str, int | None]:
        return {
            "requests_made": self.requests,
            "not_modified": self.not_modified,
            "rate_limit_counted": self.counted,
            "rate_limit_remaining": self.rate_remaining,
        }


NO_COST = ApiCost()


def selection_digest(names: Iterable[str]) -> str:
    """A selection's identity, case-insensitive and order-free: what the ledger records of the
    repositories a `selected` secret was left with."""
    import hashlib

    text = "\n".join(sorted({n.lower() for n in names}))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
