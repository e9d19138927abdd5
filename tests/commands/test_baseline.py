"""`reconciler baseline` end to end against the sandbox: it records that the sources hold what
GitHub holds (fingerprints, GitHub's updated_at, the source) without writing to GitHub, so the
next plan is empty and a rotation shows exactly; it refuses what it cannot stand behind."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PublicKey, SealedBox

from reconciler import cli
from reconciler.commands import baseline
from reconciler.commands.arguments import Connection, LedgerChoice, Manifests
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

KEY = "baseline-key-for-tests-0123456789ab"
OTHER_KEY = "another-baseline-key-fedcba98765432"
ORG_VALUE = "org-value-5c1e0a77"
WEB_VALUE = "web-value-9b3d44e1"
DEPLOY = "deploy-file-value-7e21aa09\n"
VALUES = (ORG_VALUE, WEB_VALUE, DEPLOY, "rotated-value-31f5b0c2")

MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        ORG_TOKEN: {value: {env: ORG_TOKEN}, visibility: private}
        DEPLOY_KEY: {value: {file: deploy.key}, visibility: private}
repos:
  octo-org/web:
    actions:
      secrets:
        WEB_TOKEN: {value: {env: WEB_TOKEN}}
        NEW_TOKEN: {value: {env: WEB_TOKEN}}
"""


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    sandbox.add_repo("octo-org/web")
    sandbox.put_secret("octo-org", "actions", "ORG_TOKEN", ORG_VALUE.encode(), visibility="private")
    sandbox.put_secret("octo-org", "actions", "DEPLOY_KEY", DEPLOY.encode(), visibility="private")
    sandbox.put_secret("octo-org/web", "actions", "WEB_TOKEN", WEB_VALUE.encode())
    return sandbox


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    (tmp_path / "deploy.key").write_text(DEPLOY, encoding="utf-8")
    return write_manifest(tmp_path, MANIFEST)


def env(key: str | None = KEY, **overrides: str) -> dict[str, str]:
    environ = {"ORG_TOKEN": ORG_VALUE, "WEB_TOKEN": WEB_VALUE, **overrides}
    if key is not None:
        environ["RECONCILER_LEDGER_KEY"] = key
    return environ


def ledger_entries(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {(s["target"], s["name"]): s for s in doc["secrets"]}


def writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sb.requests if r.method in ("PUT", "DELETE", "POST")]


def assert_no_value_shown(*results: Run) -> None:
    for result in results:
        text = result.out + result.err
        for value in VALUES:
            raw = value.encode()
            for form in (value, value.strip(), base64.b64encode(raw).decode(), raw.hex()):
                assert form not in text


def plan(capsys: pytest.CaptureFixture[str], sb: Sandbox, manifest: Path, **environ: str) -> Run:
    args = ["plan", str(manifest), "--format", "json", "--detailed-exitcode"]
    return run(capsys, args, env(**environ), sb=sb)


