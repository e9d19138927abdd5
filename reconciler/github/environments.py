"""A repository's deployment environments: which exist, and creating one.

Only what secrets and variables need: reconciler creates an environment a manifest writes
into (a plain PUT, no protection rules) and never deletes one or touches its rules.
"""

from __future__ import annotations

from urllib.parse import quote

from reconciler.github.pagination import paginate
from reconciler.github.permissions import ENVIRONMENTS_READ, ENVIRONMENTS_WRITE
from reconciler.github.transport import Transport
from reconciler.model import Scope, ScopeKind


class Environments:
    """`GET /repos/{owner}/{repo}/environments` and `PUT .../environments/{name}`."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def names(self, repository: str) -> list[str]:
        """The names of every environment of `owner/repo`, as GitHub spells them."""
        return [
            item.field("name").string()
            for item in paginate(
                self._transport,
                f"{_repo_path(repository)}/environments",
                "environments",
                permission=ENVIRONMENTS_READ,
            )
        ]

    def create(self, scope: Scope) -> None:
        """Create the environment an ENVIRONMENT scope names, with no protection rules (an
        empty body). The plan sends it only for environments its listing did not show, so an
        existing environment's rules are never touched."""
        if scope.kind is not ScopeKind.ENVIRONMENT:
            raise ValueError(f"not an environment scope: {scope.kind}")
        path = f"{_repo_path(scope.name)}/environments/{quote(scope.environment, safe='')}"
        self._transport.request("PUT", path, body={}, ok=(200,), permission=ENVIRONMENTS_WRITE)


def _repo_path(repository: str) -> str:
    owner, repo = repository.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
