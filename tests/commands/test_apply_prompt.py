"""At a terminal, apply shows the plan and writes only after a typed `yes`.

Each test runs the real CLI (`python -m reconciler apply`) as a subprocess whose stdin,
stdout and stderr are a real pseudo-terminal, against the sandbox over HTTP, and reads the
terminal until the question appears before answering (no sleeps). Anything but `yes` (another
word, end of input, Ctrl-C) writes nothing; --auto-approve skips the question; a run without a
terminal (CI, pipes) is never asked; a plan with nothing to do or with problems asks nothing.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.errors import ExitStatus
from reconciler.sandbox import Sandbox
from tests.support.e2e import write_manifest

VALUE = "prompt-test-value-7c1e"
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        DEPLOY_KEY: {value: {env: DEPLOY_TOKEN}, visibility: private}
"""
QUESTION = b"Only 'yes' is accepted: "
TIMEOUT = 60.0  # a bound on a hung run, never a synchronisation


@dataclass
class Session:
    proc: subprocess.Popen[bytes]
    master: int
    seen: bytearray

    def read_until(self, marker: bytes) -> None:
        """Read the terminal until `marker` has appeared; fail if the run ends first."""
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.seen:
            if not self._read(deadline):
                pytest.fail(f"the run ended before {marker!r}:\n{self.text}")

    def finish(self) -> int:
        """Read the terminal to its end; the exit code."""
        deadline = time.monotonic() + TIMEOUT
        while self._read(deadline):
            pass
        return self.proc.wait(timeout=TIMEOUT)

    def answer(self, data: bytes) -> None:
        os.write(self.master, data)

    @property
    def text(self) -> str:
        return self.seen.decode("utf-8", "replace").replace("\r\n", "\n")

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"no output for {TIMEOUT}s:\n{self.text}")
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: every end of the terminal's other side is closed
            return False
        self.seen += chunk
        return bool(chunk)


def environ(sandbox: Sandbox, tmp_path: Path, *, value: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "RECON"))}
    env.update(
        GITHUB_TOKEN=sandbox.token,
        GITHUB_API_URL=sandbox.url,
        RECONCILER_LEDGER=str(tmp_path / "ledger.json"),
        RECONCILER_LEDGER_KEY="prompt-test-ledger-key-0123456789",
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    if value:
        env["DEPLOY_TOKEN"] = VALUE
    return env


def command(tmp_path: Path, *extra: str) -> list[str]:
    manifest = write_manifest(tmp_path, MANIFEST)
    return [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        str(manifest),
        "--write-delay",
        "0",
        *extra,
    ]


def on_terminal(args: list[str], env: dict[str, str]) -> Session:
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(args, env=env, stdin=slave, stdout=slave, stderr=slave)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)  # the child holds it now; its exit then ends our reads
    return Session(proc, master, bytearray())


def run_on_terminal(sandbox: Sandbox, tmp_path: Path, answer: bytes) -> tuple[int, str]:
    session = on_terminal(command(tmp_path), environ(sandbox, tmp_path))
    with session.proc:
        try:
            session.read_until(QUESTION)
            session.answer(answer)
            code = session.finish()
        finally:
            os.close(session.master)
            if session.proc.poll() is None:
                session.proc.kill()
                session.proc.wait()
    return code, session.text


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests if r.method in ("PUT", "DELETE", "POST")]


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    sandbox.add_org("octo-org")
    return sandbox


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"no\n", "the answer was not 'yes'"),
        (b"y\n", "the answer was not 'yes'"),  # only the whole word
        (b"\x04", "no answer: end of input"),  # Ctrl-D at the start of a line
    ],
)
def test_anything_but_yes_writes_nothing(
    org: Sandbox, tmp_path: Path, answer: bytes, reason: str
) -> None:
    code, text = run_on_terminal(org, tmp_path, answer)
    assert code == ExitStatus.ERROR, text
    plan_at, question_at = text.index("DEPLOY_KEY"), text.index("Apply this 1 change to GitHub?")
    assert plan_at < question_at  # the plan is shown before the question
    assert f"apply cancelled ({reason}); nothing was written" in text
    assert writes(org) == []
    assert org.secrets("octo-org", "actions") == {}
    assert not (tmp_path / "ledger.json").exists()
    assert "Traceback" not in text and VALUE not in text


