"""The composite action's reconciler step, run with bash exactly as the runner would (its `${{ }}`
expressions substituted, its inputs in the environment), against the sandbox; and with a
stand-in `reconciler` that records its argv, to show what the shell hands over."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.github.comments import MARKER_PREFIX
from reconciler.sandbox import Sandbox
from tests.support.e2e import write_manifest
from tests.support.paths import REPO_ROOT

BIN = Path(sys.executable).parent  # this venv's python and reconciler: the action's venv here
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


@dataclass
class Ran:
    code: int
    out: str
    err: str
    outputs: dict[str, str]


def _action() -> dict[str, Any]:
    doc = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _evaluate(text: str, contexts: dict[str, dict[str, str]]) -> str:
    """The runner's `${{ }}` substitution, for the plain `context.name` references used."""

    def one(match: re.Match[str]) -> str:
        context, _, name = match.group(1).partition(".")
        if context == "steps":  # steps.<id>.outputs.<name>
            step, _, rest = name.partition(".outputs.")
            return contexts["steps"][f"{step}.{rest}"]
        return contexts[context][name]

    return _EXPR.sub(one, text)


def run_step(
    tmp_path: Path,
    given: dict[str, str],
    *,
    api_url: str = "http://127.0.0.1:9",
    event: str = "pull_request",
    bin_dir: Path = BIN,
) -> Ran:
    """Run the action's `run` step with bash in `tmp_path` (the workspace)."""
    action = _action()
    github = {"api_url": api_url, "token": "workflow-token"}
    inputs = {
        name: _evaluate(str(spec.get("default", "")), {"github": github})
        for name, spec in action["inputs"].items()
    }
    inputs.update(given)
    contexts = {"inputs": inputs, "github": github, "steps": {"install.bin": str(bin_dir)}}
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    files = {n: tmp_path / n.lower() for n in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")}
    for file in files.values():
        file.write_text("", encoding="utf-8")
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"number": 3, "pull_request": {"number": 3}}), "utf-8")
    runner_temp = tmp_path / "runner temp"  # a space: every use must be quoted
    runner_temp.mkdir(exist_ok=True)
    env = {
        # No venv on PATH: the step must run the tool from its own virtualenv.
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_REPOSITORY": "octo-org/infra",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        "A_TOKEN": "alpha",
        **{name: str(file) for name, file in files.items()},
    }
    env.update({k: _evaluate(str(v), contexts) for k, v in step["env"].items()})
    proc = subprocess.run(
        [
            "bash",
            "--noprofile",
            "--norc",
            "-eo",
            "pipefail",
            "-c",
            _evaluate(step["run"], contexts),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # The caller's job environment and PATH are never touched.
    assert files["GITHUB_PATH"].read_text(encoding="utf-8") == ""
    assert files["GITHUB_ENV"].read_text(encoding="utf-8") == ""
    assert list(runner_temp.iterdir()) == []  # the scratch files are gone
    text = files["GITHUB_OUTPUT"].read_text(encoding="utf-8")
    outputs = dict(line.split("=", 1) for line in text.splitlines() if line)
    return Ran(proc.returncode, proc.stdout, proc.stderr, outputs)


# -- what reaches reconciler ------------------------------------------------------------------


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A bin directory whose `reconciler` writes its argv as JSON to argv.json."""
    bin_dir = tmp_path / "fake bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    script = bin_dir / "reconciler"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "with open('argv.json', 'w', encoding='utf-8') as f:\n"
        "    json.dump(sys.argv[1:], f)\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir


def _argv(tmp_path: Path) -> list[str]:
    argv = json.loads((tmp_path / "argv.json").read_text(encoding="utf-8"))
    assert isinstance(argv, list)
    return argv


def test_quoted_paths_and_args_reach_reconciler_as_written(tmp_path: Path, recorder: Path) -> None:
    (tmp_path / "glob-bait.yaml").write_text("", encoding="utf-8")  # what `*` would expand to
    given = {
        "command": "plan",
        "paths": "'my secrets/' other/",
        "args": "--out \"my plan.json\" --pr octo-org/infra#3 --allow-env '*' $(touch pwned) $HOME",
    }
    ran = run_step(tmp_path, given, event="push", bin_dir=recorder)
    assert ran.code == 0, ran.err
    assert _argv(tmp_path) == [
        "plan",
        *("--out", "my plan.json", "--pr", "octo-org/infra#3", "--allow-env", "*"),
        *("$(touch", "pwned)", "$HOME"),  # never expanded, never run
        "--",
        "my secrets/",
        "other/",
    ]
    assert not (tmp_path / "pwned").exists()


def test_paths_one_per_line_keep_their_spaces(tmp_path: Path, recorder: Path) -> None:
    given = {"command": "validate", "paths": "secrets/org wide.yaml\n\n  team b/ \n-odd/\n"}
    ran = run_step(tmp_path, given, bin_dir=recorder)
    assert ran.code == 0, ran.err
    # `--` ends the options: a path that starts with "-" stays a path.
    assert _argv(tmp_path) == ["validate", "--", "secrets/org wide.yaml", "team b/", "-odd/"]


def test_the_comment_flag_is_added_only_for_plans_on_pull_requests(
    tmp_path: Path, recorder: Path
) -> None:
    run_step(tmp_path, {"command": "plan"}, bin_dir=recorder)
    assert _argv(tmp_path) == ["plan", "--comment", "--", "secrets/"]
    run_step(tmp_path, {"command": "plan", "comment": "false"}, bin_dir=recorder)
    assert _argv(tmp_path) == ["plan", "--", "secrets/"]
    run_step(tmp_path, {"command": "apply"}, bin_dir=recorder)
    assert _argv(tmp_path) == ["apply", "--", "secrets/"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"command": "--help"}, "the command input must be validate, plan or apply"),
        ({"command": "plan", "args": "--pr 'octo-org/infra#3"}, "the args input cannot be split"),
        ({"command": "plan", "paths": '"secrets/'}, "the paths input cannot be split"),
    ],
)
def test_a_bad_input_is_a_usage_error_before_reconciler_runs(
    tmp_path: Path, recorder: Path, given: dict[str, str], message: str
) -> None:
    ran = run_step(tmp_path, given, bin_dir=recorder)
    assert ran.code == 64
    assert ran.outputs == {"exit-code": "64"}
    assert f"::error title=reconciler action::{message}" in ran.out
    assert not (tmp_path / "argv.json").exists()
    assert "octo-org/infra#3" not in ran.out + ran.err  # the input is not echoed


# -- against the sandbox ----------------------------------------------------------------------


@pytest.fixture
def action_sandbox(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    sandbox.add_repo("octo-org/infra")
    sandbox.add_pull_request("octo-org/infra", 3)
    sandbox.add_token("workflow-token", {"issues": "write", "metadata": "read"})
    (tmp_path / "my secrets").mkdir()
    write_manifest(
        tmp_path / "my secrets",
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


def test_plan_on_a_pull_request_comments_and_keeps_the_job_green(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    given = {
        "command": "plan",
        "paths": "'my secrets/'",
        "token": action_sandbox.token,
        "args": "--detailed-exitcode --out 'my plan.json'",
    }
    ran = run_step(tmp_path, given, api_url=action_sandbox.url)
    assert ran.code == 0, ran.err
    assert ran.outputs == {"exit-code": "2"}  # changes present, reported, not a failure
    assert json.loads((tmp_path / "my plan.json").read_text(encoding="utf-8"))["changes"]
    [comment] = action_sandbox.comments("octo-org/infra", 3)
    assert comment["body"].startswith(MARKER_PREFIX)
    posted = [e for e in action_sandbox.exchanges if e.method == "POST" and "/comments" in e.url]
    assert [dict(e.request_headers).get("Authorization") for e in posted] == [
        "Bearer workflow-token"  # the comment token (the workflow's), not the main token
    ]
    assert "`A_TOKEN`" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    again = run_step(tmp_path, given, api_url=action_sandbox.url)
    assert again.code == 0, again.err
    assert len(action_sandbox.comments("octo-org/infra", 3)) == 1


def test_no_comment_outside_pull_requests(action_sandbox: Sandbox, tmp_path: Path) -> None:
    given = {"command": "plan", "paths": '"my secrets"', "token": action_sandbox.token}
    ran = run_step(tmp_path, given, api_url=action_sandbox.url, event="schedule")
    assert ran.code == 0, ran.err
    assert ran.outputs == {"exit-code": "0"}
    assert action_sandbox.comments("octo-org/infra", 3) == []


def test_apply_with_detailed_exitcode_fails_the_step_on_changes(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    given = {
        "command": "apply",
        "paths": "my secrets/\n",
        "token": action_sandbox.token,
        "args": "--detailed-exitcode --write-delay 0",
    }
    ran = run_step(tmp_path, given, api_url=action_sandbox.url)
    assert ran.outputs == {"exit-code": "2"}
    assert ran.code == 2
    assert action_sandbox.secrets("octo-org", "actions")["A_TOKEN"].value == b"alpha"


def test_validation_errors_become_annotations_and_fail_the_step(
    action_sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "my secrets" / "secrets.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("all", "everyone"), "utf-8")
    ran = run_step(tmp_path, {"command": "validate", "paths": "'my secrets'"})
    assert ran.code == 1
    assert ran.outputs == {"exit-code": "1"}
    assert re.search(r"^::error file=my secrets/secrets\.yaml,line=\d+,col=\d+::", ran.out, re.M)
