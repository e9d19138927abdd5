"""`reconciler encrypt`: a value from stdin into an age value file, judged by the real `age`
CLI (tests/values/age_cli.py), through the CLI entry, a real pipe and a real terminal."""

from __future__ import annotations

import contextlib
import io
import os
import select
import subprocess
import sys
import termios
import time
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.commands import encrypt as encrypt_command
from reconciler.errors import ExitStatus, UsageError
from reconciler.model import AgeSource, Location
from reconciler.values.age_files import read_value_file
from tests.support.e2e import Run, cli_env, run
from tests.values.age_cli import Key, age_decrypt, age_encrypt, block_of, keygen, value_file

VALUE = b"canary-encrypt-value-6d1f0b"
TIMEOUT = 60.0  # a bound on a hung run, never a synchronisation


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> Key:
    return keygen(tmp_path_factory.mktemp("keys"), "alice")


@pytest.fixture(scope="module")
def bob(tmp_path_factory: pytest.TempPathFactory) -> Key:
    return keygen(tmp_path_factory.mktemp("keys"), "bob")


def encrypt(capsys: pytest.CaptureFixture[str], stdin: bytes, *args: str) -> Run:
    result = run(capsys, ["encrypt", *args], {}, base=cli_env(stdin=stdin))
    for form in (VALUE.decode(), VALUE.hex()):
        assert form not in result.out + result.err
    assert "Traceback" not in result.err
    return result


def ciphertext(path: Path, name: str) -> str:
    """The armored value `name` as the file holds it now."""
    source = AgeSource(path.name, name, str(path.parent), Location("m.yaml", 1, 1))
    return read_value_file(source).ciphertext(source)


_KEPT = "note: kept the value's trailing newline (pass --strip-newline to drop it)\n"


def test_create_add_and_rotate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key, bob: Key
) -> None:
    path = tmp_path / "prod.age.yaml"
    created = encrypt(
        capsys,
        VALUE + b"\n",
        str(path),
        "NPM_TOKEN",
        "-r",
        alice.recipient,
        "--recipient",
        bob.recipient,
    )
    assert created.code == 0, created.err
    assert created.out == f"created {path} with NPM_TOKEN (encrypted to 2 recipients)\n"
    assert created.err == _KEPT
    assert age_decrypt(ciphertext(path, "NPM_TOKEN"), bob) == VALUE + b"\n"

    added = encrypt(capsys, b"other\r\n", str(path), "OTHER", "--strip-newline")
    assert added.code == 0, added.err
    assert added.out == f"added OTHER to {path} (encrypted to 2 recipients)\n"
    assert added.err == ""
    assert age_decrypt(ciphertext(path, "OTHER"), alice) == b"other"

    before = path.read_text()
    rotated = encrypt(
        capsys, VALUE, str(path), "NPM_TOKEN", "--recipient", bob.recipient, "-r", alice.recipient
    )
    assert rotated.code == 0, rotated.err
    assert rotated.out == f"rotated NPM_TOKEN in {path} (encrypted to 2 recipients)\n"
    assert block_of(path.read_text(), "OTHER") == block_of(before, "OTHER")
    assert age_decrypt(ciphertext(path, "NPM_TOKEN"), alice) == VALUE


def test_rotating_one_value_of_a_hand_written_file_leaves_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key, bob: Key
) -> None:
    values = {name: age_encrypt(name.encode(), alice.recipient, bob.recipient) for name in "ABC"}
    path = tmp_path / "team.age.yaml"
    path.write_text(value_file([alice.recipient, bob.recipient], values))
    before = path.read_text()
    result = encrypt(capsys, VALUE, str(path), "B")
    assert result.code == 0, result.err
    assert result.out == f"rotated B in {path} (encrypted to 2 recipients)\n"
    after = path.read_text()
    for name in "AC":
        assert block_of(after, name) == block_of(before, name)
        assert age_decrypt(ciphertext(path, name), bob) == name.encode()
    assert block_of(after, "B") != block_of(before, "B")
    assert (
        age_decrypt(ciphertext(path, "B"), alice)
        == VALUE
        == age_decrypt(ciphertext(path, "B"), bob)
    )
    assert [line for line in after.splitlines() if "#" in line] == [
        line for line in before.splitlines() if "#" in line
    ]


