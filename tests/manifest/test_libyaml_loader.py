"""The located loader on libyaml's C parser gives exactly what the pure-Python one gives.

Random YAML texts, written the ways people write YAML (block and flow collections, every scalar
style, anchors, aliases, merge keys, tags, comments, empty values, CRLF, odd characters) and
then mangled, are read with both parsers: the composed nodes (tags, values, marks) and the
located values (every value, every line:col) and problems must be identical. Where libyaml
refuses a text, or composes it differently, the pure-Python parser reads it again, which the
comparison covers too.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifest import parse
from reconciler.manifest.build import load_yaml
from reconciler.manifest.located import LocList, LocMap
from reconciler.manifest.parse import MAX_DEPTH, parse_yaml
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

pytestmark = pytest.mark.skipif(parse.LIBYAML is None, reason="PyYAML was built without libyaml")

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))

PLAIN = [
    "a", "web", "NPM_TOKEN", "octo-org/web", "on", "yes", "No", "1", "-1", "0x1F", "0o17",
    "1_000", "1e5", "3.14", ".inf", "-.INF", ".nan", "~", "null", "true", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "a b", "a:b", "a#b", "é", "😀", "x\ty", "=", "-x", "<<",
]  # fmt: skip
QUOTED = [
    "'it''s'", "''", '""', "'a\n  b'", '"a\\nb"', '"\\x41\\u00e9\\U0001F600"', '"\\ud800"',
    '"a\\\n  b"', '"\\N\\_\\L\\P"', '"\\e\\0"', '"tab\\there"', "'  spaced  '",
]  # fmt: skip
TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!custom", "!!timestamp"]
BLOCK_HEADERS = ["|", ">", "|-", ">+", "|2", ">-"]
NOISE = [
    *":-[]{},#'\"?&*!|> \t\n\r", "\r\n", "\x85", "\u2028", "\ufeff", "  ", "- ", ": ", "? ",
    "%YAML 1.1\n", "%TAG !e! tag:e.com,2000:\n", "...\n", "--- ", "*a", "&b ", "<<: ",
]  # fmt: skip

scalar_text = st.one_of(st.sampled_from(PLAIN), st.sampled_from(QUOTED), st.just(""))


@st.composite
def props(draw: st.DrawFn) -> str:
    """An anchor and a tag, or neither (aliases may name anchors not yet written)."""
    out = ""
    if draw(st.integers(0, 5)) == 0:
        out += f"&{draw(st.sampled_from('abc'))} "
    if draw(st.integers(0, 19)) == 0:  # rarely: any tag sends the text to the pure parser
        out += f"{draw(st.sampled_from(TAGS))} "
    return out


@st.composite
def tree(draw: st.DrawFn, depth: int = 0) -> Any:
    """A document as nested tuples; `layout` picks one of the ways to write a collection."""
    kinds = ["scalar", "alias"] if depth >= 4 else ["scalar", "alias", "map", "seq", "block"]
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return ("scalar", draw(props()) + draw(scalar_text))
    if kind == "alias":
        return ("alias", "*" + draw(st.sampled_from("abc")))
    if kind == "block":
        lines = draw(st.lists(st.sampled_from(["x", "  y", "", "z  ", "#c"]), max_size=3))
        return ("block", draw(st.sampled_from(BLOCK_HEADERS)), lines)
    size = draw(st.integers(0, 3))
    flow = draw(st.booleans())
    layout = draw(st.integers(0, 3))
    children = [draw(tree(depth + 1)) for _ in range(size)]
    if kind == "seq":
        return ("seq", flow, draw(props()), children, layout)
    keys = [draw(st.sampled_from([*PLAIN, "''", '"k"', ""])) for _ in children]
    return ("map", flow, draw(props()), list(zip(keys, children, strict=True)), layout)


def inline(node: Any, pad: str) -> str:
    """A node written in flow style (a block scalar cannot be: it becomes a plain word);
    layout 2 breaks a collection's lines after its commas."""
    kind = node[0]
    if kind in ("scalar", "alias"):
        return str(node[1])
    if kind == "block":
        return "w"
    comma = ",\n" + pad + "  " if node[4] == 2 else ", "
    if kind == "seq":
        return f"{node[2]}[{comma.join(inline(c, pad + '  ') for c in node[3])}]"
    pairs = (f"{k}: {inline(v, pad + '  ')}" for k, v in node[3])
    return f"{node[2]}{{{comma.join(pairs)}}}"


