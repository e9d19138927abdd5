"""The Python API for variables, deployment environments and environment secrets.

`Sandbox` inherits these methods; they work on `self.world` under its lock and raise
`ApiError` the way the HTTP side would (404 for an unknown repository or environment, 422
for a bad name or a limit reached). `scope` is `"org"` or `"org/repo"`; `repo` is
`"org/repo"`; environment names are matched case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.sandbox.rules.names import ENVIRONMENT_APP
from reconciler.sandbox.world.scopes import Environment, Org, Repo, SecretRecord, VariableRecord
from reconciler.sandbox.world.state import World


class Settings:
    world: World

    def _repository(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return self.world.repo(owner, name)

    def _environment(self, repo: str, environment: str) -> Environment:
        return self.world.environment(self._repository(repo), environment)

    def _sharing(
        self, target: Org | Repo, visibility: str | None, selected: Iterable[str] | None
    ) -> tuple[str | None, list[int] | None]:
        """An organisation item's visibility (default `all`) and selected repository ids by
        name; a repository's item has neither. For secrets and variables alike."""
        if not isinstance(target, Org):
            return visibility, None
        ids = None if selected is None else [self.world.repo(target.login, n).id for n in selected]
        return visibility or "all", ids

    # -- organisation and repository variables --------------------------------------------

    def put_variable(
        self,
        scope: str,
        app: str,
        name: str,
        value: str,
        *,
        visibility: str | None = None,
        selected: Iterable[str] | None = None,
    ) -> None:
        """Create or update; org variables default to visibility `all`, `selected` names
        repositories of the organisation."""
        with self.world.lock:
            target = self.world.scope(scope)
            visibility, ids = self._sharing(target, visibility, selected)
            self.world.put_variable(target, app, name, value, visibility=visibility, selected=ids)

    def delete_variable(self, scope: str, app: str, name: str) -> None:
        with self.world.lock:
            self.world.delete_variable(self.world.scope(scope), app, name)

    def variables(self, scope: str, app: str) -> dict[str, VariableRecord]:
        with self.world.lock:
            target = self.world.scope(scope)
            found = self.world.variables(target, app)
            return {v.name: self.world.variable_record(target, v) for v in found}

    # -- environments ----------------------------------------------------------------------

    def create_environment(self, repo: str, name: str) -> None:
        """Create the environment (no protection rules); an existing one is only touched."""
        with self.world.lock:
            self.world.put_environment(self._repository(repo), name)

    def delete_environment(self, repo: str, name: str) -> None:
        with self.world.lock:
            self.world.delete_environment(self._repository(repo), name)

    def environments(self, repo: str) -> list[str]:
        """The repository's environment names as first spelled, sorted case-insensitively."""
        with self.world.lock:
            return [e.name for e in self.world.environments(self._repository(repo))]

    # -- an environment's secrets and variables ---------------------------------------------

    def put_environment_secret(self, repo: str, environment: str, name: str, value: bytes) -> None:
        """Store a plaintext value directly in an existing environment."""
        with self.world.lock:
            env = self._environment(repo, environment)
            self.world.put_secret(env, ENVIRONMENT_APP, name, value)

    def delete_environment_secret(self, repo: str, environment: str, name: str) -> None:
        with self.world.lock:
            env = self._environment(repo, environment)
            self.world.delete_secret(env, ENVIRONMENT_APP, name)

    def environment_secrets(self, repo: str, environment: str) -> dict[str, SecretRecord]:
        with self.world.lock:
            env = self._environment(repo, environment)
            found = self.world.secrets(env, ENVIRONMENT_APP)
            return {s.name: self.world.record(env, s) for s in found}

    def environment_public_key(self, repo: str, environment: str) -> tuple[str, str]:
        """The environment's own (key_id, base64 public key)."""
        with self.world.lock:
            pair = self._environment(repo, environment).keys[ENVIRONMENT_APP]
            return pair.key_id, pair.public_b64

    def rotate_environment_key(self, repo: str, environment: str) -> tuple[str, str]:
        """A new key pair for the environment; values sealed for the old key_id get a 422."""
        with self.world.lock:
            self._environment(repo, environment).keys[ENVIRONMENT_APP].rotate()
        return self.environment_public_key(repo, environment)

    def put_environment_variable(self, repo: str, environment: str, name: str, value: str) -> None:
        with self.world.lock:
            env = self._environment(repo, environment)
            self.world.put_variable(env, ENVIRONMENT_APP, name, value)

    def delete_environment_variable(self, repo: str, environment: str, name: str) -> None:
        with self.world.lock:
            env = self._environment(repo, environment)
            self.world.delete_variable(env, ENVIRONMENT_APP, name)

    def environment_variables(self, repo: str, environment: str) -> dict[str, VariableRecord]:
        with self.world.lock:
            env = self._environment(repo, environment)
            found = self.world.variables(env, ENVIRONMENT_APP)
            return {v.name: self.world.variable_record(env, v) for v in found}
