"""Request bodies as GitHub checks them: any JSON object, the secret endpoints' PUT schemas,
the variable endpoints' POST and PATCH schemas and the environment PUT (mirroring the OpenAPI
request schemas)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.rules.errors import ApiError, invalid
from reconciler.sandbox.rules.versions import V2026

# Which fields each PUT schema requires, per (scope kind, app), as in the OpenAPI file.
_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("org", "actions"): ("encrypted_value", "key_id", "visibility"),
    ("org", "agents"): ("encrypted_value", "key_id", "visibility"),
    ("org", "codespaces"): ("visibility",),
    ("org", "dependabot"): ("visibility",),
    ("repo", "actions"): ("encrypted_value", "key_id"),
    ("repo", "agents"): ("encrypted_value", "key_id"),
    ("repo", "codespaces"): (),
    ("repo", "dependabot"): (),
}


def json_object(raw: bytes, doc: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "Problems parsing JSON", doc) from e
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.", doc)
    return data


def _string(data: dict[str, Any], key: str, doc: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f'"{key}" must be a string.', doc)
    return value


def repo_ids(value: object, doc: str, *, strings: bool = False) -> list[int]:
    """`selected_repository_ids` as integers.

    Only the Dependabot organisation PUT takes numeric strings (its schema says
    `anyOf: [integer, string]` before API version 2026-03-10), and PyGithub relies on
    that: it sends Dependabot ids as strings and Actions ids as integers.
    """
    if not isinstance(value, list):
        raise invalid('"selected_repository_ids" must be an array.', doc)
    ids: list[int] = []
    for index, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool):
            ids.append(item)
        elif strings and isinstance(item, str) and item.isdigit():
            ids.append(int(item))
        else:
            raise invalid(f'"selected_repository_ids[{index}]" must be an integer.', doc)
    return ids


@dataclass(frozen=True, slots=True)
class SecretPut:
    encrypted_value: str | None
    key_id: str | None
    visibility: str | None
    selected: list[int] | None


def secret_put(raw: bytes, kind: str, app: str, version: str, doc: str) -> SecretPut:
    data = json_object(raw, doc)
    for key in _REQUIRED[(kind, app)]:
        if data.get(key) is None:
            raise invalid(f'"{key}" wasn\'t supplied.', doc)
    encrypted_value = _string(data, "encrypted_value", doc)
    key_id = _string(data, "key_id", doc)
    if (encrypted_value is None) != (key_id is None):
        raise invalid('"encrypted_value" and "key_id" must be given together.', doc)
    if kind == "repo":
        # The repository schemas have no visibility; GitHub ignores unknown fields.
        return SecretPut(encrypted_value, key_id, None, None)
    visibility = _string(data, "visibility", doc)
    selected = None
    if data.get("selected_repository_ids") is not None:
        strings = app == "dependabot" and version != V2026
        selected = repo_ids(data["selected_repository_ids"], doc, strings=strings)
    return SecretPut(encrypted_value, key_id, visibility, selected)


def selection_put(raw: bytes, doc: str) -> list[int]:
    data = json_object(raw, doc)
    if data.get("selected_repository_ids") is None:
        raise invalid('"selected_repository_ids" wasn\'t supplied.', doc)
    return repo_ids(data["selected_repository_ids"], doc)


@dataclass(frozen=True, slots=True)
class VariableWrite:
    """A variable POST (everything the schema requires is there) or PATCH (any subset)."""

    name: str | None
    value: str | None
    visibility: str | None
    selected: list[int] | None


def variable_write(raw: bytes, kind: str, doc: str, *, create: bool) -> VariableWrite:
    """`kind` is "org", "repo" or "environment"; only organisation variables have a
    visibility and selected repositories (other scopes ignore them, as GitHub ignores
    unknown fields)."""
    data = json_object(raw, doc)
    required: tuple[str, ...] = ()
    if create:
        required = ("name", "value", "visibility") if kind == "org" else ("name", "value")
    for key in required:
        if data.get(key) is None:
            raise invalid(f'"{key}" wasn\'t supplied.', doc)
    name, value = _string(data, "name", doc), _string(data, "value", doc)
    if kind != "org":
        return VariableWrite(name, value, None, None)
    selected = None
    if data.get("selected_repository_ids") is not None:
        selected = repo_ids(data["selected_repository_ids"], doc)
    return VariableWrite(name, value, _string(data, "visibility", doc), selected)


# The environment PUT's properties (`additionalProperties: false`) and the values that set
# no protection rule: the sandbox models environments without protection rules.
_UNPROTECTED: dict[str, tuple[object, ...]] = {
    "wait_timer": (None, 0),
    "prevent_self_review": (None, False),
    "reviewers": (None, []),
    "deployment_branch_policy": (None,),
}


def _unprotected(key: str, value: object) -> bool:
    # 0 == False in Python: only `prevent_self_review` may be a boolean, and must be one.
    if isinstance(value, bool) != (key == "prevent_self_review" and value is not None):
        return False
    return value in _UNPROTECTED[key]


def environment_put(raw: bytes, doc: str) -> None:
    """Check an environment PUT body: absent, `null` or an object of the known properties."""
    if not raw.strip():
        return
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "Problems parsing JSON", doc) from e
    if data is None:
        return
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.", doc)
    unknown = sorted(k for k in data if k not in _UNPROTECTED)
    if unknown:
        raise invalid(f'"{unknown[0]}" is not a permitted key.', doc)
    for key, value in data.items():
        if not _unprotected(key, value):
            raise invalid(
                f'"{key}": the sandbox models environments without protection rules.', doc
            )
