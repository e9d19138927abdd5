"""Text from data (API answers, the ledger, manifests) made safe to show. Pure functions.

Names and messages the tool did not write itself must not steer whatever displays them:

- a terminal or CI log: no control character (ESC starts colour, cursor and OSC 8 link
  sequences), no bidi override that reorders what is read, no line separator, and no newline
  from data, so data never starts a line; and never `::` or `##[`, which GitHub Actions reads
  as a workflow command (`::add-mask::`, `::stop-commands::`) when a line starts with it;
- markdown (the PR comment, the job summary): no mention, link, image, raw HTML, table
  break or code-span break-out.

Each unsafe character is shown as a visible escape (`\\x1b`, `\\n`, `\\u202e`), so a hostile
name is seen for what it is rather than silently changed.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Cc: C0, DEL, C1 controls. Cf: format characters (bidi embeddings, overrides and isolates,
# zero-width characters). Zl/Zp: line and paragraph separators. Cs: lone surrogates, which
# cannot even be encoded to a UTF-8 stream.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# GitHub Actions reads `::command::` at a line's start (after blanks) and the older `##[command]`
# anywhere in a line: break both so no output line can be one.
_WORKFLOW_COMMAND = re.compile(r"::|##\[")
_DEFUSED = {"::": ":\\x3a", "##[": "#\\x23["}
# The punctuation that can open an inline construct (emphasis, code, link, image, raw HTML,
# entity, strikethrough, table pipe) or an extended autolink (`http:`, `mailto:`, `www.`); any
# ASCII punctuation may be backslash-escaped in CommonMark, these are the ones that must be.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>!&|~#{}:@]|(?<=www)\.)", re.IGNORECASE)
# GitHub links `@login`, `@org/team`, `#123`, `owner/repo#123` and `GH-123` in rendered text,
# wherever it is (except in code); a zero-width space after the sigil stops that, visibly
# unchanged.
_ZWSP = "\u200b"
_SIGILS = re.compile(r"([@#]|\bGH-)", re.IGNORECASE)


def _escape_char(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escape_controls(text: str, keep: str = "") -> str:
    if text.isprintable() and not keep:
        return text
    return "".join(_escape_char(c) if c not in keep and _is_unsafe(c) else c for c in text)


def _defuse(text: str) -> str:
    return _WORKFLOW_COMMAND.sub(lambda m: _DEFUSED[m.group(0)], text)


def printable(text: str) -> str:
    """`text` as one line safe for a terminal or CI log: unsafe characters (newlines
    included) as visible escapes, workflow-command markers broken. Idempotent."""
    return _defuse(_escape_controls(text))


def printable_block(text: str) -> str:
    """Multi-line text the tool composed (an error with its hint, a log record): newlines and
    tabs are kept, every other unsafe character is escaped, and no line can be read as a
    workflow command. The guard at an output boundary, behind `printable` at each field."""
    return "\n".join(_defuse(_escape_controls(line, keep="\t")) for line in text.split("\n"))


def md_text(text: str) -> str:
    """`text` as inline markdown that renders as exactly that text: every punctuation mark
    escaped (no emphasis, link, image, raw HTML, autolink or table pipe), mentions and issue
    references broken. Safe inside a GFM table cell."""
    escaped = _MD_SPECIAL.sub(r"\\\1", printable(text))
    return _SIGILS.sub(lambda m: m.group(1) + _ZWSP, escaped)


def md_code(text: str) -> str:
    """`text` as an inline code span (GitHub neither links nor mentions inside code) that
    holds whatever backticks the text has, and safe inside a GFM table cell."""
    shown = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    if not shown:
        return "` `"  # an empty span is not a code span; names are never empty anyway
    # CommonMark strips one space from each side when both have one (unless the content is
    # all spaces); pad so text that starts or ends with a backtick or a space keeps it.
    pad = " " if shown.strip(" ") and (shown[0] in "` " or shown[-1] in "` ") else ""
    # A GFM table splits cells at `|` even inside code; `\|` is kept as `|`, in code too.
    return f"{fence}{pad}{shown}{pad}{fence}".replace("|", "\\|")


def html_text(text: str) -> str:
    """`text` for raw HTML the comment writes itself (`<summary>`): entities for `<>&"'`,
    mentions and references broken; markdown is not interpreted inside an HTML block."""
    broken = _SIGILS.sub(lambda m: m.group(1) + _ZWSP, printable(text))
    return html.escape(broken, quote=True)
