"""The HTTP server: read a request, run the pipeline, write the reply, keep the records."""

from __future__ import annotations

import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from reconciler.sandbox.http.replies import RequestIds, server_error, wire
from reconciler.sandbox.pipeline.flow import Dropped, Pipeline
from reconciler.sandbox.pipeline.recording import Exchange, Recorder, RequestRecord
from reconciler.sandbox.rules.messages import ApiRequest


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many short-lived test clients connect at once; the default backlog of 5 drops some.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], pipeline: Pipeline, recorder: Recorder) -> None:
        super().__init__(address, SandboxRequestHandler)
        self.pipeline = pipeline
        self.recorder = recorder
        self.request_ids = RequestIds()

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver prints tracebacks to stderr; keep them for `Sandbox.errors` instead.
        self.recorder.error(traceback.format_exc())

    @property
    def authority(self) -> str:
        """`host:port` this server listens on."""
        host, port = self.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        return f"{text}:{port}"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK
    # add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "GitHub.com"

    def do_GET(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:
        # The stdlib would print every request line to stderr; requests are recorded in
        # `Sandbox.requests` instead, and tokens or values never reach a log.
        return

    def _dispatch(self) -> None:
        server = self.server
        recorder = server.recorder
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = ApiRequest(
            method=self.command,
            path=split.path,
            query=tuple(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            host=headers.get("host") or server.authority,
        )
        request_id = server.request_ids.next()
        recorder.enter()
        try:
            latency = recorder.latency
            if latency > 0:
                time.sleep(latency)  # simulated network delay, outside the state lock
            outcome = server.pipeline.handle(request, request_id)
        except Exception:
            # A sandbox bug: answer like GitHub's 500 and keep the traceback for the test.
            recorder.error(traceback.format_exc())
            outcome = server_error(), headers.get("x-github-api-version")
        finally:
            recorder.leave()
        if isinstance(outcome, Dropped):
            self.close_connection = True
            recorder.record(RequestRecord(self.command, split.path, split.query, 0, request_id,
                                          headers.get("x-github-api-version")))  # fmt: skip
            return
        reply, version = outcome
        payload, response_headers = wire(reply, version, request_id)
        # Record before answering, so a client that has its response can trust the log.
        recorder.record(
            RequestRecord(self.command, split.path, split.query, reply.status, request_id, version)
        )
        if recorder.record_exchanges:
            recorder.exchange(
                Exchange(
                    method=self.command,
                    url=f"http://{request.host}{self.path}",
                    request_headers=tuple(self.headers.items()),
                    request_body=body,
                    status=reply.status,
                    response_headers=tuple(response_headers),
                    response_body=payload,
                )
            )
        self.send_response(reply.status)
        for name, value in response_headers:
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)
