"""The manifest's JSON Schema compiled once into checks: the part of draft 2020-12 the schema
uses, every `$ref` resolved at compile time. The keywords that apply subschemas are here, the
assertions in `json_assertions`.

jsonschema (about 50 ms to import, a third of a `validate`) looked every `$ref` up again for
every value it checked, which halved the speed of validating a large manifest. This reports
the errors jsonschema's `Draft202012Validator.iter_errors` reports — the same keyword, value,
instance, schema, path and schema path, which `schema_check` turns into messages; a test
compares the two on generated documents — in time linear in the document. A keyword the
compiler does not implement fails the compile, so the schema cannot outgrow it unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.json_assertions import (
    ASSERTIONS,
    Check,
    Compile,
    Found,
    Keyword,
    PathItem,
    Pending,
    SchemaCompileError,
    descended,
    one,
)

__all__ = ["CompiledSchema", "SchemaCompileError", "SchemaError", "compile_schema"]

# Keywords that never fail on their own (`then` and `else` are applied by `if`).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
    | {"then", "else", "deprecated", "readOnly", "writeOnly"}
)
# Keywords whose errors keep the schema path of what they descended into (as jsonschema does).
_TRANSPARENT = frozenset({"if", "$ref"})


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One failed keyword: what jsonschema's ValidationError says, minus its message (which
    quotes the instance, possibly a secret)."""

    validator: str  # the keyword
    validator_value: Any
    instance: Any
    schema: Mapping[str, Any]  # the (sub)schema holding the keyword
    absolute_path: tuple[PathItem, ...]
    absolute_schema_path: tuple[PathItem, ...]


