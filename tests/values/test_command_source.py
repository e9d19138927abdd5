"""Command value sources, run for real: each test writes a small Python program into its
tmp_path and runs it through `run_command`, then checks the value, or the error and that the
program (and anything it started) is gone. Nothing here sleeps to synchronise: a program that
hangs is waited on by `run_command` with its timeout, and a grandchild by its pidfd."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from reconciler.errors import SourceError
from reconciler.model import CommandSource, Location
from reconciler.values.commands import MAX_TIMEOUT, command_problem, run_command
from reconciler.values.sources import MAX_VALUE_BYTES

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")

HERE = Location("manifests/org.yaml", 12, 9)
CANARY = "canary-7d1f0c2e9b"
PREAMBLE = "import os, signal, subprocess, sys, time\nout = sys.stdout.buffer\n"


def program(tmp_path: Path, body: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(PREAMBLE + textwrap.dedent(body))
    return path


def source(*argv: str | Path, timeout: float = 30.0) -> CommandSource:
    return CommandSource(tuple(str(a) for a in argv), HERE, timeout)


def python(path: Path, *args: str, timeout: float = 30.0) -> CommandSource:
    return source(sys.executable, path, *args, timeout=timeout)


def env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath), **extra}


def failure(src: CommandSource, environ: Mapping[str, str] | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        run_command(src, env() if environ is None else environ)
    error = caught.value
    assert error.location == HERE
    shown = f"{error.render()} {error!r} {error.detail}"
    assert CANARY not in shown
    return error


def reaped(pid: int) -> bool:
    """The direct child: run_command reaped it, so its pid no longer exists (not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def terminated(pid: int, within: float) -> bool:
    """A grandchild (reaped by init, not by us): it has exited, or does so within `within` s;
    waited on through a pidfd, which turns readable when the process ends."""
    if not hasattr(os, "pidfd_open"):
        deadline = time.monotonic() + within
        while not reaped(pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # no pidfd on this system: poll, with a deadline
        return reaped(pid)
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], within)
        return bool(readable)
    finally:
        os.close(fd)


@contextlib.contextmanager
def killed_afterwards(pids_file: Path) -> Iterator[None]:
    """Whatever the test concludes, no process it started outlives it."""
    try:
        yield
    finally:
        if pids_file.exists():
            for pid in pids_file.read_text().split():
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)


# -- values ---------------------------------------------------------------------------------


def test_binary_output_is_returned_byte_for_byte(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3 + b"\x00end"
    prog = program(tmp_path, f"out.write({data!r})\n")
    assert run_command(python(prog), env()) == data


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        (b"tok", b"tok"),
        (b"tok\n", b"tok"),
        (b"tok\r\n", b"tok"),
        (b"tok\n\n", b"tok\n"),  # one line ending, not all of them
        (b"line1\nline2\n", b"line1\nline2"),
        (b"tok\r", b"tok\r"),
        (b" tok \t\n", b" tok \t"),  # no other whitespace is touched
    ],
)
def test_one_trailing_line_ending_is_removed(tmp_path: Path, printed: bytes, value: bytes) -> None:
    prog = program(tmp_path, f"out.write({printed!r})\n")
    assert run_command(python(prog), env()) == value


def test_a_value_at_githubs_limit_is_accepted_with_its_line_ending(tmp_path: Path) -> None:
    prog = program(tmp_path, f"out.write(b'x' * {MAX_VALUE_BYTES} + b'\\r\\n')\n")
    assert run_command(python(prog), env()) == b"x" * MAX_VALUE_BYTES


