"""Read live state for exactly the scopes, apps and kinds (secrets, variables) a manifest
names, and which of the deployment environments it writes into exist.

Reads run on a bounded thread pool; results are assembled in manifest order, so the
LiveState is identical whatever the interleaving.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from reconciler.errors import Problem, UnknownRepositoriesError
from reconciler.github.client import GitHubClient
from reconciler.github.repositories import RepoItem
from reconciler.github.secrets import SecretItem
from reconciler.github.transport import read_pool
from reconciler.github.variables import VariableItem
from reconciler.model import (
    App,
    DesiredState,
    Kind,
    LiveGroup,
    LiveItem,
    LiveState,
    Location,
    PublicKey,
    Scope,
    ScopeKind,
    SealedSource,
    Visibility,
)

T = TypeVar("T")
R = TypeVar("R")

# Below this many names in one org, per-repository GETs are never worse than a listing.
_DIRECT_LOOKUP_MAX = 2


@dataclass(frozen=True, slots=True)
class RepoRef:
    full_name: str
    location: Location
    path: str


def _repo_refs(desired: DesiredState) -> list[RepoRef]:
    refs: list[RepoRef] = []
    for group in desired.groups:
        if group.scope.kind is not ScopeKind.ORG:
            # An environment's repository too: an unknown one is reported with the others.
            refs.append(RepoRef(group.scope.name, group.location, f"repos.{group.scope.name}"))
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


def _map(pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return list(pool.map(fn, items))


def resolve_repositories(
    client: GitHubClient, refs: Sequence[RepoRef], pool: ThreadPoolExecutor
) -> dict[str, int]:
    """lower-cased `owner/repo` -> id for every referenced repository, with the fewest requests.

    Per owner: with few names, one GET each; otherwise the first page of the org listing tells
    how many pages there are (its `rel="last"` link), and we either read the remaining pages (all
    owners' pages concurrently) or GET the names still missing, whichever is fewer. Every
    unknown repository is reported at once.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for ref in refs:
        owner, name = ref.full_name.lower().split("/", 1)
        wanted[owner].add(name)

    owners = sorted(wanted)
    ids: dict[str, int] = {}

    def record(owner: str, items: list[RepoItem]) -> None:
        for item in items:
            name = item.name.lower()
            if name in wanted[owner] and (item.owner or "").lower() == owner:
                ids[f"{owner}/{name}"] = item.id

    listed = [o for o in owners if len(wanted[o]) > _DIRECT_LOOKUP_MAX]
    rest_pages: list[tuple[str, int]] = []
    for owner, (items, last) in zip(
        listed, _map(pool, lambda o: client.repos.org_page(o, 1), listed), strict=True
    ):
        record(owner, items)
        missing = sum(1 for n in wanted[owner] if f"{owner}/{n}" not in ids)
        # Read the remaining pages only when that is fewer requests than one GET per name.
        if missing and last - 1 <= missing:
            rest_pages += [(owner, page) for page in range(2, last + 1)]
    for (owner, _), (items, _) in zip(
        rest_pages,
        _map(pool, lambda job: client.repos.org_page(job[0], job[1]), rest_pages),
        strict=True,
    ):
        record(owner, items)
    lookups = sorted(
        f"{owner}/{name}"
        for owner in owners
        for name in wanted[owner]
        if f"{owner}/{name}" not in ids
    )
    for full_name, repo in zip(lookups, _map(pool, client.repos.get, lookups), strict=True):
        if repo is not None:
            ids[full_name] = repo.id

    unknown = [ref for ref in refs if ref.full_name.lower() not in ids]
    if unknown:
        raise UnknownRepositoriesError(
            [
                Problem(
                    ref.location,
                    ref.path,
                    f'unknown repository "{ref.full_name}"',
                    "check the spelling; the token must be able to see the repository "
                    "(Metadata: read)",
                )
                for ref in unknown
            ]
        )
    return ids


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


def _list_jobs(desired: DesiredState, existing: frozenset[Scope]) -> list[ListJob]:
    """One listing per (scope, app, kind) the manifest manages; none in an environment that
    does not exist yet (the plan creates it, and it holds nothing)."""
    jobs: list[ListJob] = []
    for group in desired.groups:
        if group.scope.kind is ScopeKind.ENVIRONMENT and group.scope not in existing:
            continue
        jobs += [(group.scope, group.app, kind) for kind in _ITEM_KINDS if group.manages(kind)]
    return jobs


_ITEM_KINDS = (Kind.SECRET, Kind.VARIABLE)


def read_environments(
    client: GitHubClient, desired: DesiredState, pool: ThreadPoolExecutor
) -> frozenset[Scope]:
    """The environments the manifest writes into that exist: one listing per repository."""
    wanted = desired.environments()
    repos = sorted({scope.name.lower() for scope in wanted})
    listed = dict(zip(repos, _map(pool, client.environments.names, repos), strict=True))
    return frozenset(
        scope
        for scope in wanted
        if scope.environment.lower() in {n.lower() for n in listed[scope.name.lower()]}
    )


def read_live(
    desired: DesiredState, client: GitHubClient, *, concurrency: int = 8
) -> tuple[LiveState, dict[tuple[Scope, App], PublicKey]]:
    """Live secrets and variables for every (scope, app) the manifest names, plus the public
    keys of the scopes whose sealed values must be checked against the current key."""
    # Per kind: a secret and a variable may share a name, and only the managed one's
    # selection is read.
    managed: dict[tuple[Scope, App, Kind], set[str]] = defaultdict(set)
    for g in desired.groups:
        for s in g.items:
            if s.visibility is Visibility.SELECTED:
                managed[(g.scope, g.app, s.kind)].add(s.name)
    with read_pool(client.transport, concurrency) as pool:
        repo_ids = resolve_repositories(client, _repo_refs(desired), pool)
        environments = read_environments(client, desired, pool)
        jobs = _list_jobs(desired, environments)
        listed = _map(pool, lambda job: _list(client, *job), jobs)
        selection_jobs = [
            (scope, app, kind, item.name.upper())
            for (scope, app, kind), items in zip(jobs, listed, strict=True)
            for item in items
            if item.visibility is Visibility.SELECTED
            and item.name.upper() in managed[(scope, app, kind)]
        ]
        selections = _map(
            pool,
            lambda job: client.of_kind(job[2]).selected_repositories(job[0], job[1], job[3]),
            selection_jobs,
        )
        sealed_scopes = sorted(
            {
                (s.scope, s.app)
                for s in desired.items()
                if isinstance(s.source, SealedSource)
                and (s.scope.kind is not ScopeKind.ENVIRONMENT or s.scope in environments)
            },
            key=lambda k: (k[0].key, k[1].value),
        )
        keys = _map(pool, lambda k: client.secrets.public_key(k[0], k[1]), sealed_scopes)

    selected_by_key: dict[tuple[Scope, App, Kind, str], frozenset[str]] = {}
    for (scope, app, kind, name), repos in zip(selection_jobs, selections, strict=True):
        selected_by_key[(scope, app, kind, name)] = frozenset(r.name.lower() for r in repos)
        # A live selection names repositories the manifest may no longer name; removing one
        # of them needs its id, which this listing already gave.
        for r in repos:
            repo_ids.setdefault(f"{scope.org}/{r.name}".lower(), r.id)
    by_group: dict[tuple[Scope, App], list[LiveItem]] = {
        (g.scope, g.app): [] for g in desired.groups
    }
    for (scope, app, kind), items in zip(jobs, listed, strict=True):
        for item in items:
            selected = selected_by_key.get((scope, app, kind, item.name.upper()))
            by_group[(scope, app)].append(
                _live_variable(item, selected)
                if isinstance(item, VariableItem)
                else _live_secret(item, selected)
            )
    live_groups = tuple(
        LiveGroup(scope, app, tuple(sorted(items, key=lambda s: (s.kind.value, s.name))))
        for (scope, app), items in by_group.items()
    )
    state = LiveState(
        groups=live_groups,
        repo_ids=MappingProxyType(repo_ids),
        environments=environments,
    )
    return state, dict(zip(sealed_scopes, keys, strict=True))


def _list(
    client: GitHubClient, scope: Scope, app: App, kind: Kind
) -> list[SecretItem] | list[VariableItem]:
    if kind is Kind.VARIABLE:
        return client.variables.list(scope, app)
    return client.secrets.list(scope, app)
