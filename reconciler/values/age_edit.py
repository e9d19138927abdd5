"""Editing an age value file's text one entry at a time: a rotated or added value replaces
or joins only its own lines, so every other value's ciphertext, and the comments, stay as
written and a diff shows which value changed. Pure: no I/O, no cryptography."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from yaml.nodes import MappingNode, Node

from reconciler.errors import SourceError
from reconciler.values.age_format import (
    FORMAT_VERSION,
    HEADER,
    NULL_TAG,
    VERSION_KEY,
    Parsed,
    line_end,
    normalise,
    parse,
)

# A block scalar's header line: its indicators, then perhaps a comment, kept on rotation.
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*(?P<comment>[ \t]+#.*)?")


def render(recipients: Sequence[str], values: Mapping[str, str], newline: str = "\n") -> str:
    """A whole file in the layout `reconciler encrypt` writes."""
    lines = [
        HEADER,
        f"{VERSION_KEY}: {FORMAT_VERSION}",
        "recipients:  # who can decrypt; `reconciler encrypt` encrypts to all of them",
        *(f"  - {r}" for r in recipients),
        "values:" if values else "values: {}",
    ]
    for name, armored in values.items():
        lines.append(f"  {name}: |")
        lines.extend(_indented(armored, 4))
    return newline.join(lines) + newline


def _indented(armored: str, indent: int) -> list[str]:
    return [" " * indent + line for line in normalise(armored).split("\n")]


def with_value(text: str, parsed: Parsed, name: str, armored: str) -> str | None:
    """`text` with `name` set to `armored` and every other line as it was, or None when the
    file's layout (flow style, a value on a line of its own) is not one edited in place; the
    caller then writes it whole with `render`. The edit is checked by reading it back."""
    edited = _edited(text, parsed, name, armored)
    if edited is None:
        return None
    expected = dict(parsed.file.entries)
    expected[name] = normalise(armored)
    try:
        again = parse(edited, parsed.file.path, None).file
    except SourceError:
        return None
    same = again.recipients == parsed.file.recipients and dict(again.entries) == expected
    return edited if same else None


def _edited(text: str, parsed: Parsed, name: str, armored: str) -> str | None:
    newline = "\r\n" if "\r\n" in text else "\n"
    spans = dict(parsed.spans)
    if name in spans:
        span = spans[name]
        if span.block:
            first = text[span.start : line_end(text, span.start)].rstrip("\r\n")
            match = _BLOCK_HEADER.fullmatch(first)
            comment = (match.group("comment") if match else None) or ""
            end = span.end
        else:  # a quoted value becomes a block scalar; a comment after it stays on its line
            end = line_end(text, span.end)
            comment = text[span.end : end].rstrip()
            if comment and not comment.lstrip().startswith("#"):
                return None
        body = newline.join(["|" + comment, *_indented(armored, span.key_col + 2)]) + newline
        return text[: span.start] + body + text[end:]
    node = parsed.values_node
    if parsed.spans and isinstance(node, MappingNode) and not node.flow_style:
        _, last = parsed.spans[-1]
        at = last.end if last.block else line_end(text, last.end)
        indent = node.value[0][0].start_mark.column
    elif node is not None and (node.tag == NULL_TAG or _empty_flow(node)):
        # `values:` or `values: {}`: the entry goes on the lines after it
        start, end = node.start_mark.index, node.end_mark.index
        text = text[:start] + text[end:]
        at = line_end(text, start)
        indent = 2
    else:
        return None
    if at == len(text) and not text.endswith("\n"):
        text += newline
        at = len(text)
    entry = newline.join([f"{' ' * indent}{name}: |", *_indented(armored, indent + 2)])
    return text[:at] + entry + newline + text[at:]


def _empty_flow(node: Node) -> bool:
    return isinstance(node, MappingNode) and bool(node.flow_style) and not node.value
