"""A reviewed plan file (`reconciler plan --out`), read and verified before anything else:
a known format and version, the fields apply uses, and changes that hash to its checksum."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.errors import LocalFileError, PlanFileError
from reconciler.local_files import read_regular_file
from reconciler.plan import PLAN_FORMAT, PLAN_VERSION, ValuePolicy, document_checksum

# A plan for thousands of changes is a few MB; anything far larger is not a plan file.
PLAN_FILE_LIMIT = 64 * 1024 * 1024


def saved_plan(paths: Sequence[str]) -> dict[str, Any] | None:
    """The reviewed plan named by a single `*.json` argument, verified; None for manifests."""
    if len(paths) != 1 or not paths[0].lower().endswith(".json"):
        return None
    path = paths[0]
    return verify_plan_document(_read_plan_file(path), path)


def _read_plan_file(path: str) -> Any:
    try:
        data = read_regular_file(path, PLAN_FILE_LIMIT, limit_text="any plan file (64 MB)")
    except LocalFileError as e:
        raise PlanFileError(path, e.problem) from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanFileError(path, "is not UTF-8 text, so not a reconciler plan file") from None
    except json.JSONDecodeError as e:
        raise PlanFileError(
            path, f"is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
        ) from None
    except RecursionError:
        raise PlanFileError(path, "is nested too deeply to be a reconciler plan file") from None


def verify_plan_document(doc: Any, path: str) -> dict[str, Any]:
    """Refuse a plan file unless it is one this reconciler wrote and nobody edited since:
    a known format and version, the fields apply uses, and changes hashing to its checksum."""
    if not isinstance(doc, dict):
        raise PlanFileError(path, "is not a reconciler plan file (not a JSON object)")
    if doc.get("format") != PLAN_FORMAT:
        raise PlanFileError(
            path,
            f'is not a reconciler plan file ("format" is {_shown(doc.get("format"))}, '
            f'not "{PLAN_FORMAT}")',
            hint="pass the file `reconciler plan --out FILE` wrote, or the manifests",
        )
    version = doc.get("version")
    if type(version) is not int or version != PLAN_VERSION:  # `true == 1` in Python
        raise PlanFileError(
            path,
            f"plan format version {_shown(version)} is not supported (this reconciler "
            f"applies version {PLAN_VERSION})",
            hint="make and apply the plan with the same reconciler version",
        )
    if doc.get("values") not in {v.value for v in ValuePolicy}:
        raise PlanFileError(path, f'"values" is {_shown(doc.get("values"))}, not a known policy')
    if not isinstance(doc.get("changes"), list) or not all(
        isinstance(c, dict) for c in doc["changes"]
    ):
        raise PlanFileError(path, '"changes" is not a list of changes')
    manifests = doc.get("manifests")
    if not _strings(manifests) or not manifests:
        raise PlanFileError(
            path,
            'has no "manifests" list: it was not written by `reconciler plan --out`',
        )
    if not _strings(doc.get("allow_env")):
        raise PlanFileError(path, '"allow_env" is not a list of names')
    if not isinstance(doc.get("checksum"), str):
        raise PlanFileError(path, 'has no "checksum"')
    if document_checksum(doc) != doc["checksum"]:
        raise PlanFileError(
            path,
            "its changes do not match its checksum: the file was edited after "
            "`reconciler plan` wrote it",
            hint="never edit a plan file; run `reconciler plan --out FILE` again and review it",
        )
    return doc


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _shown(value: object) -> str:
    """A field's value, short and on one line, for an error message."""
    if value is None:
        return "missing"
    return json.dumps(value)[:40]
