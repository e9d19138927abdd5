"""The domain model: scopes, apps, desired and live secrets. Frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


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
    # Declaration order is the plan order: organisations before repositories.
    ORG = "org"
    REPO = "repo"


_KIND_ORDER = {kind: i for i, kind in enumerate(ScopeKind)}


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: 1-based line and column in a manifest file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class EnvSource:
    var: str
    location: Location

    def describe(self) -> str:
        return f"env:{self.var}"


@dataclass(frozen=True, slots=True)
class FileSource:
    path: str  # as written, relative to `base_dir`
    base_dir: str  # the manifest file's directory: the tree the path is confined to
    location: Location

    def describe(self) -> str:
        return f"file:{self.path}"


@dataclass(frozen=True, slots=True)
class SealedSource:
    """Ciphertext already sealed to the scope's public key; safe to commit."""

    ciphertext: str = field(repr=False)
    key_id: str
    location: Location

    def describe(self) -> str:
        return f"sealed:{self.key_id}"


Source = EnvSource | FileSource | SealedSource


@dataclass(frozen=True, slots=True, eq=False)
class Scope:
    """An organisation (`octo-org`) or a repository (`octo-org/web`).

    GitHub matches both case-insensitively, so identity is the lower-cased name;
    `name` keeps the spelling the manifest used, for display.
    """

    kind: ScopeKind
    name: str

    @property
    def key(self) -> tuple[int, str]:
        return (_KIND_ORDER[self.kind], self.name.lower())

    @property
    def org(self) -> str:
        return self.name.split("/", 1)[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Scope) -> bool:
        return self.key < other.key

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class DesiredSecret:
    """One secret as the manifest wants it.

    `visibility` and `repositories` are set for organisation secrets only.
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


@dataclass(frozen=True, slots=True)
class DesiredGroup:
    """The secrets of one app in one scope, and whether unlisted live secrets are deleted."""

    scope: Scope
    app: App
    prune: bool
    secrets: tuple[DesiredSecret, ...]
    location: Location


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

    def secrets(self) -> tuple[DesiredSecret, ...]:
        return tuple(s for g in self.groups for s in g.secrets)


@dataclass(frozen=True, slots=True)
class LiveSecret:
    """One secret as GitHub reports it. `selected` holds lower-cased repository
    names and is None unless visibility is `selected`."""

    name: str
    updated_at: str
    visibility: Visibility | None = None
    selected: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class LiveGroup:
    scope: Scope
    app: App
    secrets: tuple[LiveSecret, ...]

    def by_name(self) -> dict[str, LiveSecret]:
        return {s.name.upper(): s for s in self.secrets}


@dataclass(frozen=True, slots=True)
class LiveState:
    """What GitHub has for the scopes a manifest names.

    `repo_ids` maps lower-cased `owner/repo` to GitHub's repository id, for every
    repository the manifest refers to by name.
    """

    groups: tuple[LiveGroup, ...]
    repo_ids: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
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