def _cases(alice: Key) -> list[tuple[str, bytes, list[str], int, str]]:
    """(case, stdin, arguments after FILE, exit status, what stderr says)."""
    usage = ExitStatus.USAGE
    r = ["--recipient", alice.recipient]
    return [
        ("empty", b"", ["N", *r], usage, "no value on stdin"),
        ("newlines only", b"\r\n\n", ["N", *r, "--strip"], usage, "no value on stdin"),
        ("too large", b"x" * (48 * 1024 + 1), ["N", *r], usage, "larger than GitHub's 48 KB"),
        ("bad name", VALUE, ["ghp/" + VALUE.decode(), *r], usage, "NAME must be 1-200 letters"),
        (
            "secret key",
            VALUE,
            ["N", "--recipient", alice.secret],
            usage,
            "--recipient 1 is an age SECRET key",
        ),
        (
            "not a key",
            VALUE,
            ["N", *r, "-r", "nobody"],
            usage,
            "--recipient 2 is not an age X25519",
        ),
        ("no recipient", VALUE, ["N"], usage, "does not exist; a new value file needs --recipient"),
        ("no directory", VALUE, ["N", *r], ExitStatus.ERROR, "its directory does not exist"),
        (
            "extra word",
            VALUE,
            ["N", VALUE.decode(), *r],
            usage,
            "1 positional argument (not shown)",
        ),
    ]


def test_refusals_are_clear_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key, bob: Key
) -> None:
    path = tmp_path / "v.age.yaml"
    for case, stdin, args, status, message in _cases(alice):
        target = tmp_path / "none" / path.name if case == "no directory" else path
        result = encrypt(capsys, stdin, str(target), *args)
        assert result.code == status, (case, result.err)
        assert message in result.err, (case, result.err)
        assert result.out == "", case
        assert alice.secret not in result.err
        assert not path.exists(), case


def test_refusals_about_an_existing_file_leave_it_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key, bob: Key
) -> None:
    path = tmp_path / "v.age.yaml"
    path.write_text(value_file([alice.recipient], {"A": age_encrypt(b"a", alice.recipient)}))
    other = encrypt(capsys, VALUE, str(path), "A", "--recipient", bob.recipient)
    assert other.code == ExitStatus.USAGE
    assert "lists other recipients than --recipient gives" in other.err
    path.write_text(path.read_text() + "  A: again\n")
    damaged = path.read_bytes()
    broken = encrypt(capsys, VALUE, str(path), "B")
    assert broken.code == ExitStatus.ERROR
    assert f"age value file {path}:" in broken.err and "`values` has A twice" in broken.err
    assert path.read_bytes() == damaged
    assert os.listdir(tmp_path) == ["v.age.yaml"]


def test_a_real_pipe_is_encrypted_byte_for_byte(tmp_path: Path, alice: Key) -> None:
    path = tmp_path / "v.age.yaml"
    value = b"piped-\x00\xff-binary"
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "encrypt", str(path), "BIN", "-r", alice.recipient],
        input=value,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""  # no prompt, no newline note
    assert age_decrypt(ciphertext(path, "BIN"), alice) == value


# -- at a terminal -------------------------------------------------------------------------------


def _read_until(master: int, seen: bytearray, marker: bytes) -> None:
    deadline = time.monotonic() + TIMEOUT
    while marker not in seen:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"no {marker!r} within {TIMEOUT}s: {bytes(seen)!r}")
        try:
            chunk = os.read(master, 1024)
        except OSError:  # EIO: the run ended
            chunk = b""
        if not chunk:
            pytest.fail(f"the run ended before {marker!r}: {bytes(seen)!r}")
        seen += chunk


