"""Shared fixtures: a running sandbox whose every exchange is checked against GitHub's spec.

`sandbox` yields a started `Sandbox` recording raw exchanges. At teardown each one is
validated by `tests/support/openapi_check.py` (openapi-core against GitHub's OpenAPI description,
vendored in `tests/openapi/`), and the test errors if any does not conform or the sandbox
hit an internal error. Use `make_sandbox(**config)` for a non-default configuration; it is
checked the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import Clock, Sandbox, SandboxConfig
from tests.support.openapi_check import sandbox_problems
from tests.support.sandbox_client import Api


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def make(*, now: Callable[[], float] | None = None, **overrides: Any) -> Sandbox:
        """`now`: the sandbox's time source, for tests that move a clock by hand."""
        config = dataclasses.replace(SandboxConfig(record_exchanges=True), **overrides)
        sb = Sandbox(config, clock=Clock(now) if now else None).start()
        started.append(sb)
        return sb

    yield make
    problems: list[str] = []
    for sb in started:
        sb.stop()
        problems.extend(sandbox_problems(sb))
    if problems:
        pytest.fail(
            "exchanges do not conform to GitHub's OpenAPI description:\n" + "\n".join(problems)
        )


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _private_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory, so the default value ledger
    (`.reconciler-ledger.json` in the working directory) is never shared between tests."""
    monkeypatch.chdir(tmp_path)
