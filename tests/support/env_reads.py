"""Every environment variable name the `reconciler` package reads, found in its source by ast.

Counted as a read: a string (or a module-level string constant) used as the key of
`environ.get/pop/setdefault(...)`, `environ[...]`, `"X" in environ`, `os.getenv(...)`; a
string key of a dict literal that also unpacks an environ (`{**environ, "GITHUB_TOKEN": t}`);
and every module-level constant whose name ends in `_ENV` or `_ENV_VAR`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support.paths import PACKAGE


@dataclass(frozen=True)
class EnvRead:
    name: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.name}"


def _is_environ(node: ast.expr) -> bool:
    """`environ`, `os.environ`, `self.environ`, `options.environ`, `env`…"""
    if isinstance(node, ast.Name):
        return node.id.lower().endswith("environ") or node.id in {"env", "environment"}
    if isinstance(node, ast.Attribute):
        return node.attr.lower().endswith("environ")
    return False


def _constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def all_constants() -> dict[str, str]:
    """Module-level string constants of the whole package (imports carry them across)."""
    merged: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        merged.update(_constants(ast.parse(path.read_text(encoding="utf-8"))))
    return merged


def _key(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute):  # module.CONSTANT
        return constants.get(node.attr)
    return None


def _keys(tree: ast.Module, constants: dict[str, str]) -> Iterator[tuple[str, int]]:
    for name, value in _constants(tree).items():
        if name.endswith(("_ENV", "_ENV_VAR")):
            yield value, 0
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            getter = isinstance(func, ast.Attribute) and func.attr in {"get", "pop", "setdefault"}
            if getter and isinstance(func, ast.Attribute) and _is_environ(func.value):
                key = node.args[0]
            if (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
                isinstance(func, ast.Name) and func.id == "getenv"
            ):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
            if isinstance(node.ops[0], ast.In | ast.NotIn) and _is_environ(node.comparators[0]):
                key = node.left
        elif isinstance(node, ast.Dict) and any(
            k is None and _is_environ(v) for k, v in zip(node.keys, node.values, strict=True)
        ):
            for k in node.keys:
                found = _key(k, constants) if k is not None else None
                if found:
                    yield found, k.lineno if k is not None else 0
            continue
        if key is not None:
            found = _key(key, constants)
            if found:
                yield found, getattr(node, "lineno", 0)


def env_reads() -> list[EnvRead]:
    constants = all_constants()
    reads: list[EnvRead] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(PACKAGE.parent))
        reads.extend(EnvRead(name, rel, line) for name, line in _keys(tree, constants))
    return reads
