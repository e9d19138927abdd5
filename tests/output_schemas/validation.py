"""The published output schemas (`schemas/*.schema.json`) as the tests validate with them
(Draft 2020-12 with format assertion on, so `date-time` is checked, not only annotated), and
what a document shows, for tests that must reach every part of a schema."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.support.paths import REPO_ROOT

SCHEMAS = REPO_ROOT / "schemas"
OUTPUTS = ("plan", "results", "ledger")


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return data


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(name: str, doc: object) -> list[str]:
    """Every way `doc` breaks the schema, one line each (empty: it conforms)."""
    return sorted(
        f"{'/'.join(str(p) for p in e.absolute_path) or '<doc>'}: {e.message[:300]}"
        for e in validator(name).iter_errors(doc)
    )


def reached(doc: dict[str, Any]) -> set[str]:
    """What a plan or results document shows: its optional keys, and its changes' actions,
    apps, scopes, kinds, fields and value reasons."""
    found = {f"key:{k}" for k in doc}
    for c in doc.get("changes", doc.get("results", [])):
        found |= {f"action:{c['action']}", f"app:{c['app']}", f"scope:{c['scope']}"}
        found |= {f"kind:{c.get('kind', 'secret')}", *(f"field:{k}" for k in c)}
        if "value" in c:
            found.add(f"value:{c['value']}")
    return found
