"""`reconciler apply` end to end: reviewed plans, minimal writes, convergence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest

ENV = {"A_TOKEN": "alpha-value", "B_TOKEN": "bravo-value"}
MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      prune: true
      secrets:
        A: {value: {env: A_TOKEN}, visibility: selected, repositories: [web, api]}
        B: {value: {env: B_TOKEN}, visibility: private}
"""


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "infra", "docs"):
        sandbox.add_repo(f"octo-org/{name}")
    return sandbox


def _writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sb.requests if r.method in ("PUT", "DELETE")]


def test_apply_converges_and_second_run_changes_nothing(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.put_secret("octo-org", "dependabot", "STALE", b"old", visibility="all")
    manifest = write_manifest(tmp_path, MANIFEST)
    first = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert first.code == 0, first.err
    assert "Apply: 3 done, 0 failed, 0 skipped (3 write requests)." in first.out
    state = org.secrets("octo-org", "dependabot")
    assert sorted(state) == ["A", "B"]
    assert state["A"].value == b"alpha-value"
    assert state["A"].visibility == "selected"
    assert state["A"].selected == frozenset({"web", "api"})
    assert state["B"].value == b"bravo-value"
    org.clear_requests()
    again = run(
        capsys,
        [
            "apply",
            str(manifest),
            "--write-delay",
            "0",
            "--values",
            "skip-unknown",
            "--detailed-exitcode",
        ],
        ENV,
        sb=org,
    )
    assert again.code == 0, again.err
    assert _writes(org) == []


def test_create_sends_visibility_and_ids_in_one_put(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    result = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert result.code == 0, result.err
    assert _writes(org) == [
        ("PUT", "/orgs/octo-org/dependabot/secrets/A"),
        ("PUT", "/orgs/octo-org/dependabot/secrets/B"),
    ]
    # One public key per scope and app, however many values are sealed.
    assert sum(1 for r in org.requests if r.path.endswith("/public-key")) == 1


def test_selection_change_uses_add_remove_or_one_set_call(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.put_secret("octo-org", "dependabot", "A", b"x", visibility="selected", selected=["web"])
    org.put_secret("octo-org", "dependabot", "B", b"y", visibility="private")
    manifest = write_manifest(tmp_path, MANIFEST)
    # No ledger: the sandbox edits below stand for manifest changes here, not for drift.
    args = ["apply", str(manifest), "--write-delay", "0", "--values", "skip-unknown", "--no-ledger"]
    assert run(capsys, args, ENV, sb=org).code == 0
    # One repository added: the add endpoint, no value written.
    (write,) = _writes(org)
    assert write[0] == "PUT"
    assert write[1].startswith("/orgs/octo-org/dependabot/secrets/A/repositories/")
    assert org.secrets("octo-org", "dependabot")["A"].value == b"x"
    org.clear_requests()
    org.put_secret("octo-org", "dependabot", "A", b"x", visibility="selected", selected=["docs"])
    assert run(capsys, args, ENV, sb=org).code == 0
    assert _writes(org) == [("PUT", "/orgs/octo-org/dependabot/secrets/A/repositories")]
    assert org.secrets("octo-org", "dependabot")["A"].selected == frozenset({"web", "api"})


def test_reviewed_plan_file_applies_exactly_and_refuses_when_stale(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    plan_file = tmp_path / "plan.json"
    planned = run(capsys, ["plan", str(manifest), "--out", str(plan_file)], ENV, sb=org)
    assert planned.code == 0, planned.err
    doc = json.loads(plan_file.read_text())
    assert doc["format"] == "reconciler-plan" and doc["version"] == 2
    assert "alpha-value" not in plan_file.read_text()
    # Live state changes between review and merge: apply refuses and writes nothing.
    org.put_secret("octo-org", "dependabot", "B", b"by hand", visibility="all")
    org.clear_requests()
    stale = run(capsys, ["apply", str(plan_file), "--write-delay", "0"], ENV, sb=org)
    assert stale.code == 1
    assert "the reviewed plan no longer matches" in stale.err
    assert 'octo-org dependabot B: action was "create", now "update"' in stale.err
    assert _writes(org) == []
    # Re-plan, then the reviewed plan applies.
    assert run(capsys, ["plan", str(manifest), "--out", str(plan_file)], ENV, sb=org).code == 0
    applied = run(capsys, ["apply", str(plan_file), "--write-delay", "0"], ENV, sb=org)
    assert applied.code == 0, applied.err
    assert org.secrets("octo-org", "dependabot")["B"].visibility == "private"


def test_unsafe_plan_refused_without_force(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.put_secret("octo-org", "dependabot", "B", b"y", visibility="private")
    manifest = write_manifest(tmp_path, MANIFEST.replace("visibility: private", "visibility: all"))
    refused = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert refused.code == 3
    assert "octo-org dependabot B: visibility widens from private to all" in refused.err
    assert _writes(org) == []
    forced = run(capsys, ["apply", str(manifest), "--write-delay", "0", "--force"], ENV, sb=org)
    assert forced.code == 0, forced.err
    assert org.secrets("octo-org", "dependabot")["B"].visibility == "all"


def test_sealed_values_are_sent_as_they_are_and_key_id_checked(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    from nacl.public import PublicKey, SealedBox

    key_id, key = org.public_key("octo-org", "agents")
    sealed = base64.b64encode(
        SealedBox(PublicKey(base64.b64decode(key))).encrypt(b"pre-sealed")
    ).decode()
    text = f"""
    version: 1
    orgs:
      octo-org:
        agents:
          secrets:
            S: {{value: {{sealed: "{sealed}", key_id: "{key_id}"}}, visibility: private}}
    """
    manifest = write_manifest(tmp_path, text)
    result = run(capsys, ["apply", str(manifest), "--write-delay", "0"], {}, sb=org)
    assert result.code == 0, result.err
    assert org.secrets("octo-org", "agents")["S"].value == b"pre-sealed"
    org.rotate_key("octo-org", "agents")
    stale = run(capsys, ["plan", str(manifest)], {}, sb=org)
    assert stale.code == 1
    assert f'sealed value was sealed to key "{key_id}"' in stale.err
    assert "re-seal it" in stale.err
