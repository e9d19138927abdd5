"""The names GitHub knows and accepts: the four secret apps, visibilities, secret names."""

from __future__ import annotations

import re

from reconciler.sandbox.rules.errors import DOCS, invalid, not_found

APPS: tuple[str, ...] = ("actions", "agents", "codespaces", "dependabot")
VISIBILITIES = ("all", "private", "selected")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_secret_name(name: str, doc: str = DOCS) -> str:
    """The upper-cased name, or the 422 GitHub gives for names it refuses."""
    if not _NAME.match(name):
        raise invalid(
            "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) "
            "or underscores (_), and must not start with a number.",
            doc,
        )
    upper = name.upper()
    if upper.startswith("GITHUB_"):
        raise invalid("Secret names must not start with GITHUB_.", doc)
    return upper


def check_app(app: str) -> str:
    if app not in APPS:
        raise not_found()
    return app
