"""How an organisation secret or variable is shared: its visibility, its selected repositories,
and which repositories see it. One set of rules for both, as GitHub applies them."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.sandbox.rules.errors import ApiError, invalid
from reconciler.sandbox.rules.names import VISIBILITIES
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.scopes import Org, Repo, Shared


def repo_ids(org: Org, ids: Iterable[int], doc: str) -> set[int]:
    wanted = set(ids)
    unknown = sorted(i for i in wanted if org.repo_by_id(i) is None)
    if unknown:
        listed = ", ".join(str(i) for i in unknown)
        raise invalid(f"Repository ids not in organization {org.login}: {listed}.", doc)
    return wanted


def org_visibility(
    existing: Shared | None, visibility: str | None, selected: Iterable[int] | None, doc: str
) -> str:
    """The visibility a write leaves: the one given, else the existing one."""
    if visibility is None:
        if existing is None or existing.visibility is None:
            raise invalid('"visibility" wasn\'t supplied.', doc)
        visibility = existing.visibility
    if visibility not in VISIBILITIES:
        raise invalid(f'"visibility" must be one of {", ".join(VISIBILITIES)}.', doc)
    if selected is not None and visibility != "selected":
        raise invalid(
            "selected_repository_ids can only be given when visibility is 'selected'.", doc
        )
    return visibility


def selection(
    org: Org, existing: Shared | None, visibility: str, selected: Iterable[int] | None, doc: str
) -> set[int]:
    if visibility != "selected":
        return set()
    if selected is not None:
        return repo_ids(org, selected, doc)
    # A write that names no ids keeps a selected item's repositories.
    if existing is not None and existing.visibility == "selected":
        return set(existing.selected)
    return set()


def require_selected(found: Shared, noun: str, doc: str) -> Shared:
    if found.visibility != "selected":
        raise ApiError(409, f"{noun} visibility is not set to selected.", doc)
    return found


def write_selection(found: Shared, chosen: set[int], clock: Clock, bumps: bool) -> None:
    found.selected = chosen
    if bumps:
        found.updated_at = clock.tick()


def selected_repos(org: Org, found: Shared) -> list[Repo]:
    repos = (org.repo_by_id(i) for i in sorted(found.selected))
    return [r for r in repos if r is not None]


def selected_names(org: Org, found: Shared) -> frozenset[str]:
    repos = (org.repo_by_id(i) for i in found.selected)
    return frozenset(r.name for r in repos if r is not None)


def visible_to(repo: Repo, found: Shared) -> bool:
    """Whether `repo` can use an organisation secret or variable."""
    if found.visibility == "all":
        return True
    if found.visibility == "private":
        return repo.private
    return repo.id in found.selected
