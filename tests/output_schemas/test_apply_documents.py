"""Every apply results document (`apply --results FILE`, `apply --format json`) and every
ledger file the real CLI writes conform to schemas/results.schema.json and
schemas/ledger.schema.json: a run with a failed write and a skipped delete, and the runs after
it (values changed and edited by hand, rotated, checked at apply and found unchanged), and the
plans they make, problems included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import Fault, Sandbox
from tests.output_schemas.estate import ENV, WEB, seed, write_estate
from tests.output_schemas.validation import problems, reached
from tests.support.e2e import run

LEDGER = ".reconciler-ledger.json"
NO_KEY = {k: v for k, v in ENV.items() if k != "RECONCILER_LEDGER_KEY"}


def _apply(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    env: dict[str, str],
    *flags: str,
    code: int = 0,
) -> dict[str, Any]:
    """Apply with results to a file and as JSON on stdout; both conform and are the same
    document, and so does the ledger the run leaves."""
    out = manifest.parent / "results.json"
    argv = ["apply", str(manifest), "--write-delay", "0", "--results", str(out), *flags]
    result = run(capsys, [*argv, "--format", "json"], env, sb=sb)
    assert result.code == code, result.err
    saved: dict[str, Any] = json.loads(out.read_text("utf-8"))
    assert problems("results", saved) == []
    assert result.json() == saved
    assert problems("ledger", _ledger(manifest)) == []
    return saved


def _ledger(manifest: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((manifest.parent / LEDGER).read_text("utf-8"))
    return data


def _plan(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    env: dict[str, str],
    *flags: str,
    code: int = 0,
) -> dict[str, Any]:
    result = run(capsys, ["plan", str(manifest), "--format", "json", *flags], env, sb=sb)
    assert result.code == code, result.err
    doc: dict[str, Any] = result.json()
    assert problems("plan", doc) == []
    return doc


def test_an_apply_with_a_failed_write_writes_conforming_results_and_ledger(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = seed(sandbox)
    manifest = write_estate(tmp_path, sb)
    # Not retried: the create fails, and the delete after it in the same group is skipped.
    failing = Fault(
        kind="status", status=422, method="PUT", path_pattern="/dependabot/secrets/NEW_DEP$"
    )
    sb.add_fault(failing)
    doc = _apply(capsys, sb, manifest, ENV, code=1)
    outcomes = {(r["name"], r["outcome"]) for r in doc["results"] if r["outcome"] != "done"}
    assert outcomes == {("NEW_DEP", "failed"), ("OLD", "skipped")}
    assert "key:notices" in reached(doc)
    fields = {k for entry in _ledger(manifest)["secrets"] for k in entry}
    assert {"source", "fingerprint", "version", "selection"} <= fields
    assert "key_id" in _ledger(manifest)


def test_the_runs_after_an_apply_write_conforming_documents(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = seed(sandbox)
    manifest = write_estate(tmp_path, sb)
    _apply(capsys, sb, manifest, ENV)
    # A value changed at its source, a secret edited by hand, a sealed value re-sealed.
    env = {**ENV, "NPM_TOKEN": "npm-value-2"}
    sb.put_secret(WEB, "actions", "R1", b"by hand")
    write_estate(tmp_path, sb, sealed=b"rotated")
    exact = reached(_plan(capsys, sb, manifest, env))
    assert {"value:value changed", "value:changed outside reconciler"} <= exact
    unread_plan = _plan(capsys, sb, manifest, env, "--values", "none")
    unread = reached(unread_plan)
    assert {"value:value rotated", "field:version", "value:checked at apply"} <= unread
    settled = _apply(capsys, sb, manifest, env, "--values", "none")
    assert {r["outcome"] for r in settled["results"]} == {"done", "unchanged"}
    # The results name the plan `plan` printed (and a reviewer approved), not the one apply
    # settled the unread values into.
    assert settled["plan_checksum"] == unread_plan["checksum"]
    # No key for a ledger of fingerprints, and a sealed value its scope's new key cannot open.
    sb.rotate_key(WEB, "actions")
    stuck = _plan(capsys, sb, manifest, NO_KEY, code=1)
    assert {p["kind"] for p in stuck["problems"]} == {"no ledger key", "stale sealed value"}
