"""What the world holds per scope: organisations, repositories and their deployment
environments, and their secrets and variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.sandbox.rules.names import APPS, ENVIRONMENT_APP, VARIABLE_APPS
from reconciler.sandbox.world.git import RepoGit
from reconciler.sandbox.world.issues import Issue
from reconciler.sandbox.world.keys import KeyPair


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A secret as the sandbox holds it: plaintext value, selection by repository name."""

    name: str
    value: bytes = field(repr=False)  # never in a repr or a log
    visibility: str | None
    selected: frozenset[str]
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Secret:
    name: str
    value: bytes = field(repr=False)  # never in a repr or a log
    visibility: str | None
    selected: set[int]
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class VariableRecord:
    """A variable as the sandbox holds it: plain-text value, selection by repository name
    (organisation variables only; `visibility` is None elsewhere)."""

    name: str
    value: str
    visibility: str | None
    selected: frozenset[str]
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Variable:
    name: str
    value: str
    visibility: str | None
    selected: set[int]
    created_at: str
    updated_at: str


def _no_secrets() -> dict[str, dict[str, Secret]]:
    return {a: {} for a in APPS}


def _no_variables() -> dict[str, dict[str, Variable]]:
    return {a: {} for a in VARIABLE_APPS}


@dataclass(slots=True)
class Environment:
    """A deployment environment: Actions secrets (with its own key pair) and variables.

    Stores are keyed by app like a repository's, with the one app environments have, so
    the secrets and variables rules serve all three scopes.
    """

    id: int
    repo: Repo = field(repr=False)
    name: str  # the first spelling; looked up case-insensitively
    created_at: str
    updated_at: str
    secrets: dict[str, dict[str, Secret]] = field(default_factory=lambda: {ENVIRONMENT_APP: {}})
    keys: dict[str, KeyPair] = field(default_factory=lambda: {ENVIRONMENT_APP: KeyPair()})
    variables: dict[str, dict[str, Variable]] = field(default_factory=lambda: {ENVIRONMENT_APP: {}})


@dataclass(slots=True)
class Repo:
    id: int
    org: Org
    name: str
    private: bool
    created_at: str
    secrets: dict[str, dict[str, Secret]] = field(default_factory=_no_secrets)
    keys: dict[str, KeyPair] = field(default_factory=lambda: {a: KeyPair() for a in APPS})
    git: RepoGit = field(default_factory=RepoGit)
    issues: dict[int, Issue] = field(default_factory=dict)
    variables: dict[str, dict[str, Variable]] = field(default_factory=_no_variables)
    environments: dict[str, Environment] = field(default_factory=dict)  # by lower-cased name

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
    secrets: dict[str, dict[str, Secret]] = field(default_factory=_no_secrets)
    keys: dict[str, KeyPair] = field(default_factory=lambda: {a: KeyPair() for a in APPS})
    by_id: dict[int, Repo] = field(default_factory=dict)  # kept with `repos` by add_repo
    variables: dict[str, dict[str, Variable]] = field(default_factory=_no_variables)

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return self.by_id.get(repo_id)


Scope = Org | Repo
# Whatever holds secrets and variables.
Holder = Org | Repo | Environment
# An organisation secret or variable: what its visibility and selected repositories rules see.
Shared = Secret | Variable
