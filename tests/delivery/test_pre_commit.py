"""The pre-commit hook, run by real pre-commit in a temporary git repository that also holds
the YAML a real repository has: its `.pre-commit-config.yaml`, a dependabot config, a workflow,
docs, and dependency trees with broken YAML in them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.installs import installer_env
from tests.support.paths import REPO_ROOT

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
MANIFEST = (REPO_ROOT / "examples" / "repos.reconciler.yaml").read_text("utf-8")
BROKEN = "version: 1\norgs: {octo-org: {actions: {prune: maybe}}}\n"
# What a repository using pre-commit holds besides manifests: none of it may be validated.
FOREIGN = {
    ".github/dependabot.yml": "version: 2\nupdates: []\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    "docs/mkdocs.yml": "site_name: docs\nrepo_url: https://example.test\n",
    "node_modules/pkg/broken.yaml": "version: 1\norgs: [\n",
    ".venv/lib/broken.yaml": "repos: {\n",
    "compose.yaml": "version: '3.8'\nservices: {}\n",
}


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    [hook] = hooks
    assert isinstance(hook, dict)
    return hook


def test_the_hook_reads_only_the_manifest_directory() -> None:
    hook = _hook()
    assert hook["entry"] == "reconciler validate"
    assert hook["language"] == "python"  # pre-commit installs this package, then runs entry
    assert hook["pass_filenames"] is False  # the directory is validated as a whole
    assert hook["args"] == ["secrets/"]
    assert hook["files"] == "^secrets/"


def _env(home: Path | None = None) -> dict[str, str]:
    env = installer_env()
    env.update(PRE_COMMIT_COLOR="never")
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)  # the git hook runs pre-commit: same installs
    return env


def _git(cwd: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=cwd,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """This checkout as pre-commit sees a hook repository: a git repository at a commit."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache", ".hypothesis")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", ".pre-commit-hooks.yaml"):
        shutil.copy(REPO_ROOT / name, repo / name)
    for name in ("reconciler", "schemas", "examples"):
        shutil.copytree(REPO_ROOT / name, repo / name, symlinks=True, ignore=ignore)
    assert _git(repo, "init", "-q").returncode == 0
    assert _git(repo, "add", "-A").returncode == 0
    assert _git(repo, "commit", "-qm", "hook").returncode == 0
    rev = _git(repo, "rev-parse", "HEAD").stdout.strip()
    yield repo, rev


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")  # one hook install for the module


def _user_repo(root: Path, hook_repo: tuple[Path, str], hook: str) -> Path:
    repo, rev = hook_repo
    config = f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n{hook}"
    _write(root, {".pre-commit-config.yaml": config, **FOREIGN})
    assert _git(root, "init", "-q").returncode == 0
    return root


def _pre_commit(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), *args],
        cwd=root,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_real_pre_commit_validates_the_manifests_and_nothing_else(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    root = _user_repo(tmp_path, hook_repo, "      - id: reconciler-validate\n")
    _write(root, {"secrets/repos.yaml": MANIFEST, "secrets/README.yaml": "title: notes\n"})
    assert _git(root, "add", "-A").returncode == 0
    ok = _pre_commit(root, pre_commit_home, "run", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "reconciler validate" in ok.stdout and "Passed" in ok.stdout
    # As a git hook: a commit touching only foreign YAML does not run it...
    assert _pre_commit(root, pre_commit_home, "install").returncode == 0
    home = pre_commit_home
    assert _git(root, "commit", "-qm", "start", home=home).returncode == 0
    _write(root, {".github/dependabot.yml": "version: 2\nupdates: [{}]\n"})
    _git(root, "add", "-A")
    foreign = _git(root, "commit", "-m", "dependabot", home=home)
    assert foreign.returncode == 0, foreign.stdout + foreign.stderr
    assert "(no files to check)Skipped" in foreign.stderr.replace(".", "")
    # ...and a broken manifest blocks the commit, named with its line.
    _write(root, {"secrets/broken.yaml": BROKEN})
    _git(root, "add", "-A")
    blocked = _git(root, "commit", "-m", "broken", home=home)
    said = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, said
    assert "secrets/broken.yaml:2" in said and "Failed" in said
    assert "node_modules" not in said and "dependabot" not in said


@pytest.mark.slow
def test_real_pre_commit_with_a_configured_directory(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    hook = textwrap.indent(
        "- id: reconciler-validate\n  files: ^platform/secrets/\n  args: [platform/secrets/]\n",
        " " * 6,
    )
    root = _user_repo(tmp_path, hook_repo, hook)
    _write(root, {"platform/secrets/repos.yaml": MANIFEST, "secrets/other.yaml": BROKEN})
    _git(root, "add", "-A")
    proc = _pre_commit(root, pre_commit_home, "run", "--all-files")
    # secrets/ is not the configured directory: its broken file is not this hook's business.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _write(root, {"platform/secrets/broken.yaml": BROKEN})
    _git(root, "add", "-A")
    failed = _pre_commit(root, pre_commit_home, "run", "--all-files")
    assert failed.returncode == 1
    assert "platform/secrets/broken.yaml:2" in failed.stdout
