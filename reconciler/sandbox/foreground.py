"""`reconciler sandbox`: run the server in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.sandbox import Sandbox
from reconciler.sandbox.seed import read_seed


def serve(
    config: SandboxConfig,
    seed_path: str | None,
    dump_path: str | None,
    out: TextIO,
    *,
    notes: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Start, print the API URL and token, block until a signal (or `stop`), dump, exit 0.

    `out` gets only `NAME=value` lines (for `eval`, or a `.env` file); `notes` (stderr) gets
    how to stop the server, where the dump will go, and where it went. `stop` lets a caller
    (a test) end the loop without sending a signal.
    """
    done = stop or threading.Event()
    seed = read_seed(seed_path) if seed_path else None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {}
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with Sandbox(config) as sb:
            if seed is not None:
                sb.load_seed(seed)
            out.write(f"GITHUB_API_URL={sb.url}\n")
            out.write(f"GITHUB_TOKEN={sb.token}\n")
            out.flush()
            dump = Path(dump_path).absolute() if dump_path else None
            _note(notes, _running(sb.url, dump))
            done.wait()
            if dump is not None:
                text = json.dumps(sb.dump_state(), indent=2, sort_keys=True)
                dump.write_text(text + "\n", encoding="utf-8")
            _note(notes, f"sandbox stopped; wrote its final state to {dump}" if dump else "")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _running(url: str, dump: Path | None) -> str:
    pid = os.getpid()
    lines = [
        f"sandbox serving {url} (pid {pid}); stop it with Ctrl-C, or `kill -TERM {pid}`",
        f"on stop it writes its final state to {dump}"
        if dump
        else "on stop its state is discarded (pass --dump FILE to keep it)",
    ]
    return "\n".join(lines)


def _note(stream: TextIO | None, text: str) -> None:
    if stream is not None and text:
        stream.write(text + "\n")
        stream.flush()
