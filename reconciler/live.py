"""Read live state for exactly the scopes and apps a manifest names.

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
from reconciler.model import (
    App,
    DesiredState,
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
        if group.scope.kind is ScopeKind.REPO:
            refs.append(RepoRef(group.scope.name, group.location, f"repos.{group.scope.name}"))
            continue
        for secret in group.items:
            for i, (name, loc) in enumerate(
                zip(secret.repositories or (), secret.repository_locations, strict=False)
            ):
                path = (
                    f"orgs.{group.scope.name}.{group.app}.secrets.{secret.name}.repositories[{i}]"
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


def read_live(
    desired: DesiredState, client: GitHubClient, *, concurrency: int = 8
) -> tuple[LiveState, dict[tuple[Scope, App], PublicKey]]:
    """Live secrets for every (scope, app) the manifest names, plus the public keys of the
    scopes whose sealed values must be checked against the current key."""
    groups = [(g.scope, g.app) for g in desired.groups]
    managed = {
        (g.scope, g.app): {s.name for s in g.items if s.visibility is Visibility.SELECTED}
        for g in desired.groups
    }
    sealed_scopes = sorted(
        {(s.scope, s.app) for s in desired.items() if isinstance(s.source, SealedSource)},
        key=lambda k: (k[0].key, k[1].value),
    )
    with read_pool(client.transport, concurrency) as pool:
        repo_ids = resolve_repositories(client, _repo_refs(desired), pool)
        listed = _map(pool, lambda k: client.secrets.list(k[0], k[1]), groups)
        selection_jobs = [
            (scope, app, item.name.upper())
            for (scope, app), items in zip(groups, listed, strict=True)
            for item in items
            if item.visibility is Visibility.SELECTED and item.name.upper() in managed[(scope, app)]
        ]
        selections = _map(
            pool, lambda job: client.secrets.selected_repositories(*job), selection_jobs
        )
        keys = _map(pool, lambda k: client.secrets.public_key(k[0], k[1]), sealed_scopes)

    selected_by_key: dict[tuple[Scope, App, str], frozenset[str]] = {}
    for (scope, app, name), repos in zip(selection_jobs, selections, strict=True):
        selected_by_key[(scope, app, name)] = frozenset(r.name.lower() for r in repos)
        # A live selection names repositories the manifest may no longer name; removing one
        # of them needs its id, which this listing already gave.
        for r in repos:
            repo_ids.setdefault(f"{scope.org}/{r.name}".lower(), r.id)
    live_groups = tuple(
        LiveGroup(
            scope,
            app,
            tuple(
                sorted(
                    (
                        _live_secret(item, selected_by_key.get((scope, app, item.name.upper())))
                        for item in items
                    ),
                    key=lambda s: s.name,
                )
            ),
        )
        for (scope, app), items in zip(groups, listed, strict=True)
    )
    state = LiveState(
        groups=live_groups,
        repo_ids=MappingProxyType(repo_ids),
    )
    return state, dict(zip(sealed_scopes, keys, strict=True))
