"""The package's import graph and the layering it must keep.

`python -m tests.support.architecture` prints the graph (module -> the reconciler modules it
imports, including imports inside functions and `if TYPE_CHECKING:` blocks);
`tests/test_architecture.py` checks it against LAYERS below.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.paths import PACKAGE

# Each module (matched by the longest prefix) and what it may import from the package, lowest
# layer first: data flows manifest -> desired, API -> live, (desired, live) -> plan -> executor
# -> results -> renderers, and imports point backwards along that flow.
_BASE = (
    "reconciler.model",
    "reconciler.value_sources",
    "reconciler.safe_text",
    "reconciler.schema_files",
)
_ERRORS = (*_BASE, "reconciler.errors")
_FILES = (*_ERRORS, "reconciler.local_files")
_VALUES = (*_FILES, "reconciler.values")
_PURE_PLAN = (*_ERRORS, "reconciler.plan")
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reconciler.value_sources", ()),
    ("reconciler.model", ("reconciler.value_sources",)),
    ("reconciler.safe_text", ()),
    ("reconciler.schema_files", ()),
    ("reconciler.errors", _BASE),
    ("reconciler.local_files", _ERRORS),
    ("reconciler.values", _VALUES),
    ("reconciler.manifest", (*_VALUES, "reconciler.manifest")),
    ("reconciler.github", (*_FILES, "reconciler.github")),
    ("reconciler.plan", _ERRORS),
    ("reconciler.review", _BASE),
    ("reconciler.targets", _BASE),
    ("reconciler.ledger.format", _VALUES),
    ("reconciler.diff", (*_PURE_PLAN, "reconciler.ledger.format")),
    # Renderers and safety checks decide and format; they never do I/O.
    ("reconciler.safety", _PURE_PLAN),
    ("reconciler.render", _PURE_PLAN),
    ("reconciler.report", (*_PURE_PLAN, "reconciler.render")),
    ("reconciler.progress", (*_PURE_PLAN, "reconciler.render", "reconciler.report")),
    ("reconciler.live", (*_FILES, "reconciler.github")),
    ("reconciler.adoption", (*_VALUES, "reconciler.github", "reconciler.adoption")),
    ("reconciler.ledger", (*_VALUES, "reconciler.plan", "reconciler.github", "reconciler.ledger")),
    (
        "reconciler.executor",
        (*_VALUES, "reconciler.plan", "reconciler.safety", "reconciler.github"),
    ),
    ("reconciler.env", (*_ERRORS, "reconciler.github")),
    (
        "reconciler.commands",
        (
            *_VALUES,
            "reconciler.manifest",
            "reconciler.github",
            "reconciler.plan",
            "reconciler.review",
            "reconciler.ledger",
            "reconciler.diff",
            "reconciler.targets",
            "reconciler.safety",
            "reconciler.render",
            "reconciler.report",
            "reconciler.progress",
            "reconciler.live",
            "reconciler.adoption",
            "reconciler.executor",
            "reconciler.env",
            "reconciler.commands",
            "reconciler.sandbox",
        ),
    ),
    ("reconciler.cli", ("reconciler",)),
    ("reconciler.__main__", ("reconciler.cli",)),
    ("reconciler", ()),  # the package's own __init__: the version only
)
# The sandbox referees the tool: it imports nothing from it (checked in tests/sandbox).
IGNORED = ("reconciler.sandbox",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from reconciler.commands import apply` imports the module reconciler.commands.apply
            for alias in node.names:
                yield f"{base}.{alias.name}"


def graph() -> dict[str, set[str]]:
    """Every module of the package (but the sandbox) -> the package modules it imports."""
    paths = {
        module_name(p): p for p in PACKAGE.rglob("*.py") if not module_name(p).startswith(IGNORED)
    }
    known = set(paths) | {
        module_name(p) for p in PACKAGE.rglob("*.py") if module_name(p).startswith(IGNORED)
    }
    return {
        name: {d for d in _imports(path, name) if d in known and d != name}
        for name, path in paths.items()
    }


def allowed(module: str) -> tuple[str, ...]:
    # The package root's entry is its __init__ only, not a catch-all for new modules.
    matches = [
        (p, a)
        for p, a in LAYERS
        if module == p or (p != "reconciler" and module.startswith(p + "."))
    ]
    if not matches:
        raise KeyError(f"{module} has no layer in tests/support/architecture.py LAYERS")
    return max(matches, key=lambda m: len(m[0]))[1]


def violations(edges: Mapping[str, set[str]]) -> list[str]:
    found = []
    for module, deps in sorted(edges.items()):
        permitted = allowed(module)
        for dep in sorted(deps):
            if dep == "reconciler":  # the version
                continue
            if not any(dep == p or dep.startswith(p + ".") for p in permitted):
                found.append(f"{module} imports {dep}")
    return found


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the path around it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                found.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def main() -> int:
    edges = graph()
    for module in sorted(edges):
        print(f"{module} -> {', '.join(sorted(edges[module])) or '(nothing)'}")
    problems = violations(edges) + [" -> ".join(c) for c in cycles(edges)]
    for problem in problems:
        print(f"LAYERING: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
