"""Why a reviewed plan no longer matches the plan derived now, in words. Pure.

deepdiff serves here because a generic structural diff is what the user needs; it is imported
inside the function, so commands that never explain a mismatch never load it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def explain_mismatch(reviewed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human lines saying how the reviewed plan differs from the one derived now."""
    from deepdiff import DeepDiff  # only apply of a stale reviewed plan needs it (start-up cost)

    old, new = _keyed(reviewed), _keyed(current)
    lines = [f"{key}: planned in the review, not any more" for key in sorted(old.keys() - new)]
    lines += [
        f"{key}: not in the review, now planned ({new[key]['action']})"
        for key in sorted(new.keys() - old)
    ]
    for key in sorted(old.keys() & new.keys()):
        for field in sorted(DeepDiff(old[key], new[key]).affected_root_keys):
            lines.append(
                f"{key}: {field} was {json.dumps(old[key].get(field))}, "
                f"now {json.dumps(new[key].get(field))}"
            )
    if reviewed.get("values") != current.get("values"):
        lines.append(f"values policy was {reviewed.get('values')}, now {current.get('values')}")
    for key in ("manifests", "allow_env", "targets"):
        if reviewed.get(key) != current.get(key):
            lines.append(
                f"{key} were {json.dumps(reviewed.get(key))}, now {json.dumps(current.get(key))}"
            )
    if reviewed.get("notices", []) != current.get("notices", []):
        lines.append(
            f"credential notices were {json.dumps(reviewed.get('notices', []))}, "
            f"now {json.dumps(current.get('notices', []))}"
        )
    return lines


def _keyed(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {_change_label(c): c for c in doc.get("changes", [])}


def _change_label(c: Mapping[str, Any]) -> str:
    target = c["target"] + (f"/{c['environment']}" if "environment" in c else "")
    kind = f"{c['kind']} " if "kind" in c else ""  # secrets: the plan's usual subject
    return f"{target} {c['app']} {kind}{c['name']}"
