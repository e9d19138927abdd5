"""Manifest text to YAML nodes: UTF-8 decoding, safe composing bounded in depth, and every
syntax problem as a located finding, never an exception."""

from __future__ import annotations

import yaml
from yaml.nodes import Node

from reconciler.errors import Problem
from reconciler.model import Location

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases are expanded into copies; this bounds "billion laughs" documents.
MAX_NODES = 250_000
# Deepest nesting read, as written or once aliases are expanded. A manifest needs 8
# (orgs.ORG.APP.secrets.NAME.value.env); PyYAML's composer and jsonschema recurse per level.
MAX_DEPTH = 64


class _TooDeep(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__("too deep")
        self.mark = mark


class NodeLoader(yaml.SafeLoader):
    """Safe YAML, composed to nodes only: `_Builder` turns nodes into located values.

    PyYAML's composer recurses once per nesting level, so 10,000 `[` would end in
    RecursionError; composing stops at MAX_DEPTH with a located error instead.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.depth >= MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1


def short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def node_location(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def too_deep_problem(file: str, mark: yaml.Mark) -> Problem:
    return Problem(
        Location(file, mark.line + 1, mark.column + 1),
        "",
        f"YAML nested deeper than {MAX_DEPTH} levels",
        hint="a manifest needs at most 8 levels; this is not a manifest's structure",
    )


def yaml_error_problem(file: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    mark = mark or context_mark
    where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    text = str(getattr(error, "problem", None) or type(error).__name__)
    context = getattr(error, "context", None)
    if context and context_mark and context_mark is not mark:
        # e.g. "while parsing a flow mapping": say where that started, often the real culprit
        text += f" ({context} at {context_mark.line + 1}:{context_mark.column + 1})"
    elif context:
        text += f" ({context})"
    return Problem(where, "", f"YAML syntax error: {text}")


def parse_yaml(file: str, text: str) -> tuple[list[Node], list[Problem]]:
    """Every document in `text` composed to nodes, or the syntax problem that stopped it.

    An empty stream has no documents. Nesting is bounded by MAX_DEPTH.
    """
    try:
        loader = NodeLoader(text)
    except yaml.reader.ReaderError as e:
        # Raised for control characters before any parsing; it has a position, not a mark.
        line = text.count("\n", 0, e.position) + 1
        col = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        where = Location(file, line, col)
        return [], [Problem(where, "", f"YAML syntax error: {e.reason} (#x{e.character:04x})")]
    nodes: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        return nodes, []
    except _TooDeep as e:
        return [], [too_deep_problem(file, e.mark)]
    except yaml.YAMLError as e:
        return [], [yaml_error_problem(file, e)]
    finally:
        loader.dispose()


def second_document_problem(file: str, node: Node) -> Problem:
    return Problem(
        node_location(file, node),
        "",
        "a manifest is a single YAML document, but another one starts here",
        hint="split the documents into separate files",
    )


def decode(file: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of a manifest, or a problem located at the first bad byte."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Problem(Location(file, line, col), "", "file is not UTF-8 text")]