def test_baseline_records_without_writing_and_the_next_plan_is_empty(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = plan(capsys, org, manifest)
    assert before.code == 2  # without a baseline every existing value is not comparable
    org.clear_requests()

    result = run(capsys, ["baseline", str(manifest)], env(), sb=org)

    assert result.code == 0, result.out + result.err
    assert writes(org) == []  # nothing written to GitHub
    assert "assuming each source below holds the value GitHub has now" in result.out
    assert "GitHub cannot be asked for values, so this is not checked" in result.out
    assert "recorded 3 secrets" in result.out
    assert "octo-org/web actions WEB_TOKEN  env:WEB_TOKEN" in result.out
    assert "octo-org actions DEPLOY_KEY  file:deploy.key" in result.out
    # NEW_TOKEN does not exist in GitHub: not baselined, and said so.
    assert "not in GitHub, not baselined (1; the next plan creates them)" in result.out
    assert "octo-org/web actions NEW_TOKEN" in result.out
    entries = ledger_entries(tmp_path / ".reconciler-ledger.json")
    assert set(entries) == {
        ("octo-org", "ORG_TOKEN"),
        ("octo-org", "DEPLOY_KEY"),
        ("octo-org/web", "WEB_TOKEN"),
    }
    live = {**org.secrets("octo-org", "actions"), **org.secrets("octo-org/web", "actions")}
    for (_, name), entry in entries.items():
        assert entry["updated_at"] == live[name].updated_at
        assert entry["fingerprint"].startswith("hmac-sha256:")
    assert entries[("octo-org", "DEPLOY_KEY")]["source"] == "file:deploy.key"

    after = plan(capsys, org, manifest)
    assert [(c["action"], c["name"]) for c in after.json()["changes"]] == [("create", "NEW_TOKEN")]
    assert_no_value_shown(result, after)
    assert not any(v.strip() in (tmp_path / ".reconciler-ledger.json").read_text() for v in VALUES)


def test_after_baseline_a_rotation_shows_exactly_as_value_changed(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ["baseline", str(manifest)], env(), sb=org).code == 0
    rotated = plan(capsys, org, manifest, WEB_TOKEN="rotated-value-31f5b0c2")
    changes = {c["name"]: c.get("value") for c in rotated.json()["changes"]}
    assert changes == {"WEB_TOKEN": "value changed", "NEW_TOKEN": "new secret"}
    assert_no_value_shown(rotated)


def test_refuses_every_unreadable_source_and_records_nothing(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / ".reconciler-ledger.json"
    ledger.write_text('{"format": "reconciler-ledger", "version": 1, "secrets": []}\n')
    before = ledger.read_bytes()
    (tmp_path / "deploy.key").unlink()
    environ = env()
    del environ["WEB_TOKEN"]

    result = run(capsys, ["baseline", str(manifest)], environ, sb=org)

    assert result.code == 1
    assert "3 of 4 sources cannot be read; nothing was recorded" in result.err
    lines = result.err.splitlines()

    def line_for(who: str) -> str:
        found = [line for line in lines if who in line]
        assert len(found) == 1, result.err
        return found[0]

    # Every unreadable source, each with its file:line, and why.
    assert f"{manifest}:7:" in line_for("octo-org actions DEPLOY_KEY")
    assert f"{manifest}:12:" in line_for("octo-org/web actions WEB_TOKEN")
    assert f"{manifest}:13:" in line_for("octo-org/web actions NEW_TOKEN")
    assert '"WEB_TOKEN" is not set' in line_for("octo-org/web actions WEB_TOKEN")
    assert "ORG_TOKEN" not in result.err  # readable: not listed
    assert ledger.read_bytes() == before
    assert org.requests == []  # refused before GitHub was asked anything
    assert_no_value_shown(result)


def test_refuses_a_source_the_env_allow_list_refuses(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "more").mkdir()
    other = write_manifest(
        tmp_path / "more",
        """
        repos:
          octo-org/api:
            actions:
              secrets:
                AWS: {value: {env: AWS_SECRET_ACCESS_KEY}}
        """,
        "api.yaml",
    )
    environ = env(AWS_SECRET_ACCESS_KEY="aws-value-0000")
    result = run(capsys, ["baseline", str(manifest), str(other)], environ, sb=org)
    assert result.code == 1
    assert f"{other}:5:" in result.err and "AWS_SECRET_ACCESS_KEY" in result.err
    assert "aws-value-0000" not in result.out + result.err
    assert not (tmp_path / ".reconciler-ledger.json").exists()
    assert org.requests == []


def test_refuses_without_a_ledger_key(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["baseline", str(manifest)], env(key=None), sb=org)
    assert result.code == 1
    assert "baseline needs RECONCILER_LEDGER_KEY" in result.err
    assert "nothing was recorded" in result.err
    assert not (tmp_path / ".reconciler-ledger.json").exists()
    assert org.requests == []


def test_existing_entries_are_kept_unless_forced(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / ".reconciler-ledger.json"
    assert run(capsys, ["baseline", str(manifest)], env(), sb=org).code == 0
    first = ledger.read_bytes()
    rotated = env(WEB_TOKEN="rotated-value-31f5b0c2")

    again = run(capsys, ["baseline", str(manifest)], rotated, sb=org)

    # A rotation not yet applied must not be hidden by a second baseline.
    assert again.code == 0, again.err
    assert "recorded 0 secrets" in again.out
    assert "already in the ledger, kept as they are (3; re-baseline them with --force)" in (
        again.out
    )
    assert ledger.read_bytes() == first
    shown = plan(capsys, org, manifest, WEB_TOKEN="rotated-value-31f5b0c2")
    assert {c["name"]: c.get("value") for c in shown.json()["changes"]}["WEB_TOKEN"] == (
        "value changed"
    )

    forced = run(capsys, ["baseline", str(manifest), "--force"], rotated, sb=org)
    assert forced.code == 0, forced.err
    assert "recorded 3 secrets" in forced.out
    assert plan(capsys, org, manifest, WEB_TOKEN="rotated-value-31f5b0c2").json()["changes"] == [
        c
        for c in shown.json()["changes"]
        if c["name"] == "NEW_TOKEN"  # only the secret GitHub does not have
    ]
    assert_no_value_shown(again, forced, shown)


def test_a_ledger_of_another_key_is_refused_unless_forced(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / ".reconciler-ledger.json"
    assert run(capsys, ["baseline", str(manifest)], env(key=OTHER_KEY), sb=org).code == 0
    before = ledger.read_bytes()
    refused = run(capsys, ["baseline", str(manifest)], env(), sb=org)
    assert refused.code == 1
    assert "made with another RECONCILER_LEDGER_KEY" in refused.err
    assert ledger.read_bytes() == before
    forced = run(capsys, ["baseline", str(manifest), "--force"], env(), sb=org)
    assert forced.code == 0, forced.err
    assert plan(capsys, org, manifest).json()["changes"][0]["name"] == "NEW_TOKEN"
    assert len(plan(capsys, org, manifest).json()["changes"]) == 1


def test_sealed_sources_are_recorded_as_apply_records_them(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_org("octo-org")
    key_id, public = sandbox.public_key("octo-org", "actions")
    box = SealedBox(PublicKey(base64.b64decode(public)))
    sealed = base64.b64encode(box.encrypt(b"sealed-value-6d0f")).decode()
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        orgs:
          octo-org:
            actions:
              secrets:
                SEALED: {{value: {{sealed: "{sealed}", key_id: "{key_id}"}}, visibility: all}}
        """,
    )
    applied = run(
        capsys,
        ["apply", str(manifest), "--write-delay", "0", "--ledger", "applied.json"],
        env(),
        sb=sandbox,
    )
    assert applied.code == 0, applied.err
    based = run(
        capsys, ["baseline", str(manifest), "--ledger", "baselined.json"], env(), sb=sandbox
    )
    assert based.code == 0, based.err
    assert "octo-org actions SEALED  sealed:" in based.out
    assert ledger_entries(tmp_path / "baselined.json") == ledger_entries(tmp_path / "applied.json")


def test_baseline_writes_a_github_ledger_through_the_contents_api(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.add_repo("octo-org/platform")
    org.add_branch("octo-org/platform", "ledger")
    where = "github:octo-org/platform@ledger:ledger.json"
    result = run(capsys, ["baseline", str(manifest), "--ledger", where], env(), sb=org)
    assert result.code == 0, result.err
    assert [w for w in writes(org) if "/secrets/" in w[1]] == []
    data = org.file("octo-org/platform", "ledger.json", "ledger")
    assert data is not None
    names = {s["name"] for s in json.loads(data)["secrets"]}
    assert names == {"ORG_TOKEN", "DEPLOY_KEY", "WEB_TOKEN"}
    shown = run(
        capsys,
        ["plan", str(manifest), "--ledger", where, "--format", "json"],
        env(),
        sb=org,
    )
    assert [c["name"] for c in shown.json()["changes"]] == ["NEW_TOKEN"]
    assert not (tmp_path / ".reconciler-ledger.json").exists()


def test_every_flag_lands_in_the_options() -> None:
    argv = [
        *("baseline", "a.yaml", "b", "--allow-env", "X_*", "--ledger", "github:o/r:l.json"),
        *("--api-url", "https://ghe.example/api/v3", "--api-version", "2026-03-10"),
        *("--concurrency", "3", "--max-wait", "5", "--timeout", "2.5", "--force"),
    ]
    options = baseline.Options.from_args(cli._build_parser().parse_args(argv))
    assert options == baseline.Options(
        Manifests(("a.yaml", "b"), ("X_*",)),
        Connection("https://ghe.example/api/v3", "2026-03-10", 3, 5.0, 2.5),
        LedgerChoice("github:o/r:l.json"),
        force=True,
    )
    assert baseline.Options.from_args(cli._build_parser().parse_args(argv[:2])).force is False
