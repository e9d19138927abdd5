"""`per_page`/`page` and the `Link` header, as GitHub computes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
# The variables listings: "The number of results per page (max 30)", default 10.
VARIABLES_DEFAULT_PER_PAGE = 10
VARIABLES_MAX_PER_PAGE = 30


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Page:
    per_page: int
    page: int

    @classmethod
    def from_query(
        cls,
        pairs: Sequence[tuple[str, str]],
        default: int = DEFAULT_PER_PAGE,
        maximum: int = MAX_PER_PAGE,
    ) -> Page:
        """GitHub clamps `per_page` to the listing's maximum (100, or 30 for variables) and
        treats junk or non-positive values as the default."""
        given = dict(pairs)
        per_page = _int(given.get("per_page"), default)
        per_page = default if per_page < 1 else min(per_page, maximum)
        page = _int(given.get("page"), 1)
        return cls(per_page, max(page, 1))

    def slice(self, items: Sequence[T]) -> list[T]:
        start = (self.page - 1) * self.per_page
        return list(items[start : start + self.per_page])

    def last(self, total: int) -> int:
        return max(1, -(-total // self.per_page))


def link_header(url: str, pairs: Sequence[tuple[str, str]], page: Page, total: int) -> str | None:
    """`<url?...&page=N>; rel="next", ...` in GitHub's order: prev, next, last, first.

    The request's own query parameters are kept in their order and `page` goes last,
    which is how GitHub writes its links.
    """
    last = page.last(total)
    kept = [(k, v) for k, v in pairs if k != "page"]

    def target(n: int) -> str:
        return f"<{url}?{urlencode([*kept, ('page', str(n))])}>"

    links: list[str] = []
    if page.page > 1:
        links.append(f'{target(page.page - 1)}; rel="prev"')
    if page.page < last:
        links.append(f'{target(page.page + 1)}; rel="next"')
        links.append(f'{target(last)}; rel="last"')
    if page.page > 1:
        links.append(f'{target(1)}; rel="first"')
    return ", ".join(links) or None
