"""YAML merge keys (`<<`) give exactly YAML's result or a located error, never dropped keys.

The oracle is `yaml.safe_load` of the same text. Where YAML implementations disagree
(two merged mappings giving different values for a key the mapping does not set itself:
the spec says the first wins, PyYAML 6 keeps the first or the last depending on string
interning), the file is refused rather than guessed.
"""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest.build import load_yaml
from reconciler.manifest.load import load_manifests
from reconciler.manifest.located import LocMap
from reconciler.model import Location

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ours(text: str) -> tuple[Any, list[str]]:
    doc, problems = load_yaml("m.yaml", text)
    return doc, [str(p) for p in problems]


def _same_as_yaml(text: str) -> Any:
    text = textwrap.dedent(text).lstrip()
    doc, problems = _ours(text)
    assert problems == []
    assert doc == yaml.safe_load(text)
    return doc


# -- the cases the issue names ---------------------------------------------------------------


def test_single_mapping_merge_and_override() -> None:
    doc = _same_as_yaml(
        """
        base: &base {visibility: selected, repositories: [web]}
        secret:
          <<: *base
          visibility: all
        """
    )
    assert doc["secret"] == {"visibility": "all", "repositories": ["web"]}


def test_list_of_mappings_without_conflict() -> None:
    doc = _same_as_yaml(
        """
        a: &a {value: {env: A_TOKEN}}
        b: &b {visibility: private}
        c: {<<: [*a, *b]}
        """
    )
    assert doc["c"] == {"value": {"env": "A_TOKEN"}, "visibility": "private"}


def test_merge_of_a_mapping_that_itself_merges() -> None:
    doc = _same_as_yaml(
        """
        a: &a {alpha: 1, shared: from-a}
        b: &b {<<: *a, bravo: 2}
        c: {<<: *b, charlie: 3}
        d: {<<: [*b, *a]}
        """
    )
    # `shared` reaches c through b's merge: the key the old loader dropped.
    assert doc["c"] == {"alpha": 1, "shared": "from-a", "bravo": 2, "charlie": 3}
    assert doc["d"] == {"alpha": 1, "shared": "from-a", "bravo": 2}


def test_merge_nested_inside_merged_maps() -> None:
    doc = _same_as_yaml(
        """
        inner: &inner {value: {env: X_TOKEN}}
        outer: &outer {NPM_TOKEN: {<<: *inner, visibility: all}}
        group:
          <<: *outer
          PYPI_TOKEN: {<<: *inner}
        """
    )
    assert doc["group"]["NPM_TOKEN"] == {"value": {"env": "X_TOKEN"}, "visibility": "all"}
    assert doc["group"]["PYPI_TOKEN"] == {"value": {"env": "X_TOKEN"}}


def test_merged_keys_are_located_where_they_were_written() -> None:
    text = "base: &base\n  visibility: selected\n  repositories: [web]\nsecret:\n  <<: *base\n  value: {env: A}\n"
    doc, problems = load_yaml("m.yaml", text)
    assert problems == []
    secret = doc["secret"]
    assert isinstance(secret, LocMap)
    assert secret.key_locs["visibility"] == Location("m.yaml", 2, 3)
    assert secret.value_locs["repositories"] == Location("m.yaml", 3, 17)
    assert secret.key_locs["value"] == Location("m.yaml", 6, 3)


def test_a_problem_in_a_merged_value_points_at_the_anchor_in_its_file(tmp_path: Path) -> None:
    path = Path("m.yaml")
    path.write_text(
        "version: 1\n"
        "x-defaults: &defaults\n"
        "  visibility: selcted\n"
        "orgs:\n"
        "  octo-org:\n"
        "    actions:\n"
        "      secrets:\n"
        "        NPM_TOKEN:\n"
        "          <<: *defaults\n"
        "          value: {env: NPM_TOKEN}\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as info:
        load_manifests(["m.yaml"])
    assert [str(p) for p in info.value.problems] == [
        'm.yaml:2:1  x-defaults: unknown key "x-defaults"',
        'm.yaml:3:15  orgs.octo-org.actions.secrets.NPM_TOKEN.visibility: "selcted" is not one of all, private, selected (did you mean "selected"?)',
    ]


# -- refused, located ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: &a {alpha: 1, bravo: 1}\nb: &b {alpha: 2}\nc: {<<: [*a, *b]}\n",
            'm.yaml:3:5  c.alpha: merged mappings disagree on "alpha": m.yaml:1:8 and m.yaml:2:8\n    hint: YAML implementations differ on which wins; set the key here',
        ),
        (
            "a: &a {alpha: 1}\nb: &b {bravo: 2}\nc: {<<: *a, <<: *b}\n",
            "m.yaml:3:13  c: a second YAML merge key (<<) (first at m.yaml:3:5)\n    hint: merge several mappings with one key: <<: [*a, *b]",
        ),
        (
            "a: {<<: 1}\n",
            "m.yaml:1:9  a: a YAML merge key (<<) needs a mapping or a list of mappings",
        ),
        (
            "a: &a {alpha: 1}\nb: {<<: [*a, [1]]}\n",
            "m.yaml:2:14  b: a YAML merge key (<<) needs a mapping or a list of mappings",
        ),
        ("a: &a {<<: *a}\n", "m.yaml:1:4  a: recursive YAML merge: a mapping merges itself"),
        (
            "a: {<<: &b {alpha: 1, alpha: 2}}\n",
            'm.yaml:1:23  a.alpha: duplicate key "alpha" (first written at m.yaml:1:13); YAML would keep only the last one\n    hint: remove or rename one of them',
        ),
        (
            "a: {<<: !!set {alpha: 1}}\n",
            "m.yaml:1:9  a: a YAML merge key (<<) needs a mapping or a list of mappings",
        ),
    ],
)
def test_ambiguous_or_malformed_merges_are_refused_with_a_location(
    text: str, expected: str
) -> None:
    _, problems = _ours(text)
    assert problems == [expected]


