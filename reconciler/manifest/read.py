"""Reading one manifest file: located YAML data → schema problems, semantic problems, groups.

The walk is defensive: whatever has the wrong shape is skipped here because the schema
pass already reported it, so one bad secret never hides the problems of the others.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

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
    credential_problem,
    org_name_problem,
    repo_full_name_problem,
    repo_name_problem,
    schema_problems,
    secret_name_problem,
)
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    EnvSource,
    FileSource,
    Location,
    Scope,
    ScopeKind,
    SealedSource,
    Source,
    Visibility,
)
from reconciler.values.sources import check_sealed, confined_path

GroupKey = tuple[Scope, App]


@dataclass(frozen=True, slots=True)
class FileManifest:
    """What one file declares, before merging; paths let merge problems name the spot."""

    file: str
    groups: tuple[DesiredGroup, ...] = ()
    allow_env: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    group_paths: Mapping[GroupKey, str] = field(default_factory=dict)
    prune_locations: Mapping[GroupKey, Location] = field(default_factory=dict)
    secret_paths: Mapping[Location, str] = field(default_factory=dict)
    drift: tuple[DriftPolicy, Location] | None = None
    allow_env_at: tuple[tuple[str, Location], ...] = ()  # where each entry was written

    @classmethod
    def empty(cls, file: str) -> FileManifest:
        return cls(file)


def read_manifest(file: str, doc: object) -> FileManifest:
    reader = _Reader(file)
    problems = schema_problems(doc, file)
    if isinstance(doc, LocMap):
        reader.read(doc)
    return FileManifest(
        file,
        tuple(reader.groups),
        tuple(reader.allow_env),
        tuple(problems + reader.problems),
        reader.group_paths,
        reader.prune_locations,
        reader.secret_paths,
        reader.drift,
        tuple(reader.allow_env_at),
    )


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.base_dir = os.path.dirname(file) or "."
        self.problems: list[Problem] = []
        self.groups: list[DesiredGroup] = []
        self.allow_env: list[str] = []
        self.allow_env_at: list[tuple[str, Location]] = []
        self.drift: tuple[DriftPolicy, Location] | None = None
        self.group_paths: dict[GroupKey, str] = {}
        self.prune_locations: dict[GroupKey, Location] = {}
        self.secret_paths: dict[Location, str] = {}

    def problem(
        self, where: Location, path: list[PathItem], message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(where, format_path(path), message, hint))

    def read(self, doc: LocMap) -> None:
        settings = doc.get("settings")
        if isinstance(settings, LocMap) and isinstance(settings.get("allow_env"), list):
            self.allow_env = [p for p in settings["allow_env"] if isinstance(p, str) and p]
            if isinstance(settings["allow_env"], LocList):
                entries = zip(settings["allow_env"], settings["allow_env"].item_locs, strict=True)
                self.allow_env_at = [(p, w) for p, w in entries if isinstance(p, str) and p]
        if isinstance(settings, LocMap) and settings.get("drift") in set(DriftPolicy):
            self.drift = (DriftPolicy(settings["drift"]), value_location(settings, "drift"))
        for kind, top in ((ScopeKind.ORG, "orgs"), (ScopeKind.REPO, "repos")):
            scopes = doc.get(top)
            if isinstance(scopes, LocMap):
                self.read_scopes(kind, scopes, [top])

    def read_scopes(self, kind: ScopeKind, scopes: LocMap, path: list[PathItem]) -> None:
        seen: dict[str, str] = {}
        noun = "organisation" if kind is ScopeKind.ORG else "repository"
        for name, body in scopes.items():
            where = key_location(scopes, name)
            here = [*path, name]
            check = org_name_problem if kind is ScopeKind.ORG else repo_full_name_problem
            credential = credential_problem(name, f"an {noun} name")
            refused = credential or check(name)
            if refused:
                self.problem(where, here, refused, CREDENTIAL_HINT if credential else None)
            first = seen.setdefault(name.lower(), name)
            if first != name:
                self.problem(
                    where,
                    here,
                    f"{describe(name, 'this name')} is the same {noun} as "
                    f"{describe(first, 'the name')} at "
                    f"{key_location(scopes, first)} (GitHub names are case-insensitive)",
                    hint="merge them into one entry",
                )
            if not isinstance(body, LocMap):
                continue
            scope = Scope(kind, name)
            for app in App:
                group = body.get(app.value)
                if isinstance(group, LocMap):
                    self.read_group(scope, app, group, key_location(body, app.value), [*here, app])
            if kind is ScopeKind.REPO and "environments" in body:
                self.problem(
                    key_location(body, "environments"),
                    [*here, "environments"],
                    "Actions environment secrets are not supported yet",
                    hint="manage environment secrets outside reconciler for now",
                )

    def read_group(
        self, scope: Scope, app: App, group: LocMap, where: Location, path: list[PathItem]
    ) -> None:
        key = (scope, app)
        self.group_paths.setdefault(key, format_path(path))
        prune = group.get("prune")
        if "prune" in group:
            self.prune_locations.setdefault(key, key_location(group, "prune"))
        secrets: list[DesiredItem] = []
        body = group.get("secrets")
        if isinstance(body, LocMap):
            seen: dict[str, str] = {}
            for name, spec in body.items():
                secret = self.read_secret(scope, app, name, spec, body, [*path, "secrets", name])
                first = seen.setdefault(name.upper(), name)
                if first != name:
                    self.problem(
                        key_location(body, name),
                        [*path, "secrets", name],
                        f"secret {describe(name, 'name')} collides with "
                        f"{describe(first, 'the name')} at "
                        f"{key_location(body, first)}: GitHub secret names are case-insensitive",
                        hint="remove or rename one of them",
                    )
                elif secret is not None:
                    secrets.append(secret)
        prune_flag = prune if isinstance(prune, bool) else False
        self.groups.append(DesiredGroup(scope, app, prune_flag, tuple(secrets), where))

    def read_secret(
        self,
        scope: Scope,
        app: App,
        name: str,
        spec: object,
        secrets: LocMap,
        path: list[PathItem],
    ) -> DesiredItem | None:
        where = key_location(secrets, name)
        self.secret_paths[where] = format_path(path)
        credential = credential_problem(name, "a secret name")
        refused = credential or secret_name_problem(name)
        if refused:
            self.problem(where, path, refused, CREDENTIAL_HINT if credential else None)
        if not isinstance(spec, LocMap):
            return None
        source = self.read_source(spec.get("value"), [*path, "value"])
        visibility: Visibility | None = None
        repositories: tuple[str, ...] | None = None
        repo_locations: tuple[Location, ...] = ()
        if scope.kind is ScopeKind.ORG:
            visibility = self.read_visibility(spec, path)
            if visibility is Visibility.SELECTED and isinstance(spec.get("repositories"), LocList):
                repositories, repo_locations = self.read_repositories(
                    spec["repositories"], [*path, "repositories"]
                )
        if refused or source is None or (scope.kind is ScopeKind.ORG and visibility is None):
            return None
        return DesiredItem(
            scope, app, name.upper(), source, where, visibility, repositories, repo_locations
        )

    def read_visibility(self, spec: LocMap, path: list[PathItem]) -> Visibility | None:
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
                hint="list the repositories that may use the secret; write repositories: [] "
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

    def read_source(self, value: object, path: list[PathItem]) -> Source | None:
        if not isinstance(value, LocMap):
            return None
        kinds = [k for k in ("env", "file", "sealed") if k in value]
        if len(kinds) != 1:
            return None  # reported by the schema
        kind = kinds[0]
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
