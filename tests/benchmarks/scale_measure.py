"""Measuring for `bench_scale.py`: the sandbox launcher's controls, and one child process's
wall time, CPU and peak memory, with the requests the sandbox saw it make."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Counts:
    total: int
    not_modified: int
    first_at: float | None  # time.time() of the first request's arrival
    peak: int  # most requests in flight at once
    errors: int
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def primary(self) -> int:
        """Counted against the primary rate limit: all but the 304s."""
        return self.total - self.not_modified


class SandboxProcess:
    """The launcher (`scale_sandbox.py`) in its own process; `reset` and `count` over a pipe."""

    def __init__(self, seed_path: Path, latency: float) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(HERE / "scale_sandbox.py"), str(seed_path), str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._line()

    def _line(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox launcher exited ({self._proc.wait()})")
        return line.strip()

    def _ask(self, command: str) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer

    def reset(self) -> None:
        self._ask("reset")

    def count(self) -> Counts:
        return Counts(**self._ask("count"))

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # end of stdin stops the launcher
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@dataclass(frozen=True, slots=True)
class Run:
    """One child process, measured."""

    exit_code: int
    wall: float  # seconds from spawn to exit
    cpu: float  # user + sys seconds of the child alone
    maxrss_kb: int  # peak resident memory of the child (ru_maxrss, KB on Linux)
    counts: Counts
    first_request: float | None  # seconds from spawn to the first request's arrival
    stdout: str
    stderr: str


def run_child(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, sandbox: SandboxProcess
) -> Run:
    """Run argv to completion; its rusage via wait4, its requests from the sandbox's log."""
    sandbox.reset()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        clock = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=dict(env), cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - clock
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    counts = sandbox.count()
    first = None if counts.first_at is None else counts.first_at - started
    cpu = usage.ru_utime + usage.ru_stime
    return Run(code, wall, cpu, usage.ru_maxrss, counts, first, stdout, stderr)


@dataclass(frozen=True, slots=True)
class PlanFeatures:
    """What this checkout's `plan` offers, read from its --help."""

    cache_dir: bool  # `--cache-dir DIR`: the conditional-request cache
    concurrency: int  # the default of `--concurrency`
    concurrency_known: bool


def plan_features(env: Mapping[str, str]) -> PlanFeatures:
    argv = [sys.executable, "-m", "reconciler", "plan", "--help"]
    text = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    match = re.search(r"--concurrency CONCURRENCY [^-]*?default (\d+)", flat)
    return PlanFeatures(
        cache_dir="--cache-dir" in flat,
        concurrency=int(match.group(1)) if match else 8,
        concurrency_known=match is not None,
    )