class _Node:
    """One compiled (sub)schema: its keywords' checks, in the schema's order."""

    __slots__ = ("checks", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.checks: list[tuple[str, Any, Check, bool]] = []

    def check(self, instance: Any) -> Found:
        out: Found = None
        for keyword, value, check, adds_keyword in self.checks:
            found = check(instance)
            if not found:
                continue
            for error in found:
                if error.keyword is None:
                    error.keyword, error.value = keyword, value
                    error.instance, error.schema = instance, self.schema
                if adds_keyword:
                    error.schema_path.append(keyword)
            if out is None:
                out = found
            else:
                out.extend(found)
        return out


def properties(sub: Compile, props: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
    subs = {name: (i, sub(s)) for i, (name, s) in enumerate(props.items())}

    def check(instance: Any) -> Found:
        if not isinstance(instance, dict):
            return None
        # Led by the instance, which names a few of the properties a schema lists; errors come
        # out in the schema's order, as jsonschema's loop over the properties has them.
        failed: list[tuple[int, list[Pending]]] = []
        for name, value in instance.items():
            known = subs.get(name)
            if known is not None:
                found = known[1](value)
                if found:
                    descended(found, name, name)
                    failed.append((known[0], found))
        if not failed:
            return None
        failed.sort(key=lambda pair: pair[0])
        return [error for _, found in failed for error in found]

    return check


def additional_properties(sub: Compile, extra: object, schema: Mapping[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise SchemaCompileError("patternProperties is not supported")
    known = frozenset(schema.get("properties", {}))
    if extra is True:
        return lambda instance: None
    if extra is False:
        return lambda i: one() if isinstance(i, dict) and not known.issuperset(i) else None
    each = sub(extra)

    def check(instance: Any) -> Found:
        if not isinstance(instance, dict):
            return None
        out: Found = None
        for key, value in instance.items():
            if key not in known:
                found = each(value)
                if found:
                    descended(found, key, None)
                    out = found if out is None else out + found
        return out

    return check


def property_names(sub: Compile, names: object, schema: Mapping[str, Any]) -> Check:
    each = sub(names)

    def check(instance: Any) -> Found:
        if not isinstance(instance, dict):
            return None
        found = [error for key in instance for error in each(key) or ()]
        return found or None

    return check


def items(sub: Compile, item_schema: object, schema: Mapping[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise SchemaCompileError("prefixItems is not supported")
    each = sub(item_schema)

    def check(instance: Any) -> Found:
        if not isinstance(instance, list):
            return None
        out: Found = None
        for index, item in enumerate(instance):
            found = each(item)
            if found:
                descended(found, index, None)
                out = found if out is None else out + found
        return out

    return check


def _valid_count(sub: Compile, subs: Sequence[object]) -> Callable[[Any], int]:
    """How many of `subs` an instance is valid under. The schema's anyOf and oneOf list
    `{required: [KEY]}` alternatives: those are counted without descending."""
    if all(isinstance(s, Mapping) and set(s) == {"required"} for s in subs):
        required = [tuple(s["required"]) for s in subs if isinstance(s, Mapping)]

        def count_required(instance: Any) -> int:
            if not isinstance(instance, dict):
                return len(required)  # `required` holds for anything but an object
            return sum(1 for names in required if all(n in instance for n in names))

        return count_required
    checks = [sub(s) for s in subs]
    return lambda instance: sum(1 for check in checks if check(instance) is None)


def any_of(sub: Compile, subs: Sequence[object], schema: Mapping[str, Any]) -> Check:
    counted = _valid_count(sub, subs)
    return lambda instance: None if counted(instance) else one()


def one_of(sub: Compile, subs: Sequence[object], schema: Mapping[str, Any]) -> Check:
    # None valid, or more than one: jsonschema reports either as one error.
    counted = _valid_count(sub, subs)
    return lambda instance: None if counted(instance) == 1 else one()


def not_(sub: Compile, negated: object, schema: Mapping[str, Any]) -> Check:
    inner = sub(negated)
    return lambda instance: one() if inner(instance) is None else None


def if_(sub: Compile, condition: object, schema: Mapping[str, Any]) -> Check:
    test = sub(condition)
    then = sub(schema["then"]) if "then" in schema else None
    otherwise = sub(schema["else"]) if "else" in schema else None

    def check(instance: Any) -> Found:
        chosen, name = (then, "then") if test(instance) is None else (otherwise, "else")
        found = chosen(instance) if chosen is not None else None
        if found:
            descended(found, None, name)
        return found

    return check


def dependent_schemas(sub: Compile, deps: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
    subs = [(name, sub(s)) for name, s in deps.items()]

    def check(instance: Any) -> Found:
        if not isinstance(instance, dict):
            return None
        out: Found = None
        for name, each in subs:
            if name in instance:
                found = each(instance)
                if found:
                    descended(found, None, name)
                    out = found if out is None else out + found
        return out

    return check


APPLICATORS: dict[str, Keyword] = {
    "properties": properties,
    "additionalProperties": additional_properties,
    "propertyNames": property_names,
    "items": items,
    "anyOf": any_of,
    "oneOf": one_of,
    "not": not_,
    "if": if_,
    "dependentSchemas": dependent_schemas,
}


_KEYWORDS = {**ASSERTIONS, **APPLICATORS}


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.nodes: dict[int, _Node] = {}

    def check(self, schema: object) -> Check:
        return self.node(schema).check

    def node(self, schema: object) -> _Node:
        if not isinstance(schema, Mapping):
            raise SchemaCompileError(f"only object schemas are supported, not {schema!r}")
        done = self.nodes.get(id(schema))
        if done is not None:
            return done  # `$ref` cycles end here: the node's checks are filled in below
        node = self.nodes[id(schema)] = _Node(schema)
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            if keyword == "$ref":
                check = self.check(self.resolve(value))
            elif keyword in _KEYWORDS:
                check = _KEYWORDS[keyword](self.check, value, schema)
            else:
                raise SchemaCompileError(f"unsupported JSON Schema keyword {keyword!r}")
            node.checks.append((keyword, value, check, keyword not in _TRANSPARENT))
        return node

    def resolve(self, ref: str) -> object:
        if not ref.startswith("#"):
            raise SchemaCompileError(f"only local $refs are supported, not {ref!r}")
        target: Any = self.root
        for part in ref[1:].split("/")[1:]:
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target


@dataclass(frozen=True, slots=True)
class CompiledSchema:
    root: Check

    def iter_errors(self, instance: object) -> list[SchemaError]:
        """Every error in `instance`, as jsonschema's iter_errors yields them."""
        return [
            SchemaError(
                e.keyword or "",
                e.value,
                e.instance,
                e.schema,
                tuple(reversed(e.path)),
                tuple(reversed(e.schema_path)),
            )
            for e in self.root(instance) or ()
        ]


def compile_schema(schema: Mapping[str, Any]) -> CompiledSchema:
    return CompiledSchema(_Compiler(schema).check(schema))