def render(node: Any, indent: int, head: str, comment: str) -> list[str]:
    """`head` (`key:`, `-` or nothing) followed by `node`, at `indent` spaces.

    Block collections: layout 1 writes a list under a key without indenting it, and a
    collection in a list item starting on the item's line (`- a: 1`, `- - x`); layout 3
    writes a mapping's keys as explicit `? key` / `: value` pairs."""
    pad = " " * indent
    kind = node[0]
    if kind in ("scalar", "alias") or (kind in ("map", "seq") and (node[1] or not node[3])):
        text = inline(node, pad)
        return [f"{pad}{head}{' ' if head and text else ''}{text}{comment}"]
    if kind == "block":
        body = [f"{pad}  {line}" if line else "" for line in node[2]]
        return [f"{pad}{head}{' ' if head else ''}{node[1]}{comment}", *body]
    props_, layout = node[2].strip(), node[4]
    compact = head == "-" and layout == 1 and not props_ and not comment
    indentless = head.endswith(":") and kind == "seq" and layout == 1
    inner = indent if indentless or not (head or props_) else indent + 2
    lines: list[str] = []
    for i, child in enumerate(node[3]):
        note = " # c" if i % 2 else ""
        if kind == "seq":
            lines += render(child, inner, "-", note)
        elif layout == 3:
            key, value = child
            lines += [f"{' ' * inner}? {key}", *render(value, inner, ":", note)]
        else:
            key, value = child
            lines += render(value, inner, f"{key}:", note)
    if compact:
        return [f"{pad}- {lines[0][inner:]}", *lines[1:]]
    if head or props_:
        sep = " " if head and props_ else ""
        lines.insert(0, f"{pad}{head}{sep}{props_}{comment}")
    return lines


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    docs = [draw(tree()) for _ in range(draw(st.integers(1, 2)))]
    parts: list[str] = []
    for i, doc in enumerate(docs):
        if i or draw(st.booleans()):
            parts.append("---")
        parts += render(doc, 0, "", "")
        if draw(st.integers(0, 4)) == 0:
            parts.append("# a comment line")
    text = "\n".join(parts) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    # Mangle: most texts stay valid, many become the errors and oddities people write.
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
        else:
            text = text[:at] + text[at + 1 :]
    return text


def node_shape(node: Node, seen: dict[int, int]) -> Any:
    """Everything the builder reads from a node: kind, tag, value, where it starts."""
    if id(node) in seen:
        return ("alias of", seen[id(node)])
    seen[id(node)] = len(seen)
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, mark)
    if isinstance(node, SequenceNode):
        return ("seq", node.tag, mark, [node_shape(c, seen) for c in node.value])
    assert isinstance(node, MappingNode)
    pairs = [(node_shape(k, seen), node_shape(v, seen)) for k, v in node.value]
    return ("map", node.tag, mark, pairs)


def located(value: object) -> Any:
    """A located value with every location in it, comparable (nan, bytes, dates by repr)."""
    if isinstance(value, LocMap):
        return (
            "map",
            value.loc,
            [(k, value.key_locs[k], value.value_locs[k], located(v)) for k, v in value.items()],
        )
    if isinstance(value, LocList):
        return (
            "list",
            value.loc,
            [(w, located(v)) for v, w in zip(value, value.item_locs, strict=True)],
        )
    return (type(value).__name__, repr(value))


def both(text: str) -> tuple[Any, Any]:
    nodes_c, problems_c = parse_yaml("f.yaml", text)
    nodes_py, problems_py = parse_yaml("f.yaml", text, libyaml=False)
    assert problems_c == problems_py
    assert [node_shape(n, {}) for n in nodes_c] == [node_shape(n, {}) for n in nodes_py]
    doc_c, found_c = load_yaml("f.yaml", text)
    doc_py, found_py = load_yaml("f.yaml", text, libyaml=False)
    assert found_c == found_py
    assert located(doc_c) == located(doc_py)
    return doc_c, found_c


@PROPERTY
@given(yaml_texts())
@example("a: {value: }\n")
@example("- [a, {b: }]\r\n")
@example("k: &a\n  x: 1\nm:\n  <<: *a\n  y: 2\n")
def test_both_parsers_give_the_same_values_and_locations(text: str) -> None:
    both(text)


