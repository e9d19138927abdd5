"""What an install from PyPI gets: the sdist is a complete source release whose tests run, and
the wheel, in a fresh virtualenv or under pipx and far from any checkout, runs the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from reconciler import __version__
from tests.support.installs import installer_env
from tests.support.paths import REPO_ROOT

BIN = Path(sys.executable).parent
DIST = "github-secrets-reconciler"


def _run(
    argv: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    base = installer_env()
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_lock_pins_and_hashes_every_dependency() -> None:
    """requirements.lock (the action's and the image's install) satisfies pyproject."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = [Requirement(r) for r in (*project["dependencies"], *extras["age"], *extras["aws"])]
    pins: dict[str, Version] = {}
    blocks = (REPO_ROOT / "requirements.lock").read_text("utf-8").split("\n")
    for line in blocks:
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            pins[name.strip().lower()] = Version(rest.split()[0].rstrip(";"))
    assert pins, "requirements.lock pins nothing"
    for requirement in wanted:
        name = requirement.name.lower()
        assert name in pins, f"{name} is not in requirements.lock: regenerate it (see its header)"
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])
    assert "setuptools" in pins  # builds the package with --no-build-isolation --no-index
    text = "\n".join(blocks)
    assert text.count("==") <= text.count("--hash=sha256:")


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The sdist, and the wheel built from it (as PyPI's would be), by pypa's build."""
    out = tmp_path_factory.mktemp("dist")
    built = _run([BIN / "python", "-m", "build", "--outdir", out, REPO_ROOT], REPO_ROOT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    assert wheel.name == f"github_secrets_reconciler-{__version__}-py3-none-any.whl"
    yield sdist, wheel


@pytest.mark.slow
def test_the_sdist_holds_every_tracked_file_and_its_tests_run(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    sdist, _ = dists
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data")
    [root] = tmp_path.iterdir()
    if (REPO_ROOT / ".git").exists():
        # What git tracks or would (new files not ignored), as the working tree has it.
        listed: list[str | Path] = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
        tracked = _run(listed, REPO_ROOT).stdout.splitlines()
        present = [p for p in tracked if (REPO_ROOT / p).is_file() and p != ".gitignore"]
        missing = [p for p in present if not (root / p).exists()]
        assert not missing, missing
    # The package data the links point at arrive as files.
    assert (root / "reconciler" / "schemas" / "manifest.schema.json").is_file()
    assert (root / "reconciler" / "examples" / "sandbox" / "seed.json").is_file()
    where = _run([BIN / "python", "-c", "import reconciler; print(reconciler.__file__)"], root)
    assert where.stdout.startswith(str(root)), where.stdout  # the sdist's code, not ours
    tests = [
        "tests/test_cli.py",
        "tests/commands/test_schema.py",
        "tests/manifest/test_manifest.py",
    ]
    ran = _run([BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], root)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert " passed" in ran.stdout and "failed" not in ran.stdout


def _works_from_anywhere(bin_dir: Path, python: Path, home: Path) -> None:
    """--version, python -m, the demo and the schema, in a directory with no checkout."""
    env = {"HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}
    version = _run([bin_dir / "reconciler", "--version"], home, env)
    assert version.returncode == 0 and version.stdout == f"reconciler {__version__}\n", version
    module = _run([python, "-m", "reconciler", "--help"], home, env)
    assert module.returncode == 0 and "usage: reconciler" in module.stdout, module.stderr
    demo = _run([bin_dir / "reconciler", "demo"], home, env, timeout=300)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "No changes" in demo.stdout.rsplit("$ reconciler plan", 1)[1]
    assert str(REPO_ROOT) not in demo.stdout  # the shipped examples, not this checkout's
    assert not (home / ".cache").exists()  # the demo's ledger and HTTP cache die with it
    schema = _run([bin_dir / "reconciler", "schema", "--out", home], home, env)
    assert schema.returncode == 0, schema.stderr
    assert (home / "manifest.schema.json").read_bytes() == (
        REPO_ROOT / "schemas" / "manifest.schema.json"
    ).read_bytes()


@pytest.mark.slow
def test_the_wheel_works_in_a_fresh_virtualenv_outside_the_checkout(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = dists
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", venv], tmp_path).returncode == 0
    installed = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    home = tmp_path / "home"
    home.mkdir()
    _works_from_anywhere(venv / "bin", venv / "bin" / "python", home)


@pytest.mark.slow
def test_the_wheel_works_under_pipx(dists: tuple[Path, Path], tmp_path: Path) -> None:
    _, wheel = dists
    env = {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    installed = _run([BIN / "pipx", "install", wheel], tmp_path, env)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    python = tmp_path / "pipx" / "venvs" / DIST / "bin" / "python"
    home = tmp_path / "home"
    home.mkdir()
    _works_from_anywhere(tmp_path / "bin", python, home)
