"""Repositories: an organisation's repository listing one page at a time, and one repository by
name; what resolving `repositories: [web, api]` to ids needs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from reconciler.errors import RequestInfo
from reconciler.github.pagination import last_page
from reconciler.github.responses import Json, parse_json
from reconciler.github.transport import Transport


@dataclass(frozen=True, slots=True)
class RepoItem:
    id: int
    name: str
    owner: str | None  # the owner's login, where the listing says


def repo_item(item: Json) -> RepoItem:
    owner = item.optional("owner")
    login = owner.field("login").name() if owner is not None else None
    return RepoItem(item.field("id").id(), item.field("name").name(), login)


class Repositories:
    """`GET /orgs/{org}/repos` and `GET /repos/{owner}/{repo}`, read through `Json`."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def org_page(self, org: str, page: int) -> tuple[list[RepoItem], int]:
        """One page (100 per page) of `GET /orgs/{org}/repos`, and the number of the last
        page according to its `Link: rel="last"` (the page itself when there is none)."""
        resp = self._transport.request(
            "GET",
            f"/orgs/{quote(org)}/repos",
            params={"per_page": 100, "type": "all", "page": page},
            ok=(200, 404),
        )
        if resp.status_code == 404:
            return [], 0  # a user account, not an organisation: callers GET repos one by one
        info = RequestInfo("GET", f"/orgs/{quote(org)}/repos", resp.status_code)
        last = last_page(resp, info, page)
        return [repo_item(i) for i in parse_json(info, resp.content).items()], last

    def get(self, full_name: str) -> RepoItem | None:
        """The repository, or None if it does not exist (or the token cannot see it)."""
        owner, repo = full_name.split("/", 1)
        path = f"/repos/{quote(owner)}/{quote(repo)}"
        resp = self._transport.request("GET", path, ok=(200, 404))
        if resp.status_code == 404:
            return None
        return repo_item(parse_json(RequestInfo("GET", path, resp.status_code), resp.content))
