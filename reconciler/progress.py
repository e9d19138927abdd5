"""Apply progress on stderr, and Ctrl-C that lets the write in flight finish."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from reconciler.plan import Result
from reconciler.report import result_line

_BAR_MIN_CHANGES = 10
_BAR_WIDTH = 30


class Progress:
    """One line per change as it completes; a bar under them on a TTY for long runs."""

    def __init__(self, err: TextIO, total: int) -> None:
        self._err = err
        self._total = total
        self._n = 0
        self._bar = total >= _BAR_MIN_CHANGES and hasattr(err, "isatty") and err.isatty()

    def update(self, result: Result) -> None:
        self._n += 1
        if self._bar:
            self._err.write("\r\x1b[2K")
        self._err.write(result_line(result) + "\n")
        if self._bar:
            filled = _BAR_WIDTH * self._n // self._total
            self._err.write(
                f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {self._n}/{self._total}"
            )
        self._err.flush()

    def done(self) -> None:
        if self._bar:
            self._err.write("\r\x1b[2K")
            self._err.flush()


@contextmanager
def interruptible() -> Iterator[threading.Event]:
    """Ctrl-C / SIGTERM during apply sets the event instead of raising: the executor finishes
    the write in flight, skips the rest and reports."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped
        return

    def handler(signum: int, frame: object) -> None:
        stopped.set()

    old_int = signal.signal(signal.SIGINT, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
