"""Ctrl-C during the write delay stops before the next write, at once.

A user runs apply with a long `--write-delay` and presses Ctrl-C after the first write:
the pause ends immediately (no waiting out the delay), no further write is made, the one
that was made is recorded in the ledger and reported, and apply exits 130. Driven as a
real subprocess and a real SIGINT, synchronised on the progress line apply prints on
stderr after its first write.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.ledger.format import parse_ledger
from reconciler.sandbox import Sandbox
from tests.support.e2e import write_manifest

VALUES = {"A_TOKEN": "a-value-1d4e", "B_TOKEN": "b-value-2f5a", "C_TOKEN": "c-value-3c6b"}
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        A: {value: {env: A_TOKEN}, visibility: private}
        B: {value: {env: B_TOKEN}, visibility: private}
        C: {value: {env: C_TOKEN}, visibility: private}
"""
RESULT_LINE = re.compile(r"^\s*(ok|FAILED|skipped)  ")
WRITE_DELAY = 600  # far longer than the test may take: only an immediate stop passes


def test_sigint_during_the_write_delay_stops_at_once_and_records_what_was_done(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.add_org("octo-org")
    manifest = write_manifest(tmp_path, MANIFEST)
    ledger, results = tmp_path / "ledger.json", tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "RECON"))}
    env.update(
        VALUES,
        GITHUB_TOKEN=sandbox.token,
        GITHUB_API_URL=sandbox.url,
        RECONCILER_LEDGER=str(ledger),
        RECONCILER_LEDGER_KEY="interrupt-test-ledger-key-0123456789",
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "reconciler", "apply", str(manifest)]
    command += ["--write-delay", str(WRITE_DELAY), "--results", str(results)]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    early: list[str] = []
    try:
        while True:
            line = proc.stderr.readline()
            if not line:
                pytest.fail(f"apply ended before its first write:\n{''.join(early)}")
            early.append(line)
            if RESULT_LINE.match(line):
                break  # the first write is done; apply now waits WRITE_DELAY seconds
        signalled = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=60)
        stopped_after = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(early) + rest
    assert proc.returncode == 130, err
    assert stopped_after < 60 < WRITE_DELAY  # the pause did not run its course
    assert "Traceback" not in err
    # Exactly the write made before the signal, and nothing after it.
    puts = [r.path for r in sandbox.requests if r.method in ("PUT", "DELETE")]
    assert puts == ["/orgs/octo-org/actions/secrets/A"]
    assert sorted(sandbox.secrets("octo-org", "actions")) == ["A"]
    assert "Apply: 1 done, 0 failed, 2 skipped" in out
    assert len(re.findall(r"skipped  .*: interrupted before this write", err)) == 2
    # What was done is recorded and reported.
    recorded = parse_ledger(ledger.read_text(encoding="utf-8"), str(ledger))
    assert {k[3] for k in recorded.entries} == {"A"}
    doc = json.loads(results.read_text(encoding="utf-8"))
    assert [(r["name"], r["outcome"]) for r in doc["results"]] == [
        ("A", "done"),
        ("B", "skipped"),
        ("C", "skipped"),
    ]
    for value in VALUES.values():
        assert value not in out + err
