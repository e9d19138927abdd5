"""`reconciler sandbox`: run the server in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import json
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
    stop: threading.Event | None = None,
) -> int:
    """Start, print the API URL and token, block until a signal (or `stop`), dump, exit 0.

    `stop` lets a caller (a test) end the loop without sending a signal.
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
            done.wait()
            if dump_path:
                text = json.dumps(sb.dump_state(), indent=2, sort_keys=True)
                Path(dump_path).write_text(text + "\n", encoding="utf-8")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
