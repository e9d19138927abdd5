"""Following GitHub's `Link` header: every item of a list endpoint (`rel="next"`, 100 per page)
and the number of the last page (`rel="last"`), both bounded by MAX_PAGES."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import requests

from reconciler.errors import MalformedResponseError, RequestInfo
from reconciler.github.responses import Json, parse_json, request_info
from reconciler.github.transport import Transport
from reconciler.model import App, ScopeKind

# 1,000 pages of 100 = 100,000 items: far beyond any real organisation's secrets, repositories
# or PR comments, and small enough that a server paging forever is stopped in minutes.
MAX_PAGES = 1000
T = TypeVar("T")
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_LINK_LAST = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


def paginate(
    transport: Transport,
    path: str,
    key: str | None,
    *,
    app: App | None = None,
    scope_kind: ScopeKind | None = None,
    permission: str | None = None,
    per_page: int = 100,
) -> Iterator[Json]:
    """Every item of a list endpoint, following `Link: rel="next"` at 100 per page, each
    a `Json` to read with checks. `key` names the list in the body; None when the body is
    the list itself. `per_page` is the endpoint's maximum (variables page at 30). Stops with
    an error after MAX_PAGES pages or at a repeated link."""
    kw: dict[str, Any] = {"app": app, "scope_kind": scope_kind, "permission": permission}
    resp = transport.request("GET", path, params={"per_page": per_page}, **kw)
    return _follow(transport, resp, path, key, kw, per_page)


def _follow(
    transport: Transport,
    resp: requests.Response,
    path: str,
    key: str | None,
    kw: dict[str, Any],
    per_page: int,
) -> Iterator[Json]:
    seen: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        yield from _items(resp, path, key)
        match = _LINK_NEXT.search(resp.headers.get("Link", ""))
        if not match:
            return
        link = match.group(1)
        if link in seen:
            raise MalformedResponseError(
                request_info(resp, "GET", path),
                "Link",
                f'rel="next" of page {page} points back at an earlier page',
            )
        seen.add(link)
        resp = transport.request("GET", path, url=link, **kw)
    raise MalformedResponseError(
        request_info(resp, "GET", path),
        "Link",
        f"more than {MAX_PAGES} pages ({per_page} items each); stopped",
    )


def _items(resp: requests.Response, path: str, key: str | None) -> list[Json]:
    body = parse_json(request_info(resp, "GET", path), resp.content)
    return list((body if key is None else body.field(key)).items())


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    """A list endpoint read page by page, so that a caller can fetch pages 2..n at once:
    `first()` gives page 1's items and the number of pages its `Link: rel="last"` names;
    `page(n)` reads page n. A server that links pages by `rel="next"` alone is followed
    from `first()`, one page after another (then every item comes back and the count is 1).
    `collect()` reads every page, one after another."""

    transport: Transport
    path: str
    key: str | None
    convert: Callable[[Json], T]
    per_page: int = 100
    kw: Mapping[str, Any] = field(default_factory=dict)

    def first(self) -> tuple[list[T], int]:
        kw = dict(self.kw)
        resp = self.transport.request("GET", self.path, params={"per_page": self.per_page}, **kw)
        if _LINK_LAST.search(resp.headers.get("Link", "")):
            last = last_page(resp, request_info(resp, "GET", self.path), 1)
            return [self.convert(j) for j in _items(resp, self.path, self.key)], last
        items = _follow(self.transport, resp, self.path, self.key, kw, self.per_page)
        return [self.convert(j) for j in items], 1

    def page(self, number: int) -> list[T]:
        params = {"per_page": self.per_page, "page": number}
        resp = self.transport.request("GET", self.path, params=params, **self.kw)
        return [self.convert(j) for j in _items(resp, self.path, self.key)]

    def collect(self) -> list[T]:
        items, last = self.first()
        for number in range(2, last + 1):
            items += self.page(number)
        return items


def last_page(resp: requests.Response, request: RequestInfo, page: int) -> int:
    """The number of the last page according to `Link: rel="last"` of page `page` (the page
    itself when there is none); MalformedResponseError when it is before `page` or too far."""
    last = _LINK_LAST.search(resp.headers.get("Link", ""))
    number = int(last.group(1)) if last else page
    if not page <= number <= MAX_PAGES:
        raise MalformedResponseError(
            request, "Link", f'rel="last" names page {number} (page {page} was asked for)'
        )
    return number