def test_the_environment_is_the_one_given_and_only_that(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_TEST_OUTSIDE", "from-os-environ")
    prog = program(
        tmp_path,
        """
        out.write(os.environ["STORE_FIELD"].encode() + b"|")
        out.write(os.environ.get("RECONCILER_TEST_OUTSIDE", "absent").encode())
        """,
    )
    assert run_command(python(prog), env(STORE_FIELD="given")) == b"given|absent"


def test_the_program_is_found_on_the_given_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "fake-vault"
    tool.write_text(f"#!{sys.executable}\nimport sys\nprint('from-path:' + sys.argv[1])\n")
    tool.chmod(0o755)
    assert run_command(source("fake-vault", "kv"), {"PATH": str(bin_dir)}) == b"from-path:kv"


def test_no_shell_interprets_the_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ("$(touch pwned)", "`touch pwned2`; touch pwned3", "*", "a b", "$HOME")
    prog = program(tmp_path, "out.write('\\0'.join(sys.argv[1:]).encode())\n")
    assert run_command(python(prog, *args), env()) == "\0".join(args).encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog.py"]


def test_it_runs_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    prog = program(tmp_path, "out.write(os.getcwd().encode())\n")
    assert Path(os.fsdecode(run_command(python(prog), env()))).resolve() == tmp_path.resolve()


def test_standard_input_is_closed_and_there_is_no_terminal(tmp_path: Path) -> None:
    prog = program(
        tmp_path,
        """
        got = sys.stdin.buffer.read()
        try:
            os.open("/dev/tty", os.O_RDWR)
            tty = "tty"
        except OSError:
            tty = "no-tty"
        out.write(f"stdin={len(got)} {tty}".encode())
        """,
    )
    assert run_command(python(prog, timeout=20), env()) == b"stdin=0 no-tty"


# -- failures -------------------------------------------------------------------------------


def test_a_failing_command_shows_neither_its_output_nor_its_error_output(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    prog = program(
        tmp_path,
        f"""
        out.write(b"{CANARY}-stdout\\n"); out.flush()
        sys.stderr.write("{CANARY}-stderr: permission denied\\n" * 1000)
        sys.exit(3)
        """,
    )
    error = failure(python(prog))
    assert "exited with status 3" in error.detail
    assert error.detail.startswith(f"command:{sys.executable} ")
    assert error.hint == "run the command yourself to see its error output"
    printed = capfd.readouterr()  # what reached reconciler's own stdout and stderr
    assert CANARY not in printed.out + printed.err


def test_a_command_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    prog = program(tmp_path, f"out.write(b'{CANARY}'); out.flush()\nos.kill(os.getpid(), 15)\n")
    assert "was killed by signal SIGTERM" in failure(python(prog)).detail


@pytest.mark.parametrize("printed", [b"", b"\n", b"\r\n"])
def test_an_empty_value_is_an_error(tmp_path: Path, printed: bytes) -> None:
    prog = program(tmp_path, f"out.write({printed!r})\n")
    expected = "printed only a line ending" if printed else "printed nothing"
    assert f"{expected} on its standard output" in failure(python(prog)).detail


def test_a_missing_program_is_named_with_a_path_hint(tmp_path: Path) -> None:
    error = failure(source("reconciler-no-such-vault", "kv"), {"PATH": str(tmp_path)})
    assert 'program "reconciler-no-such-vault" was not found' in error.detail
    assert error.hint is not None and "PATH" in error.hint


def test_a_command_written_as_one_string_gets_the_list_hint(tmp_path: Path) -> None:
    error = failure(source("vault kv get -field=token secret/npm"), {"PATH": str(tmp_path)})
    assert "was not found" in error.detail
    assert error.hint is not None and "[vault, kv, get]" in error.hint


def test_a_file_without_execute_permission_is_not_executable(tmp_path: Path) -> None:
    tool = tmp_path / "get-token"
    tool.write_text(f"#!{sys.executable}\nprint('{CANARY}')\n")
    tool.chmod(0o644)
    error = failure(source(tool))
    assert f'program "{tool}" is not executable' in error.detail


def test_a_nul_in_an_argument_is_an_error_not_a_crash() -> None:
    error = failure(source(sys.executable, "-c", "print(1)\0"))
    assert "cannot run" in error.detail


def test_a_hanging_command_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    prog = program(
        tmp_path,
        f"""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open({str(pids) + ".tmp"!r}, "w") as f:
            f.write(f"{{os.getpid()}} {{child.pid}}")
        os.replace({str(pids) + ".tmp"!r}, {str(pids)!r})
        out.write(b"{CANARY}"); out.flush()
        time.sleep(120)
        """,
    )
    timeout = 2.0
    with killed_afterwards(pids):
        started = time.monotonic()
        error = failure(python(prog, timeout=timeout))
        elapsed = time.monotonic() - started
        assert "did not finish within 2 s" in error.detail
        assert elapsed < timeout + 5
        parent, grandchild = (int(p) for p in pids.read_text().split())
        assert reaped(parent)  # no zombie
        assert terminated(grandchild, within=5)  # no orphan


def test_a_child_holding_the_output_open_after_its_parent_exits_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    prog = program(
        tmp_path,
        f"""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open({str(pids)!r} + ".tmp", "w") as f:
            f.write(f"{{os.getpid()}} {{child.pid}}")
        os.replace({str(pids)!r} + ".tmp", {str(pids)!r})
        out.write(b"{CANARY}\\n")
        """,
    )
    with killed_afterwards(pids):
        error = failure(python(prog, timeout=1.5))
        assert "did not finish within 1.5 s" in error.detail
        parent, grandchild = (int(p) for p in pids.read_text().split())
        assert reaped(parent)
        assert terminated(grandchild, within=5)


def test_too_much_output_stops_the_writer_without_reading_it_all(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    prog = program(
        tmp_path,
        f"""
        with open({str(pids)!r}, "w") as f:
            f.write(str(os.getpid()))
        block = b"{CANARY}" * 8192
        while True:  # 10 MB+ if nobody stops it; blocks on the full pipe otherwise
            out.write(block)
        """,
    )
    with killed_afterwards(pids):
        started = time.monotonic()
        error = failure(python(prog, timeout=60))
        assert "more than GitHub's 48 KB limit (49152 bytes) and was stopped" in error.detail
        assert time.monotonic() - started < 30  # stopped at the limit, not by the timeout
        assert reaped(int(pids.read_text()))


def test_a_value_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    prog = program(tmp_path, f"out.write(b'x' * {MAX_VALUE_BYTES} + b'y\\n')\n")
    error = failure(python(prog))
    assert error.detail.endswith("more than GitHub's 48 KB limit (49152 bytes)")


# -- manifest validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "timeout"),
    [
        (["vault", "kv", "get", "-field=token", "secret/npm"], 20),
        (("op", "read", "op://vault/npm/token"), 30.0),
        (["bws"], MAX_TIMEOUT),
        (["sops", "-d", "--extract", '["npm"]', "secrets.yaml"], 0.5),
    ],
)
def test_commands_that_can_run(argv: list[str], timeout: float) -> None:
    assert command_problem(argv, timeout) is None


@pytest.mark.parametrize(
    ("argv", "timeout", "problem"),
    [
        ("vault kv get", 20, "command must be a list"),
        (b"vault", 20, "command must be a list"),
        ({"vault": 1}, 20, "command must be a list"),
        ([], 20, "command is an empty list"),
        (["vault", 3], 20, "command[1] is not text"),
        (["vault", None], 20, "command[1] is not text"),
        (["vault", ""], 20, "command[1] is empty"),
        (["vault\0", "kv"], 20, "command[0] holds a NUL character"),
        (["vault"], "20", "timeout must be a number"),
        (["vault"], True, "timeout must be a number"),
        (["vault"], None, "timeout must be a number"),
        (["vault"], 0, "timeout must be more than 0 and at most 600 seconds"),
        (["vault"], -1, "timeout must be more than 0"),
        (["vault"], MAX_TIMEOUT + 1, "at most 600 seconds"),
        (["vault"], float("nan"), "timeout must be more than 0"),
        (["vault"], float("inf"), "timeout must be more than 0"),
    ],
)
def test_commands_that_cannot(argv: object, timeout: object, problem: str) -> None:
    found = command_problem(argv, timeout)  # type: ignore[arg-type]
    assert found is not None and problem in found
