"""Behind a proxy: the environment's proxy settings are read once, when the client is made
(requests re-read the environment and ~/.netrc on every request before), and an https API is
reached through the proxy with a CONNECT tunnel that never carries the token."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from reconciler.errors import ApiError
from reconciler.github.transport import ClientConfig, Transport

TOKEN = "proxy-test-token-never-to-the-proxy"


class RecordingProxy:
    """A loopback proxy that records what each client says first, then hangs up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.heard: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.heard.append(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    yield server
    server.close()


def test_the_proxy_is_read_once_and_the_tunnel_carries_no_token(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    config = ClientConfig(api_url="https://api.example.test", token=TOKEN, max_retries=0)
    transport = Transport(config)
    # Read once: a change of the environment after the client is made changes nothing.
    monkeypatch.delenv("HTTPS_PROXY")
    try:
        with pytest.raises(ApiError):
            transport.request("GET", "/rate_limit")
    finally:
        transport.close()
    assert len(proxy.heard) == 1
    assert proxy.heard[0].startswith(b"CONNECT api.example.test:443 HTTP/1.")
    assert TOKEN.encode() not in proxy.heard[0]


def test_a_loopback_http_api_never_goes_through_a_proxy(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain http is for loopback only, and a proxy would see the token in the clear."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{proxy.port}")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the request fails at once
    config = ClientConfig(api_url=f"http://127.0.0.1:{port}", token=TOKEN, max_retries=0)
    transport = Transport(config)
    try:
        with pytest.raises(ApiError):
            transport.request("GET", "/rate_limit")
    finally:
        transport.close()
    assert proxy.heard == []
