"""What a valid manifest is: GitHub's naming rules and the published JSON Schema.

The schema (`manifest.schema.json`, published for editors) checks shape; `schema_check`
turns its errors into readable problems. Names are checked by the functions below rather
than by the schema's patterns, because they can say *why* a name is wrong; the patterns
are kept for editors and a test keeps the two in agreement.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

from reconciler import schema_files
from reconciler.manifest.redact import describe, looks_like_credential, showable
from reconciler.model import App

_ORG_RE = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
_REPO_RE = re.compile(r"[A-Za-z0-9._-]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_]+")
ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ENVIRONMENT_NAME = 255  # GitHub: "may not exceed 255 characters"

SOURCE_HINT = (
    'write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, '
    "{age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}"
)
VARIABLE_SOURCE_HINT = (
    'write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} '
    "or {command: [PROGRAM, ARG, ...]}"
)
# The keys that name a value's source, and the keys that only go with one source (the
# schema's oneOf and dependentRequired say the same; a test keeps them in step).
SOURCE_KEYS = ("env", "file", "sealed", "age", "aws", "command")
VARIABLE_SOURCE_KEYS = ("env", "file", "age", "aws", "command")
STORE_KEYS = ("age", "aws", "command")
OPTION_SOURCE = {
    "key_id": "sealed",
    "key": "age",
    "json_key": "aws",
    "version_stage": "aws",
    "version_id": "aws",
    "region": "aws",
    "timeout": "command",
}
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
    if len(name) <= 39 and _ORG_RE.fullmatch(name):
        return None  # before `describe`, which costs more than the check, once per name
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
    if len(name) <= 100 and _REPO_RE.fullmatch(name):
        return None
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


def secret_name_problem(name: str, noun: str = "secret") -> str | None:
    if not name:
        return f"{noun} name is empty"
    valid = _SECRET_RE.fullmatch(name) and not name[0].isdigit()
    if valid and not name.upper().startswith("GITHUB_"):
        return None
    shown = describe(name, "")
    if not _SECRET_RE.fullmatch(name):
        return f'{noun} name {shown} may contain only letters, digits and "_"'
    if name[0].isdigit():
        return f"{noun} name {shown} must not start with a digit"
    if name.upper().startswith("GITHUB_"):
        return f"{noun} name {shown} must not start with GITHUB_ (reserved by GitHub)"
    return None


def variable_name_problem(name: str) -> str | None:
    # GitHub's variable names follow the secret-name rules word for word.
    return secret_name_problem(name, "variable")


def environment_name_problem(name: str) -> str | None:
    if not name:
        return "environment name is empty"
    if len(name) <= MAX_ENVIRONMENT_NAME and name.isprintable():
        return None  # isprintable() is False for every control character (and for more)
    shown = describe(name, "")
    if len(name) > MAX_ENVIRONMENT_NAME:
        return f"environment name {shown} is longer than {MAX_ENVIRONMENT_NAME} characters"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return f"environment name {shown} contains a control character (a tab, a newline, ...)"
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
    """schemas/manifest.schema.json: in a checkout through the package's link to that folder,
    in a built wheel as the copy the build made of it (one source of truth either way).
    Read beside this module rather than through importlib.resources, whose import costs a
    millisecond of every `validate` (the package is always installed as files)."""
    text = schema_files.path("manifest").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
