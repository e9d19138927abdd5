"""The tree keeps the shape the README's design section shows: layered imports without cycles,
modules of a readable size with names that cannot be confused, and a cheap start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

from tests.support.architecture import allowed, cycles, graph, module_name, violations
from tests.support.paths import PACKAGE, REPO_ROOT

# Modules allowed past ~300 lines, each with the reason it is not split.
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 320  # "about 300": a class a little over is not worth a split


def test_imports_follow_the_layers() -> None:
    assert violations(graph()) == []


def test_there_are_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_what_they_look_for() -> None:
    edges = {
        "reconciler.render": {"reconciler.github.transport"},
        "reconciler.plan": {"reconciler.diff"},
        "reconciler.diff": {"reconciler.plan"},
        "reconciler.model": {"reconciler.cli"},
    }
    assert violations(edges) == [
        "reconciler.model imports reconciler.cli",
        "reconciler.plan imports reconciler.diff",
        "reconciler.render imports reconciler.github.transport",
    ]
    assert cycles(edges) == [["reconciler.diff", "reconciler.plan", "reconciler.diff"]]
    with pytest.raises(KeyError, match="has no layer"):
        allowed("reconciler.newcomer")


def test_every_module_has_a_layer() -> None:
    for module in graph():
        allowed(module)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_long_without_a_named_reason() -> None:
    long = {
        module_name(p): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert {m: n for m, n in long.items() if m not in LONG_MODULES} == {}
    assert set(LONG_MODULES) <= set(long), "a listed module is short now: drop it from the list"


def _confusable(a: str, b: str) -> bool:
    """One letter apart (an edit of one character), or one the plural of the other."""
    if a == b:
        return False
    if a + "s" == b or b + "s" == a:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_no_two_module_names_differ_by_a_letter() -> None:
    names = {p.stem for p in _modules() if p.stem != "__init__"} | {
        p.name for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"
    }
    assert [(a, b) for a, b in combinations(sorted(names), 2) if _confusable(a, b)] == []


def test_confusable_names_are_recognised() -> None:
    assert _confusable("handler", "handlers")
    assert _confusable("app", "apps")
    assert _confusable("server", "serve")
    assert _confusable("rules", "roles")
    assert not _confusable("plan", "diff")
    assert not _confusable("ledger", "render")


# What must never load for commands that do not need it (`python -X importtime` figures are in
# the README's design section).
HEAVY = ("deepdiff", "jwt", "cryptography", "nacl", "requests", "urllib3")


@pytest.mark.parametrize(
    ("argv", "may_load"),
    [
        (["--help"], ()),
        (["validate", "--help"], ()),
        (["validate", "examples"], ()),
    ],
)
def test_start_up_loads_only_what_the_command_uses(
    argv: list[str], may_load: tuple[str, ...]
) -> None:
    code = (
        "import json, sys\n"
        "from reconciler import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert sorted(loaded & set(HEAVY) - set(may_load)) == []
