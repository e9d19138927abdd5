"""The sandbox's layering: it imports nothing from the tool it referees, each layer imports only
the layers below it, and there are no import cycles (imports inside functions and
`if TYPE_CHECKING:` blocks count)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.architecture import cycles, module_name
from tests.support.paths import PACKAGE

SANDBOX = "reconciler.sandbox"
# Lowest first; each may import itself and those before it. The package's own modules
# (`Sandbox`, seeds and dumps, `serve`) sit on top and may import any layer.
LAYERS = ("rules", "world", "endpoints", "pipeline", "http")


def _imports(path: Path, name: str) -> Iterator[str]:
    """Every module name `path` imports, relative imports resolved; `from p import m` also
    yields `p.m`, which is the module `m` when `p` is a package."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _sandbox_modules() -> dict[str, Path]:
    root = PACKAGE / "sandbox"
    return {module_name(p): p for p in root.rglob("*.py") if "__pycache__" not in p.parts}


def _edges() -> dict[str, set[str]]:
    """Each sandbox module -> every `reconciler` module or name it imports."""
    return {
        name: {d for d in _imports(path, name) if d == "reconciler" or d.startswith("reconciler.")}
        for name, path in _sandbox_modules().items()
    }


def _layer(module: str) -> int | None:
    """The index of the module's layer in LAYERS; None for the package's own modules."""
    parts = module.split(".")
    return LAYERS.index(parts[2]) if len(parts) > 2 and parts[2] in LAYERS else None


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, deps in sorted(edges.items()):
        layer = _layer(module)
        for dep in sorted(deps):
            if dep != SANDBOX and not dep.startswith(SANDBOX + "."):
                found.append(f"{module} imports the tool: {dep}")
            elif layer is not None:
                target = _layer(dep)
                if target is None or target > layer:
                    found.append(f"{module} imports {dep}, above its layer")
    return found


def test_the_sandbox_imports_nothing_from_the_tool_and_layers_point_down() -> None:
    assert violations(_edges()) == []


def test_the_sandbox_has_no_import_cycles() -> None:
    modules = set(_sandbox_modules())
    edges = {m: {d for d in deps if d in modules and d != m} for m, deps in _edges().items()}
    assert cycles(edges) == []


def test_every_layer_is_a_package_that_says_what_it_may_import() -> None:
    for layer in LAYERS:
        init = PACKAGE / "sandbox" / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init} needs a docstring: what it holds and what it may import"
        assert "import" in doc.lower(), f"{init}: say what the package may import"


def test_the_check_catches_what_it_looks_for() -> None:
    edges = {
        "reconciler.sandbox.world.state": {"reconciler.sandbox.pipeline.auth"},
        "reconciler.sandbox.rules.names": {"reconciler.model"},
        "reconciler.sandbox.http.server": {"reconciler.sandbox.sandbox", "reconciler.errors"},
        "reconciler.sandbox.endpoints.secrets": {"reconciler.sandbox.world", "reconciler"},
        "reconciler.sandbox.seed": {"reconciler.sandbox.http.server"},
    }
    assert violations(edges) == [
        "reconciler.sandbox.endpoints.secrets imports the tool: reconciler",
        "reconciler.sandbox.http.server imports the tool: reconciler.errors",
        "reconciler.sandbox.http.server imports reconciler.sandbox.sandbox, above its layer",
        "reconciler.sandbox.rules.names imports the tool: reconciler.model",
        "reconciler.sandbox.world.state imports reconciler.sandbox.pipeline.auth, above its layer",
    ]
