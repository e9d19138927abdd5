"""YAML that remembers where it came from.

`load_yaml` turns one YAML document into plain dicts, lists and scalars (so jsonschema
can validate it as JSON) whose containers remember the file:line:col of their keys and
items. Problems YAML itself hides become located findings instead: duplicate keys
(PyYAML keeps the last one silently), recursive aliases, unknown tags, syntax errors,
merge keys (`<<`) whose result YAML implementations disagree on, and nesting deeper
than MAX_DEPTH (as written or through aliases) — never a RecursionError.
Keys that do not look like names are never quoted back (see `redact`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Problem
from reconciler.manifest.redact import describe, path_part
from reconciler.model import Location

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases are expanded into copies; this bounds "billion laughs" documents.
MAX_NODES = 250_000
# Deepest nesting read, as written or once aliases are expanded. A manifest needs 8
# (orgs.ORG.APP.secrets.NAME.value.env); PyYAML's composer and jsonschema recurse per level.
MAX_DEPTH = 64

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
            shown = path_part(part)
            out += f".{shown}" if out else shown
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


class _TooDeep(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__("too deep")
        self.mark = mark


class _Loader(yaml.SafeLoader):
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


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _too_deep(file: str, mark: yaml.Mark) -> Problem:
    return Problem(
        Location(file, mark.line + 1, mark.column + 1),
        "",
        f"YAML nested deeper than {MAX_DEPTH} levels",
        hint="a manifest needs at most 8 levels; this is not a manifest's structure",
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    key: ScalarNode
    value: Node


_Entries = dict[str, _Entry]


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = _Loader("")  # constructs scalars; holds no document
        self.problems: list[Problem] = []
        self.active: set[int] = set()
        self.flattening: set[int] = set()
        self.flattened: dict[int, _Entries] = {}
        self.count = 0
        self.too_big = False
        self.too_deep = False

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
        if len(path) > MAX_DEPTH:
            # Aliases can nest a document deeper than it is written (`&b [*a]`, `&c [*b]`).
            if not self.too_deep:
                self.too_deep = True
                self.problems.append(_too_deep(self.file, node.start_mark))
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
        for key, entry in self.flatten(node, path, 0).items():
            out[key] = self.build(entry.value, [*path, key])
            out.key_locs[key] = _loc(self.file, entry.key)
            out.value_locs[key] = _loc(self.file, entry.value)
        return out

    def flatten(self, node: MappingNode, path: list[PathItem], depth: int) -> _Entries:
        """The keys of `node` after YAML merge keys, each with the node that wrote it.

        The YAML merge-key rule: keys written in the mapping win over merged ones, and a
        merged mapping is itself flattened first. Where two merged mappings give different
        values for a key the mapping does not set itself, YAML implementations disagree
        (the spec says the first wins; PyYAML 6 sometimes keeps the last), so that is
        refused rather than guessed. Each node is flattened once, so aliases cost nothing.
        """
        done = self.flattened.get(id(node))
        if done is not None:
            return done
        if depth > MAX_DEPTH:
            self.problem(node, path, f"YAML merges nested deeper than {MAX_DEPTH} levels")
            return {}
        if id(node) in self.flattening:
            self.problem(node, path, "recursive YAML merge: a mapping merges itself")
            return {}
        self.flattening.add(id(node))
        try:
            entries = self._flatten(node, path, depth)
        finally:
            self.flattening.discard(id(node))
        self.flattened[id(node)] = entries
        return entries

    def _flatten(self, node: MappingNode, path: list[PathItem], depth: int) -> _Entries:
        explicit: _Entries = {}
        sources: list[_Entries] = []
        merge_key: Node | None = None
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                if merge_key is not None:
                    self.problem(
                        key_node,
                        path,
                        f"a second YAML merge key (<<) (first at {_loc(self.file, merge_key)})",
                        hint="merge several mappings with one key: <<: [*a, *b]",
                    )
                    continue
                merge_key = key_node
                sources.extend(self.merge_sources(value_node, path, depth))
            elif not isinstance(key_node, ScalarNode):
                self.problem(
                    key_node, path, "a mapping key must be a plain name, not a mapping or list"
                )
            else:
                # Keys are names here, so they are taken as written: `ON:` is the string
                # "ON", not YAML 1.1's True, and `123:` is "123".
                key = str(key_node.value)
                if key in explicit:
                    where = _loc(self.file, explicit[key].key)
                    self.problem(
                        key_node,
                        [*path, key],
                        f"duplicate key {describe(key, 'the key')} (first written at {where}); "
                        "YAML would keep only the last one",
                        hint="remove or rename one of them",
                    )
                    continue
                explicit[key] = _Entry(key_node, value_node)
        merged: _Entries = {}
        for source in sources:
            for key, entry in source.items():
                if key in explicit:
                    continue
                first = merged.setdefault(key, entry)
                if first.value is not entry.value:
                    assert merge_key is not None
                    self.problem(
                        merge_key,
                        [*path, key],
                        f"merged mappings disagree on {describe(key, 'a key')}: "
                        f"{_loc(self.file, first.key)} and {_loc(self.file, entry.key)}",
                        hint="YAML implementations differ on which wins; set the key here",
                    )
        return {**merged, **explicit}

    def merge_sources(self, node: Node, path: list[PathItem], depth: int) -> list[_Entries]:
        if isinstance(node, SequenceNode) and node.tag == SEQ_TAG:
            items = list(node.value)
        else:
            items = [node]
        out: list[_Entries] = []
        for item in items:
            if not isinstance(item, MappingNode) or item.tag != MAP_TAG:
                self.problem(
                    item, path, "a YAML merge key (<<) needs a mapping or a list of mappings"
                )
                continue
            out.append(self.flatten(item, path, depth + 1))
        return out

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
            return self.constructor.construct_object(node, deep=True)
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


def parse_yaml(file: str, text: str) -> tuple[list[Node], list[Problem]]:
    """Every document in `text` composed to nodes, or the syntax problem that stopped it.

    An empty stream has no documents. Nesting is bounded by MAX_DEPTH.
    """
    try:
        loader = _Loader(text)
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
        return [], [_too_deep(file, e.mark)]
    except yaml.YAMLError as e:
        return [], [yaml_error_problem(file, e)]
    finally:
        loader.dispose()


def build_yaml(file: str, node: Node) -> tuple[Any, list[Problem]]:
    """One composed document as located values, and every problem found building it."""
    builder = _Builder(file)
    return builder.build(node, []), builder.problems


def load_yaml(file: str, text: str) -> tuple[Any, list[Problem]]:
    """The single document in `text`, with locations; and every problem found reading it.

    The value is None when the document is empty or unreadable.
    """
    nodes, problems = parse_yaml(file, text)
    if problems or not nodes:
        return None, problems
    if len(nodes) > 1:
        return None, [second_document_problem(file, nodes[1])]
    return build_yaml(file, nodes[0])


def second_document_problem(file: str, node: Node) -> Problem:
    return Problem(
        _loc(file, node),
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
