"""The published output schemas themselves: valid Draft 2020-12, named by the running
version's URL, in step with the tool's vocabulary, and strict: each rejects documents the
tool never writes (another version, a field added or missing, a value out of its enum or
pattern)."""

from __future__ import annotations

import copy
import importlib.metadata
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler import schema_files
from reconciler.ledger.format import LEDGER_FORMAT, LEDGER_VERSION
from reconciler.model import App, ScopeKind, Visibility
from reconciler.plan import PLAN_FORMAT, PLAN_VERSION, Action, Outcome, ProblemKind, ValueReason
from tests.output_schemas.samples import plan_document, results_and_ledger
from tests.output_schemas.validation import OUTPUTS, SCHEMAS, problems, schema, validator

GONE = object()  # an edit that removes the key


def edited(doc: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of `doc` with the value at `path` (keys and list indexes joined by "/")
    replaced, or removed when `value` is GONE."""
    out = copy.deepcopy(doc)
    *parents, last = path.split("/")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is GONE:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_published_schema_is_valid_draft_2020_12(path: Any) -> None:
    data = schema(path.name.removesuffix(".schema.json"))
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(data)
    version = importlib.metadata.version("github-secrets-reconciler")
    assert data["$id"] == f"{schema_files.HOME}/v{version}/schemas/{path.name}"


def test_formats_are_asserted_not_only_annotated() -> None:
    """Without a date-time checker installed, `format` would pass anything silently."""
    checker = Draft202012Validator.FORMAT_CHECKER
    assert checker.conforms("2026-01-01T00:00:00Z", "date-time")
    assert not checker.conforms("2026-01-01 00:00", "date-time")


def test_the_schemas_name_the_tools_formats_versions_and_vocabulary() -> None:
    plan, results, ledger = (schema(n) for n in OUTPUTS)
    assert (plan["properties"]["format"]["const"], plan["properties"]["version"]["const"]) == (
        PLAN_FORMAT,
        PLAN_VERSION,
    )
    assert ledger["properties"]["format"]["const"] == LEDGER_FORMAT
    assert ledger["properties"]["version"]["const"] == LEDGER_VERSION
    sample, _ = results_and_ledger()
    assert results["properties"]["format"]["const"] == sample["format"]
    assert results["properties"]["version"]["const"] == sample["version"]
    change = plan["$defs"]["change"]["properties"]
    assert change["action"]["enum"] == [a.value for a in Action]
    assert change["value"]["enum"] == [*(v.value for v in ValueReason), "not comparable, skipped"]
    assert set(change["visibility"]["properties"]["before"]["enum"]) == {*Visibility, None}
    assert plan["$defs"]["app"]["enum"] == [a.value for a in App]
    assert plan["$defs"]["scopeKind"]["enum"] == [s.value for s in ScopeKind]
    kinds = plan["$defs"]["problem"]["properties"]["kind"]["enum"]
    assert sorted(kinds) == sorted(k.value for k in ProblemKind)
    force = plan["$defs"]["problem"]["allOf"][0]["if"]["properties"]["kind"]["enum"]
    assert sorted(force) == sorted(k.value for k in ProblemKind if k.needs_force)
    outcomes = results["$defs"]["result"]["properties"]["outcome"]["enum"]
    assert outcomes == [o.value for o in Outcome]
    assert list(results["properties"]["summary"]["properties"]) == outcomes


def test_the_files_share_their_common_definitions_word_for_word() -> None:
    """Each file stands alone (a reader needs no other to resolve it); these keep them one."""
    plan, results, ledger = (schema(n) for n in OUTPUTS)
    shared = set(plan["$defs"]) - {"problem"}
    assert {k: results["$defs"][k] for k in shared} == {k: plan["$defs"][k] for k in shared}
    assert {k: plan["$defs"][k] for k in ledger["$defs"] if k != "entry"} == {
        k: v for k, v in ledger["$defs"].items() if k != "entry"
    }


PLAN_EDITS = [
    ("version", 3),
    ("format", "reconciler-results"),
    ("extra", True),
    ("checksum", GONE),
    ("checksum", "sha256:ABC"),
    ("manifests", []),
    ("notices", []),
    ("summary/selection", GONE),
    ("api/rate_limit_remaining", -1),
    ("problems/0/needs_force", False),
    ("problems/0/extra", ""),
    ("changes/0/extra", 1),
    ("changes/0/action", "rename"),
    ("changes/0/value", "because"),
    ("changes/0/visibility", GONE),
    ("changes/1/repositories/added", ["Web"]),
    ("changes/0/live_updated_at", "yesterday"),
    ("changes/0/variable", {"before": None, "after": None}),
    ("changes/1/variable", {"before": None, "after": "x"}),
    ("changes/0/target", "octo-org/web"),
    ("changes/1/kind", "secret"),
    ("changes/1/version", "sealed:" + "0" * 64),
    ("changes/-1/environment", GONE),
]
RESULTS_EDITS = [
    ("version", 2),
    ("extra", 1),
    ("results", GONE),
    ("plan_checksum", "md5:00"),
    ("summary/unchanged", GONE),
    ("results/0/detail", "done, but"),
    ("results/0/detail", GONE),
    ("results/0/outcome", "maybe"),
    ("results/0/action", "unmanaged"),
    ("results/0/extra", 1),
    ("results/1/detail", ""),
]
LEDGER_EDITS = [
    ("version", 2),
    ("extra", 1),
    ("secrets", GONE),
    ("key_id", GONE),  # fingerprints always name the key that made them
    ("secrets/0/extra", 1),
    ("secrets/0/updated_at", ""),
    ("secrets/0/fingerprint", "sha256:" + "a" * 64),
    ("secrets/0/selection", "sha256:xyz"),
    ("secrets/0/target", "Octo-Org"),
    ("secrets/0/scope", "team"),
    ("secrets/0/app", "pages"),
    ("secrets/0/source", "the value itself"),
]


def _samples() -> dict[str, dict[str, Any]]:
    results, ledger = results_and_ledger()
    return {"plan": plan_document(), "results": results, "ledger": ledger}


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [("plan", *e) for e in PLAN_EDITS]
    + [("results", *e) for e in RESULTS_EDITS]
    + [("ledger", *e) for e in LEDGER_EDITS],
)
def test_each_schema_rejects_what_the_tool_never_writes(
    name: str, path: str, value: object
) -> None:
    sample = _samples()[name]
    assert problems(name, sample) == []
    path = path.replace("/-1/", f"/{len(sample['changes']) - 1}/") if "-1" in path else path
    assert not validator(name).is_valid(edited(sample, path, value))
