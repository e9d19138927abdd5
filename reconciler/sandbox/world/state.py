"""`World`: organisations, repositories, their environments, secrets and variables, one
lock, the clock, and the ids it hands out.

Names are matched case-insensitively (GitHub does) and answered in their canonical
spelling. Every method raises `ApiError` with the status GitHub would send, so the
HTTP layer and the Python inspection API share one set of rules. The caller holds
`World.lock` around anything that must be atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from reconciler.sandbox.rules.errors import DOCS, invalid, not_found
from reconciler.sandbox.rules.limits import MAX_ENVIRONMENT_SECRETS
from reconciler.sandbox.rules.names import check_app, check_secret_name
from reconciler.sandbox.world import sharing
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.environments import EnvironmentState
from reconciler.sandbox.world.github_apps import AppRegistry
from reconciler.sandbox.world.scopes import (
    Environment,
    Holder,
    Org,
    Repo,
    Scope,
    Secret,
    SecretRecord,
    Shared,
)
from reconciler.sandbox.world.variables import VariableState

_FIRST_REPO_ID = 1296269  # the docs' Hello-World id, so ids look familiar
_FIRST_ORG_ID = 9919
_FIRST_COMMENT_ID = 1_000_001
_FIRST_ENVIRONMENT_ID = 56780428  # the docs' example environment id


class World(VariableState, EnvironmentState):
    """Secrets here; variables and environments in the `VariableState` and
    `EnvironmentState` mixins, which share this lock, clock and id counters."""

    def __init__(self, clock: Clock, *, selection_bumps_updated_at: bool = True) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.selection_bumps_updated_at = selection_bumps_updated_at
        self.orgs: dict[str, Org] = {}
        self._next_repo_id = _FIRST_REPO_ID
        self._next_org_id = _FIRST_ORG_ID
        self._next_comment_id = _FIRST_COMMENT_ID
        self._next_environment_id = _FIRST_ENVIRONMENT_ID
        self.apps = AppRegistry()

    def next_comment_id(self) -> int:
        with self.lock:
            self._next_comment_id += 1
            return self._next_comment_id - 1

    def observe_comment_id(self, comment_id: int) -> None:
        """Never hand out `comment_id` again (a restored comment)."""
        with self.lock:
            self._next_comment_id = max(self._next_comment_id, comment_id + 1)

    # -- organisations and repositories ---------------------------------------------------

    def add_org(self, login: str) -> Org:
        with self.lock:
            existing = self.orgs.get(login.lower())
            if existing is not None:
                return existing
            org = Org(id=self._next_org_id, login=login)
            self._next_org_id += 1
            self.orgs[login.lower()] = org
            return org

    def add_repo(
        self, full_name: str, *, private: bool = False, repo_id: int | None = None
    ) -> Repo:
        owner, sep, name = full_name.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise ValueError(f"repository must be 'owner/name', got {full_name!r}")
        with self.lock:
            org = self.add_org(owner)
            existing = org.repos.get(name.lower())
            if existing is not None:
                return existing
            if repo_id is None:
                repo_id = self._next_repo_id
            elif any(r.id == repo_id for o in self.orgs.values() for r in o.repos.values()):
                raise ValueError(f"repository id {repo_id} is already taken")
            repo = Repo(repo_id, org, name, private, self.clock.peek())
            self._next_repo_id = max(self._next_repo_id, repo_id + 1)
            org.repos[name.lower()] = repo
            org.by_id[repo.id] = repo
            return repo

    def org(self, login: str) -> Org:
        found = self.orgs.get(login.lower())
        if found is None:
            raise not_found()
        return found

    def repo(self, owner: str, name: str) -> Repo:
        found = self.org(owner).repos.get(name.lower())
        if found is None:
            raise not_found()
        return found

    def scope(self, ref: str) -> Scope:
        """`octo-org` is an organisation, `octo-org/web` a repository."""
        owner, sep, name = ref.partition("/")
        return self.repo(owner, name) if sep else self.org(owner)

    # -- secrets --------------------------------------------------------------------------

    def secrets(self, scope: Holder, app: str) -> list[Secret]:
        return sorted(scope.secrets[check_app(app)].values(), key=lambda s: s.name)

    def secret(self, scope: Holder, app: str, name: str, doc: str = DOCS) -> Secret:
        found = scope.secrets[check_app(app)].get(name.upper())
        if found is None:
            raise not_found(doc)
        return found

    def repo_ids(self, org: Org, ids: Iterable[int], doc: str = DOCS) -> set[int]:
        return sharing.repo_ids(org, ids, doc)

    def put_secret(
        self,
        scope: Holder,
        app: str,
        name: str,
        value: bytes | None,
        *,
        visibility: str | None = None,
        selected: Iterable[int] | None = None,
        doc: str = DOCS,
    ) -> bool:
        """Create or update; True when created. `value=None` keeps the stored value."""
        upper = check_secret_name(name, doc)
        store = scope.secrets[check_app(app)]
        existing = store.get(upper)
        if isinstance(scope, Org):
            visibility = sharing.org_visibility(existing, visibility, selected, doc)
            chosen = sharing.selection(scope, existing, visibility, selected, doc)
        elif visibility is not None or selected is not None:
            raise invalid("Repository secrets have no visibility or selected repositories.", doc)
        else:
            chosen = set()
        if existing is None:
            if value is None:
                raise invalid('"encrypted_value" wasn\'t supplied.', doc)
            if isinstance(scope, Environment) and len(store) >= MAX_ENVIRONMENT_SECRETS:
                raise invalid(
                    f"An environment can have at most {MAX_ENVIRONMENT_SECRETS} secrets.", doc
                )
            now = self.clock.tick()
            store[upper] = Secret(upper, value, visibility, chosen, now, now)
            return True
        if value is not None:
            existing.value = value
        existing.visibility = visibility
        existing.selected = chosen
        existing.updated_at = self.clock.tick()
        return False

    def restore_secret(self, scope: Holder, app: str, secret: Secret) -> None:
        """Put a secret back exactly as dumped, timestamps included (seed loading)."""
        check_secret_name(secret.name)
        scope.secrets[check_app(app)][secret.name.upper()] = secret
        self.clock.observe(secret.updated_at)

    def delete_secret(self, scope: Holder, app: str, name: str, doc: str = DOCS) -> None:
        self.secret(scope, app, name, doc)
        del scope.secrets[app][name.upper()]

    # -- selected repositories ------------------------------------------------------------

    def _selected_secret(self, org: Org, app: str, name: str, doc: str) -> Secret:
        found = self.secret(org, app, name, doc)
        sharing.require_selected(found, "Secret", doc)
        return found

    def selected_repos(self, org: Org, app: str, name: str, doc: str = DOCS) -> list[Repo]:
        return sharing.selected_repos(org, self._selected_secret(org, app, name, doc))

    def set_selected(
        self, org: Org, app: str, name: str, ids: Iterable[int], doc: str = DOCS
    ) -> None:
        found = self._selected_secret(org, app, name, doc)
        self._write_selection(found, self.repo_ids(org, ids, doc))

    def add_selected(self, org: Org, app: str, name: str, repo_id: int, doc: str = DOCS) -> None:
        found = self._selected_secret(org, app, name, doc)
        self._write_selection(found, found.selected | self.repo_ids(org, [repo_id], doc))

    def remove_selected(self, org: Org, app: str, name: str, repo_id: int, doc: str = DOCS) -> None:
        found = self._selected_secret(org, app, name, doc)
        self.repo_ids(org, [repo_id], doc)
        self._write_selection(found, found.selected - {repo_id})

    def _write_selection(self, found: Shared, chosen: set[int]) -> None:
        sharing.write_selection(found, chosen, self.clock, self.selection_bumps_updated_at)

    def org_secrets_for(self, repo: Repo, app: str) -> list[Secret]:
        """Organisation secrets this repository can use (`.../organization-secrets`)."""
        return [s for s in self.secrets(repo.org, app) if sharing.visible_to(repo, s)]

    def record(self, scope: Holder, secret: Secret) -> SecretRecord:
        names: frozenset[str] = frozenset()
        if isinstance(scope, Org):
            names = sharing.selected_names(scope, secret)
        return SecretRecord(
            secret.name,
            secret.value,
            secret.visibility,
            names,
            secret.created_at,
            secret.updated_at,
        )
