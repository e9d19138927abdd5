"""The CLI contract: exit codes, annotations, job summaries, hosts, the sandbox command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.paths import REPO_ROOT

SIMPLE = """
version: 1
orgs:
  octo-org:
    dependabot:
      secrets:
        A: {value: {env: A_TOKEN}, visibility: selected, repositories: [web, api, infra]}
"""


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "infra", "docs"):
        sandbox.add_repo(f"octo-org/{name}")
    return sandbox


def test_usage_errors_exit_64_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, ["plan"])
    assert result.code == 64
    assert "the following arguments are required: PATH" in result.err
    assert run(capsys, ["plan", "x.yaml", "--values", "sometimes"]).code == 64
    assert run(capsys, ["apply", "x.yaml", "--write-delay", "-1"]).code == 64
    assert run(capsys, ["frobnicate"]).code == 64


def test_validate_ok_and_annotations_on_github_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = run(capsys, ["validate", str(REPO_ROOT / "examples")])
    assert ok.code == 0, ok.err
    assert ok.out.startswith(
        "OK: 3 manifest files, 12 scope/app groups, 15 secrets, 5 variables "
        "(2 deployment environments)"
    )
    bad = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                9LIVES: {value: {env: A_TOKEN}, visibility: private}
        """,
    )
    local = run(capsys, ["validate", str(bad)])
    assert local.code == 1
    assert "::error" not in local.out
    annotated = run(capsys, ["validate", str(bad)], {"GITHUB_ACTIONS": "true"})
    assert annotated.code == 1
    (line,) = [x for x in annotated.out.splitlines() if x.startswith("::error")]
    assert line.startswith(f"::error file={bad},line=6,col=")
    assert "9LIVES" in line


def test_no_token_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(tmp_path, SIMPLE)
    result = run(capsys, ["plan", str(manifest)], {})
    assert result.code == 64
    assert "no GitHub credentials: set GITHUB_TOKEN or GH_TOKEN" in result.err


def test_gh_token_ghes_prefix_and_step_summary(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path, SIMPLE)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {
        "GH_TOKEN": org.token,
        "GITHUB_API_URL": org.url + "/api/v3",
        "GITHUB_STEP_SUMMARY": str(summary),
        "A_TOKEN": "plan-token-value",  # apply could read it: the plan is applicable
    }
    result = run(capsys, ["plan", str(manifest)], env)
    assert result.code == 0, result.err
    assert all(r.path.startswith("/api/v3/") for r in org.requests)
    text = summary.read_text()
    assert text.startswith("earlier step\n### reconciler plan")
    assert "| 1 | 0 | 0 | 0 | 0 | 1 |" in text


def test_result_is_identical_whatever_the_concurrency(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for app in ("actions", "dependabot", "codespaces"):
        for i in range(12):
            sel = ["web", "docs"] if i % 2 else None
            org.put_secret(
                "octo-org",
                app,
                f"S{i}",
                b"v",
                visibility="selected" if sel else "private",
                selected=sel,
            )
    manifest = write_manifest(
        tmp_path,
        "version: 1\norgs:\n  octo-org:\n"
        + "".join(
            f"    {app}:\n      secrets:\n"
            + "".join(
                f"        S{i}: {{value: {{env: A_TOKEN}}, visibility: selected, "
                f"repositories: [web, api]}}\n"
                for i in range(12)
            )
            for app in ("actions", "dependabot", "codespaces")
        ),
    )
    org.set_latency(0.02)
    outputs = []
    for concurrency in ("1", "8"):
        org.reset_peak_concurrency()
        result = run(
            capsys,
            ["plan", str(manifest), "--format", "json", "--concurrency", concurrency],
            {"A_TOKEN": "plan-token-value"},
            sb=org,
        )
        assert result.code == 0, result.err
        doc = result.json()
        doc.pop("api")
        outputs.append(doc)
        assert org.peak_concurrency <= int(concurrency)
    assert outputs[0] == outputs[1]
    assert org.peak_concurrency > 1  # the bound was used, not just respected


def test_internal_errors_never_show_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text("[1, 2]")
    result = run(capsys, ["demo", str(REPO_ROOT / "examples"), "--seed", str(seed)])
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "not a sandbox seed: the seed must be a mapping at the top level" in result.err


def test_sandbox_command_serves_and_dumps_on_sigterm(tmp_path: Path) -> None:
    dump = tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "sandbox",
        "--seed",
        str(REPO_ROOT / "examples" / "sandbox" / "seed.json"),
        "--dump",
        str(dump),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipe = subprocess.PIPE
    # `with` closes the pipes and reaps the process, however the test ends.
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            info: dict[str, str] = {}
            while len(info) < 2:
                line = proc.stdout.readline()
                assert line, proc.stderr.read() if proc.stderr else ""
                key, _, value = line.strip().partition("=")
                if key in ("GITHUB_API_URL", "GITHUB_TOKEN"):
                    info[key] = value
            resp = requests.get(
                f"{info['GITHUB_API_URL']}/orgs/octo-org/dependabot/secrets",
                headers={"Authorization": f"Bearer {info['GITHUB_TOKEN']}"},
                timeout=10,
            )
            assert resp.status_code == 200
            names = {s["name"] for s in resp.json()["secrets"]}
            assert names == {"NPM_TOKEN", "OLD_NEXUS_PASSWORD"}
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    state = json.loads(dump.read_text())
    assert "octo-org" in state["orgs"]


def test_permission_errors_beyond_secrets_name_the_right_permission(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger's repository needs Contents, the PR comment Pull requests/Issues: a 403
    there must say so, not name a secrets permission."""
    org.add_token(
        "t-secrets-only", {"organization_dependabot_secrets": "write", "metadata": "read"}
    )
    manifest = write_manifest(tmp_path, SIMPLE)
    env = {"GITHUB_TOKEN": "t-secrets-only", "GITHUB_API_URL": org.url}
    ledger = ["--ledger", "github:octo-org/web:ledger.json"]
    result = run(capsys, ["plan", str(manifest), *ledger], env)
    assert result.code == 1
    assert "/contents/ledger.json -> 403" in result.err
    assert "Repository permissions: Contents (read) on the ledger's repository" in result.err
    org.add_issue("octo-org/web", 7, pull_request=True)
    comment = run(capsys, ["plan", str(manifest), "--no-ledger", "--pr", "octo-org/web#7"], env)
    assert comment.code == 1
    assert "/issues/7/comments -> 403" in comment.err
    assert "Pull requests or Issues (read)" in comment.err
