"""Reading a file the user points at (a value file, a manifest, a plan file) without trusting
what is there: a FIFO would block forever, a device never end, a multi-GB file exhaust memory,
and the path can change between a check and an open. So the file is opened without blocking,
its type and size are checked on the open descriptor, and at most the limit is read."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from reconciler.errors import LocalFileError, OutputFileError

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def read_regular_file(
    path: str | Path, limit: int, *, limit_text: str, no_follow: bool = False
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or LocalFileError.

    `limit_text` names the limit in the message ("GitHub's 48 KB limit (49152 bytes)").
    `no_follow`: refuse a symbolic link at the last component, for callers that resolved and
    checked the path already and must not follow one swapped in since."""
    shown = str(path)
    flags = _OPEN_FLAGS | (getattr(os, "O_NOFOLLOW", 0) if no_follow else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if no_follow and e.errno == errno.ELOOP:
            raise LocalFileError(shown, "became a symbolic link while being read") from None
        kind = _kind_at(path)  # a socket fails to open: say what it is
        problem = f"is {kind}, not a regular file" if kind else _cannot(e)
        raise LocalFileError(shown, problem) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalFileError(shown, f"is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise LocalFileError(
                shown,
                f"is {info.st_size} bytes, more than {limit_text}; it was not read",
                too_large=True,
            )
        chunks: list[bytes] = []
        left = limit + 1  # one more than allowed: enough to see that it grew
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise LocalFileError(shown, _cannot(e)) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise LocalFileError(shown, f"grew past {limit_text} while being read", too_large=True)
    return data


def _cannot(e: OSError) -> str:
    return f"cannot be read: {e.strerror or type(e).__name__}"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _kind_at(path: str | Path) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


# -- files flags name for output (--out, --results) ---------------------------------------
# Checked before any work starts, so a typo in a path never fails a run after its writes to
# GitHub were made; written with an error that names the flag.


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