def test_a_conflict_settled_by_the_mapping_itself_is_accepted() -> None:
    doc = _same_as_yaml("a: &a {alpha: 1}\nb: &b {alpha: 2}\nc: {<<: [*a, *b], alpha: 3}\n")
    assert doc["c"] == {"alpha": 3}


def test_a_refused_merge_fails_validate_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.e2e import run

    Path("m.yaml").write_text(
        "version: 1\nx: &a {prune: true}\ny: &b {prune: false}\norgs:\n  octo-org:\n"
        "    actions: {<<: [*a, *b], secrets: {}}\n",
        encoding="utf-8",
    )
    result = run(capsys, ["validate", "m.yaml"])
    assert result.code == 1
    assert (
        'm.yaml:6:15  orgs.octo-org.actions.prune: merged mappings disagree on "prune": m.yaml:2:8 and m.yaml:3:8'
        in result.err
    )


# -- property: generated documents with anchors and merges ---------------------------------

KEYS = ["alpha", "bravo", "charlie", "delta", "echo"]
scalars = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(["on", "null", "~", "'q'", '"s"', "1.5", "x y", "true"]),
)


@st.composite
def merge_documents(draw: st.DrawFn, *, disjoint: bool) -> str:
    """Top-level anchored mappings `dN: &mN {...}` that merge and alias earlier ones.

    With `disjoint`, the mappings merged together never share a key, so YAML
    implementations all agree and the loader must accept the document.
    """
    keysets: list[frozenset[str]] = []
    lines: list[str] = []

    def mapping(depth: int) -> tuple[str, frozenset[str]]:
        own = draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True))
        parts: list[str] = []
        for key in own:
            if depth < 2 and draw(st.integers(0, 4)) == 0:
                value, _ = mapping(depth + 1)
            elif keysets and bool(draw(st.booleans())):
                value = f"*m{draw(st.integers(0, len(keysets) - 1))}"
            else:
                value = draw(scalars)
            parts.append(f"{key}: {value}")
        keys = frozenset(own)
        if keysets and bool(draw(st.booleans())):
            chosen = draw(
                st.lists(st.integers(0, len(keysets) - 1), min_size=1, max_size=3, unique=True)
            )
            if disjoint:
                kept: list[int] = []
                for i in chosen:
                    if all(not (keysets[i] & keysets[j]) for j in kept):
                        kept.append(i)
                chosen = kept
            merged = [f"*m{i}" for i in chosen]
            source = (
                merged[0] if len(merged) == 1 and draw(st.booleans()) else f"[{', '.join(merged)}]"
            )
            parts.insert(draw(st.integers(0, len(parts))), f"<<: {source}")
            keys = keys.union(*(keysets[i] for i in chosen))
        return "{" + ", ".join(parts) + "}", keys

    for i in range(draw(st.integers(1, 6))):
        text, keys = mapping(0)
        lines.append(f"d{i}: &m{i} {text}")
        keysets.append(keys)
    return "\n".join(lines) + "\n"


@PROPERTY
@given(merge_documents(disjoint=True))
def test_unambiguous_merges_equal_yaml_safe_load(text: str) -> None:
    doc, problems = _ours(text)
    assert problems == [], text
    assert doc == yaml.safe_load(text), text


@PROPERTY
@given(merge_documents(disjoint=False))
def test_any_merge_is_yaml_s_result_or_refused_with_a_location(text: str) -> None:
    doc, problems = _ours(text)
    if not problems:
        assert doc == yaml.safe_load(text), text
    else:
        assert all(": merged mappings disagree on " in p for p in problems), problems
        assert all(p.startswith("m.yaml:") for p in problems)
