"""What the world holds per scope: organisations and repositories, and their secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.sandbox.rules.names import APPS
from reconciler.sandbox.world.git import RepoGit
from reconciler.sandbox.world.issues import Issue
from reconciler.sandbox.world.keys import KeyPair


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A secret as the sandbox holds it: plaintext value, selection by repository name."""

    name: str
    value: bytes
    visibility: str | None
    selected: frozenset[str]
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Secret:
    name: str
    value: bytes
    visibility: str | None
    selected: set[int]
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Repo:
    id: int
    org: Org
    name: str
    private: bool
    created_at: str
    secrets: dict[str, dict[str, Secret]] = field(default_factory=lambda: {a: {} for a in APPS})
    keys: dict[str, KeyPair] = field(default_factory=lambda: {a: KeyPair() for a in APPS})
    git: RepoGit = field(default_factory=RepoGit)
    issues: dict[int, Issue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.git.branches:
            self.git = RepoGit.initial(f"{self.id}", self.created_at)

    @property
    def full_name(self) -> str:
        return f"{self.org.login}/{self.name}"


@dataclass(slots=True)
class Org:
    id: int
    login: str
    repos: dict[str, Repo] = field(default_factory=dict)
    secrets: dict[str, dict[str, Secret]] = field(default_factory=lambda: {a: {} for a in APPS})
    keys: dict[str, KeyPair] = field(default_factory=lambda: {a: KeyPair() for a in APPS})
    by_id: dict[int, Repo] = field(default_factory=dict)  # kept with `repos` by add_repo

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return self.by_id.get(repo_id)


Scope = Org | Repo
