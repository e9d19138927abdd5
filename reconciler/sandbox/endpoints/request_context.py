"""What an endpoint receives (`Context`: the request, the world, the caller) and the two
ways GitHub pages a listing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from reconciler.sandbox.rules.messages import ApiRequest, Reply
from reconciler.sandbox.rules.pagination import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    VARIABLES_DEFAULT_PER_PAGE,
    VARIABLES_MAX_PER_PAGE,
    Page,
    link_header,
)
from reconciler.sandbox.rules.quota import Quota
from reconciler.sandbox.world.accounts import Principal
from reconciler.sandbox.world.scopes import Holder, Org, Repo
from reconciler.sandbox.world.state import World

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Context:
    request: ApiRequest
    world: World
    params: dict[str, str]
    app: str
    doc: str
    api: str  # API root as the client addressed it, e.g. http://127.0.0.1:8080/api/v3
    web: str  # the server root, standing in for https://github.com
    version: str
    quota: Quota | None
    principal: Principal

    def param(self, name: str) -> str:
        return unquote(self.params[name])

    def org(self) -> Org:
        return self.world.org(self.param("org"))

    def repo(self) -> Repo:
        return self.world.repo(self.param("owner"), self.param("repo"))

    def scope(self) -> Holder:
        """The organisation, repository or environment the path names (404 when unknown)."""
        if "environment_name" in self.params:
            return self.world.environment(self.repo(), self.param("environment_name"), self.doc)
        return self.org() if "org" in self.params else self.repo()


Handler = Callable[[Context], Reply]


def paged(
    ctx: Context,
    key: str,
    items: Sequence[Any],
    total: int | None = None,
    *,
    default: int = DEFAULT_PER_PAGE,
    maximum: int = MAX_PER_PAGE,
) -> Reply:
    page = Page.from_query(ctx.request.query, default, maximum)
    count = len(items) if total is None else total
    body = {"total_count": count, key: page.slice(items)}
    link = link_header(ctx.web + ctx.request.path, ctx.request.query, page, count)
    return Reply(200, body, (("Link", link),) if link else ())


def list_of(
    ctx: Context, items: Sequence[T], render: Callable[[T], Any] = lambda item: item
) -> Reply:
    """One page of a bare-array listing; only the page's items are rendered."""
    page = Page.from_query(ctx.request.query)
    link = link_header(ctx.web + ctx.request.path, ctx.request.query, page, len(items))
    return Reply(200, [render(i) for i in page.slice(items)], (("Link", link),) if link else ())


def paged_variables(ctx: Context, items: Sequence[Any]) -> Reply:
    """A variables listing: 10 a page unless asked, 30 at most."""
    return paged(
        ctx, "variables", items, default=VARIABLES_DEFAULT_PER_PAGE, maximum=VARIABLES_MAX_PER_PAGE
    )
