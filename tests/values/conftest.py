"""Fixtures for the value-source tests: a real moto server per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.moto_server import MotoServer


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's standalone server on a free 127.0.0.1 port, shared by one test module (tests
    keep apart by the names they create), stopped after it."""
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
