"""Helpers for end-to-end tests: run the real CLI against a sandbox over HTTP."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from reconciler import cli
from reconciler.env import Env
from reconciler.sandbox import Sandbox


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli_env(environ: Mapping[str, str] | None = None, *, stdin: bytes = b"") -> Env:
    """An Env for one in-process run: only the given variables (none of this process's),
    `stdin` as its standard input, stdout and stderr kept in memory."""
    return Env(
        environ=dict(environ or {}),
        stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def output(env: Env) -> tuple[str, str]:
    """What a run in `cli_env()` wrote: stdout, stderr."""
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return env.stdout.getvalue(), env.stderr.getvalue()


def run(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str] | None = None,
    sb: Sandbox | None = None,
    *,
    base: Env | None = None,
) -> Run:
    """Run the CLI in an Env: `base` (default `cli_env()`) with `env` as its variables (plus
    the sandbox's URL and token) and fresh in-memory streams. Anything written to the
    process's own streams is kept too (after the Env's), so nothing escapes a test."""
    environ = dict(env or {})
    if sb is not None:
        environ.setdefault("GITHUB_TOKEN", sb.token)
        environ.setdefault("GITHUB_API_URL", sb.url)
    capsys.readouterr()
    run_env = replace(
        base or cli_env(), environ=environ, stdout=io.StringIO(), stderr=io.StringIO()
    )
    code = cli.main(args, run_env)
    out, err = output(run_env)
    captured = capsys.readouterr()
    return Run(code, out + captured.out, err + captured.err)


def write_manifest(directory: Path, text: str, name: str = "secrets.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def changes(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["target"], c["app"], c["action"], c["name"]) for c in doc["changes"]]
