"""The composite action's install step, run for real with bash: a virtualenv of its own under
RUNNER_TEMP, the hashed requirements.lock from PyPI (through this machine's pip configuration),
the package from the action's checkout without an index; then the action's reconciler step
runs the tool from that virtualenv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.delivery.test_action_run import run_step
from tests.support.installs import pip_settings
from tests.support.paths import REPO_ROOT

# What a release tarball of the action holds that the install reads.
_ACTION_FILES = ("action.yml", "requirements.lock", "pyproject.toml", "README.md", "LICENSE")
_ACTION_DIRS = ("reconciler", "schemas", "examples")


def _checkout(path: Path) -> Path:
    """The action as the runner unpacks it at $GITHUB_ACTION_PATH."""
    path.mkdir()
    for name in _ACTION_FILES:
        shutil.copy(REPO_ROOT / name, path / name)
    for name in _ACTION_DIRS:
        shutil.copytree(
            REPO_ROOT / name,
            path / name,
            symlinks=True,  # reconciler/schemas and reconciler/examples link to the top level
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    return path


def _name(project: str) -> str:
    return re.sub(r"[-_.]+", "-", project).lower()


def _install(action_path: Path, runner_temp: Path, files: dict[str, Path]) -> str:
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "install"]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(runner_temp)),
        "PYTHON": sys.executable,  # setup-python's python-path output
        "GITHUB_ACTION_PATH": str(action_path),
        "RUNNER_TEMP": str(runner_temp),
        **{name: str(file) for name, file in files.items()},
        # pip's own settings (index, certificates, timeouts) as the job would pass them.
        **pip_settings(),
    }
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=runner_temp.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


@pytest.mark.slow
def test_install_step_builds_its_own_venv_from_the_lock_and_the_run_step_uses_it(
    tmp_path: Path,
) -> None:
    action_path = _checkout(tmp_path / "action path")
    runner_temp = tmp_path / "runner temp"
    runner_temp.mkdir()
    files = {n: tmp_path / n.lower() for n in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")}
    for file in files.values():
        file.write_text("", encoding="utf-8")

    _install(action_path, runner_temp, files)
    venv = runner_temp / "reconciler-action-venv"
    assert files["GITHUB_OUTPUT"].read_text(encoding="utf-8") == f"bin={venv / 'bin'}\n"
    assert files["GITHUB_PATH"].read_text(encoding="utf-8") == ""
    assert files["GITHUB_ENV"].read_text(encoding="utf-8") == ""

    version = subprocess.run(
        [str(venv / "bin" / "reconciler"), "--version"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("reconciler ")

    # Only what the lock pins, and the tool itself, is in the virtualenv.
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {_name(n) for n in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    installed = {_name(re.split(r"[=@ ]", line)[0]) for line in frozen.splitlines() if line}
    assert "pyyaml" in pinned and "pyyaml" in installed
    assert installed - pinned == {"pip", "github-secrets-reconciler"}

    # A second use of the action in the same job keeps the virtualenv.
    marker = (venv / "pyvenv.cfg").stat().st_mtime_ns
    files["GITHUB_OUTPUT"].write_text("", encoding="utf-8")
    _install(action_path, runner_temp, files)
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == marker
    assert files["GITHUB_OUTPUT"].read_text(encoding="utf-8") == f"bin={venv / 'bin'}\n"

    # The reconciler step runs the installed tool (not this test's) on the shipped examples.
    workspace = tmp_path / "workspace"
    shutil.copytree(action_path / "examples", workspace / "secrets dir")
    ran = run_step(
        workspace, {"command": "validate", "paths": "'secrets dir'"}, bin_dir=venv / "bin"
    )
    assert ran.code == 0, ran.err
    assert ran.outputs == {"exit-code": "0"}
    assert ran.out.startswith("OK: ")
