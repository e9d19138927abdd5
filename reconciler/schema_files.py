"""The published JSON Schemas: where the package keeps them and the stable URL of each.

`schemas/` at the top of the repository is the one copy; the package reaches it through its
`reconciler/schemas` link, which a build turns into files, so every install carries them. Each
schema's `$id` is its raw file at the release tag, a URL that never changes once published:
editors (`# yaml-language-server: $schema=URL`), SchemaStore and readers of the tool's JSON
outputs can pin it.
"""

from __future__ import annotations

from pathlib import Path

from reconciler import __version__

DIRECTORY = Path(__file__).parent / "schemas"
HOME = "https://raw.githubusercontent.com/reconciler/reconciler"

# What `reconciler schema NAME` offers, and the file each name is published as.
FILES = {
    "manifest": "manifest.schema.json",
    "plan": "plan.schema.json",
    "results": "results.schema.json",
    "ledger": "ledger.schema.json",
}


def path(name: str) -> Path:
    return DIRECTORY / FILES[name]


def url(name: str, version: str = __version__) -> str:
    """The schema's stable URL: its file at the tag of `version`."""
    return f"{HOME}/v{version}/schemas/{FILES[name]}"
