"""The container image: the Dockerfile checked as data, its install step replayed in a fresh
virtualenv."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / "examples" / "workflows"
BIN = Path(sys.executable).parent
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


# -- Dockerfile -------------------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    out: list[tuple[str, str]] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def test_dockerfile_is_pinned_non_root_with_reconciler_entrypoint() -> None:
    steps = _dockerfile()
    [base] = [args for ins, args in steps if ins == "FROM"]
    image, _, tag = base.partition(":")
    assert image == "python"
    assert re.match(r"^\d+\.\d+\.\d+-", tag), f"base image not pinned to a version: {base}"
    users = [args for ins, args in steps if ins == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    [entrypoint] = [args for ins, args in steps if ins == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["reconciler"]
    assert not [args for ins, args in steps if ins == "ADD"]  # ADD can fetch URLs
    for ins, args in steps:
        if ins == "RUN":
            assert not re.search(r"\b(curl|wget|git clone|apt-get|apk)\b", args), args
    user_line = next(i for i, (ins, _) in enumerate(steps) if ins == "USER")
    entry_line = next(i for i, (ins, _) in enumerate(steps) if ins == "ENTRYPOINT")
    assert user_line < entry_line


@pytest.mark.slow
def test_dockerfile_install_step_works_in_a_fresh_venv(tmp_path: Path) -> None:
    """Replay the image build: its COPY sources, ENV, and `pip install`, in a new venv."""
    steps = _dockerfile()
    context = tmp_path / "image"
    context.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    for key in ("PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_CONFIG_FILE"):
        if key in os.environ:
            env[key] = os.environ[key]
    installs: list[list[str]] = []
    for ins, args in steps:
        if ins == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
        elif ins == "COPY":
            *sources, _dest = shlex.split(args)
            for source in sources:
                origin = REPO_ROOT / source
                if origin.is_dir():
                    shutil.copytree(
                        origin, context / source, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy(origin, context / source)
        elif ins == "RUN":
            for command in args.split("&&"):
                words = shlex.split(command)
                if words[:4] == ["python", "-m", "pip", "install"]:
                    installs.append(words[4:])
    assert len(installs) == 1, installs
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *installs[0]],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "reconciler"), "--version"],
        cwd=tmp_path,
        env={"PATH": env["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("reconciler ")
    validated = subprocess.run(
        [str(venv / "bin" / "reconciler"), "validate", str(REPO_ROOT / "examples")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert validated.returncode == 0, validated.stderr  # the schema ships in the package
