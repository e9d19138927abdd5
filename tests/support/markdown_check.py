"""Render markdown the way GitHub does (cmark-gfm, GitHub's own parser, with its table,
autolink, strikethrough and tag-filter extensions) and describe the HTML it makes.

Raw HTML is passed through (GitHub keeps `<details>`, `<summary>`, `<b>`, `<sub>` after its
sanitiser), so any tag that data smuggles in shows up here as a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# The tags the tool itself writes into a plan or results comment, and what cmark-gfm makes
# of tables, headings, paragraphs and code spans.
TOOL_TAGS = frozenset(
    {
        "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code",
        "details", "summary", "b", "sub", "blockquote", "strong",
    }
)  # fmt: skip
# GitHub's mention and issue-reference filters: `@login`, `@org/team`, `#123`, `GH-123`.
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
_REFERENCE = re.compile(r"(?<![\w&])#\d|\bGH-\d", re.IGNORECASE)


@dataclass
class Html:
    tags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    text_outside_code: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # cells per <tr>
    cells: list[str] = field(default_factory=list)  # each <td>/<th>'s text, code included

    def mentions(self) -> list[str]:
        return [t for t in self.text_outside_code if _MENTION.search(t) or _REFERENCE.search(t)]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html = Html()
        self._code = 0
        self._cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.html.tags.append(tag)
        if tag == "code":
            self._code += 1
        elif tag == "tr":
            self.html.rows.append(0)
        elif tag in ("td", "th"):
            self.html.rows[-1] += 1
            self.html.cells.append("")
            self._cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._code -= 1
        elif tag in ("td", "th"):
            self._cell = False

    def handle_comment(self, data: str) -> None:
        self.html.comments.append(data)

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.html.cells[-1] += data
        if not self._code:
            self.html.text_outside_code.append(data)


def render_gfm(markdown: str) -> str:
    extensions = ("table", "autolink", "strikethrough", "tagfilter")
    html: str = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=Options.CMARK_OPT_UNSAFE, extensions=extensions
    )
    return html


def inspect(markdown: str) -> Html:
    collector = _Collector()
    collector.feed(render_gfm(markdown))
    collector.close()
    return collector.html
