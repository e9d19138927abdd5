"""The example workflows and the composite action: checked as data, and the action's shell
step run with bash exactly as the runner would, against the sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.github.comments import MARKER_PREFIX
from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / "examples" / "workflows"
BIN = Path(sys.executable).parent
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _workflow(name: str) -> dict[str, Any]:
    doc = _yaml(WORKFLOWS / name)
    assert isinstance(doc, dict), name
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _action() -> dict[str, Any]:
    doc = _yaml(REPO_ROOT / "action.yml")
    assert isinstance(doc, dict)
    return doc


def _reconciler_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "reconciler" in str(step.get("uses", ""))
    ]


# -- example workflows ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml", "drift.yml"])
def test_example_workflow_is_a_valid_workflow(name: str) -> None:
    doc = _workflow(name)
    assert {"name", "on", "jobs"} <= set(doc)
    assert doc["jobs"], name
    for job_name, job in doc["jobs"].items():
        assert isinstance(job.get("runs-on"), str) and job["runs-on"], job_name
        assert isinstance(job.get("steps"), list) and job["steps"], job_name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
    declared = set(_action()["inputs"])
    steps = _reconciler_steps(doc)
    assert steps, f"{name} does not use the reconciler action"
    for step in steps:
        assert set(step.get("with", {})) <= declared, step
        assert step["with"]["command"] in ("validate", "plan", "apply")


def test_plan_workflow_validates_and_comments_on_pull_requests() -> None:
    doc = _workflow("plan.yml")
    assert "pull_request" in doc["on"]
    assert doc["permissions"]["pull-requests"] == "write"
    commands = [s["with"]["command"] for s in _reconciler_steps(doc)]
    assert commands == ["validate", "plan"]
    plan = _reconciler_steps(doc)[1]["with"]
    assert str(plan.get("comment", "true")) == "true"


def test_apply_workflow_runs_on_main_one_at_a_time() -> None:
    doc = _workflow("apply.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"]["group"]
    assert doc["concurrency"].get("cancel-in-progress") is False  # never stop an apply midway
    assert [s["with"]["command"] for s in _reconciler_steps(doc)] == ["apply"]


def test_drift_workflow_is_scheduled_and_fails_on_drift() -> None:
    doc = _workflow("drift.yml")
    assert doc["on"]["schedule"][0]["cron"]
    [step] = _reconciler_steps(doc)
    assert step["with"]["command"] == "plan"
    assert "--detailed-exitcode" in step["with"]["args"]
    assert str(step["with"].get("comment")) == "false"
    # A later step turns exit code 2 (changes present) into a failed job.
    failing = [
        s
        for job in doc["jobs"].values()
        for s in job["steps"]
        if f"steps.{step['id']}.outputs.exit-code" in str(s.get("if", ""))
    ]
    assert failing and "exit 1" in failing[0]["run"]


def test_examples_still_validate_with_workflows_beside_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run(capsys, ["validate", "examples/"])
    assert result.code == 0, result.err
    assert "skipped 3 non-manifest files" in result.out
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        # Named on stdout without -v: a skipped manifest must never go unnoticed.
        assert f"skipped examples/workflows/{name}: not a manifest" in result.out


# -- the composite action ---------------------------------------------------------------------


def test_action_metadata_is_a_composite_action_using_only_declared_inputs() -> None:
    action = _action()
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    for name, spec in inputs.items():
        assert spec.get("description"), name
    text = (REPO_ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", text))
    assert used, "the action uses no inputs"
    assert used <= set(inputs), used - set(inputs)
    assert {"command", "paths", "token", "app-id", "app-private-key", "comment-token"} <= used
    step_ids = {s.get("id") for s in action["runs"]["steps"]}
    for name, output in action["outputs"].items():
        [ref] = re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", output["value"])
        assert ref in step_ids, name
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")


def _evaluate(text: str, inputs: dict[str, str], github: dict[str, str]) -> str:
    """The runner's `${{ }}` substitution, for the two contexts the action uses."""

    def one(match: re.Match[str]) -> str:
        context, _, name = match.group(1).partition(".")
        assert context in ("inputs", "github"), match.group(0)
        return inputs[name] if context == "inputs" else github[name]

    return _EXPR.sub(one, text)