def test_yes_applies(org: Sandbox, tmp_path: Path) -> None:
    code, text = run_on_terminal(org, tmp_path, b"yes\n")
    assert code == ExitStatus.OK, text
    assert writes(org) == [("PUT", "/orgs/octo-org/actions/secrets/DEPLOY_KEY")]
    assert list(org.secrets("octo-org", "actions")) == ["DEPLOY_KEY"]
    assert "Apply: 1 done, 0 failed, 0 skipped" in text
    assert VALUE not in text


def test_ctrl_c_at_the_question_exits_130_and_writes_nothing(org: Sandbox, tmp_path: Path) -> None:
    session = on_terminal(command(tmp_path), environ(org, tmp_path))
    with session.proc:
        try:
            session.read_until(QUESTION)
            session.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground job
            code = session.finish()
        finally:
            os.close(session.master)
            if session.proc.poll() is None:
                session.proc.kill()
                session.proc.wait()
    assert code == ExitStatus.INTERRUPTED, session.text
    assert "apply cancelled (Ctrl-C); nothing was written" in session.text
    assert "Traceback" not in session.text
    assert writes(org) == []


def terminal_without_question(sandbox: Sandbox, tmp_path: Path, *extra: str) -> tuple[int, str]:
    session = on_terminal(command(tmp_path, *extra), environ(sandbox, tmp_path))
    with session.proc:
        try:
            code = session.finish()  # never answered: a question would hang until TIMEOUT
        finally:
            os.close(session.master)
            if session.proc.poll() is None:
                session.proc.kill()
                session.proc.wait()
    assert QUESTION.decode() not in session.text
    return code, session.text


def test_auto_approve_at_a_terminal_applies_without_asking(org: Sandbox, tmp_path: Path) -> None:
    code, text = terminal_without_question(org, tmp_path, "--auto-approve")
    assert code == ExitStatus.OK, text
    assert writes(org) == [("PUT", "/orgs/octo-org/actions/secrets/DEPLOY_KEY")]
    assert list(org.secrets("octo-org", "actions")) == ["DEPLOY_KEY"]


def test_a_plan_without_changes_asks_nothing(org: Sandbox, tmp_path: Path) -> None:
    code, text = terminal_without_question(org, tmp_path, "--auto-approve")
    assert code == ExitStatus.OK, text
    org.clear_requests()
    code, text = terminal_without_question(org, tmp_path)
    assert code == ExitStatus.OK, text
    assert writes(org) == []


def test_problems_are_reported_before_any_question(org: Sandbox, tmp_path: Path) -> None:
    session = on_terminal(command(tmp_path), environ(org, tmp_path, value=False))
    with session.proc:
        try:
            code = session.finish()
        finally:
            os.close(session.master)
            if session.proc.poll() is None:
                session.proc.kill()
                session.proc.wait()
    assert code == ExitStatus.ERROR, session.text
    assert "DEPLOY_TOKEN" in session.text  # the unreadable source is named
    assert QUESTION.decode() not in session.text
    assert writes(org) == []


def test_without_a_terminal_nothing_is_asked(org: Sandbox, tmp_path: Path) -> None:
    with subprocess.Popen(
        command(tmp_path),
        env=environ(org, tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        out, err = proc.communicate("no\n", timeout=TIMEOUT)  # an answer that would cancel
    assert proc.returncode == ExitStatus.OK, err
    assert "Only 'yes'" not in out + err
    assert writes(org) == [("PUT", "/orgs/octo-org/actions/secrets/DEPLOY_KEY")]
    assert "Apply: 1 done, 0 failed, 0 skipped" in out
