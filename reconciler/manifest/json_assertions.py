"""The assertion keywords of the manifest's JSON Schema (`type`, `required`, `pattern`, ...):
which instances fail them and how many errors each failure is, as jsonschema's draft 2020-12
keywords have it; and the checks' common currency. `json_schema` compiles the schema with
these and adds the keywords that apply subschemas.

A check returns None for a valid instance (the common case costs no allocation) or the
errors found, each a `Pending` whose fields the enclosing schema fills in.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PathItem = str | int


class Pending:
    """An error on its way up: paths grow from the failing keyword outwards (reversed)."""

    __slots__ = ("instance", "keyword", "path", "schema", "schema_path", "value")

    def __init__(self) -> None:
        self.keyword: str | None = None
        self.value: Any = None
        self.instance: Any = None
        self.schema: Mapping[str, Any] = {}
        self.path: list[PathItem] = []
        self.schema_path: list[PathItem] = []


Found = list[Pending] | None  # None: valid
Check = Callable[[Any], Found]
Compile = Callable[[object], Check]  # a subschema to its check
Keyword = Callable[[Compile, Any, Mapping[str, Any]], Check]  # (compile, value, schema)


class SchemaCompileError(Exception):
    """The schema uses what this compiler does not implement: a bug in the release."""


def one() -> Found:
    return [Pending()]


def descended(found: list[Pending], path: PathItem | None, schema_path: PathItem | None) -> None:
    """Errors found in a subschema, given the step down that found them."""
    for error in found:
        if path is not None:
            error.path.append(path)
        if schema_path is not None:
            error.schema_path.append(schema_path)


def _is_number(instance: object) -> bool:
    return isinstance(instance, numbers.Number) and not isinstance(instance, bool)


def _is_integer(instance: object) -> bool:
    if isinstance(instance, float):
        return instance.is_integer()
    return isinstance(instance, int) and not isinstance(instance, bool)


_TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda i: isinstance(i, dict),
    "array": lambda i: isinstance(i, list),
    "string": lambda i: isinstance(i, str),
    "boolean": lambda i: isinstance(i, bool),
    "null": lambda i: i is None,
    "number": _is_number,
    "integer": _is_integer,
}


def equal(one: object, two: object) -> bool:
    """jsonschema's equality: `true` is not 1, containers compare item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return one == two


def type_(sub: Compile, types: str | list[str], schema: Mapping[str, Any]) -> Check:
    tests = [_TYPES[t] for t in ([types] if isinstance(types, str) else types)]
    if len(tests) == 1:
        only = tests[0]
        return lambda instance: None if only(instance) else one()
    return lambda instance: None if any(t(instance) for t in tests) else one()


def _each_missing(count: Callable[[dict[str, Any]], int]) -> Check:
    """One error per missing key, as jsonschema yields them."""

    def check(instance: Any) -> Found:
        missing = count(instance) if isinstance(instance, dict) else 0
        return [Pending() for _ in range(missing)] if missing else None

    return check


def required(sub: Compile, names: Sequence[str], schema: Mapping[str, Any]) -> Check:
    return _each_missing(lambda i: sum(1 for name in names if name not in i))


def dependent_required(sub: Compile, deps: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
    return _each_missing(
        lambda i: sum(1 for name, needs in deps.items() if name in i for n in needs if n not in i)
    )


def enum(sub: Compile, values: Sequence[object], schema: Mapping[str, Any]) -> Check:
    return lambda instance: None if any(equal(v, instance) for v in values) else one()


def const(sub: Compile, value: object, schema: Mapping[str, Any]) -> Check:
    return lambda instance: None if equal(instance, value) else one()


def pattern(sub: Compile, regex: str, schema: Mapping[str, Any]) -> Check:
    compiled: list[re.Pattern[str]] = []  # on first use: most are never used by a run

    def check(instance: Any) -> Found:
        if not isinstance(instance, str):
            return None
        if not compiled:
            compiled.append(re.compile(regex))
        return None if compiled[0].search(instance) else one()

    return check


def min_length(sub: Compile, n: int, schema: Mapping[str, Any]) -> Check:
    return lambda i: one() if isinstance(i, str) and len(i) < n else None


def max_length(sub: Compile, n: int, schema: Mapping[str, Any]) -> Check:
    return lambda i: one() if isinstance(i, str) and len(i) > n else None


def min_items(sub: Compile, n: int, schema: Mapping[str, Any]) -> Check:
    return lambda i: one() if isinstance(i, list) and len(i) < n else None


def exclusive_minimum(sub: Compile, n: float, schema: Mapping[str, Any]) -> Check:
    return lambda i: one() if _is_number(i) and i <= n else None


def maximum(sub: Compile, n: float, schema: Mapping[str, Any]) -> Check:
    return lambda i: one() if _is_number(i) and i > n else None


ASSERTIONS: dict[str, Keyword] = {
    "type": type_,
    "required": required,
    "dependentRequired": dependent_required,
    "enum": enum,
    "const": const,
    "pattern": pattern,
    "minLength": min_length,
    "maxLength": max_length,
    "minItems": min_items,
    "exclusiveMinimum": exclusive_minimum,
    "maximum": maximum,
}
