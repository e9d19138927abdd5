"""Read live state for exactly the scopes, apps and kinds (secrets, variables) a manifest
names, and which of the deployment environments it writes into exist.

Reads run on a bounded thread pool; results are assembled in manifest order, so the
LiveState is identical whatever the interleaving.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType

from reconciler.errors import ApiError
from reconciler.github.client import GitHubClient
from reconciler.github.read_graph import ReadGraph
from reconciler.github.repo_ids import RepoRef, resolve_repositories
from reconciler.github.repositories import RepoItem
from reconciler.github.secrets import SecretItem
from reconciler.github.transport import read_pool
from reconciler.github.variables import VariableItem
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredState,
    Kind,
    LiveGroup,
    LiveItem,
    LiveState,
    PublicKey,
    Scope,
    ScopeKind,
    SealedSource,
    Visibility,
    selection_digest,
)


def _repo_refs(desired: DesiredState) -> list[RepoRef]:
    refs: list[RepoRef] = []
    for group in desired.groups:
        if group.scope.kind is not ScopeKind.ORG:
            # An environment's repository too: an unknown one is reported with the others.
            name = group.scope.name
            refs.append(RepoRef(name, group.location, f"repos.{name}", needs_id=False))
            continue
        for item in group.items:
            for i, (name, loc) in enumerate(
                zip(item.repositories or (), item.repository_locations, strict=False)
            ):
                path = (
                    f"orgs.{group.scope.name}.{group.app}.{item.kind}s.{item.name}"
                    f".repositories[{i}]"
                )
                refs.append(RepoRef(f"{group.scope.name}/{name}", loc, path))
    return refs


def _live_secret(item: SecretItem, selected: frozenset[str] | None) -> LiveItem:
    return LiveItem(
        name=item.name.upper(),
        updated_at=item.updated_at,
        visibility=item.visibility,
        selected=selected,
    )


def _live_variable(item: VariableItem, selected: frozenset[str] | None) -> LiveItem:
    return LiveItem(
        name=item.name.upper(),
        updated_at=item.updated_at,
        visibility=item.visibility,
        selected=selected,
        kind=Kind.VARIABLE,
        value=item.value,
    )


ListJob = tuple[Scope, App, Kind]


Trusted = Mapping[tuple[Scope, App, str], tuple[str, str]]


def read_live(
    desired: DesiredState,
    client: GitHubClient,
    *,
    concurrency: int = 8,
    trusted: Trusted | None = None,
) -> tuple[LiveState, dict[tuple[Scope, App], PublicKey]]:
    """Live secrets and variables for every (scope, app) the manifest names, plus the public
    keys of the scopes whose sealed values must be checked against the current key.

    One dependency graph: every listing, environment list and key starts at once, an
    environment's listings as soon as its repository's environments are known, a selection
    as soon as the listing naming it answered, and every page after a list's first at once.
    Repository ids come from the live selections; only names found in none of them (nor as
    a repository scope that answered) are resolved, at the end.

    `trusted` (--skip-unchanged-selections): (scope, app, NAME) -> (updated_at, selection
    digest) from the ledger; a selected secret whose live updated_at and manifest selection
    both match is taken to be selected as the manifest says, without listing it. Its names'
    ids are then looked up only if a write needs them (see the executor)."""
    reading = _Reading(desired, client, trusted or {})
    with read_pool(client.transport, concurrency) as pool:
        graph = ReadGraph(pool)
        reading.start(graph)
        graph.run()
        # Including a repository scope whose listing was refused as not found: unknown, or
        # a refusal?
        refs = [r for r in _repo_refs(desired) if not reading.settled(r)]
        found = resolve_repositories(client, refs, pool)
        if reading.not_found_errors:
            raise reading.not_found_errors[0]
    for full_name, repo_id in found.items():
        reading.repo_ids.setdefault(full_name, repo_id)
    return reading.state(), reading.keys


class _Reading:
    """What the graph has read so far; its callbacks run on one thread."""

    def __init__(self, desired: DesiredState, client: GitHubClient, trusted: Trusted) -> None:
        self.desired = desired
        self.client = client
        self.trusted = trusted
        self.taken_on_trust: set[str] = set()  # lower-cased owner/repo of trusted selections
        # Managed `selected` items, per kind: a secret and a variable may share a name.
        self.managed: dict[tuple[Scope, App, Kind], dict[str, tuple[str, ...]]] = defaultdict(dict)
        for g in desired.groups:
            for s in g.items:
                if s.visibility is Visibility.SELECTED:
                    self.managed[(g.scope, g.app, s.kind)][s.name] = s.repositories or ()
        self.listed: dict[ListJob, list[SecretItem] | list[VariableItem]] = {}
        self.selections: dict[tuple[Scope, App, Kind, str], frozenset[str]] = {}
        self.repo_ids: dict[str, int] = {}
        self.known: set[str] = set()  # lower-cased owner/repo that exist
        self.environments: set[Scope] = set()
        self.keys: dict[tuple[Scope, App], PublicKey] = {}
        self.not_found_errors: list[ApiError] = []
        # The scopes and apps whose sealed values must be checked against the current key.
        self.sealed: dict[Scope, set[App]] = defaultdict(set)
        for s in desired.items():
            if isinstance(s.source, SealedSource):
                self.sealed[s.scope].add(s.app)
        self.in_environment: dict[Scope, list[DesiredGroup]] = defaultdict(list)
        for g in desired.groups:
            if g.scope.kind is ScopeKind.ENVIRONMENT:
                self.in_environment[g.scope].append(g)

    def settled(self, ref: RepoRef) -> bool:
        """Whether reading told what `ref` needs: an id (a selection names it), or only
        that the repository exists (a repository scope). Names of selections taken on trust
        need no id now; a write that needs one looks it up."""
        name = ref.full_name.lower()
        if ref.needs_id:
            return name in self.repo_ids or name in self.taken_on_trust
        return name in self.known

    def start(self, graph: ReadGraph) -> None:
        by_repo: dict[str, list[Scope]] = defaultdict(list)
        for scope in self.desired.environments():
            by_repo[scope.name.lower()].append(scope)
        for repo in sorted(by_repo):
            graph.add(
                partial(self.client.environments.names, repo),
                partial(self._environments, graph, by_repo[repo]),
                self._missing(by_repo[repo][0]),
            )
        for group in self.desired.groups:
            if group.scope.kind is not ScopeKind.ENVIRONMENT:
                self._list_group(graph, group)
        for scope, apps in self.sealed.items():
            for app in apps if scope.kind is not ScopeKind.ENVIRONMENT else ():
                self._read_key(graph, scope, app)

    def _missing(self, scope: Scope) -> Callable[[BaseException], bool]:
        """A read in a repository that may not exist: its 404 is remembered, for the
        repository to be resolved (and reported with its manifest location) at the end."""

        def recover(error: BaseException) -> bool:
            if not isinstance(error, ApiError) or error.request.status != 404:
                return False
            self.not_found_errors.append(error)
            return True

        return recover

    def _environments(self, graph: ReadGraph, wanted: list[Scope], names: list[str]) -> None:
        self.known.add(wanted[0].name.lower())
        existing = {n.lower() for n in names}
        found = {scope for scope in wanted if scope.environment.lower() in existing}
        self.environments |= found
        for scope in wanted:
            if scope in found:
                for group in self.in_environment.get(scope, ()):
                    self._list_group(graph, group)
                for app in self.sealed.get(scope, ()):
                    self._read_key(graph, scope, app)

    def _read_key(self, graph: ReadGraph, scope: Scope, app: App) -> None:
        def got(key: PublicKey) -> None:
            self.keys[(scope, app)] = key

        graph.add(partial(self.client.secrets.public_key, scope, app), got)

    def _list_group(self, graph: ReadGraph, group: DesiredGroup) -> None:
        scope, app = group.scope, group.app
        recover = self._missing(scope) if scope.kind is not ScopeKind.ORG else None
        if group.manages(Kind.SECRET):
            done = partial(self._listed, graph, (scope, app, Kind.SECRET))
            graph.add_paged(self.client.secrets.paged(scope, app), done, recover)
        if group.manages(Kind.VARIABLE):
            done = partial(self._listed, graph, (scope, app, Kind.VARIABLE))
            graph.add_paged(self.client.variables.paged(scope, app), done, recover)

    def _listed(
        self, graph: ReadGraph, job: ListJob, items: list[SecretItem] | list[VariableItem]
    ) -> None:
        scope, app, kind = job
        if scope.kind is ScopeKind.REPO:
            self.known.add(scope.name.lower())
        self.listed[job] = items
        for item in items:
            name = item.name.upper()
            if item.visibility is not Visibility.SELECTED or name not in self.managed[job]:
                continue
            wanted = self.managed[job][name]
            recorded = self.trusted.get((scope, app, name)) if kind is Kind.SECRET else None
            if recorded is not None and recorded == (item.updated_at, selection_digest(wanted)):
                self.selections[(scope, app, kind, name)] = frozenset(n.lower() for n in wanted)
                self.taken_on_trust.update(f"{scope.org}/{n}".lower() for n in wanted)
            else:
                paged = self.client.of_kind(kind).paged_selection(scope, app, name)
                graph.add_paged(paged, partial(self._selection, (scope, app, kind, name)))

    def _selection(self, key: tuple[Scope, App, Kind, str], repos: list[RepoItem]) -> None:
        self.selections[key] = frozenset(r.name.lower() for r in repos)
        # The ids every selected name needs, without listing the organisation's repositories.
        for r in repos:
            full_name = f"{key[0].org}/{r.name}".lower()
            self.repo_ids.setdefault(full_name, r.id)
            self.known.add(full_name)

    def state(self) -> LiveState:
        by_group: dict[tuple[Scope, App], list[LiveItem]] = {
            (g.scope, g.app): [] for g in self.desired.groups
        }
        for (scope, app, kind), items in self.listed.items():
            seen: set[str] = set()
            for item in items:
                name = item.name.upper()
                if name in seen:  # a page that shifted while the pages were read at once
                    continue
                seen.add(name)
                selected = self.selections.get((scope, app, kind, name))
                by_group[(scope, app)].append(
                    _live_variable(item, selected)
                    if isinstance(item, VariableItem)
                    else _live_secret(item, selected)
                )
        return LiveState(
            groups=tuple(
                LiveGroup(scope, app, tuple(sorted(items, key=lambda s: (s.kind.value, s.name))))
                for (scope, app), items in by_group.items()
            ),
            repo_ids=MappingProxyType(dict(self.repo_ids)),
            environments=frozenset(self.environments),
        )
