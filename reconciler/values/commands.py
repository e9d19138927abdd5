"""Command value sources: a program whose standard output is the value.

A manifest names one as `value: {command: [vault, kv, get, -field=token, secret/npm],
timeout: 20}`, which reaches every store that has a command-line client (Vault, 1Password
`op read`, Bitwarden `bws`, `gcloud`, `az`, `sops -d --extract`). It runs only where the
operator allows commands outside the manifest (the resolver checks that), and like this:

- the argument list is executed as written, without a shell: nothing is split, expanded or
  substituted, so `$(...)`, `;` and `*` are plain characters in an argument;
- the program is looked up on the PATH of the environment it is given, which is the
  operator's whole environment: the command inherits it, as it would in the job's shell (a
  process of the same user could read it anyway, so withholding part of it would be no
  boundary);
- it runs in reconciler's current directory, not the manifest's: a relative program path
  (`./scripts/get-token`) is relative to where reconciler was started;
- standard input is closed and the program has no controlling terminal (it starts in a new
  session), so a tool that would prompt for a password fails instead of waiting forever;
- standard error is discarded unread: tools print anything there (a token in a debug line), so
  an error only says how the program ended, and running it by hand shows the rest;
- at most GitHub's 48 KB limit (and a line ending) of standard output is read; more stops the
  program, as does passing the timeout; "stops" means SIGKILL to its whole process group, then
  reaping it, so no child it started is left running (one that left the group with `setsid`
  is beyond reach, and loses its pipe);
- one trailing newline (`\\n` or `\\r\\n`), the one `echo` and `print` add, is removed;
  unlike the shell's `$(...)`, which removes all of them, only one: a value that ends in a
  newline can still be printed with another;
- the output is complete when the standard output closes and the program has exited, as for
  `$(...)`: a helper it leaves running must not keep the output open, or the wait times out;
- an empty value, a non-zero exit status or a signal is an error, whatever was printed.

POSIX only (process groups). Errors are SourceError naming the command, never its output.
"""

from __future__ import annotations

import math
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

from reconciler.errors import SourceError
from reconciler.model import CommandSource
from reconciler.values.sources import MAX_VALUE_BYTES

MAX_TIMEOUT = 600.0  # seconds; a value that takes longer to fetch is a store that is down
# The limit, then room for the line ending that is stripped, then one byte that proves "more".
_READ_LIMIT = MAX_VALUE_BYTES + len(b"\r\n") + 1
_CHUNK = 64 * 1024
_RUN_IT_HINT = "run the command yourself to see its error output"
_LIMIT_TEXT = f"GitHub's 48 KB limit ({MAX_VALUE_BYTES} bytes)"


def command_problem(argv: Sequence[object], timeout: object) -> str | None:
    """Why a manifest's `command` list and `timeout` cannot be run, or None. The reader
    passes CommandSource's default timeout when the manifest gives none."""
    if isinstance(argv, str | bytes) or not isinstance(argv, Sequence):
        return (
            "command must be a list: the program, then each argument as its own item "
            "(no shell splits a string)"
        )
    if not argv:
        return "command is an empty list; name the program first"
    for index, arg in enumerate(argv):
        if not isinstance(arg, str):
            return f"command[{index}] is not text (quote it)"
        if not arg:
            return f"command[{index}] is empty"
        if "\0" in arg:
            return f"command[{index}] holds a NUL character, which no program can be given"
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return "timeout must be a number of seconds"
    if math.isnan(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        return f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds"
    return None


def run_command(source: CommandSource, environ: Mapping[str, str]) -> bytes:
    """The value `source`'s program prints (see the module docstring), or SourceError."""
    deadline = time.monotonic() + source.timeout
    proc = _start(source, environ)
    try:
        output = _collect(source, proc, deadline)
    finally:
        _stop(proc)
    status = proc.returncode
    if status != 0:
        raise SourceError(
            source.location, f"{source.describe()} {_ending(status)}", hint=_RUN_IT_HINT
        )
    value = _strip_line_ending(output)
    if len(value) > MAX_VALUE_BYTES:
        raise _too_large(source, stopped=False)
    if not value:
        printed = "nothing" if not output else "only a line ending"
        raise SourceError(
            source.location,
            f"{source.describe()} printed {printed} on its standard output",
            hint="the value is what the program prints; GitHub does not accept empty values",
        )
    return value


def _start(source: CommandSource, environ: Mapping[str, str]) -> subprocess.Popen[bytes]:
    program = source.argv[0] if source.argv else ""
    described = source.describe()
    try:
        return subprocess.Popen(
            list(source.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(environ),
            start_new_session=True,  # its own process group, killed as one; no terminal
            close_fds=True,
        )
    except FileNotFoundError:
        raise SourceError(
            source.location,
            f'{described} cannot run: program "{program}" was not found',
            hint=_not_found_hint(program),
        ) from None
    except PermissionError:
        raise SourceError(
            source.location,
            f'{described} cannot run: program "{program}" is not executable',
            hint="check the path names the program, not a directory or a data file, and that "
            "its execute permission is set (chmod +x)",
        ) from None
    except (OSError, ValueError, IndexError) as e:
        # ValueError: a NUL in an argument or the environment; IndexError: no program.
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "it is malformed"
        raise SourceError(
            source.location,
            f"{described} cannot run: {reason}",
            hint="run the command yourself to check it",
        ) from None


def _not_found_hint(program: str) -> str:
    if any(c.isspace() for c in program):
        return (
            "the command is a list, one item per argument: write [vault, kv, get] rather "
            'than ["vault kv get"]'
        )
    if "/" in program:
        return (
            "a program path is relative to the directory reconciler runs in; for a script, "
            "also check the interpreter on its #! line"
        )
    return "install it, or put its directory on PATH in the job that runs reconciler"


def _collect(source: CommandSource, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Standard output until end of file and the program's exit, both before `deadline`;
    SourceError (the program still to be stopped) on a timeout or too much output."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise _timed_out(source)
            chunk = os.read(fd, min(_CHUNK, _READ_LIMIT - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size >= _READ_LIMIT:
                raise _too_large(source, stopped=True)
    try:
        proc.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise _timed_out(source) from None
    return b"".join(chunks)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process group of a program not reaped yet (a timeout, too much output, an
    interrupt), then reap it. Until it is reaped its pid, hence the group id, stays taken, so
    the signal cannot reach an unrelated group."""
    try:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:  # no such group after all: the program itself, at least
                proc.kill()
            proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def _ending(status: int | None) -> str:
    if status is not None and status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = str(-status)
        return f"was killed by signal {name}"
    return f"exited with status {status}"


def _strip_line_ending(output: bytes) -> bytes:
    for ending in (b"\r\n", b"\n"):
        if output.endswith(ending):
            return output[: -len(ending)]
    return output


def _timed_out(source: CommandSource) -> SourceError:
    return SourceError(
        source.location,
        f"{source.describe()} did not finish within {source.timeout:g} s and was stopped",
        hint="check that the store answers (run the command yourself), or raise the source's "
        f"timeout (at most {MAX_TIMEOUT:g} s)",
    )


def _too_large(source: CommandSource, *, stopped: bool) -> SourceError:
    was = " and was stopped" if stopped else ""
    return SourceError(
        source.location,
        f"{source.describe()} printed more than {_LIMIT_TEXT}{was}",
        hint="GitHub secrets and variables hold at most 48 KB; check that the command prints "
        "only the value (a field, not the whole record)",
    )
