"""Reading one secret or variable of a manifest: its name, value source, visibility and
repositories. Shapes the schema refused are skipped here (already reported)."""

from __future__ import annotations

import os
from collections.abc import Callable

from reconciler.errors import Problem, SourceError
from reconciler.manifest.located import (
    LocList,
    LocMap,
    PathItem,
    format_path,
    key_location,
    value_location,
)
from reconciler.manifest.redact import CREDENTIAL_HINT, describe
from reconciler.manifest.rules import (
    ENV_VAR_RE,
    SOURCE_KEYS,
    STORE_KEYS,
    credential_problem,
    repo_name_problem,
    secret_name_problem,
    variable_name_problem,
)
from reconciler.manifest.stores import store_problems, store_source
from reconciler.model import (
    App,
    DesiredItem,
    EnvSource,
    FileSource,
    InlineSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    SealedSource,
    Source,
    Visibility,
)
from reconciler.values.sources import MAX_VALUE_BYTES, check_sealed, confined_path

_NAME_RULES: dict[Kind, Callable[[str], str | None]] = {
    Kind.SECRET: secret_name_problem,
    Kind.VARIABLE: variable_name_problem,
}


class ItemReader:
    """Reads items into DesiredItems, appending problems to a list it shares with its owner,
    and remembering the JSON path of every item (by its location) for later messages."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.base_dir = os.path.dirname(file) or "."
        self.problems = problems
        # Formatted only for a message: formatting every item's path cost a tenth of a load.
        self.paths: dict[Location, tuple[PathItem, ...]] = {}

    def problem(
        self, where: Location, path: list[PathItem], message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(where, format_path(path), message, hint))

    def read_item(
        self,
        scope: Scope,
        app: App,
        kind: Kind,
        name: str,
        items: LocMap,
        path: list[PathItem],
    ) -> DesiredItem | None:
        spec = items[name]
        where = key_location(items, name)
        self.paths[where] = tuple(path)
        credential = credential_problem(name, f"a {kind} name")
        refused = credential or _NAME_RULES[kind](name)
        if refused:
            self.problem(where, path, refused, CREDENTIAL_HINT if credential else None)
        if not isinstance(spec, LocMap):
            return None
        if kind is Kind.VARIABLE:
            source = self.read_variable_value(spec, [*path, "value"])
        else:
            source = self.read_source(spec.get("value"), [*path, "value"])
        visibility: Visibility | None = None
        repositories: tuple[str, ...] | None = None
        repo_locations: tuple[Location, ...] = ()
        if scope.kind is ScopeKind.ORG:
            visibility = self.read_visibility(spec, path, kind)
            if visibility is Visibility.SELECTED and isinstance(spec.get("repositories"), LocList):
                repositories, repo_locations = self.read_repositories(
                    spec["repositories"], [*path, "repositories"]
                )
        if refused or source is None or (scope.kind is ScopeKind.ORG and visibility is None):
            return None
        return DesiredItem(
            scope,
            app,
            name.upper(),
            source,
            where,
            visibility,
            repositories,
            repo_locations,
            kind,
        )

    def read_visibility(self, spec: LocMap, path: list[PathItem], kind: Kind) -> Visibility | None:
        raw = spec.get("visibility", Visibility.PRIVATE.value)
        if not isinstance(raw, str) or raw not in {v.value for v in Visibility}:
            return None  # reported by the schema
        visibility = Visibility(raw)
        if "repositories" in spec and visibility is not Visibility.SELECTED:
            hint = (
                "set visibility: selected, or remove repositories"
                if "visibility" in spec
                else "add visibility: selected (omitted visibility means private)"
            )
            self.problem(
                key_location(spec, "repositories"),
                [*path, "repositories"],
                f"repositories applies only to visibility: selected, not {visibility}",
                hint,
            )
        if visibility is Visibility.SELECTED and "repositories" not in spec:
            self.problem(
                value_location(spec, "visibility"),
                [*path, "visibility"],
                "visibility: selected needs a repositories list",
                hint=f"list the repositories that may use the {kind}; write repositories: [] "
                "to select none",
            )
        return visibility

    def read_repositories(
        self, items: LocList, path: list[PathItem]
    ) -> tuple[tuple[str, ...], tuple[Location, ...]]:
        names: list[str] = []
        locations: list[Location] = []
        seen: dict[str, Location] = {}
        for i, (item, where) in enumerate(zip(items, items.item_locs, strict=True)):
            if not isinstance(item, str):
                continue  # reported by the schema
            credential = credential_problem(item, "a repository name")
            refused = credential or repo_name_problem(item)
            if refused:
                self.problem(where, [*path, i], refused, CREDENTIAL_HINT if credential else None)
            elif item.lower() in seen:
                self.problem(
                    where,
                    [*path, i],
                    f"repository {describe(item, 'name')} is listed twice "
                    f"(first at {seen[item.lower()]})",
                    hint="names are case-insensitive; remove one",
                )
            else:
                seen[item.lower()] = where
                names.append(item)
                locations.append(where)
        return tuple(names), tuple(locations)

    def read_variable_value(self, spec: LocMap, path: list[PathItem]) -> Source | None:
        value = spec.get("value")
        if isinstance(value, LocMap):
            return self.read_source(value, path, may_seal=False)
        if not isinstance(value, str) or not value:
            return None  # reported by the schema
        where = value_location(spec, "value")
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            # A "\ud800" escape in a double-quoted YAML string: not text GitHub can store.
            self.problem(where, path, "the value holds an unpaired surrogate (\\uD800-\\uDFFF)")
            return None
        if size > MAX_VALUE_BYTES:
            self.problem(
                where,
                path,
                f"the value is {size} bytes, more than GitHub's 48 KB limit for a variable "
                f"({MAX_VALUE_BYTES} bytes)",
                hint="store a larger value elsewhere (an artifact, a file in the repository)",
            )
            return None
        return InlineSource(value, where)

    def read_source(
        self, value: object, path: list[PathItem], *, may_seal: bool = True
    ) -> Source | None:
        if not isinstance(value, LocMap):
            return None
        found = store_problems(value, path, self.base_dir)
        self.problems.extend(found)
        if not may_seal and ("sealed" in value or "key_id" in value):
            return None  # reported by the schema: a variable is never sealed
        kinds = [k for k in SOURCE_KEYS if k in value]
        if len(kinds) != 1:
            return None  # reported by the schema
        kind = kinds[0]
        if kind in STORE_KEYS:
            return None if found else store_source(kind, value, self.base_dir)
        raw = value[kind]
        where = value_location(value, kind)
        here = [*path, kind]
        if not isinstance(raw, str) or not raw:
            return None
        noun = "an environment variable name" if kind == "env" else "a file path"
        credential = credential_problem(raw, noun) if kind != "sealed" else None
        if credential:
            self.problem(where, here, credential, CREDENTIAL_HINT)
            return None
        if kind == "env":
            return EnvSource(raw, where) if ENV_VAR_RE.fullmatch(raw) else None
        if kind == "file":
            source = FileSource(raw, self.base_dir, where)
            try:
                confined_path(source)
            except SourceError as e:
                self.problem(where, here, e.detail, e.hint)
                return None
            return source
        key_id = value.get("key_id")
        if not isinstance(key_id, str) or not key_id:
            return None
        sealed = SealedSource(raw, key_id, where)
        refused = check_sealed(sealed)
        if refused:
            self.problem(where, here, refused, hint="paste the output of sealing again")
            return None
        return sealed
