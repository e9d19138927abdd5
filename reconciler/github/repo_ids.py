"""Repository names to ids, with the fewest requests, and every unknown one reported at once
with where the manifest names it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import Problem, UnknownRepositoriesError
from reconciler.github.client import GitHubClient
from reconciler.github.repositories import RepoItem
from reconciler.model import Location

T = TypeVar("T")
R = TypeVar("R")

# Below this many names in one org, per-repository GETs are never worse than a listing.
_DIRECT_LOOKUP_MAX = 2


@dataclass(frozen=True, slots=True)
class RepoRef:
    full_name: str
    location: Location
    path: str
    needs_id: bool = True  # False: only its existence matters (a repository scope)


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
