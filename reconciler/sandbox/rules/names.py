"""The names GitHub knows and accepts: the four secret apps, the two variable apps,
visibilities, secret and variable names, environment names."""

from __future__ import annotations

import re

from reconciler.sandbox.rules.errors import DOCS, ApiError, invalid, not_found

APPS: tuple[str, ...] = ("actions", "agents", "codespaces", "dependabot")
VARIABLE_APPS: tuple[str, ...] = ("actions", "agents")
# Environments hold Actions secrets and variables only.
ENVIRONMENT_APP = "actions"
MAX_ENVIRONMENT_NAME = 255
VISIBILITIES = ("all", "private", "selected")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_secret_name(name: str, doc: str = DOCS, noun: str = "Secret") -> str:
    """The upper-cased name, or the 422 GitHub gives for names it refuses."""
    if not _NAME.match(name):
        raise invalid(
            f"{noun} names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) "
            "or underscores (_), and must not start with a number.",
            doc,
        )
    upper = name.upper()
    if upper.startswith("GITHUB_"):
        raise invalid(f"{noun} names must not start with GITHUB_.", doc)
    return upper


def check_variable_name(name: str, doc: str = DOCS) -> str:
    """Variables follow the secret naming rules, in their own namespace."""
    return check_secret_name(name, doc, "Variable")


def check_environment_name(name: str, doc: str = DOCS) -> str:
    """The name as given, or GitHub's 422 (the PUT documents it as a `basic-error`)."""
    if not name.strip() or len(name) > MAX_ENVIRONMENT_NAME:
        raise ApiError(422, f"Name must be 1 to {MAX_ENVIRONMENT_NAME} characters long.", doc)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ApiError(422, "Name contains characters that are not allowed.", doc)
    return name


def check_app(app: str) -> str:
    if app not in APPS:
        raise not_found()
    return app


def check_variable_app(app: str) -> str:
    if app not in VARIABLE_APPS:
        raise not_found()
    return app
