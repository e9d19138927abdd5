"""Where the tests find the repository and their data, computed once from this file: a test module
that moves keeps its paths, and a directory that is not where it is named here fails at import
rather than letting a test read nothing (an empty glob passes silently)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "reconciler"
TESTS = REPO_ROOT / "tests"
GOLDEN = TESTS / "golden"
OPENAPI = TESTS / "openapi"
MANIFEST_FIXTURES = TESTS / "manifest" / "fixtures"

_missing = [
    str(p)
    for p in (
        REPO_ROOT / "pyproject.toml",
        PACKAGE / "__init__.py",
        GOLDEN,
        OPENAPI,
        MANIFEST_FIXTURES,
    )
    if not p.exists()
]
if _missing:
    raise RuntimeError(f"missing {', '.join(_missing)}: fix tests/support/paths.py")
