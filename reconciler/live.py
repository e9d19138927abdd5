"""Read live state for exactly the scopes and apps a manifest names.

Reads run on a bounded thread pool; results are assembled in manifest order, so the
LiveState is identical whatever the interleaving.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from reconciler.errors import Problem, UnknownRepositoriesError
from reconciler.github import GitHubClient, PublicKey
from reconciler.model import (
    App,
    DesiredState,
    LiveGroup,
    LiveSecret,
    LiveState,
    Location,
    Scope,
    ScopeKind,
    Visibility,
)
from reconciler.sources import SealedSource

T = TypeVar("T")
R = TypeVar("R")

_LAST_PAGE = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')
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
        for secret in group.secrets:
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
    how many pages there are (its `rel="last"` link), and we either read the remaining pages or
    GET the names still missing, whichever is fewer. Every unknown repository is reported at once.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for ref in refs:
        owner, name = ref.full_name.lower().split("/", 1)
        wanted[owner].add(name)

    def from_listing(owner: str) -> dict[str, int]:
        names = wanted[owner]
        found: dict[str, int] = {}
        if len(names) <= _DIRECT_LOOKUP_MAX:
            return found
        pages = client.org_repositories(owner)
        first = next(pages, None)
        if first is None:
            return found
        _collect(first["items"], owner, names, found)
        last = _LAST_PAGE.search(first["link"])
        remaining_pages = int(last.group(1)) - 1 if last else 0
        if len(names) - len(found) >= remaining_pages:
            for page in pages:
                _collect(page["items"], owner, names, found)
                if len(found) == len(names):
                    break
        return found

    owners = sorted(wanted)
    ids: dict[str, int] = {}
    for owner, found in zip(owners, _map(pool, from_listing, owners), strict=True):
        ids.update({f"{owner}/{name}": repo_id for name, repo_id in found.items()})
    lookups = sorted(
        f"{owner}/{name}"
        for owner in owners
        for name in wanted[owner]
        if f"{owner}/{name}" not in ids
    )
    for full_name, repo in zip(lookups, _map(pool, client.get_repository, lookups), strict=True):
        if repo is not None:
            ids[full_name] = int(repo["id"])

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


def _collect(
    items: list[dict[str, Any]], owner: str, names: set[str], found: dict[str, int]
) -> None:
    for item in items:
        name = str(item["name"]).lower()
        if name in names and str(item["owner"]["login"]).lower() == owner:
            found[name] = int(item["id"])


def _live_secret(item: dict[str, Any], selected: frozenset[str] | None) -> LiveSecret:
    vis = item.get("visibility")
    return LiveSecret(
        name=str(item["name"]).upper(),
        updated_at=str(item.get("updated_at", "")),
        visibility=Visibility(vis) if vis else None,
        selected=selected,
    )


def read_live(
    desired: DesiredState, client: GitHubClient, *, concurrency: int = 8
) -> tuple[LiveState, dict[tuple[Scope, App], PublicKey]]:
    """Live secrets for every (scope, app) the manifest names, plus the public keys of the
    scopes whose sealed values must be checked against the current key."""
    start = client.counters.reads
    groups = [(g.scope, g.app) for g in desired.groups]
    managed = {
        (g.scope, g.app): {s.name for s in g.secrets if s.visibility is Visibility.SELECTED}
        for g in desired.groups
    }
    sealed_scopes = sorted(
        {(s.scope, s.app) for s in desired.secrets() if isinstance(s.source, SealedSource)},
        key=lambda k: (k[0].key, k[1].value),
    )
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        repo_ids = resolve_repositories(client, _repo_refs(desired), pool)
        listed = _map(pool, lambda k: client.list_secrets(k[0], k[1]), groups)
        selection_jobs = [
            (scope, app, str(item["name"]).upper())
            for (scope, app), items in zip(groups, listed, strict=True)
            for item in items
            if item.get("visibility") == "selected"
            and str(item["name"]).upper() in managed[(scope, app)]
        ]
        selections = _map(
            pool,
            lambda job: frozenset(
                str(r["name"]).lower()
                for r in client.list_selected_repositories(job[0], job[1], job[2])
            ),
            selection_jobs,
        )
        keys = _map(pool, lambda k: client.public_key(k[0], k[1]), sealed_scopes)

    selected_by_key = {
        (scope, app, name): sel
        for (scope, app, name), sel in zip(selection_jobs, selections, strict=True)
    }
    live_groups = tuple(
        LiveGroup(
            scope,
            app,
            tuple(
                sorted(
                    (
                        _live_secret(
                            item, selected_by_key.get((scope, app, str(item["name"]).upper()))
                        )
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
        requests=client.counters.reads - start,
    )
    return state, dict(zip(sealed_scopes, keys, strict=True))