def _run_action(
    sb: Sandbox, tmp_path: Path, given: dict[str, str], *, event: str = "pull_request"
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the action's reconciler step with bash, the way a runner would."""
    action = _action()
    github = {"api_url": sb.url, "token": "workflow-token", "action_path": str(REPO_ROOT)}
    inputs = {
        name: _evaluate(str(spec.get("default", "")), {}, github)
        for name, spec in action["inputs"].items()
    }
    inputs.update(given)
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"number": 3, "pull_request": {"number": 3}}), "utf-8")
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_REPOSITORY": "octo-org/infra",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "A_TOKEN": "alpha",
    }
    env.update({k: _evaluate(str(v), inputs, github) for k, v in step["env"].items()})
    script = _evaluate(step["run"], inputs, github)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = dict(
        line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if line
    )
    return proc, outputs


@pytest.fixture
def action_sandbox(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    sandbox.add_repo("octo-org/infra")
    sandbox.add_pull_request("octo-org/infra", 3)
    sandbox.add_token("workflow-token", {"issues": "write", "metadata": "read"})
    (tmp_path / "secrets").mkdir()
    write_manifest(
        tmp_path / "secrets",
        """
        version: 1
        orgs:
          octo-org:
            actions:
              secrets:
                A_TOKEN: {value: {env: A_TOKEN}, visibility: all}
        """,
    )
    return sandbox


def test_action_plan_on_a_pull_request_comments_and_keeps_the_job_green(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    given = {"command": "plan", "token": action_sandbox.token, "args": "--detailed-exitcode"}
    proc, outputs = _run_action(action_sandbox, tmp_path, given)
    assert proc.returncode == 0, proc.stderr
    assert outputs == {"exit-code": "2"}  # changes present, reported, not a failure
    [comment] = action_sandbox.comments("octo-org/infra", 3)
    assert comment["body"].startswith(MARKER_PREFIX)
    posted = [e for e in action_sandbox.exchanges if e.method == "POST" and "/comments" in e.url]
    assert [dict(e.request_headers).get("Authorization") for e in posted] == [
        "Bearer workflow-token"  # the comment token (the workflow's), not the main token
    ]
    assert "`A_TOKEN`" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    again, _ = _run_action(action_sandbox, tmp_path, given)
    assert again.returncode == 0, again.stderr
    assert len(action_sandbox.comments("octo-org/infra", 3)) == 1


def test_action_does_not_comment_outside_pull_requests(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    given = {"command": "plan", "token": action_sandbox.token}
    proc, outputs = _run_action(action_sandbox, tmp_path, given, event="schedule")
    assert proc.returncode == 0, proc.stderr
    assert outputs == {"exit-code": "0"}
    assert action_sandbox.comments("octo-org/infra", 3) == []


def test_action_apply_with_detailed_exitcode_fails_the_step_on_changes(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    given = {
        "command": "apply",
        "token": action_sandbox.token,
        "args": "--detailed-exitcode --write-delay 0",
    }
    proc, outputs = _run_action(action_sandbox, tmp_path, given)
    assert outputs == {"exit-code": "2"}
    assert proc.returncode == 2
    assert action_sandbox.secrets("octo-org", "actions")["A_TOKEN"].value == b"alpha"


def test_action_validation_errors_become_annotations_and_fail_the_step(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "secrets" / "secrets.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("all", "everyone"), "utf-8")
    proc, outputs = _run_action(action_sandbox, tmp_path, {"command": "validate"})
    assert proc.returncode == 1
    assert outputs == {"exit-code": "1"}
    assert re.search(r"^::error file=secrets/secrets\.yaml,line=\d+,col=\d+::", proc.stdout, re.M)
