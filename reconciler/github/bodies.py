"""Reading an answer's body within bounds: at most MAX_BODY_BYTES, first byte to last within a
deadline, so neither a huge answer nor one dripped a byte at a time can hold a run."""

from __future__ import annotations

import time

import requests

from reconciler.errors import ApiError, RequestInfo

# The largest body read legitimately is the ledger's git blob, base64 (4/3 of its size):
# 32 MB is a 24 MB ledger, ~100,000 entries. A list page of 100 items is tens of KB.
MAX_BODY_BYTES = 32 * 1024 * 1024
# One answer may take this many read timeouts, first byte to last.
DEADLINE_READS = 4
_CHUNK = 64 * 1024


class AbandonError(Exception):
    """A response we will not read further; carries the ApiError to raise (no retry)."""

    def __init__(self, error: ApiError) -> None:
        self.error = error


def read_body(info: RequestInfo, resp: requests.Response, deadline: float, seconds: float) -> bytes:
    """The whole body of a streamed `resp`, or AbandonError past MAX_BODY_BYTES (declared or
    read) or past `deadline` (a `time.monotonic()`, `seconds` after the request was sent)."""
    declared = resp.headers.get("Content-Length", "")
    status = RequestInfo(info.method, info.path, resp.status_code)
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise AbandonError(_too_large(status))
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise AbandonError(
                ApiError(
                    status,
                    f"the answer took longer than {seconds:.0f}s; stopped",
                    hint="the server is sending very slowly; check --api-url and the "
                    "network, or raise --timeout; re-running is safe",
                )
            )
        # read1: at most one socket read, so the deadline is checked between reads.
        chunk = resp.raw.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise AbandonError(_too_large(status))
        chunks.append(chunk)


def _too_large(info: RequestInfo) -> ApiError:
    return ApiError(
        info,
        f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB; stopped reading",
        hint="no GitHub answer the tool reads is this large; check --api-url",
    )
