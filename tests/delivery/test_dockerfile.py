"""The container image: the Dockerfile checked as data, and its install steps replayed in a fresh
virtualenv. `.ci/build-image` builds the image itself with buildah and runs the tool inside it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.installs import pip_settings
from tests.support.paths import REPO_ROOT

# Build steps that act on the image only, and so are not replayed: the test's own virtualenv
# stands in for the image's, the host's standard library is not the test's to compile, and the
# image's user is not the host's.
_IMAGE_ONLY = (
    ("python3", "-m", "venv"),
    ("python3", "-m", "compileall"),
    ("useradd",),
    ("install", "-d"),
)
_PIP_INSTALL = ("python", "-m", "pip", "install")


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    out: list[tuple[str, str]] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), " ".join(args.split())))
    return out


def _base(steps: list[tuple[str, str]]) -> str:
    """The FROM image with the ARG defaults declared before it substituted."""
    [base] = [args for ins, args in steps if ins == "FROM"]
    defaults = dict(a.split("=", 1) for ins, a in steps if ins == "ARG" and "=" in a)
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], base)


def _run_commands(steps: list[tuple[str, str]]) -> list[str]:
    return [c.strip() for ins, args in steps if ins == "RUN" for c in args.split("&&")]


def _env(steps: list[tuple[str, str]]) -> dict[str, str]:
    return {
        k: v for ins, args in steps if ins == "ENV" for k, v in re.findall(r"(\w+)=(\S+)", args)
    }


def _pip_installs(steps: list[tuple[str, str]]) -> list[list[str]]:
    """The arguments of each `python -m pip install`, in build order."""
    installs = []
    for command in _run_commands(steps):
        words = shlex.split(command)
        if tuple(words[:4]) == _PIP_INSTALL:
            installs.append(words[4:])
    return installs


def test_base_image_is_pinned_by_version_and_digest() -> None:
    base = _base(_dockerfile())
    match = re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-(\w+)@sha256:[0-9a-f]{64}", base)
    assert match, f"base image not pinned by version and digest: {base}"
    # requirements.lock is resolved for one Python (its header's --python-version): the image's.
    lock_python = re.search(
        r"--python-version (\S+)", (REPO_ROOT / "requirements.lock").read_text()
    )
    assert lock_python and match.group(1) == lock_python.group(1), (base, lock_python)


def test_runs_as_a_numeric_non_root_user_with_the_reconciler_entrypoint() -> None:
    steps = _dockerfile()
    users = [args for ins, args in steps if ins == "USER"]
    assert users, "no USER: the image would run as root"
    assert re.fullmatch(r"\d+:\d+", users[-1]), f"USER is not numeric uid:gid: {users[-1]}"
    uid, gid = (int(n) for n in users[-1].split(":"))
    assert uid != 0 and gid != 0
    # The user the image creates (so that name lookups work) is the one it runs as.
    [useradd] = [c for c in _run_commands(steps) if c.startswith("useradd ")]
    assert f"--uid {uid} " in useradd and "--user-group" in useradd, useradd
    # Without a home, the request cache's directory is the image's, and the user's to write.
    cache = _env(steps)["RECONCILER_CACHE_DIR"]
    assert f"install -d -m 0700 -o {uid} -g {gid} {cache}" in _run_commands(steps)
    [entrypoint] = [args for ins, args in steps if ins == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["reconciler"]
    instructions = [ins for ins, _ in steps]
    assert len(instructions) - 1 - instructions[::-1].index("USER") < instructions.index(
        "ENTRYPOINT"
    )


def test_build_installs_only_hashed_pins_and_the_package_without_an_index() -> None:
    steps = _dockerfile()
    assert not [args for ins, args in steps if ins == "ADD"]  # ADD can fetch URLs
    for command in _run_commands(steps):
        assert not re.search(r"\b(curl|wget|git|apt-get|apk)\b", command), command
    dependencies, package = _pip_installs(steps)
    assert {"--require-hashes", "--only-binary=:all:"} <= set(dependencies), dependencies
    assert dependencies[-2:] == ["-r", "requirements.lock"], dependencies
    assert {"--no-deps", "--no-build-isolation", "--no-index"} <= set(package), package
    assert package[-1] == ".", package


def test_bytecode_is_compiled_at_build_time() -> None:
    """Compiled once, as root, where the user cannot write: start-up neither compiles nor writes."""
    steps = _dockerfile()
    assert not [args for _, args in steps if "--no-compile" in args]
    assert "PIP_NO_COMPILE" not in _env(steps)  # pip's other spelling of --no-compile
    # The python image ships its standard library without bytecode.
    [stdlib] = [c for c in _run_commands(steps) if " -m compileall " in c]
    assert 'sysconfig.get_path("stdlib")' in stdlib, stdlib


def test_the_venv_on_path_is_the_one_the_build_creates() -> None:
    steps = _dockerfile()
    env = _env(steps)
    [venv] = [c.split()[-1] for c in _run_commands(steps) if c.startswith("python3 -m venv ")]
    assert env["VIRTUAL_ENV"] == venv
    assert env["PATH"].startswith(f"{venv}/bin:"), env["PATH"]


def test_copies_what_the_package_build_needs() -> None:
    sources = {
        source for ins, args in _dockerfile() if ins == "COPY" for source in shlex.split(args)[:-1]
    }
    needed = {"requirements.lock", "pyproject.toml", "README.md", "LICENSE"}
    needed |= {"reconciler", "schemas", "examples"}  # package data links into the last two
    assert needed <= sources, needed - sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source


def _replay(steps: list[tuple[str, str]], context: Path, venv: Path) -> None:
    """The COPY and RUN steps against `context`, `pip install` in `venv`, with the image's ENV
    except the two that name the image's virtualenv (the test's stands in for it)."""
    env = {k: v for k, v in _env(steps).items() if k not in ("PATH", "VIRTUAL_ENV")}
    env |= {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(context))}
    env |= pip_settings()  # this machine's index
    for ins, args in steps:
        if ins == "COPY":
            *sources, dest = shlex.split(args)
            assert dest == "./" or [dest] == [f"./{s}" for s in sources], args
            for source in sources:
                origin = REPO_ROOT / source
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        context / source,
                        symlinks=True,  # reconciler/schemas and reconciler/examples are links
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
                    )
                else:
                    shutil.copy(origin, context / source)
        elif ins == "RUN":
            for command in (c.strip() for c in args.split("&&")):
                words = command.split()
                if any(tuple(words[: len(skip)]) == skip for skip in _IMAGE_ONLY):
                    continue
                argv = shlex.split(command)
                assert tuple(argv[:4]) == _PIP_INSTALL, f"a build step not replayed: {command}"
                proc = subprocess.run(
                    [str(venv / "bin" / "python"), *argv[1:]],
                    cwd=context,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_dockerfile_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """Replay the image build (COPY, ENV, `pip install`) in a new venv, then run the tool far
    from the checkout: the package data (examples, sandbox seed, schemas) came with it."""
    context = tmp_path / "image"
    context.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    _replay(_dockerfile(), context, venv)
    shutil.rmtree(context)  # the tool must not need its build context

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "reconciler"), *argv],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # pip compiled every module of the package at install (no --no-compile); checked before the
    # tool first runs, which would write what is missing.
    [package] = (venv / "lib").glob("python3.*/site-packages/reconciler")
    modules = list(package.rglob("*.py"))
    assert modules
    uncompiled = [m for m in modules if not Path(importlib.util.cache_from_source(str(m))).exists()]
    assert not uncompiled, uncompiled[:5]

    version = run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("reconciler ")
    demo = run("demo")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "The sandbox served" in demo.stdout, demo.stdout[-3000:]
    validated = run("validate", str(REPO_ROOT / "examples"))
    assert validated.returncode == 0, validated.stderr
