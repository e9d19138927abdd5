"""The compiled schema reports exactly the errors jsonschema reports.

`json_schema` replaces jsonschema at run time (start-up and speed); jsonschema stays the
reference here. Random documents shaped like manifests (a random subtree planted where
manifests have values, sources, repositories and scopes) and the example and fixture
manifests are validated by both, and every error must agree: keyword, keyword value,
instance, subschema, path and schema path (jsonschema's order within one
additionalProperties is a set's, so errors are compared as a multiset).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.manifest.json_schema import SchemaCompileError, compile_schema
from reconciler.manifest.rules import schema
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))

KEYS = [
    "version", "settings", "allow_env", "drift", "orgs", "repos", "octo-org", "octo-org/web",
    "bad name!", "-x-", "actions", "agents", "codespaces", "dependabot", "environments",
    "production", "prune", "secrets", "variables", "NPM_TOKEN", "GITHUB_X", "1BAD", "value",
    "visibility", "repositories", "env", "file", "sealed", "key_id", "age", "key", "aws",
    "json_key", "version_stage", "version_id", "region", "command", "timeout", "extra", "",
]  # fmt: skip
LEAVES = [
    None, True, False, 0, 1, 1.0, -1, 600, 600.5, 0.5, float("nan"), "", "x", "all", "private",
    "selected", "overwrite", "NPM_TOKEN", "a b", "web", "..", "a\x00b", "eu-west-1",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", "a" * 32, "b" * 300, "1", "1.0",
]  # fmt: skip
# Where manifests hold things: a random subtree goes in at one of these.
PLACES = [
    (),
    ("orgs",),
    ("orgs", "octo-org"),
    ("orgs", "octo-org", "actions"),
    ("orgs", "octo-org", "dependabot", "secrets"),
    ("orgs", "octo-org", "actions", "variables", "V"),
    ("orgs", "octo-org", "agents", "secrets", "S"),
    ("orgs", "octo-org", "actions", "secrets", "S", "value"),
    ("orgs", "octo-org", "actions", "variables", "V", "value"),
    ("repos", "octo-org/web", "environments"),
    ("repos", "octo-org/web", "environments", "production", "variables", "V"),
    ("repos", "octo-org/web", "codespaces", "secrets", "S", "value"),
    ("settings",),
]

leaves = st.sampled_from(LEAVES)
trees = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)

# Value sources: the keys that go together, and the bounds of each.
SOURCE_KEYS = [
    "env", "file", "sealed", "key_id", "age", "key", "aws", "json_key", "version_stage",
    "version_id", "region", "command", "timeout",
]  # fmt: skip
sources = st.dictionaries(
    st.sampled_from(SOURCE_KEYS),
    leaves | st.lists(leaves, max_size=2),
    max_size=4,
)


@st.composite
def documents(draw: st.DrawFn) -> object:
    doc: Any = {"version": draw(st.sampled_from([1, 1, 1, 2, "1", True, 1.0]))}
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(PLACES))
        subtree = draw(sources if place and place[-1] == "value" else trees)
        if not place:
            if isinstance(subtree, dict):
                doc.update(subtree)
            continue
        here = doc
        for part in place[:-1]:
            if not isinstance(here.get(part), dict):
                here[part] = {}
            here = here[part]
        here[place[-1]] = subtree
    return doc if draw(st.integers(0, 20)) else draw(trees)


_REFERENCE = Draft202012Validator(schema())
_COMPILED = compile_schema(schema())


def _key(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _reference_errors(doc: object) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            e.validator,
            _key(e.validator_value),
            _key(e.instance),
            id(e.schema),
            tuple(e.absolute_path),
            tuple(e.absolute_schema_path),
        )
        for e in _REFERENCE.iter_errors(doc)
    )


def _compiled_errors(doc: object) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            e.validator,
            _key(e.validator_value),
            _key(e.instance),
            id(e.schema),
            e.absolute_path,
            e.absolute_schema_path,
        )
        for e in _COMPILED.iter_errors(doc)
    )


@PROPERTY
@given(documents())
def test_random_documents_get_jsonschemas_errors(doc: object) -> None:
    assert _compiled_errors(doc) == _reference_errors(doc)


def test_manifests_get_jsonschemas_errors() -> None:
    files = sorted((REPO_ROOT / "examples").rglob("*.yaml")) + sorted(
        MANIFEST_FIXTURES.rglob("*.yaml")
    )
    compared = 0
    for file in files:
        try:
            docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for doc in docs:
            assert _compiled_errors(doc) == _reference_errors(doc), file
            compared += 1
    assert compared > 30


def test_a_valid_manifest_has_no_errors() -> None:
    doc = yaml.safe_load(
        (REPO_ROOT / "examples" / "octo-org.reconciler.yaml").read_text(encoding="utf-8")
    )
    assert _COMPILED.iter_errors(doc) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "object", "format": "date"},
        {"$ref": "https://example.com/other.json"},
        {"properties": {"a": {"patternProperties": {"x": {}}, "additionalProperties": False}}},
        {"items": True},
    ],
)
def test_what_the_compiler_does_not_implement_fails_the_compile(bad: dict[str, Any]) -> None:
    with pytest.raises(SchemaCompileError):
        compile_schema(bad)
