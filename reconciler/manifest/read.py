"""Reading one manifest file: located YAML data → schema problems, semantic problems, groups.

The walk is defensive: whatever has the wrong shape is skipped here because the schema
pass already reported it, so one bad secret never hides the problems of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import Problem
from reconciler.manifest.entries import ItemReader
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
    credential_problem,
    environment_name_problem,
    org_name_problem,
    repo_full_name_problem,
)
from reconciler.manifest.schema_check import schema_problems
from reconciler.model import (
    VARIABLE_APPS,
    App,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    Kind,
    Location,
    Scope,
    ScopeKind,
)

GroupKey = tuple[Scope, App]
_KIND_KEYS = ((Kind.SECRET, "secrets"), (Kind.VARIABLE, "variables"))
# A group that names neither kind (only `prune`, refused by the schema) manages secrets, as
# every group did before variables.
_SECRETS_ONLY = frozenset({Kind.SECRET})


@dataclass(frozen=True, slots=True)
class FileManifest:
    """What one file declares, before merging; paths let merge problems name the spot."""

    file: str
    groups: tuple[DesiredGroup, ...] = ()
    allow_env: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    group_paths: Mapping[GroupKey, str] = field(default_factory=dict)
    prune_locations: Mapping[GroupKey, Location] = field(default_factory=dict)
    # By the item's location; `format_path` spells one.
    item_paths: Mapping[Location, tuple[PathItem, ...]] = field(default_factory=dict)
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
        reader.items.paths,
        reader.drift,
        tuple(reader.allow_env_at),
    )


class _Reader:
    def __init__(self, file: str) -> None:
        self.problems: list[Problem] = []
        self.items = ItemReader(file, self.problems)
        self.groups: list[DesiredGroup] = []
        self.allow_env: list[str] = []
        self.allow_env_at: list[tuple[str, Location]] = []
        self.drift: tuple[DriftPolicy, Location] | None = None
        self.group_paths: dict[GroupKey, str] = {}
        self.prune_locations: dict[GroupKey, Location] = {}

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
        noun = "organisation" if kind is ScopeKind.ORG else "repository"
        check = org_name_problem if kind is ScopeKind.ORG else repo_full_name_problem
        self.check_names(scopes, path, noun, check, "GitHub names are case-insensitive")
        for name, body in scopes.items():
            if not isinstance(body, LocMap):
                continue
            here = [*path, name]
            scope = Scope(kind, name)
            for app in App:
                group = body.get(app.value)
                if isinstance(group, LocMap):
                    self.read_group(scope, app, group, key_location(body, app.value), [*here, app])
            environments = body.get("environments")
            if kind is ScopeKind.REPO and isinstance(environments, LocMap):
                self.read_environments(name, environments, [*here, "environments"])

    def read_environments(self, repo: str, envs: LocMap, path: list[PathItem]) -> None:
        self.check_names(
            envs,
            path,
            "environment",
            environment_name_problem,
            "GitHub environment names are case-insensitive",
        )
        for name, group in envs.items():
            if isinstance(group, LocMap):
                scope = Scope.of_environment(repo, name)
                where = key_location(envs, name)
                self.read_group(scope, App.ACTIONS, group, where, [*path, name])

    def check_names(
        self,
        named: LocMap,
        path: list[PathItem],
        noun: str,
        check: Callable[[str], str | None],
        why: str,
    ) -> None:
        """Every key of `named` is a valid name, and no two are one name in other case."""
        seen: dict[str, str] = {}
        article = "an" if noun[0] in "aeio" else "a"
        for name in named:
            where = key_location(named, name)
            here = [*path, name]
            credential = credential_problem(name, f"{article} {noun} name")
            refused = credential or check(name)
            if refused:
                self.problem(where, here, refused, CREDENTIAL_HINT if credential else None)
            first = seen.setdefault(name.lower(), name)
            if first != name:
                self.problem(
                    where,
                    here,
                    f"{describe(name, 'this name')} is the same {noun} as "
                    f"{describe(first, 'the name')} at {key_location(named, first)} ({why})",
                    hint="merge them into one entry",
                )

    def read_group(
        self, scope: Scope, app: App, group: LocMap, where: Location, path: list[PathItem]
    ) -> None:
        key = (scope, app)
        self.group_paths.setdefault(key, format_path(path))
        prune = group.get("prune")
        if "prune" in group:
            self.prune_locations.setdefault(key, key_location(group, "prune"))
        items: list[DesiredItem] = []
        for kind, field_name in _KIND_KEYS:
            body = group.get(field_name)
            if kind is Kind.VARIABLE and app not in VARIABLE_APPS:
                continue  # reported by the schema: this app has no variables
            if isinstance(body, LocMap):
                items.extend(self.read_items(scope, app, kind, body, [*path, field_name]))
        prune_flag = prune if isinstance(prune, bool) else False
        # The kinds this group writes: what is read, reported and pruned here.
        kinds = frozenset(
            kind
            for kind, field_name in _KIND_KEYS
            if field_name in group and (kind is Kind.SECRET or app in VARIABLE_APPS)
        )
        self.groups.append(
            DesiredGroup(scope, app, prune_flag, tuple(items), where, kinds or _SECRETS_ONLY)
        )

    def read_items(
        self, scope: Scope, app: App, kind: Kind, body: LocMap, path: list[PathItem]
    ) -> list[DesiredItem]:
        items: list[DesiredItem] = []
        seen: dict[str, str] = {}
        for name in body:
            item = self.items.read_item(scope, app, kind, name, body, [*path, name])
            first = seen.setdefault(name.upper(), name)
            if first != name:
                self.problem(
                    key_location(body, name),
                    [*path, name],
                    f"{kind} {describe(name, 'name')} collides with "
                    f"{describe(first, 'the name')} at "
                    f"{key_location(body, first)}: GitHub {kind} names are case-insensitive",
                    hint="remove or rename one of them",
                )
            elif item is not None:
                items.append(item)
        return items
