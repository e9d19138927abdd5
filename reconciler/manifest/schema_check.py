"""The JSON Schema pass: schema errors (`json_schema`) as readable, located problems.

A validator's own messages quote the offending instance, which could be a pasted secret (or a
variable's value), so every error is rewritten here and nothing under `value` is echoed.
Names are left to the semantic pass (`read`), which can say why a name is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

from reconciler.errors import Problem
from reconciler.manifest.json_schema import CompiledSchema, SchemaError, compile_schema
from reconciler.manifest.located import LocMap, PathItem, format_path, key_location, locate
from reconciler.manifest.redact import describe
from reconciler.manifest.rules import APPS, SOURCE_HINT, VARIABLE_SOURCE_HINT, schema, suggest
from reconciler.manifest.stores import NO_SHELL_HINT
from reconciler.manifest.value_check import (
    dependency_problems,
    exclusive_version_problem,
    in_variable,
    ruled_by_stores,
    source_count_problem,
    value_index,
)
from reconciler.model import Location

SEALED_VARIABLE_HINT = (
    'a variable is plain text on GitHub: write the text inline (value: "...") or read it '
    "with {env: VAR} / {file: path}; a value that must stay secret belongs under secrets"
)
_QUOTE_HINT = (
    'quote it (value: "3", value: "yes"): YAML reads unquoted numbers, yes/no, on/off as '
    "other types"
)


@cache
def _validator() -> CompiledSchema:
    return compile_schema(schema())


def _kind(instance: object) -> str:
    if instance is None:
        return "nothing (null)"
    if isinstance(instance, bool):
        return "true/false"
    if isinstance(instance, int | float):
        return "a number"
    if isinstance(instance, str):
        return "a string"
    if isinstance(instance, list):
        return "a list"
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, bytes):
        return "binary data"
    return "a YAML " + type(instance).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
}


def _short(instance: object) -> str:
    """A non-secret instance, quoted for a message; containers are described, not shown."""
    if isinstance(instance, str):
        return describe(instance, "the text")
    if isinstance(instance, bool | int | float) or instance is None:
        text = json.dumps(instance)
        return text if len(text) <= 20 else f"a number ({len(text)} characters, not shown)"
    return _kind(instance)


def schema_problems(doc: object, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for error in _validator().iter_errors(doc):
        problems.extend(_translate(error, doc, file))
    # One error per missing dependency, each translated to every dependency problem of its
    # mapping: said once.
    return list(dict.fromkeys(problems))


def _translate(error: SchemaError, doc: object, file: str) -> Iterator[Problem]:
    path: list[PathItem] = list(error.absolute_path)
    where = locate(doc, path) or Location(file, 1, 1)
    jpath = format_path(path)
    keyword = error.validator
    in_value = value_index(path) is not None
    if "propertyNames" in error.absolute_schema_path:
        return  # names: checked with better messages by the semantic pass
    if len(path) >= 2 and path[-2] == "repositories" and keyword != "type":
        return  # repository names: likewise
    if ruled_by_stores(path, keyword):
        return  # store keys: likewise
    structural = ("additionalProperties", "oneOf", "anyOf", "dependentRequired", "required", "not")
    if keyword in structural and not isinstance(error.instance, dict):
        return  # the `type` error on the same instance says it better
    if keyword == "additionalProperties":
        yield from _unknown_keys(error, path, file)
    elif keyword == "required":
        for key in error.validator_value:
            if key not in error.instance:
                hint = _required_hint(key, path)
                yield Problem(where, jpath, f'missing required key "{key}"', hint)
    elif keyword == "anyOf":
        # The one anyOf in the schema: a group lists secrets, variables or both.
        hint = "write secrets: {} (or variables: {}) for a group without any"
        yield Problem(where, jpath, 'missing required key "secrets" or "variables"', hint)
    elif keyword == "type":
        yield _type_problem(error, path, where, jpath, in_value)
    elif keyword in ("enum", "const"):
        allowed = ", ".join(str(v) for v in error.validator_value) if keyword == "enum" else None
        if path == ["version"]:
            message = f"unsupported manifest version {_short(error.instance)}"
            yield Problem(where, jpath, message, "this reconciler reads version: 1")
        else:
            near = ""
            if isinstance(error.instance, str) and keyword == "enum":
                near = suggest(error.instance, [str(v) for v in error.validator_value])
            message = f"{_short(error.instance)} is not one of {allowed}{near}"
            yield Problem(where, jpath, message)
    elif keyword == "oneOf":
        yield from source_count_problem(error.instance, path, where, jpath)
    elif keyword == "dependentRequired":
        yield from dependency_problems(error.instance, path, where, jpath)
    elif keyword == "not":
        yield exclusive_version_problem(error.instance, path, where)
    elif keyword == "pattern" and path and path[-1] == "env":
        message = "not a valid environment variable name (letters, digits, _; no leading digit)"
        yield Problem(where, jpath, message)
    elif keyword in ("minLength", "minItems"):
        yield Problem(where, jpath, "must not be empty")
    elif keyword == "maxLength":
        yield Problem(where, jpath, f"must be at most {error.validator_value} characters")
    else:
        # Never error.message: it quotes the instance.
        yield Problem(where, jpath, f"does not match the schema ({keyword})")


def _required_hint(key: str, path: list[PathItem]) -> str | None:
    if key == "value":
        return VARIABLE_SOURCE_HINT if len(path) >= 2 and path[-2] == "variables" else SOURCE_HINT
    if key == "secrets":
        return "write secrets: {} for a group without secrets"
    return None


def _type_problem(
    error: SchemaError, path: list[PathItem], where: Location, jpath: str, in_value: bool
) -> Problem:
    expected = error.validator_value
    words = " or ".join(
        _TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
    )
    got = _kind(error.instance)
    if not path:
        message = f"a manifest is a mapping that starts with version: 1, not {got}"
        return Problem(where, jpath, message)
    if path[-1] == "value" and value_index(path) == len(path) - 1:
        if in_variable(path):
            if isinstance(error.instance, bool | int | float):
                return Problem(where, jpath, f"a variable's value is text, not {got}", _QUOTE_HINT)
            message = f"expected text or a value source, got {got}"
            return Problem(where, jpath, message, VARIABLE_SOURCE_HINT)
        if isinstance(error.instance, str | int | float | bool):
            return Problem(where, jpath, "plaintext values are not allowed", SOURCE_HINT)
        return Problem(where, jpath, f"expected a value source, got {got}", SOURCE_HINT)
    if path[-1] == "key_id" and in_value:
        return Problem(where, jpath, f"expected a string, got {got}", 'quote it: key_id: "0123..."')
    store_key = value_index(path) == len(path) - 2
    if path[-1] == "command" and store_key and isinstance(error.instance, str):
        return Problem(where, jpath, f"expected a list, got {got}", NO_SHELL_HINT)
    if path[-1] == "timeout" and store_key:
        return Problem(where, jpath, f"expected {words}, got {got}", "write seconds: timeout: 20")
    hint = None
    if expected == "string" and isinstance(error.instance, bool | int | float):
        hint = "quote it, YAML reads unquoted yes/no/on/off/numbers as other types"
    return Problem(where, jpath, f"expected {words}, got {got}", hint)


def _unknown_keys(error: SchemaError, path: list[PathItem], file: str) -> Iterator[Problem]:
    instance = error.instance
    if not isinstance(instance, dict):
        return
    known = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
    for key in instance:
        if key in known:
            continue
        where = (
            key_location(instance, key) if isinstance(instance, LocMap) else Location(file, 1, 1)
        )
        found = _unknown_key(key, path, known, set(instance))
        if found:
            yield Problem(where, format_path([*path, key]), *found)


def _unknown_key(
    key: str, path: list[PathItem], known: list[str], siblings: set[str]
) -> tuple[str, str | None] | None:
    """The message and hint for `key`, which the schema does not know at `path`."""
    near = suggest(key, known)
    shown = describe(key, "name")
    if len(path) == 2 and path[0] in ("orgs", "repos"):
        if key == "environments":
            hint = "environments belong to a repository: write repos.OWNER/REPO.environments"
            return "an organisation has no deployment environments", hint
        if "environments" in near:
            return f"unknown key {shown}{near}", None
        return f"unknown app {shown}{near}", "apps are " + ", ".join(a for a in known if a in APPS)
    if key == "variables" and len(path) == 3 and path[2] in APPS:
        return (
            f"{path[2]} has no variables (only actions and agents have them)",
            "keep the value as a secret, or declare the variable under actions or agents",
        )
    if len(path) == 4 and path[2] == "environments" and key in APPS:
        return (
            "an environment holds Actions secrets and variables directly, not per app",
            "write environments.NAME.secrets and environments.NAME.variables",
        )
    if key in ("visibility", "repositories") and "value" in known:
        return _scoped_item_key(key, path)
    if value_index(path) == len(path) - 1:
        if not in_variable(path):
            return f"unknown value source {shown}{near}", SOURCE_HINT
        if key == "sealed" or (key == "key_id" and "sealed" not in siblings):
            return "a variable's value cannot be sealed", SEALED_VARIABLE_HINT
        if key == "key_id":
            return None  # said once, at `sealed`
        return f"unknown value source {shown}{near}", VARIABLE_SOURCE_HINT
    return f"unknown key {shown}{near}", None


def _scoped_item_key(key: str, path: list[PathItem]) -> tuple[str, str]:
    noun = "variable" if path[-2] == "variables" else "secret"
    if "environments" in path:
        owner = f"an environment {noun} is available to the jobs that use its environment"
    else:
        owner = f"a repository {noun} is available to its own repository"
    return f"{key} applies to organisation {noun}s only", f"{owner}; remove this key"
