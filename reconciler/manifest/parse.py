"""Manifest text to YAML nodes: UTF-8 decoding, safe composing bounded in depth, and every
syntax problem as a located finding, never an exception.

Nodes are composed by libyaml's C parser where PyYAML was built with it (about 15 times
faster than the pure-Python parser on a large manifest), and by the pure-Python parser
otherwise. Both give the same nodes, tags, values and marks for what the C parser accepts (a
property test compares them); for anything it refuses, or that the pure-Python parser would
refuse first (control characters, nesting past MAX_DEPTH), the pure-Python parser reads the
text again, so problems are worded and placed the same whichever parser is installed.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode

from reconciler.errors import Problem
from reconciler.model import Location

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
# Aliases are expanded into copies; this bounds "billion laughs" documents.
MAX_NODES = 250_000
# Deepest nesting read, as written or once aliases are expanded. A manifest needs 8
# (orgs.ORG.APP.secrets.NAME.value.env); PyYAML's composer and the schema checks recurse per
# level.
MAX_DEPTH = 64
# Text only the pure-Python parser reads as it reads it (a manifest has none of it): characters
# it refuses before parsing (its NON_PRINTABLE); tabs, which it refuses in places libyaml
# accepts them (`a: x<TAB>y`); byte order marks after the start, which libyaml skips and it
# reads as text; a comment right after a block scalar's indicator (`|# note`) and tags (`!`
# starting a word), whose spellings libyaml is more lenient with.
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_LENIENT_IN_LIBYAML = re.compile(r"[\t\ufeff]|[|>][-+0-9]*#|(?:^|[\s\[\]{},])!")
# libyaml's composer (the whole of PyYAML's CParser) where it was built in, else None.
LIBYAML: type[yaml.CSafeLoader] | None = yaml.CSafeLoader if yaml.__with_libyaml__ else None


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


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a manifest's nodes and values are built.

    They are hundreds of thousands of small containers made at once and kept: every pass of
    the collector walks all of them again (composing a 2 MB manifest took 2 s instead of 0.3 s,
    loading it 13.7 s instead of 9.1 s). They hold no cycles to collect; the few a hostile
    document can make (recursive aliases) are collected once the collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_yaml(file: str, text: str, *, libyaml: bool = True) -> tuple[list[Node], list[Problem]]:
    """Every document in `text` composed to nodes, or the syntax problem that stopped it.

    An empty stream has no documents. Nesting is bounded by MAX_DEPTH. `libyaml=False` uses
    the pure-Python parser even where the C one is available (tests and benchmarks).
    """
    if libyaml and LIBYAML is not None and not pure_python_only(text):
        nodes = compose_with_libyaml(LIBYAML, text)
        if nodes is not None:
            return nodes, []
    return _compose(file, text)


def pure_python_only(text: str) -> bool:
    return bool(_NON_PRINTABLE.search(text) or _LENIENT_IN_LIBYAML.search(text))


def compose_with_libyaml(loader_class: type[yaml.CSafeLoader], text: str) -> list[Node] | None:
    """The documents as libyaml composes them, or None where the pure-Python parser must
    compose them: wherever libyaml finds an error (its messages and marks are its own) or
    `differs_in_libyaml`."""
    loader = loader_class(text)
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
    except (yaml.YAMLError, UnicodeError):
        return None
    finally:
        loader.dispose()
    open_end = not text.endswith(("\n", "\r", "\x85", "\u2028", "\u2029"))
    return None if any(differs_in_libyaml(node, open_end=open_end) for node in nodes) else nodes


def differs_in_libyaml(root: Node, *, open_end: bool) -> bool:
    """Whether the pure-Python composer would compose `root`'s document differently: it
    stops at MAX_DEPTH levels as written (an alias is one node where it is written), and it
    places an empty plain value right after the `:` (or `-`, `?`, `---`) before it where
    libyaml places it at the next token: in a flow collection (`{value: }`), as a whole
    document, and anywhere when the text does not end with a line break (`open_end`).

    Aliases are composed as the node they name, so a node met again is an alias as long as
    the walk goes in document order: an anchor is always written before its aliases.
    Iterative, so any depth is measured; scalars are looked at, not visited.
    """
    if _empty_plain(root):
        return True  # an empty document (`---`): libyaml places its null on the next line
    seen: set[int] = set()
    stack: list[tuple[CollectionNode, int]] = (
        [(root, 0)] if isinstance(root, CollectionNode) else []
    )
    while stack:
        node, level = stack.pop()
        if level >= MAX_DEPTH:
            return True
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[Node] = node.value
        if not children:
            continue
        if level + 1 >= MAX_DEPTH:
            return True
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        if (node.flow_style or open_end) and any(_empty_plain(c) for c in children):
            return True
        # Pushed last first, so they are popped in document order.
        stack.extend((c, level + 1) for c in reversed(children) if isinstance(c, CollectionNode))
    return False


def _empty_plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


def _compose(file: str, text: str) -> tuple[list[Node], list[Problem]]:
    """parse_yaml with the pure-Python parser: its messages and marks are the ones reported."""
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
