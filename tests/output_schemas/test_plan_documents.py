"""Every plan document the real CLI writes (`plan --out`, `plan --format json`) conforms to
schemas/plan.schema.json, in every plan mode and with every kind of problem; together the
runs reach every action, app, scope, kind and optional field the schema describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import Sandbox
from tests.output_schemas.estate import ENV, ORG, seed, write_estate
from tests.output_schemas.validation import problems, reached
from tests.support.e2e import run, write_manifest

MODES: dict[str, list[str]] = {
    "auto": [],
    "skip-unknown": ["--values", "skip-unknown"],
    "always": ["--values", "always"],
    "none": ["--values", "none"],
    "hidden variables": ["--hide-variable-values"],
    "targeted": ["--target", "octo-org/web/*", "--target", "octo-org:dependabot"],
}
# What the modes together must show, so that each part of the schema meets a real document.
REACHED = {
    *(f"action:{a}" for a in ("create", "update", "selection", "delete", "unmanaged")),
    *(f"app:{a}" for a in ("actions", "agents", "codespaces", "dependabot")),
    *(f"scope:{s}" for s in ("org", "repo", "environment")),
    *(f"kind:{k}" for k in ("secret", "variable", "environment")),
    *(f"key:{k}" for k in ("notices", "targets", "variable_values")),
    *(f"field:{f}" for f in ("variable", "visibility", "repositories", "live_updated_at")),
    *(f"value:{v}" for v in ("new secret", "new variable", "not comparable", "value changed")),
    "value:--values always",
    "value:not comparable, skipped",
}


def _plan(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    flags: list[str],
    env: dict[str, str],
    code: int = 0,
) -> dict[str, Any]:
    """Plan to a file and as JSON on stdout; both conform and are the same document."""
    out = manifest.parent / "plan.json"
    argv = ["plan", str(manifest), "--out", str(out), "--format", "json", *flags]
    result = run(capsys, argv, env, sb=sb)
    assert result.code == code, result.err
    saved: dict[str, Any] = json.loads(out.read_text("utf-8"))
    assert problems("plan", saved) == []
    assert result.json() == saved
    return saved


def test_every_plan_mode_writes_a_conforming_document(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = seed(sandbox)
    manifest = write_estate(tmp_path, sb)
    seen: set[str] = set()
    for flags in MODES.values():
        seen |= reached(_plan(capsys, sb, manifest, flags, ENV))
    assert REACHED - seen == set()


def test_a_plan_with_every_problem_apply_would_meet_conforms(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = seed(sandbox)
    # The manifest makes this existing private secret visible to all: an unsafe widening.
    sb.put_secret(ORG, "agents", "MODEL_KEY", b"m", visibility="private")
    manifest = write_estate(tmp_path, sb)
    # A sibling manifest declares what the planned file's prune would delete.
    sibling = "version: 1\norgs:\n  octo-org:\n    dependabot:\n      secrets:\n"
    write_manifest(tmp_path, sibling + "        OLD: {value: {env: OLD_TOKEN}}\n", "old.yaml")
    env = {k: v for k, v in ENV.items() if k != "NPM_TOKEN"}  # an unreadable source
    doc = _plan(capsys, sb, manifest, [], env, code=1)
    kinds = {(p["kind"], p["needs_force"], bool(p["location"])) for p in doc["problems"]}
    assert kinds == {
        ("unreadable source", False, True),
        ("unsafe", True, False),
        ("declared in another manifest", False, True),
    }
