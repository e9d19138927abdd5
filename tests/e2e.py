"""Helpers for end-to-end tests: run the real CLI against a sandbox over HTTP."""

from __future__ import annotations

import io
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler import cli
from reconciler.sandbox import Sandbox


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str] | None = None,
    sb: Sandbox | None = None,
) -> Run:
    environ = dict(env or {})
    if sb is not None:
        environ.setdefault("GITHUB_TOKEN", sb.token)
        environ.setdefault("GITHUB_API_URL", sb.url)
    capsys.readouterr()
    out = io.StringIO()
    code = cli.main(args, environ, out=out)
    captured = capsys.readouterr()
    return Run(code, out.getvalue() + captured.out, captured.err)


def write_manifest(directory: Path, text: str, name: str = "secrets.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def changes(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["target"], c["app"], c["action"], c["name"]) for c in doc["changes"]]
