"""Files that flags name for output (`--out`, `--results`): checked before any work starts, so
a typo in a path never fails a run after its writes to GitHub were made, and written with an
error that names the flag instead of an OSError traceback."""

from __future__ import annotations

import os

from reconciler.errors import OutputFileError


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def check_writable(path: str, flag: str) -> None:
    """Raise OutputFileError unless `path` can be opened for writing; leaves nothing behind."""
    existed = os.path.lexists(path)
    if os.path.isdir(path):
        raise OutputFileError(flag, path, "it is a directory")
    try:
        # O_APPEND without O_TRUNC: probing never damages a file that is already there.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK, 0o644)
    except OSError as e:
        raise OutputFileError(flag, path, _reason(e)) from None
    os.close(fd)
    if not existed:
        os.unlink(path)


def write_output(path: str, text: str, flag: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise OutputFileError(flag, path, _reason(e)) from None
