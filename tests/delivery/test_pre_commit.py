"""The pre-commit hook."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

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


# -- pre-commit -------------------------------------------------------------------------------


def _hook() -> dict[str, Any]:
    hooks = _yaml(REPO_ROOT / ".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    [hook] = hooks
    assert isinstance(hook, dict)
    return hook


def _run_hook(hook: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
    """What pre-commit runs: entry + args, plus the matching files when pass_filenames."""
    files = sorted(
        str(p.relative_to(cwd))
        for p in cwd.rglob("*")
        if p.is_file() and re.search(hook["files"], str(p.relative_to(cwd)))
    )
    assert files, "the hook would not even trigger"
    entry = shlex.split(hook["entry"])
    command = [str(BIN / entry[0]), *entry[1:], *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        command += files
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_pre_commit_hook_runs_an_existing_command(tmp_path: Path) -> None:
    hook = _hook()
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python"  # pre-commit installs this package, then runs entry
    entry = shlex.split(hook["entry"])
    assert entry == ["reconciler", "validate"]
    executable = shutil.which(entry[0], path=str(BIN))
    assert executable, f"{entry[0]} is not installed beside {sys.executable}"
    shutil.copy(REPO_ROOT / "examples" / "repos.yaml", tmp_path / "repos.yaml")
    ok = _run_hook(hook, tmp_path)
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\norgs: {octo-org: {actions: {prune: maybe}}}\n", "utf-8")
    bad = _run_hook(hook, tmp_path)
    assert bad.returncode == 1 and "broken.yaml:" in bad.stderr


def test_pre_commit_hook_passes_in_a_repository_with_workflows(tmp_path: Path) -> None:
    hook = _hook()
    (tmp_path / "secrets").mkdir()
    shutil.copy(REPO_ROOT / "examples" / "repos.yaml", tmp_path / "secrets" / "repos.yaml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOWS / "plan.yml", tmp_path / ".github" / "workflows" / "plan.yml")
    shutil.copy(REPO_ROOT / "action.yml", tmp_path / "action.yml")
    proc = _run_hook(hook, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: 1 manifest files")
