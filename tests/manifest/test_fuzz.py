"""Hostile YAML never produces an internal error: only success or a located ManifestError.

Random YAML structures (anchors, aliases, tags, merge keys, odd scalars, deep nesting,
BOMs, non-UTF-8 bytes) and mutations of the valid manifests in examples/ and the
fixtures go through `load_manifests` (named and found in a directory) and through the
CLI's `validate`, which must exit 0 or 1 with no traceback.
"""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifests
from reconciler.manifest.parse import MAX_DEPTH
from tests.support.e2e import run
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
CLI_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
TOO_DEEP = f"YAML nested deeper than {MAX_DEPTH} levels\n    hint: a manifest needs at most 8 levels; this is not a manifest's structure"


def _problems(path: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests([path])
    return [str(p) for p in info.value.problems]


# -- very deep YAML ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[" * 10_000, "1:65"),
        ("{" * 10_000, "1:65"),
        ("- " * 10_000 + "x\n", "1:129"),
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "1:67"),
        ("".join(f"{' ' * i}k{i}:\n" for i in range(200)) + " " * 200 + "end\n", "64:64"),
        ("version: 1\n" + "x: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n", "2:253"),
    ],
    ids=["flow-lists", "flow-maps", "block-lists", "inside-a-key", "block-maps", "manifest"],
)
def test_deep_nesting_is_a_located_error(text: str, where: str) -> None:
    Path("deep.yaml").write_text(text, encoding="utf-8")
    assert _problems("deep.yaml") == [f"deep.yaml:{where}  {TOO_DEEP}"]


def test_nesting_through_aliases_is_bounded_too() -> None:
    # Written 2 levels deep, 201 levels deep once the aliases are expanded.
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 200)]
    Path("deep.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _problems("deep.yaml")
    # Located at the node that crossed the bound: the list a0 wrote, reached via 199 aliases.
    assert f"deep.yaml:1:10  {TOO_DEEP}" in problems
    assert sum("nested deeper" in p for p in problems) == 1


def test_deep_yaml_through_the_cli_exits_1_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("deep.yaml").write_text("[" * 10_000, encoding="utf-8")
    result = run(capsys, ["validate", "deep.yaml"])
    assert result.code == 1
    assert result.err == f"error: 1 problem in the manifest:\n  deep.yaml:1:65  {TOO_DEEP}\n"


# -- random YAML ------------------------------------------------------------------------------

ODD_SCALARS = [
    "~",
    "null",
    "yes",
    "No",
    "on",
    "0x1F",
    "0o17",
    "1_000",
    "-.inf",
    ".NaN",
    "1e400",
    "2001-12-14t21:59:43.10-05:00",
    "'quoted'",
    '"\\u0000\\x07"',
    "!!binary aGVsbG8=",
    "!!int abc",
    "!!float x",
    "!!bool maybe",
    "!!timestamp nope",
    "!!python/object:os.system x",
    "!custom x",
    "!!str 1",
    "|\n  block\n",
    ">-\n  folded\n",
    "''",
    '""',
    "-",
    "?",
    "=",
    "9" * 5000,
    "ghp_" + "a1B2" * 9,
    "<<",
]
plain_keys = st.sampled_from(
    [
        "version",
        "orgs",
        "repos",
        "settings",
        "octo-org",
        "octo-org/web",
        "actions",
        "secrets",
        "value",
        "env",
        "file",
        "sealed",
        "key_id",
        "prune",
        "visibility",
        "repositories",
        "NPM_TOKEN",
        "allow_env",
        "drift",
        "<<",
        "on",
        "1",
        "''",
        "? complex",
    ]
)
anchor_names = st.sampled_from(["a", "b", "c"])


def _fragment(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(st.tuples(plain_keys, children), max_size=4).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(anchor_names, children).map(lambda t: f"&{t[0]} {t[1]}"),
        st.tuples(
            st.sampled_from(["!!map", "!!seq", "!!set", "!!omap", "!x", "!!str"]), children
        ).map(lambda t: f"{t[0]} {t[1]}"),
        children.map(lambda c: "{<<: " + c + "}"),
    )


fragments = st.recursive(
    st.one_of(
        st.sampled_from(ODD_SCALARS), anchor_names.map(lambda a: f"*{a}"), st.text(max_size=8)
    ),
    _fragment,
    max_leaves=25,
)


@st.composite
def yaml_documents(draw: st.DrawFn) -> bytes:
    body = draw(fragments)
    frame = draw(
        st.sampled_from(
            [
                "{body}\n",
                "version: 1\n{body}\n",
                "version: 1\nx: {body}\n",
                "version: 1\norgs:\n  octo-org:\n    actions:\n      secrets:\n        NPM_TOKEN: {body}\n",
                "version: 1\nrepos:\n  octo-org/web:\n    actions: {{prune: true, secrets: {body}}}\n",
                "x: &a {body}\n---\nversion: 1\norgs: *a\n",
                "base: &b {body}\nversion: 1\norgs: {{octo-org: {{actions: {{<<: *b, secrets: {{}}}}}}}}\n",
            ]
        )
    )
    data = frame.replace("{body}", body).encode("utf-8", "surrogatepass")
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00"]))
    tail = draw(st.sampled_from([b"", b"\xe9", b"\xc3\x28", b"\n\x00", b"\n# \xff\n"]))
    return prefix + data + tail


def _load_either_way(data: bytes, where: Path) -> None:
    """Named and found in a directory: only success or ManifestError may come out."""
    where.mkdir(exist_ok=True)
    path = where / "fuzz.yaml"
    path.write_bytes(data)
    for named in (str(path), str(where)):
        try:
            load_manifests([named])
        except ManifestError as e:
            assert e.problems
            # Every problem renders; none carries a Python exception's repr.
            assert all("Error(" not in str(p) and "Traceback" not in str(p) for p in e.problems)


@FUZZ
@given(yaml_documents())
def test_random_yaml_loads_or_fails_cleanly(data: bytes) -> None:
    _load_either_way(data, Path("fuzz"))


# -- mutations of valid manifests ---------------------------------------------------------------

_EXAMPLE_SEEDS = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "examples").glob("*.yaml")]
_FIXTURE_SEEDS = [
    str(p.relative_to(REPO_ROOT))
    for p in MANIFEST_FIXTURES.rglob("*")
    if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
]
assert _EXAMPLE_SEEDS and _FIXTURE_SEEDS, "no seeds: the examples or the fixtures moved"
SEEDS = sorted(_EXAMPLE_SEEDS + _FIXTURE_SEEDS)
INSERTS = [
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!set ",
    b"[",
    b"{",
    b"]",
    b"}",
    b": ",
    b"- ",
    b"\t",
    b"\n  ",
    b"'",
    b'"',
    b"\xef\xbb\xbf",
    b"\xff",
    b"#",
    b"---\n",
    b"? ",
    b"%YAML 1.1\n",
]


