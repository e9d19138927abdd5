"""YAML that remembers where it came from.

`load_yaml` turns one YAML document into plain dicts, lists and scalars (so jsonschema
can validate it as JSON) whose containers remember the file:line:col of their keys and
items. Problems YAML itself hides become located findings instead: duplicate keys
(PyYAML keeps the last one silently), recursive aliases, unknown tags, syntax errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Problem
from reconciler.model import Location

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases are expanded into copies; this bounds "billion laughs" documents.
MAX_NODES = 250_000

PathItem = str | int


class LocMap(dict[str, Any]):
    """A mapping that knows where it, each key and each value were written."""

    __slots__ = ("key_locs", "loc", "value_locs")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self.key_locs: dict[str, Location] = {}
        self.value_locs: dict[str, Location] = {}


class LocList(list[Any]):
    """A sequence that knows where it and each item were written."""

    __slots__ = ("item_locs", "loc")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self.item_locs: list[Location] = []


def format_path(path: Sequence[PathItem]) -> str:
    """`orgs.octo-org.dependabot.secrets.NPM_TOKEN.repositories[2]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def locate(root: object, path: Sequence[PathItem]) -> Location | None:
    """Where the thing at `path` was written.

    A container is located at its key (that is what a reader looks for: `NPM_TOKEN:`),
    a scalar at its value.
    """
    node: object = root
    found: Location | None = root.loc if isinstance(root, LocMap | LocList) else None
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, LocMap) and isinstance(part, str) and part in node:
            child = node[part]
            scalar = not isinstance(child, LocMap | LocList)
            found = node.value_locs[part] if last and scalar else node.key_locs[part]
            node = child
        elif isinstance(node, LocList) and isinstance(part, int) and 0 <= part < len(node):
            found = node.item_locs[part]
            node = node[part]
        else:
            break
    return found


def key_location(mapping: LocMap, key: str) -> Location:
    return mapping.key_locs.get(key, mapping.loc)


def value_location(mapping: LocMap, key: str) -> Location:
    return mapping.value_locs.get(key, mapping.loc)


class _Loader(yaml.SafeLoader):
    """Safe YAML, composed to nodes only: `_Builder` turns nodes into located values."""


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str, loader: _Loader) -> None:
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []
        self.active: set[int] = set()
        self.count = 0
        self.too_big = False

    def problem(
        self, node: Node, path: list[PathItem], message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(_loc(self.file, node), format_path(path), message, hint))

    def build(self, node: Node, path: list[PathItem]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.too_big:
                self.too_big = True
                self.problem(
                    node, path, f"more than {MAX_NODES} YAML nodes once aliases are expanded"
                )
            return None
        if id(node) in self.active:
            self.problem(node, path, "recursive YAML alias: an alias refers to its own parent")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            return self.scalar(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: list[PathItem]) -> LocMap | None:
        if node.tag != MAP_TAG:
            self.problem(node, path, f"unsupported YAML tag {_short_tag(node.tag)}")
            return None
        out = LocMap(_loc(self.file, node))
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.extend(self.merge_pairs(value_node, path))
                continue
            self.pair(out, key_node, value_node, path, explicit=True)
        # YAML merge keys (`<<: *base`) fill in what the mapping does not say itself.
        for key_node, value_node in merged:
            self.pair(out, key_node, value_node, path, explicit=False)
        return out

    def merge_pairs(self, node: Node, path: list[PathItem]) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(
                    source, path, "a YAML merge key (<<) needs a mapping or a list of mappings"
                )
                continue
            pairs.extend(p for p in source.value if p[0].tag != MERGE_TAG)
        return pairs

    def pair(
        self, out: LocMap, key_node: Node, value_node: Node, path: list[PathItem], *, explicit: bool
    ) -> None:
        # Keys are names here, so they are taken as written: `ON:` is the string "ON",
        # not YAML 1.1's True, and `123:` is "123".
        if not isinstance(key_node, ScalarNode):
            self.problem(
                key_node, path, "a mapping key must be a plain name, not a mapping or list"
            )
            return
        key = str(key_node.value)
        if key in out:
            if explicit:
                first = out.key_locs[key]
                self.problem(
                    key_node,
                    [*path, key],
                    f'duplicate key "{key}" (first written at {first}); YAML would keep only '
                    "the last one",
                    hint="remove or rename one of them",
                )
            return
        out[key] = self.build(value_node, [*path, key])
        out.key_locs[key] = _loc(self.file, key_node)
        out.value_locs[key] = _loc(self.file, value_node)

    def sequence(self, node: SequenceNode, path: list[PathItem]) -> LocList | None:
        if node.tag != SEQ_TAG:
            self.problem(node, path, f"unsupported YAML tag {_short_tag(node.tag)}")
            return None
        out = LocList(_loc(self.file, node))
        for i, item in enumerate(node.value):
            out.append(self.build(item, [*path, i]))
            out.item_locs.append(_loc(self.file, item))
        return out

    def scalar(self, node: Node, path: list[PathItem]) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception:
            # An explicit tag that does not fit (`!!int abc`, `!!bool maybe`) or an unknown
            # one: PyYAML's constructors raise whatever int(), dict lookups, ... raise, so
            # anything here means "bad value". The message names the tag, never the text.
            self.problem(node, path, f"cannot read this YAML value as {_short_tag(node.tag)}")
            return None


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


def load_yaml(file: str, text: str) -> tuple[Any, list[Problem]]:
    """The single document in `text`, with locations; and every problem found reading it.

    The value is None when the document is empty or unreadable.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as e:
        # Raised for control characters before any parsing; it has a position, not a mark.
        line = text.count("\n", 0, e.position) + 1
        col = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        where = Location(file, line, col)
        return None, [Problem(where, "", f"YAML syntax error: {e.reason} (#x{e.character:04x})")]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        builder = _Builder(file, loader)
        return builder.build(node, []), builder.problems
    except yaml.YAMLError as e:
        return None, [yaml_error_problem(file, e)]
    finally:
        loader.dispose()


def decode(file: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of a manifest, or a problem located at the first bad byte."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Problem(Location(file, line, col), "", "file is not UTF-8 text")]
