"""What a valid manifest is: GitHub's naming rules, and the JSON Schema with readable errors.

The schema (`manifest.schema.json`, published for editors) checks shape; its raw
jsonschema messages quote the offending instance, which could be a pasted secret, so
every error is rewritten here and nothing under `value` is ever echoed.
Names are checked by the functions below rather than by the schema's patterns, because
they can say *why* a name is wrong; the patterns are kept for editors and a test keeps
the two in agreement.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

# No stubs for jsonschema in the venv (types-jsonschema is not a dependency yet).
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from reconciler.errors import Problem
from reconciler.manifest.located import LocMap, PathItem, format_path, key_location, locate
from reconciler.manifest.redact import describe, looks_like_credential, showable
from reconciler.model import App, Location

MAX_ORG_SECRETS = 1000  # per app per organisation
MAX_REPO_SECRETS = 100  # per app per repository

_ORG_RE = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
_REPO_RE = re.compile(r"[A-Za-z0-9._-]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_]+")
ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SOURCE_HINT = 'write value: {env: VAR}, {file: path} or {sealed: BASE64, key_id: "..."}'
APPS = tuple(a.value for a in App)


# Names are quoted back only if they look like names (`redact.describe`): a value pasted
# as a name must not reach a log, a PR comment or an annotation.


def credential_problem(name: str, noun: str) -> str | None:
    if looks_like_credential(name):
        return f"this looks like a credential, not {noun} ({len(name)} characters, not shown)"
    return None


def org_name_problem(name: str) -> str | None:
    if not name:
        return "organisation name is empty"
    shown = describe(name, "the organisation name")
    if len(name) > 39:
        return f"organisation name {shown} is longer than 39 characters"
    if not _ORG_RE.fullmatch(name):
        return (
            f"{shown} is not a GitHub organisation name (letters, digits and single "
            "hyphens, not starting or ending with a hyphen)"
        )
    return None


def repo_name_problem(name: str) -> str | None:
    if name in (".", ".."):
        return f'"{name}" is not a repository name'
    if not name:
        return "repository name is empty"
    shown = describe(name, "the repository name")
    if len(name) > 100:
        return f"repository name {shown} is longer than 100 characters"
    if not _REPO_RE.fullmatch(name):
        return f'{shown} is not a GitHub repository name (letters, digits, ".", "_", "-")'
    return None


def repo_full_name_problem(name: str) -> str | None:
    owner, slash, repo = name.partition("/")
    if not slash:
        return f"{describe(name, 'the repository key')} is not owner/repo"
    return org_name_problem(owner) or repo_name_problem(repo)


def secret_name_problem(name: str) -> str | None:
    if not name:
        return "secret name is empty"
    shown = describe(name, "")
    if not _SECRET_RE.fullmatch(name):
        return f'secret name {shown} may contain only letters, digits and "_"'
    if name[0].isdigit():
        return f"secret name {shown} must not start with a digit"
    if name.upper().startswith("GITHUB_"):
        return f"secret name {shown} must not start with GITHUB_ (reserved by GitHub)"
    return None


def suggest(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean "x"?)` or nothing; never for text that is not shown."""
    if not showable(word):
        return ""
    options = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return f' (did you mean "{options[close[0]]}"?)' if close else ""


@cache
def schema() -> dict[str, Any]:
    """schemas/manifest.schema.json: in a checkout through the package's link to it, in a
    built wheel as the copy the build made of that link (one source of truth either way)."""
    text = (
        resources.files("reconciler.manifest").joinpath("manifest.schema.json").read_text("utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def value_index(path: Sequence[PathItem]) -> int | None:
    """Index of `value` in `...secrets.NAME.value...`, or None outside a value source.

    Looked up by position because a secret may itself be called `value`.
    """
    for i in range(len(path) - 2):
        if path[i] == "secrets" and path[i + 2] == "value":
            return i + 2
    return None


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
    return problems


def _translate(error: ValidationError, doc: object, file: str) -> Iterator[Problem]:
    path: list[PathItem] = list(error.absolute_path)
    where = locate(doc, path) or Location(file, 1, 1)
    jpath = format_path(path)
    keyword = error.validator
    in_value = value_index(path) is not None
    if "propertyNames" in error.absolute_schema_path:
        return  # names: checked with better messages by the semantic pass
    if len(path) >= 2 and path[-2] == "repositories" and keyword != "type":
        return  # repository names: likewise
    if keyword in ("additionalProperties", "oneOf", "dependentRequired", "required") and not (
        isinstance(error.instance, dict)
    ):
        return  # the `type` error on the same instance says it better
    if keyword == "additionalProperties":
        yield from _unknown_keys(error, path, file)
    elif keyword == "required":
        for key in error.validator_value:
            if key not in error.instance:
                yield Problem(where, jpath, f'missing required key "{key}"', _required_hint(key))
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
        given = [k for k in ("env", "file", "sealed") if k in error.instance]
        if given:
            message = f"a value has exactly one source, not {' and '.join(given)}"
        else:
            message = "value names no source"
        yield Problem(where, jpath, message, SOURCE_HINT)
    elif keyword == "dependentRequired":
        yield Problem(where, jpath, "sealed and key_id go together", SOURCE_HINT)
    elif keyword == "pattern" and path and path[-1] == "env":
        message = "not a valid environment variable name (letters, digits, _; no leading digit)"
        yield Problem(where, jpath, message)
    elif keyword == "minLength":
        yield Problem(where, jpath, "must not be empty")
    else:
        # Never error.message: it quotes the instance.
        yield Problem(where, jpath, f"does not match the schema ({keyword})")


def _required_hint(key: str) -> str | None:
    if key == "value":
        return SOURCE_HINT
    if key == "secrets":
        return "write secrets: {} for a group without secrets"
    return None


def _type_problem(
    error: ValidationError, path: list[PathItem], where: Location, jpath: str, in_value: bool
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
        if isinstance(error.instance, str | int | float | bool):
            return Problem(where, jpath, "plaintext values are not allowed", SOURCE_HINT)
        return Problem(where, jpath, f"expected a value source, got {got}", SOURCE_HINT)
    if path[-1] == "key_id" and in_value:
        return Problem(where, jpath, f"expected a string, got {got}", 'quote it: key_id: "0123..."')
    hint = None
    if expected == "string" and isinstance(error.instance, bool | int | float):
        hint = "quote it, YAML reads unquoted yes/no/on/off/numbers as other types"
    return Problem(where, jpath, f"expected {words}, got {got}", hint)


def _unknown_keys(error: ValidationError, path: list[PathItem], file: str) -> Iterator[Problem]:
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
        jpath = format_path([*path, key])
        near = suggest(key, known)
        if len(path) == 2 and path[0] in ("orgs", "repos"):
            hint = "apps are " + ", ".join(known)
            yield Problem(where, jpath, f"unknown app {describe(key, 'name')}{near}", hint)
        elif key in ("visibility", "repositories") and "value" in known:
            yield Problem(
                where,
                jpath,
                f"{key} applies to organisation secrets only",
                "a repository secret is available to its own repository; remove this key",
            )
        elif value_index(path) == len(path) - 1:
            shown = describe(key, "name")
            yield Problem(where, jpath, f"unknown value source {shown}{near}", SOURCE_HINT)
        else:
            yield Problem(where, jpath, f"unknown key {describe(key, 'name')}{near}")