@st.composite
def mutated_manifests(draw: st.DrawFn) -> bytes:
    data = (REPO_ROOT / draw(st.sampled_from(SEEDS))).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate-line", "indent"]))
        if kind == "insert":
            data = data[:at] + draw(st.sampled_from(INSERTS) | st.binary(max_size=4)) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 12)) :]
        else:
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate-line":
                lines.insert(i, lines[i])
            else:
                lines[i] = b" " * draw(st.integers(1, 3)) + lines[i]
            data = b"\n".join(lines)
    return data


@pytest.mark.slow
@FUZZ
@given(mutated_manifests())
def test_mutated_manifests_load_or_fail_cleanly(data: bytes) -> None:
    _load_either_way(data, Path("fuzz"))


# -- through the CLI ----------------------------------------------------------------------------


def _validate_cleanly(capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    Path("fuzz").mkdir(exist_ok=True)
    Path("fuzz/fuzz.yaml").write_bytes(data)
    for named in ("fuzz/fuzz.yaml", "fuzz"):
        result = run(capsys, ["validate", named], {"NPM_TOKEN": "x"})
        assert result.code in (0, 1), result.err
        assert "Traceback" not in result.err
        assert not re.search(r"\b(bug|internal error)\b", result.err, re.IGNORECASE), result.err
        if result.code == 1:
            assert result.err.startswith("error: "), result.err


@pytest.mark.slow
@CLI_FUZZ
@given(st.one_of(yaml_documents(), mutated_manifests()))
def test_validate_exits_0_or_1_never_a_traceback(
    capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    _validate_cleanly(capsys, data)


def test_the_seeds_are_valid_or_fail_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(SEEDS) > 20
    for seed in SEEDS:
        _validate_cleanly(capsys, (REPO_ROOT / seed).read_bytes())
    assert os.path.exists("fuzz/fuzz.yaml")
