"""Variables of organisations, repositories and environments (Actions; agents for the first
two): plain-text values GitHub returns on read, names upper-cased and matched
case-insensitively, in a namespace apart from secrets.

`World` inherits `VariableState`; the caller holds `World.lock`.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.sandbox.rules.errors import DOCS, ApiError, invalid, not_found
from reconciler.sandbox.rules.limits import MAX_VARIABLE_VALUE, MAX_VARIABLES
from reconciler.sandbox.rules.names import check_variable_name
from reconciler.sandbox.world import sharing
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.scopes import (
    Environment,
    Holder,
    Org,
    Repo,
    Variable,
    VariableRecord,
)


def _store(scope: Holder, app: str) -> dict[str, Variable]:
    store = scope.variables.get(app)
    if store is None:  # agents variables exist for organisations and repositories only
        raise not_found()
    return store


def _kind(scope: Holder) -> str:
    if isinstance(scope, Environment):
        return "environment"
    return "org" if isinstance(scope, Org) else "repo"


def _check_value(value: str, doc: str) -> str:
    if len(value.encode()) > MAX_VARIABLE_VALUE:
        raise invalid(f"Variable values must be at most {MAX_VARIABLE_VALUE // 1024} KB.", doc)
    return value


def _exists(doc: str) -> ApiError:
    return ApiError(409, "Already exists - Variable already exists.", doc)


class VariableState:
    clock: Clock
    selection_bumps_updated_at: bool

    def variables(self, scope: Holder, app: str) -> list[Variable]:
        return sorted(_store(scope, app).values(), key=lambda v: v.name)

    def variable(self, scope: Holder, app: str, name: str, doc: str = DOCS) -> Variable:
        found = _store(scope, app).get(name.upper())
        if found is None:
            raise not_found(doc)
        return found

    def create_variable(
        self,
        scope: Holder,
        app: str,
        name: str,
        value: str,
        *,
        visibility: str | None = None,
        selected: Iterable[int] | None = None,
        doc: str = DOCS,
    ) -> None:
        """POST: a new variable; 409 when the name is taken, 422 beyond the scope's limit."""
        upper = check_variable_name(name, doc)
        store = _store(scope, app)
        if upper in store:
            raise _exists(doc)
        _check_value(value, doc)
        visibility, chosen = _sharing(scope, None, visibility, selected, doc)
        limit = MAX_VARIABLES[_kind(scope)]
        if len(store) >= limit:
            where = {"org": "An organization", "repo": "A repository"}.get(
                _kind(scope), "An environment"
            )
            raise invalid(f"{where} can have at most {limit} variables.", doc)
        now = self.clock.tick()
        store[upper] = Variable(upper, value, visibility, chosen, now, now)

    def update_variable(
        self,
        scope: Holder,
        app: str,
        name: str,
        *,
        new_name: str | None = None,
        value: str | None = None,
        visibility: str | None = None,
        selected: Iterable[int] | None = None,
        doc: str = DOCS,
    ) -> None:
        """PATCH: any of a new name, value, visibility and selected repositories."""
        found = self.variable(scope, app, name, doc)
        store = _store(scope, app)
        upper = found.name if new_name is None else check_variable_name(new_name, doc)
        if upper != found.name and upper in store:
            raise _exists(doc)
        # Everything is checked before anything changes: a refused PATCH changes nothing.
        new_value = found.value if value is None else _check_value(value, doc)
        found.visibility, found.selected = _sharing(scope, found, visibility, selected, doc)
        found.value = new_value
        if upper != found.name:
            del store[found.name]
            found.name = upper
            store[upper] = found
        found.updated_at = self.clock.tick()

    def put_variable(
        self,
        scope: Holder,
        app: str,
        name: str,
        value: str,
        *,
        visibility: str | None = None,
        selected: Iterable[int] | None = None,
    ) -> bool:
        """Create or update (the Python API); True when created."""
        if name.upper() in _store(scope, app):
            self.update_variable(scope, app, name, value=value, visibility=visibility,
                                 selected=selected)  # fmt: skip
            return False
        self.create_variable(scope, app, name, value, visibility=visibility, selected=selected)
        return True

    def restore_variable(self, scope: Holder, app: str, variable: Variable) -> None:
        """Put a variable back exactly as dumped, timestamps included (seed loading)."""
        check_variable_name(variable.name)
        _store(scope, app)[variable.name.upper()] = variable
        self.clock.observe(variable.updated_at)

    def delete_variable(self, scope: Holder, app: str, name: str, doc: str = DOCS) -> None:
        found = self.variable(scope, app, name, doc)
        del _store(scope, app)[found.name]

    # -- selected repositories of an organisation variable --------------------------------

    def _selected_variable(self, org: Org, app: str, name: str, doc: str) -> Variable:
        found = self.variable(org, app, name, doc)
        sharing.require_selected(found, "Variable", doc)
        return found

    def variable_repos(self, org: Org, app: str, name: str, doc: str = DOCS) -> list[Repo]:
        return sharing.selected_repos(org, self._selected_variable(org, app, name, doc))

    def set_variable_repos(
        self, org: Org, app: str, name: str, ids: Iterable[int], doc: str = DOCS
    ) -> None:
        found = self._selected_variable(org, app, name, doc)
        self._select(found, sharing.repo_ids(org, ids, doc))

    def add_variable_repo(
        self, org: Org, app: str, name: str, repo_id: int, doc: str = DOCS
    ) -> None:
        found = self._selected_variable(org, app, name, doc)
        self._select(found, found.selected | sharing.repo_ids(org, [repo_id], doc))

    def remove_variable_repo(
        self, org: Org, app: str, name: str, repo_id: int, doc: str = DOCS
    ) -> None:
        found = self._selected_variable(org, app, name, doc)
        sharing.repo_ids(org, [repo_id], doc)
        self._select(found, found.selected - {repo_id})

    def _select(self, found: Variable, chosen: set[int]) -> None:
        sharing.write_selection(found, chosen, self.clock, self.selection_bumps_updated_at)

    def org_variables_for(self, repo: Repo, app: str) -> list[Variable]:
        """Organisation variables this repository can use (`.../organization-variables`)."""
        return [v for v in self.variables(repo.org, app) if sharing.visible_to(repo, v)]

    def variable_record(self, scope: Holder, variable: Variable) -> VariableRecord:
        names: frozenset[str] = frozenset()
        if isinstance(scope, Org):
            names = sharing.selected_names(scope, variable)
        return VariableRecord(
            variable.name,
            variable.value,
            variable.visibility,
            names,
            variable.created_at,
            variable.updated_at,
        )


def _sharing(
    scope: Holder,
    existing: Variable | None,
    visibility: str | None,
    selected: Iterable[int] | None,
    doc: str,
) -> tuple[str | None, set[int]]:
    """The visibility and selected repositories a write leaves (organisations only)."""
    if isinstance(scope, Org):
        visibility = sharing.org_visibility(existing, visibility, selected, doc)
        return visibility, sharing.selection(scope, existing, visibility, selected, doc)
    if visibility is not None or selected is not None:
        raise invalid("Only organization variables have a visibility.", doc)
    return None, set()
