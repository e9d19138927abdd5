"""The environment of the subprocesses the delivery tests install packages with (pip, build,
pipx, pre-commit): this machine's pip settings (index, find-links, certificates, timeouts), as
a CI job would pass them, and nothing else of the test's environment."""

from __future__ import annotations

import os


def pip_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("PIP_")}


def installer_env() -> dict[str, str]:
    """pip's settings plus what a tool needs to run at all: PATH, HOME and the locale."""
    kept = ("PATH", "HOME", "LANG")
    return {**pip_settings(), **{k: v for k, v in os.environ.items() if k.startswith(kept)}}
