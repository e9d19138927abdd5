"""The sandbox for `bench_scale.py`, in a process of its own, driven over stdin/stdout.

    python tests/benchmarks/scale_sandbox.py SEED.json LATENCY

It seeds a `Sandbox` through its Python API from the seed file (see `scale_shape.py`),
prints its URL on one line, then answers one JSON line per command read from stdin:

    reset   forget the request log, the first request's time and the peak concurrency
    count   {"total", "not_modified", "first_at", "peak", "errors", "kinds"}
    quit    stop (so does the end of stdin)

Its own process keeps the sandbox's CPU, memory and GIL apart from what is measured.
`first_at` is the `time.time()` at which the first request since `reset` reached the
server (before the injected latency): a wall clock the benchmark compares with the moment
it started a child process.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

# Run as a script, its directory is on sys.path, not the checkout: make `tests` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reconciler.sandbox import Sandbox, SandboxConfig
from reconciler.sandbox.pipeline.recording import Recorder
from tests.benchmarks.scale_shape import REPO_APP, Seed


class StampingRecorder(Recorder):
    """A `Recorder` that also notes when the first request arrived."""

    def __init__(self, *, latency: float) -> None:
        super().__init__(record_exchanges=False, latency=latency)
        self._first_lock = threading.Lock()
        self.first_at: float | None = None

    def enter(self) -> None:
        with self._first_lock:
            if self.first_at is None:
                self.first_at = time.time()
        super().enter()

    def forget(self) -> None:
        with self._first_lock:
            self.first_at = None
        self.clear()
        self.flight.reset()


def kind_of(path: str) -> str:
    """A request's family, for the per-kind breakdown (paths under GHES' /api/v3 too)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v3"]:
        parts = parts[2:]
    if parts[:1] == ["orgs"] and parts[2:] == ["repos"]:
        return "org repository list"
    if parts[:1] == ["repos"] and len(parts) == 3:
        return "repository lookup"
    if parts[-1] == "repositories":
        return "selected-repository list"
    if parts[-1] == "public-key":
        return "public key"
    if parts[-1] in ("secrets", "variables"):
        return f"{parts[0][:-1]} {parts[-1]} list"
    if len(parts) >= 2 and parts[-2] in ("secrets", "variables"):
        return f"{parts[0][:-1]} {parts[-2][:-1]} get"
    return "/".join(parts[-2:])


def seed_sandbox(sb: Sandbox, seed: Seed) -> None:
    for name in seed.repos:
        sb.add_repo(f"{seed.org}/{name}")
    for secret in seed.org_secrets:
        selected = secret.repositories if secret.visibility == "selected" else None
        sb.put_secret(
            seed.org, secret.app, secret.name, b"v", visibility=secret.visibility, selected=selected
        )
    for repo in seed.repo_scopes:
        for name in seed.repo_secrets:
            sb.put_secret(f"{seed.org}/{repo}", REPO_APP, name, b"v")


def count(sb: Sandbox, recorder: StampingRecorder) -> dict[str, object]:
    requests = sb.requests
    return {
        "total": len(requests),
        "not_modified": sum(1 for r in requests if r.status == 304),
        "first_at": recorder.first_at,
        "peak": sb.peak_concurrency,
        "errors": len(sb.errors) + sum(1 for r in requests if r.status >= 400 or r.status == 0),
        "kinds": dict(Counter(kind_of(r.path) for r in requests)),
    }


def main(argv: list[str]) -> int:
    seed = Seed.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    latency = float(argv[1])
    sb = Sandbox(SandboxConfig(latency=latency, rate_limit=10**9))
    recorder = StampingRecorder(latency=latency)
    sb._recorder = recorder  # before start(): the server takes the recorder it finds then
    seed_sandbox(sb, seed)
    with sb:
        print(sb.url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                recorder.forget()
                print(json.dumps({"ok": True}), flush=True)
            elif command == "count":
                print(json.dumps(count(sb, recorder)), flush=True)
            elif command == "quit":
                break
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
