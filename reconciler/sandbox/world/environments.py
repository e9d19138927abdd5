"""Deployment environments of a repository: names matched case-insensitively and kept in
their first spelling, ids from the world's counter, each with its own secrets key pair.

`World` inherits `EnvironmentState`; the caller holds `World.lock`.
"""

from __future__ import annotations

from reconciler.sandbox.rules.errors import DOCS, not_found
from reconciler.sandbox.rules.names import check_environment_name
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.scopes import Environment, Repo


class EnvironmentState:
    clock: Clock
    _next_environment_id: int

    def environments(self, repo: Repo) -> list[Environment]:
        return sorted(repo.environments.values(), key=lambda e: e.name.lower())

    def environment(self, repo: Repo, name: str, doc: str = DOCS) -> Environment:
        found = repo.environments.get(name.lower())
        if found is None:
            raise not_found(doc)
        return found

    def put_environment(self, repo: Repo, name: str, doc: str = DOCS) -> tuple[Environment, bool]:
        """Create the environment, or touch an existing one; True when created."""
        existing = repo.environments.get(name.lower())
        if existing is not None:
            existing.updated_at = self.clock.tick()
            return existing, False
        check_environment_name(name, doc)
        now = self.clock.tick()
        created = Environment(self._next_environment_id, repo, name, now, now)
        self._next_environment_id += 1
        repo.environments[name.lower()] = created
        return created, True

    def restore_environment(
        self,
        repo: Repo,
        name: str,
        *,
        env_id: int | None,
        created_at: str | None,
        updated_at: str | None,
    ) -> Environment:
        """Create an environment as dumped (seed loading): its id and timestamps kept."""
        check_environment_name(name)
        if name.lower() in repo.environments:
            raise ValueError(f"environment {name!r} is given twice in {repo.full_name}")
        if env_id is None:
            env_id = self._next_environment_id
        if updated_at is None:
            updated_at = self.clock.tick()
        else:
            self.clock.observe(updated_at)
        created = Environment(env_id, repo, name, created_at or updated_at, updated_at)
        self._next_environment_id = max(self._next_environment_id, env_id + 1)
        repo.environments[name.lower()] = created
        return created

    def delete_environment(self, repo: Repo, name: str, doc: str = DOCS) -> None:
        """Delete an environment with its secrets and variables."""
        found = self.environment(repo, name, doc)
        del repo.environments[found.name.lower()]