def _typed(path: Path, alice: Key, first: bytes, second: bytes) -> tuple[int, str, bytes, bool]:
    """Run encrypt on a terminal, type `first` and `second`: exit status, stdout, everything
    the terminal showed, and whether echo was back on at the end."""
    master, slave = os.openpty()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "encrypt",
        str(path),
        "TYPED",
        "-r",
        alice.recipient,
    ]
    seen = bytearray()
    try:
        with subprocess.Popen(
            command,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            env={"PATH": os.environ.get("PATH", "")},
        ) as proc:
            os.close(slave)
            slave = -1
            _read_until(master, seen, b"Enter ends it): ")  # echo is off before the prompt
            os.write(master, first + b"\n")
            _read_until(master, seen, b"again, to confirm: ")
            os.write(master, second + b"\n")
            assert proc.stdout is not None
            out = proc.stdout.read().decode()
            code = proc.wait(timeout=TIMEOUT)
            while select.select([master], [], [], 0)[0]:
                try:
                    chunk = os.read(master, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        echo = bool(termios.tcgetattr(master)[3] & termios.ECHO)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    return code, out, bytes(seen), echo


def test_a_typed_value_is_asked_twice_and_never_echoed(tmp_path: Path, alice: Key) -> None:
    path = tmp_path / "v.age.yaml"
    code, out, seen, echo = _typed(path, alice, VALUE, VALUE)
    assert code == 0, seen
    assert out == f"created {path} with TYPED (encrypted to 1 recipient)\n"
    assert VALUE not in seen  # the terminal showed the prompts, never what was typed
    assert echo
    assert age_decrypt(ciphertext(path, "TYPED"), alice) == VALUE  # Enter is not the value


def test_two_different_typed_values_write_nothing(tmp_path: Path, alice: Key) -> None:
    path = tmp_path / "v.age.yaml"
    code, out, seen, echo = _typed(path, alice, VALUE, VALUE + b"x")
    assert code == ExitStatus.USAGE
    assert b"the two values typed differ; nothing was written" in seen
    assert out == "" and VALUE not in seen and echo
    assert not path.exists()


class _Typist(io.StringIO):
    """stderr for an in-process run on a pty: each prompt, once written (echo is off by then),
    is answered by typing the next line on the terminal's other side."""

    def __init__(self, master: int, lines: list[bytes]) -> None:
        super().__init__()
        self.master = master
        self.lines = lines

    def write(self, text: str) -> int:
        written = super().write(text)
        if text.endswith(": ") and self.lines:
            os.write(self.master, self.lines.pop(0) + b"\n")
        return written


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([VALUE, VALUE], None),
        ([VALUE, VALUE + b"!"], "the two values typed differ; nothing was written"),
        ([b""], "no value typed"),
    ],
)
def test_typing_in_process(lines: list[bytes], message: str | None) -> None:
    master, slave = os.openpty()
    try:
        stdin = os.fdopen(slave, "r", closefd=False)
        stderr = _Typist(master, list(lines))
        if message is None:
            assert encrypt_command.read_value(stdin, stderr, strip=False) == VALUE
        else:
            with pytest.raises(UsageError, match=message):
                encrypt_command.read_value(stdin, stderr, strip=False)
        assert termios.tcgetattr(slave)[3] & termios.ECHO  # restored, whatever happened
        os.set_blocking(master, False)
        with contextlib.suppress(BlockingIOError):
            assert VALUE not in os.read(master, 1 << 20)  # nothing typed came back
    finally:
        os.close(master)
        os.close(slave)
    assert stderr.getvalue().startswith("value (not shown; Enter ends it): \n")


class _NoEcho(io.StringIO):
    """A terminal whose echo cannot be turned off (no file descriptor)."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_without_echo_control_is_refused_with_the_pipe_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key
) -> None:
    env = replace(cli_env(), stdin=_NoEcho())
    args = ["encrypt", str(tmp_path / "v.age.yaml"), "N", "-r", alice.recipient]
    result = run(capsys, args, {}, base=env)
    assert result.code == ExitStatus.USAGE
    assert "cannot turn off echo on this terminal" in result.err
    assert "pipe the value instead: e.g. reconciler encrypt FILE NAME < value.txt" in result.err


def test_a_rewritten_layout_is_said_and_a_directory_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alice: Key
) -> None:
    armored = age_encrypt(b"old", alice.recipient).strip().replace("\n", "\\n")
    path = tmp_path / "flow.age.yaml"
    path.write_text(
        f'{{reconciler-age: 1, recipients: [{alice.recipient}], values: {{A: "{armored}"}}}}\n'
    )
    result = encrypt(capsys, VALUE, str(path), "B")
    assert result.code == 0, result.err
    assert result.err == (
        f"note: rewrote {path} in the layout reconciler writes; comments in it were not kept "
        "(its other values' ciphertext was)\n"
    )
    assert age_decrypt(ciphertext(path, "A"), alice) == b"old"
    refused = encrypt(capsys, VALUE, str(tmp_path), "B")
    assert refused.code == ExitStatus.ERROR
    assert f'age value file "{tmp_path}" is a directory, not a regular file' in refused.err
