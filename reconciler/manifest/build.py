"""YAML nodes to located values: YAML that remembers where it came from.

`load_yaml` turns one YAML document into plain dicts, lists and scalars (so the schema
can validate it as JSON) whose containers remember the file:line:col of their keys and
items. Problems YAML itself hides become located findings instead: duplicate keys
(PyYAML keeps the last one silently), recursive aliases, unknown tags, syntax errors,
merge keys (`<<`) whose result YAML implementations disagree on, and nesting deeper
than MAX_DEPTH (as written or through aliases) — never a RecursionError.
Keys that do not look like names are never quoted back (see `redact`).
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Problem
from reconciler.manifest.located import LocList, LocMap, PathItem, format_path
from reconciler.manifest.parse import (
    MAP_TAG,
    MAX_DEPTH,
    MAX_NODES,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    NodeLoader,
    node_location,
    parse_yaml,
    paused_gc,
    second_document_problem,
    short_tag,
    too_deep_problem,
)
from reconciler.manifest.redact import describe

# A key as written and its value's node (a tuple: a manifest has tens of thousands of them).
_Entry = tuple[ScalarNode, Node]
_Entries = dict[str, _Entry]


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = NodeLoader("")  # constructs scalars; holds no document
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
        self.problems.append(
            Problem(node_location(self.file, node), format_path(path), message, hint)
        )

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
                self.problems.append(too_deep_problem(self.file, node.start_mark))
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)  # holds nothing, so it cannot hold itself
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
            self.problem(node, path, f"unsupported YAML tag {short_tag(node.tag)}")
            return None
        out = LocMap(node_location(self.file, node))
        for key, (key_node, value_node) in self.flatten(node, path, 0).items():
            out[key] = self.build(value_node, [*path, key])
            out.key_locs[key] = node_location(self.file, key_node)
            out.value_locs[key] = node_location(self.file, value_node)
        return out

    def flatten(self, node: MappingNode, path: list[PathItem], depth: int) -> _Entries:
        """The keys of `node` after YAML merge keys, each with the node that wrote it.

        The YAML merge-key rule: keys written in the mapping win over merged ones, and a
        merged mapping is itself flattened first. Where two merged mappings give different
        values for a key the mapping does not set itself, YAML implementations disagree
        (the spec says the first wins; PyYAML 6 sometimes keeps the last), so that is
        refused rather than guessed. A node that merges, or has a problem, is flattened once
        (its aliases cost nothing and say its problems once); the others, nearly all, are not
        remembered: flattening them again costs what building them again costs anyway, and
        remembering them all cost a tenth of a large manifest's memory.
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
        problems = len(self.problems)
        try:
            entries, merged = self._flatten(node, path, depth)
        finally:
            self.flattening.discard(id(node))
        if merged or len(self.problems) > problems:
            self.flattened[id(node)] = entries
        return entries

    def _flatten(
        self, node: MappingNode, path: list[PathItem], depth: int
    ) -> tuple[_Entries, bool]:
        explicit: _Entries = {}
        sources: list[_Entries] = []
        merge_key: Node | None = None
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                if merge_key is not None:
                    self.problem(
                        key_node,
                        path,
                        "a second YAML merge key (<<) "
                        f"(first at {node_location(self.file, merge_key)})",
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
                    where = node_location(self.file, explicit[key][0])
                    self.problem(
                        key_node,
                        [*path, key],
                        f"duplicate key {describe(key, 'the key')} (first written at {where}); "
                        "YAML would keep only the last one",
                        hint="remove or rename one of them",
                    )
                    continue
                explicit[key] = (key_node, value_node)
        if merge_key is None:
            return explicit, False
        merged: _Entries = {}
        for source in sources:
            for key, entry in source.items():
                if key in explicit:
                    continue
                first = merged.setdefault(key, entry)
                if first[1] is not entry[1]:
                    assert merge_key is not None
                    self.problem(
                        merge_key,
                        [*path, key],
                        f"merged mappings disagree on {describe(key, 'a key')}: "
                        f"{node_location(self.file, first[0])} and "
                        f"{node_location(self.file, entry[0])}",
                        hint="YAML implementations differ on which wins; set the key here",
                    )
        return {**merged, **explicit}, True

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
            self.problem(node, path, f"unsupported YAML tag {short_tag(node.tag)}")
            return None
        out = LocList(node_location(self.file, node))
        for i, item in enumerate(node.value):
            out.append(self.build(item, [*path, i]))
            out.item_locs.append(node_location(self.file, item))
        return out

    def scalar(self, node: Node, path: list[PathItem]) -> Any:
        if node.tag == STR_TAG:
            return node.value  # what the constructor returns for text, at a fraction of the cost
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception:
            # An explicit tag that does not fit (`!!int abc`, `!!bool maybe`) or an unknown
            # one: PyYAML's constructors raise whatever int(), dict lookups, ... raise, so
            # anything here means "bad value". The message names the tag, never the text.
            self.problem(node, path, f"cannot read this YAML value as {short_tag(node.tag)}")
            return None


def build_yaml(file: str, node: Node) -> tuple[Any, list[Problem]]:
    """One composed document as located values, and every problem found building it."""
    builder = _Builder(file)
    return builder.build(node, []), builder.problems


def load_yaml(file: str, text: str, *, libyaml: bool = True) -> tuple[Any, list[Problem]]:
    """The single document in `text`, with locations; and every problem found reading it.

    The value is None when the document is empty or unreadable. `libyaml`: as in `parse_yaml`.
    """
    with paused_gc():
        nodes, problems = parse_yaml(file, text, libyaml=libyaml)
        if problems or not nodes:
            return None, problems
        if len(nodes) > 1:
            return None, [second_document_problem(file, nodes[1])]
        return build_yaml(file, nodes[0])
