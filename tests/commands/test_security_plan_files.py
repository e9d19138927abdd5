"""Reviewed plans are what they say: `apply plan.json` refuses a file that is not, before
anything else.

The attacker edits the plan file between review and apply (a change edited, added or
removed, the values policy widened) and keeps the reviewed checksum, or hands apply a file
of an unknown format or version, or something that is not a plan at all (a FIFO, binary,
deep JSON). Each is refused with exit 1 and a one-paragraph error naming the file, and the
sandbox sees not one request: nothing read from GitHub, nothing written.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.commands.reviewed_plan import verify_plan_document
from reconciler.errors import PlanFileError
from reconciler.plan import document_checksum
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

ENV = {"A_TOKEN": "alpha-value-5e1f", "B_TOKEN": "bravo-value-9c3d"}
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      prune: true
      secrets:
        A: {value: {env: A_TOKEN}, visibility: private}
        B: {value: {env: B_TOKEN}, visibility: selected, repositories: [web]}
"""
REFUSED = "nothing was read from or written to GitHub"


@pytest.fixture
def seeded(sandbox: Sandbox) -> Sandbox:
    sandbox.add_repo("octo-org/web")
    sandbox.put_secret("octo-org", "actions", "OLD", b"old", visibility="all")
    return sandbox


@pytest.fixture
def planned(
    seeded: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, dict[str, Any]]:
    """A real plan file from `reconciler plan --out`, and its document."""
    sandbox = seeded
    manifest = write_manifest(tmp_path, MANIFEST)
    plan_file = tmp_path / "plan.json"
    made = run(capsys, ["plan", str(manifest), "--out", str(plan_file)], ENV, sb=sandbox)
    assert made.code == 0, made.err
    doc: dict[str, Any] = json.loads(plan_file.read_text(encoding="utf-8"))
    assert len(doc["changes"]) == 3  # create A, create B, delete OLD
    return plan_file, doc


def _apply(capsys: pytest.CaptureFixture[str], sb: Sandbox, plan_file: Path) -> Run:
    sb.clear_requests()
    return run(capsys, ["apply", str(plan_file), "--write-delay", "0"], ENV, sb=sb)


def _assert_refused(result: Run, sb: Sandbox, plan_file: Path, *phrases: str) -> None:
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert str(plan_file) in result.err
    assert REFUSED in result.err
    for phrase in phrases:
        assert phrase in result.err, result.err
    assert sb.requests == []  # not one request: no read, no write
    assert sorted(sb.secrets("octo-org", "actions")) == ["OLD"]


def _edit_change(doc: dict[str, Any]) -> None:
    doc["changes"][0]["source"] = "env:AWS_SECRET_ACCESS_KEY"


def _add_change(doc: dict[str, Any]) -> None:
    extra = copy.deepcopy(doc["changes"][0])
    extra["name"] = "EXFILTRATED"
    doc["changes"].append(extra)


def _remove_change(doc: dict[str, Any]) -> None:
    doc["changes"] = [c for c in doc["changes"] if c["action"] != "delete"]


def _widen_values(doc: dict[str, Any]) -> None:
    doc["values"] = "always"


def _reorder_changes(doc: dict[str, Any]) -> None:
    doc["changes"].reverse()


@pytest.mark.parametrize(
    "tamper", [_edit_change, _add_change, _remove_change, _widen_values, _reorder_changes]
)
def test_a_tampered_plan_that_keeps_its_checksum_is_refused(
    sandbox: Sandbox,
    planned: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[dict[str, Any]], None],
) -> None:
    plan_file, doc = planned
    tamper(doc)  # the reviewed checksum stays in the file
    plan_file.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    result = _apply(capsys, sandbox, plan_file)
    _assert_refused(result, sandbox, plan_file, "do not match its checksum", "edited")


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [
        ("format", "terraform-plan", "is not a reconciler plan file"),
        ("format", None, '"format" is missing'),
        ("version", 3, "plan format version 3 is not supported"),
        ("version", 1, "plan format version 1 is not supported"),
        ("version", None, "plan format version missing is not supported"),
        ("version", True, "plan format version true is not supported"),
        ("version", "2", 'plan format version "2" is not supported'),
        ("values", "sometimes", '"values" is "sometimes", not a known policy'),
        ("changes", {"a": 1}, '"changes" is not a list'),
        ("checksum", None, 'has no "checksum"'),
        ("manifests", None, 'has no "manifests" list'),
        ("manifests", [1], 'has no "manifests" list'),
        ("allow_env", "AWS_*", '"allow_env" is not a list'),
    ],
)
def test_unknown_or_missing_fields_are_refused_before_any_request(
    sandbox: Sandbox,
    planned: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    field: str,
    value: object,
    phrase: str,
) -> None:
    plan_file, doc = planned
    if value is None:
        del doc[field]
    else:
        doc[field] = value
    plan_file.write_text(json.dumps(doc), encoding="utf-8")
    _assert_refused(_apply(capsys, sandbox, plan_file), sandbox, plan_file, phrase)


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b'{"format": "reconciler-plan", ', "is not valid JSON"),
        (b"\xff\xfe\x00binary", "is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"", "is not valid JSON"),
    ],
)
def test_a_file_that_is_not_a_plan_is_refused_clearly(
    seeded: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    phrase: str,
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(content)
    _assert_refused(_apply(capsys, seeded, plan_file), seeded, plan_file, phrase)


def test_a_fifo_or_directory_named_plan_json_is_refused_without_blocking(
    seeded: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = seeded
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)  # opening it for reading would block forever: nobody writes
    _assert_refused(_apply(capsys, sandbox, fifo), sandbox, fifo, "is a named pipe (FIFO), not a")
    directory = tmp_path / "dir.json"
    directory.mkdir()
    _assert_refused(_apply(capsys, sandbox, directory), sandbox, directory, "not a regular file")
    missing = tmp_path / "missing.json"
    _assert_refused(_apply(capsys, sandbox, missing), sandbox, missing, "cannot be read: No such")


def test_an_untouched_plan_applies_and_the_error_never_shows_values(
    sandbox: Sandbox, planned: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file, doc = planned
    for value in ENV.values():
        assert value not in plan_file.read_text(encoding="utf-8")
    assert document_checksum(doc) == doc["checksum"]
    applied = _apply(capsys, sandbox, plan_file)
    assert applied.code == 0, applied.err
    assert sorted(sandbox.secrets("octo-org", "actions")) == ["A", "B"]
    assert sandbox.secrets("octo-org", "actions")["A"].value == ENV["A_TOKEN"].encode()


# -- the law: any edit of the checksummed part is caught ------------------------------------

_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.floats(allow_nan=False)
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a scalar or container inside `value`."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_inside_the_changes_or_values_is_refused(
    planned: tuple[Path, dict[str, Any]], data: st.DataObject
) -> None:
    _plan_file, reviewed = planned
    doc = copy.deepcopy(reviewed)
    paths = [p for p in _paths({k: doc[k] for k in ("changes", "values")}) if p]
    path = data.draw(st.sampled_from(paths))
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    new = data.draw(_JSON_SCALARS.filter(lambda v: v != parent[path[-1]]))
    parent[path[-1]] = new
    if json.dumps(doc, sort_keys=True) == json.dumps(reviewed, sort_keys=True):
        return  # e.g. 1 and 1.0 serialise alike: not an edit
    with pytest.raises(PlanFileError) as refused:
        verify_plan_document(doc, "plan.json")
    assert refused.value.path == "plan.json"
    assert "\n" not in refused.value.message  # one paragraph
