"""The README is the front door: keep its commands, tables and references true."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.errors import ExitStatus
from tests.support.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _schema_keys(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            found.add(key)
            _schema_keys(value, found)
        for value in node.values():
            _schema_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _schema_keys(value, found)
    return found


def test_manifest_reference_matches_the_schema() -> None:
    schema = json.loads((REPO_ROOT / "schemas" / "manifest.schema.json").read_text())
    keys = _schema_keys(schema, set())
    table = _section("Manifest reference")
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented |= set(re.findall(r"`([a-z_]+)`", first_cell))
    assert keys - documented == set(), "schema keys missing from the README reference"
    assert documented - keys == set(), "README documents keys the schema does not have"


def test_exit_code_table_matches_the_code() -> None:
    table = _section("Exit codes")
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert codes == {int(s) for s in ExitStatus}


def test_the_test_command_is_what_ci_runs() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    setup = _section("Set up and try it (fresh clone)")
    commands = re.findall(r"```sh\n(.+?)\n```", setup)
    assert len(commands) == 2
    assert "reconciler demo" in commands[0]
    test_command = commands[1].split("&&")[-1].strip()
    assert test_command.replace(".venv/bin/", "") in ci.replace(".venv/bin/", "")


def test_every_documented_flag_exists() -> None:
    from reconciler.cli import _build_parser

    parser = _build_parser()
    known: set[str] = set()
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            known.update(action.option_strings)
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                stack.extend(choices.values())
    mentioned = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", README))
    # `ruff format --check`, `mypy --strict`, pytest-cov in the test command; `docker run`
    other_tools = {"--check", "--strict", "--cov", "--cov-report", "--rm", "--user"}
    assert mentioned - known - other_tools == set()