def test_manifests_are_composed_by_libyaml() -> None:
    """The comparison above is not vacuous: real manifests take the C path."""
    files = sorted((REPO_ROOT / "examples").glob("*.yaml")) + sorted(
        MANIFEST_FIXTURES.rglob("*.yaml")
    )
    taken = 0
    for file in files:
        text = file.read_text(encoding="utf-8-sig")
        both(text)
        if not parse.pure_python_only(text) and parse.compose_with_libyaml(yaml.CSafeLoader, text):
            taken += 1
    assert len(files) > 30
    assert taken > len(files) * 0.8


# -- what the pure-Python parser is asked again for, with the same answer ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", 'f.yaml:2:1  a: duplicate key "a" (first written at f.yaml:1:1)'),
        ("a: &x [*x]\n", "f.yaml:1:4  a[0]: recursive YAML alias"),
        ("a: !!set {}\n", "f.yaml:1:4  a: unsupported YAML tag !!set"),
        ("a: !!int abc\n", "f.yaml:1:4  a: cannot read this YAML value as !!int"),
        ("a: *nope\n", "f.yaml:1:4  YAML syntax error: found undefined alias"),
        ("a: [b\n", "f.yaml:2:1  YAML syntax error: expected ',' or ']', but got '<stream end>'"),
        ("a:\tb\n  c\n", "YAML syntax error"),
        ("a: \x07\n", "f.yaml:1:4  YAML syntax error: special characters are not allowed (#x0007)"),
        ('a: "\\ud800"\n', None),  # libyaml refuses a surrogate escape; PyYAML reads it
        ("a: {b: }\n", None),  # placed differently by libyaml: read by the pure parser
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, None),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"YAML nested deeper than {MAX_DEPTH}"),
        ("[" * 2000, f"f.yaml:1:{MAX_DEPTH + 1}  YAML nested deeper than {MAX_DEPTH} levels"),
        ("- " * 2000 + "x\n", "YAML nested deeper"),
        ("a: 1\n---\nb: 2\n", "f.yaml:3:1  a manifest is a single YAML document"),
        ("k: &a {x: 1}\nm: {<<: [*a, {x: 2}]}\n", "m.x: merged mappings disagree"),
    ],
)
def test_problems_are_the_same_whichever_parser(text: str, expected: str | None) -> None:
    _, problems = both(text)
    shown = [str(p) for p in problems]
    if expected is None:
        assert shown == []
    else:
        assert any(expected in p for p in shown), shown


def test_depth_through_aliases_is_bounded_on_the_c_path_too() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 100)]
    text = "\n".join(lines) + "\n"
    assert parse.compose_with_libyaml(yaml.CSafeLoader, text) is not None
    _, problems = both(text)
    assert sum("nested deeper" in str(p) for p in problems) == 1


def test_a_large_manifest_reads_the_same(tmp_path: Path) -> None:
    lines = ["version: 1", "orgs:", "  big-org:", "    actions:", "      secrets:"]
    for i in range(300):
        lines += [f"        S{i}:", f"          value: {{env: S{i}_TOKEN}}"]
        lines += ["          visibility: selected", f"          repositories: [r{i}, r{i + 1}]"]
    doc, problems = both("\n".join(lines) + "\n")
    assert problems == []
    assert len(doc["orgs"]["big-org"]["actions"]["secrets"]) == 300


def test_without_libyaml_the_pure_parser_reads_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "version: 1\norgs: {octo-org: {actions: {secrets: {}}}}\n"
    with_c = parse_yaml("f.yaml", text)
    monkeypatch.setattr(parse, "LIBYAML", None)

    def not_built_in(*args: object) -> None:
        raise AssertionError("libyaml used where PyYAML was built without it")

    monkeypatch.setattr(parse, "compose_with_libyaml", not_built_in)
    without = parse_yaml("f.yaml", text)
    assert [node_shape(n, {}) for n in without[0]] == [node_shape(n, {}) for n in with_c[0]]


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        _set_gc(enabled)
        load_yaml("f.yaml", "a: [1, 2]\n")
        with pytest.raises(ValueError), parse.paused_gc():
            assert not gc.isenabled()
            raise ValueError("a failure inside")
        assert gc.isenabled() is enabled
    finally:
        _set_gc(was)


def _set_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()
