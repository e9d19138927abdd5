"""The example workflows and the composite action, checked as data: pinned references, least
privilege per job, and a pull-request plan that holds nothing able to write a secret. The
action's steps run with bash in test_action_run.py and test_action_install.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / "examples" / "workflows"
NAMES = ("plan.yml", "apply.yml", "drift.yml")
ACTION = "reconciler/reconciler"
# owner/repo@<full commit sha> # vX.Y.Z: a tag can move, a commit cannot; the comment says which
# release the reviewer pinned.
_PINNED = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")
_SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")


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


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job["steps"]
    assert isinstance(steps, list)
    return steps


def _reconciler_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in _steps(job)
        if str(step.get("uses", "")).startswith(f"{ACTION}@")
    ]


def _secrets(value: object) -> set[str]:
    return set(_SECRET.findall(yaml.safe_dump(value)))


# -- every file: pinned references --------------------------------------------------------------


@pytest.mark.parametrize("path", [REPO_ROOT / "action.yml", *(WORKFLOWS / n for n in NAMES)])
def test_every_uses_is_pinned_to_a_commit_with_its_release_in_a_comment(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines, path.name
    for line in lines:
        assert _PINNED.match(line), f"{path.name}: not pinned by commit SHA: {line.strip()}"


def test_the_pin_check_refuses_tags_branches_and_short_shas() -> None:
    for line in (
        "- uses: actions/checkout@v6",
        "- uses: actions/checkout@main",
        "- uses: actions/checkout@d23441a # v6.1.0",
        "- uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803",
    ):
        assert not _PINNED.match(line), line
    assert _PINNED.match(
        "  - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0"
    )


# -- example workflows --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_example_workflow_is_a_valid_workflow_using_declared_inputs(name: str) -> None:
    doc = _workflow(name)
    assert {"name", "on", "jobs", "permissions"} <= set(doc)
    declared = set(_action()["inputs"])
    for job_name, job in doc["jobs"].items():
        assert isinstance(job.get("runs-on"), str) and job["runs-on"], job_name
        for step in _steps(job):
            assert ("uses" in step) != ("run" in step), step
    steps = _reconciler_steps(doc)
    assert steps, f"{name} does not use the reconciler action"
    for step in steps:
        assert set(step.get("with", {})) <= declared, step
        assert step["with"]["command"] in ("validate", "plan", "apply")


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_least_privilege_its_own_concurrency_and_no_persisted_credentials(
    name: str,
) -> None:
    doc = _workflow(name)
    assert doc["permissions"] == {}, "top level grants nothing; each job names what it needs"
    for job_name, job in doc["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict) and permissions, job_name
        assert permissions.get("contents") == "read", job_name
        assert set(permissions.values()) <= {"read", "write"}, job_name
        assert "write-all" not in str(permissions) and "read-all" not in str(permissions)
        concurrency = job.get("concurrency")
        assert isinstance(concurrency, dict) and concurrency.get("group"), job_name
        assert "cancel-in-progress" in concurrency, job_name
        checkouts = [
            s for s in _steps(job) if str(s.get("uses", "")).startswith("actions/checkout@")
        ]
        assert checkouts, job_name
        for step in checkouts:
            assert step.get("with", {}).get("persist-credentials") is False, job_name


def test_the_pull_request_plan_holds_no_write_credential_and_no_secret_value() -> None:
    plan = _workflow("plan.yml")
    apply = _workflow("apply.yml")
    assert set(plan["on"]) == {"pull_request"}  # never pull_request_target
    [job] = plan["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "environment" not in job
    assert "env" not in plan and "env" not in job
    validate, planning = _reconciler_steps(plan)
    assert validate["with"]["command"] == "validate"
    assert _secrets(validate) == set()
    assert planning["with"]["command"] == "plan"
    assert "head.repo.full_name == github.repository" in planning["if"]  # forks: no secrets
    assert str(planning["with"].get("comment", "true")) == "true"
    assert "--values none" in planning["with"]["args"]
    # No value (no step env), no ledger key, no token input: only the read-only App's key.
    assert "env" not in planning
    assert not {"ledger-key", "token", "comment-token"} & set(planning["with"])
    used = _secrets(job)
    assert used == {"RECONCILER_READ_APP_PRIVATE_KEY"}
    assert not used & _secrets(apply), "the pull-request job shares a secret with apply"
    assert planning["with"]["app-id"] != _reconciler_steps(apply)[0]["with"]["app-id"]


def test_apply_runs_on_main_in_a_protected_environment_one_at_a_time() -> None:
    doc = _workflow("apply.yml")
    assert set(doc["on"]) == {"push"}
    assert doc["on"]["push"]["branches"] == ["main"]
    [job] = doc["jobs"].values()
    assert job["environment"] == "secrets"
    assert job["permissions"] == {"contents": "read"}
    assert job["concurrency"]["cancel-in-progress"] is False  # never stop an apply midway
    [step] = _reconciler_steps(doc)
    assert step["with"]["command"] == "apply"
    assert "--values" not in step["with"].get("args", "")
    # The write credential, the ledger key and the values live in that environment only.
    assert {"RECONCILER_APP_PRIVATE_KEY", "RECONCILER_LEDGER_KEY"} <= _secrets(job)
    assert _secrets(step.get("env", {}))


def test_drift_is_scheduled_read_only_and_fails_on_drift() -> None:
    doc = _workflow("drift.yml")
    assert doc["on"]["schedule"][0]["cron"]
    [job] = doc["jobs"].values()
    assert "environment" not in job
    assert job["permissions"] == {"contents": "read"}
    assert _secrets(job) == {"RECONCILER_READ_APP_PRIVATE_KEY"}
    [step] = _reconciler_steps(doc)
    assert step["with"]["command"] == "plan"
    assert "env" not in step and "ledger-key" not in step["with"]
    args = step["with"]["args"].split()
    assert {"--values", "none", "--detailed-exitcode", "--out"} <= set(args)
    assert str(step["with"].get("comment")) == "false"
    # A later step turns exit code 2 (changes present) into a failed job when they are drift.
    [failing] = [
        s for s in _steps(job) if f"steps.{step['id']}.outputs.exit-code" in str(s.get("if"))
    ]
    assert args[args.index("--out") + 1] in failing["run"]


def _drift_check(workspace: Path) -> subprocess.CompletedProcess[str]:
    """drift.yml's last step, with bash as the runner runs it, in `workspace`."""
    [job] = _workflow("drift.yml")["jobs"].values()
    script = _steps(job)[-1]["run"]
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=workspace,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_drift_check_ignores_values_only_apply_can_compare_and_fails_on_the_rest(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.add_org("octo-org")
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
                B_TOKEN: {value: {env: B_TOKEN}, visibility: all}
        """,
    )
    values = {"A_TOKEN": "alpha", "B_TOKEN": "beta"}
    applied = run(capsys, ["apply", "secrets/", "--write-delay", "0"], values, sandbox)
    assert applied.code == 0, applied.err
    drift = ["plan", "secrets/", "--values", "none", "--detailed-exitcode"]
    drift += ["--out", "drift-plan.json"]
    # The night after: nothing changed, but env values are "checked at apply", never equal.
    quiet = run(capsys, drift, {}, sandbox)
    assert quiet.code == 2, quiet.err
    plan = json.loads((tmp_path / "drift-plan.json").read_text(encoding="utf-8"))
    assert {c["value"] for c in plan["changes"]} == {"checked at apply"}
    check = _drift_check(tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "::error::" not in check.stdout
    # Someone deletes a secret by hand: that is drift.
    sandbox.delete_secret("octo-org", "actions", "B_TOKEN")
    drifted = run(capsys, drift, {}, sandbox)
    assert drifted.code == 2, drifted.err
    check = _drift_check(tmp_path)
    assert check.returncode == 1
    assert check.stdout.startswith("::error::GitHub secrets drifted from the manifest: 1 changes")


def test_examples_still_validate_with_workflows_beside_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run(capsys, ["validate", "examples/"])
    assert result.code == 0, result.err
    assert "skipped 3 non-manifest files" in result.out
    for name in NAMES:
        # Named on stdout without -v: a skipped manifest must never go unnoticed.
        assert f"skipped examples/workflows/{name}: not a manifest" in result.out


# -- the composite action ---------------------------------------------------------------------


def test_action_is_composite_and_uses_only_declared_inputs() -> None:
    action = _action()
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    for name, spec in inputs.items():
        assert spec.get("description"), name
    text = (REPO_ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", text))
    assert used <= set(inputs), used - set(inputs)
    assert {"command", "paths", "args", "token", "app-id", "app-private-key"} <= used
    step_ids = {s.get("id") for s in action["runs"]["steps"]}
    for name, output in action["outputs"].items():
        [ref] = re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", output["value"])
        assert ref in step_ids, name


def test_action_run_steps_take_inputs_only_through_the_environment() -> None:
    steps = _action()["runs"]["steps"]
    scripts = [s for s in steps if "run" in s]
    assert len(scripts) == 2
    for step in scripts:
        assert step.get("shell") == "bash", step.get("name")
        assert "${{" not in step["run"], f"template injection risk in {step.get('id')}"
        for word in ("GITHUB_PATH", "GITHUB_ENV", "eval ", "source ", "sudo"):
            assert word not in step["run"], (step.get("id"), word)


def test_action_sets_up_python_without_changing_the_callers_environment() -> None:
    [setup] = [s for s in _action()["runs"]["steps"] if "uses" in s]
    assert setup["uses"].startswith("actions/setup-python@")
    assert str(setup["with"]["update-environment"]).lower() == "false"
    install = next(s for s in _action()["runs"]["steps"] if s.get("id") == "install")
    assert install["env"]["PYTHON"] == f"${{{{ steps.{setup['id']}.outputs.python-path }}}}"
    script = install["run"]
    assert '"$RUNNER_TEMP/' in script  # the tool's own virtualenv
    assert (
        '--require-hashes --only-binary=:all: -r "$GITHUB_ACTION_PATH/requirements.lock"' in script
    )
    assert '--no-deps --no-build-isolation --no-index "$GITHUB_ACTION_PATH"' in script
    # Only the virtualenv's interpreter installs; none imports from the working directory.
    assert not re.search(r"^\s*(python3?|pip3?)\b", script, re.M)
    assert all(" -I -m " in line for line in script.splitlines() if " -m " in line)
