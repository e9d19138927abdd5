"""Following GitHub's `Link` header: every item of a list endpoint (`rel="next"`, 100 per page)
and the number of the last page (`rel="last"`), both bounded by MAX_PAGES."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests

from reconciler.errors import MalformedResponseError, RequestInfo
from reconciler.github.responses import Json, parse_json, request_info
from reconciler.github.transport import Transport
from reconciler.model import App, ScopeKind

# 1,000 pages of 100 = 100,000 items: far beyond any real organisation's secrets, repositories
# or PR comments, and small enough that a server paging forever is stopped in minutes.
MAX_PAGES = 1000
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
    seen: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        body = parse_json(request_info(resp, "GET", path), resp.content)
        yield from (body if key is None else body.field(key)).items()
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
