"""Which repositories `reconciler import` reads: `--repo` and `--exclude-repo` patterns matched
against the organisations' repository listings, never sent to GitHub as names.

A pattern is `NAME` (in every `--org`), `OWNER/NAME`, or a glob of either (`acme/*`,
`svc-*`; fnmatch, case-insensitive like GitHub). Without `--repo`, every repository of every
`--org` is read. An exact `OWNER/NAME` whose owner is not an `--org` is taken as given (a user
account's repository cannot be listed); a glob needs its owner's listing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from reconciler.errors import RepoPatternError, UsageError

_GLOB = frozenset("*?[")


def is_glob(text: str) -> bool:
    return any(c in _GLOB for c in text)


@dataclass(frozen=True, slots=True)
class RepoPattern:
    text: str  # as given, for messages
    owner: str | None  # lower-cased; None: in every --org (includes) / any owner (excludes)
    name: str  # lower-cased fnmatch pattern or exact name

    def matches(self, full_name: str) -> bool:
        owner, name = full_name.lower().split("/", 1)
        if self.owner is not None and owner != self.owner:
            return False
        return fnmatch.fnmatchcase(name, self.name)


def parse_pattern(text: str, flag: str) -> RepoPattern:
    owner, sep, name = text.strip().rpartition("/")
    if not name or (sep and not owner) or "/" in owner:
        raise UsageError(
            f'{flag} "{text}" is not NAME, OWNER/NAME or a glob of either',
            hint=f"for example {flag} web, {flag} acme/web or {flag} 'acme/svc-*'",
        )
    if is_glob(owner):
        raise UsageError(
            f'{flag} "{text}": the owner cannot be a glob',
            hint="name the organisation (--org ORG) and glob the repository name",
        )
    return RepoPattern(text, owner.lower() if sep else None, name.lower())


def owners_to_list(orgs: Sequence[str], includes: Sequence[RepoPattern]) -> list[str]:
    """Every owner whose listing the selection needs (lower-cased, sorted)."""
    owners = {o.lower() for o in orgs}
    owners |= {p.owner for p in includes if p.owner is not None and is_glob(p.name)}
    return sorted(owners)


def list_repos(
    pool: Executor, owners: Sequence[str], page: Callable[[str, int], tuple[list[str], int]]
) -> dict[str, list[str] | None]:
    """owner -> its repositories' full names (sorted), or None where the owner has no org
    listing (a user account). `page(owner, n)` is one page of names and the last page."""
    firsts = list(pool.map(lambda o: page(o, 1), owners))
    rest = [(o, n) for o, (_, last) in zip(owners, firsts, strict=True) for n in range(2, last + 1)]
    later = list(pool.map(lambda job: page(job[0], job[1]), rest))
    found: dict[str, list[str] | None] = {}
    for owner, (names, last) in zip(owners, firsts, strict=True):
        found[owner] = list(names) if last else None
    for (owner, _), (names, _) in zip(rest, later, strict=True):
        listed = found[owner]
        assert listed is not None
        listed += names
    return {o: sorted(set(n), key=str.lower) if n is not None else None for o, n in found.items()}


def select_repos(
    orgs: Sequence[str],
    includes: Sequence[RepoPattern],
    excludes: Sequence[RepoPattern],
    listings: Mapping[str, list[str] | None],
) -> list[str]:
    """The repositories to read, sorted; RepoPatternError for an include that matches
    nothing (a typo should not import less than intended without a word)."""
    org_owners = [o.lower() for o in orgs]
    chosen: dict[str, str] = {}  # lower-cased full name -> as listed

    def listed(owner: str) -> list[str]:
        names = listings.get(owner)
        if names is None:
            raise RepoPatternError(
                owner, "is not an organization: its repositories cannot be listed"
            )
        return names

    if not includes:
        for owner in org_owners:
            chosen.update((n.lower(), n) for n in listed(owner))
    for pattern in includes:
        owners = [pattern.owner] if pattern.owner is not None else org_owners
        if not owners:
            raise UsageError(
                f'--repo "{pattern.text}" names no owner and no --org was given',
                hint="write it as OWNER/NAME, or add --org OWNER",
            )
        hits: list[str] = []
        for owner in owners:
            if not is_glob(pattern.name) and owner not in org_owners:
                hits.append(pattern.text.strip())  # OWNER/NAME of a non --org: as given
                continue
            hits += [n for n in listed(owner) if pattern.matches(n)]
        if not hits:
            where = ", ".join(owners)
            raise RepoPatternError(where, f'has no repository matching --repo "{pattern.text}"')
        chosen.update((n.lower(), n) for n in hits)
    kept = [n for key, n in chosen.items() if not any(p.matches(key) for p in excludes)]
    return sorted(kept, key=str.lower)
