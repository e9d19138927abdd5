"""Nothing is lost: the ledger under concurrent runs, failed saves, unwritable locations, and
ledgers larger than the contents API's 1 MB limit.

A careless user runs two applies at once against one ledger file, points the ledger or
`--results` somewhere unwritable, or gives a token that cannot push to the ledger's
repository; a server refuses the ledger's save after apply has written. Each time the
promise holds: no ledger update is lost, nothing is written to GitHub that cannot be
recorded, and when recording fails anyway the results are out and the error says which
writes were made and how to recover.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from reconciler.ledger.format import Entry, Ledger, dump_ledger, parse_ledger
from reconciler.ledger.stores import FileLedgerStore
from reconciler.sandbox import CONTENTS_LIMIT, PERMISSION_KEYS, Fault, Sandbox
from tests.support.e2e import Run, run, write_manifest
from tests.support.paths import REPO_ROOT
from tests.support.sandbox_client import Api

KEY = "ledger-key-for-safety-tests-0123456789"
VALUES = {"NPM_TOKEN": "npm-value-77aa31", "WEB_TOKEN": "web-value-0b9e44"}
LEDGER_REPO = "octo-org/platform"
LEDGER_BRANCH = "reconciler-ledger"
LEDGER_PATH = "state/ledger.json"
GITHUB_LEDGER = f"github:{LEDGER_REPO}@{LEDGER_BRANCH}:{LEDGER_PATH}"
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}, visibility: private}
repos:
  octo-org/web:
    actions:
      secrets:
        WEB_TOKEN: {value: {env: WEB_TOKEN}}
"""
WRITTEN = ("octo-org actions NPM_TOKEN (create)", "octo-org/web actions WEB_TOKEN (create)")


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "platform"):
        sandbox.add_repo(f"octo-org/{name}")
    sandbox.add_branch(LEDGER_REPO, LEDGER_BRANCH)
    return sandbox


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path, MANIFEST)


def _env(**extra: str) -> dict[str, str]:
    return {**VALUES, "RECONCILER_LEDGER_KEY": KEY, **extra}


def _apply(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, manifest: Path, *extra: str, **env: str
) -> Run:
    args = ["apply", str(manifest), "--write-delay", "0", *extra]
    return run(capsys, args, _env(**env), sb=sb)


def _writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sb.requests if r.method in ("PUT", "DELETE", "POST")]


def _assert_no_value_in(*texts: str) -> None:
    for text in texts:
        for value in VALUES.values():
            assert value not in text
            assert base64.b64encode(value.encode()).decode() not in text
            assert value.encode().hex() not in text


# -- concurrent runs on one ledger file ---------------------------------------------------------

_SAVER = """
import sys
from pathlib import Path
from reconciler.ledger.format import Entry
from reconciler.ledger.stores import FileLedgerStore

path, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = FileLedgerStore(Path(path))
print("ready", flush=True)
sys.stdin.readline()  # every worker starts saving at the same moment
for i in range(count):
    key = ("repo", f"octo-org/w{worker}", "actions", f"S{i}")
    store.save({key: Entry(f"2030-01-01T00:00:{i % 60:02d}Z", source=f"env:W{worker}")}, None)
print("done", flush=True)
"""


def test_concurrent_applies_never_lose_each_others_ledger_updates(tmp_path: Path) -> None:
    workers, saves = 4, 40
    ledger = tmp_path / "shared" / "ledger.json"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(ledger), str(w), str(saves)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.strip() == "done"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    final = parse_ledger(ledger.read_text(encoding="utf-8"), str(ledger))
    expected = {
        ("repo", f"octo-org/w{w}", "actions", f"S{i}") for w in range(workers) for i in range(saves)
    }
    assert set(final.entries) == expected  # every update of every run is there
    assert [p.name for p in ledger.parent.iterdir()] == ["ledger.json"]  # no temp or lock file


# -- checked before the first write ---------------------------------------------------------


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only filesystem (/sys)")
def test_an_unwritable_ledger_file_location_refuses_before_any_write(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /sys refuses new files even to root: the same answer as a read-only directory.
    result = _apply(capsys, org, manifest, "--ledger", "/sys/ledger.json")
    assert result.code == 1, result.err
    assert "/sys/ledger.json: the ledger cannot be written there" in result.err
    assert "nothing was written to GitHub" in result.err
    assert "Traceback" not in result.err
    assert _writes(org) == []


def test_a_token_that_cannot_push_to_the_ledger_repository_refuses_before_any_write(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Writes secrets, only reads contents: the ledger could never be saved.
    permissions = dict.fromkeys(PERMISSION_KEYS.values(), "write")
    permissions.update(contents="read", metadata="read")
    org.add_token("secrets-only", permissions)
    result = _apply(capsys, org, manifest, "--ledger", GITHUB_LEDGER, GITHUB_TOKEN="secrets-only")
    assert result.code == 1, result.err
    assert f"{GITHUB_LEDGER}: the token cannot write to {LEDGER_REPO}" in result.err
    assert "permissions.push is false" in result.err
    assert "nothing was written to GitHub" in result.err
    assert "Contents (write)" in result.err
    assert _writes(org) == []


def test_an_unwritable_results_file_refuses_before_any_request(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.clear_requests()
    target = tmp_path / "no-such-dir" / "results.json"
    result = _apply(capsys, org, manifest, "--results", str(target))
    assert result.code == 64, result.err
    assert f'--results "{target}" cannot be written' in result.err
    assert "Traceback" not in result.err
    assert org.requests == []


# -- results survive a failed save ------------------------------------------------------------


def test_results_are_written_when_the_ledger_save_fails_and_rerunning_recovers(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The preflight passes; the save itself is refused (as a branch rule would)."""
    org.add_fault(Fault("status", status=403, method="PUT", path_pattern=r"/contents/"))
    results_file, summary = tmp_path / "results.json", tmp_path / "summary.md"
    result = _apply(
        capsys,
        org,
        manifest,
        "--ledger",
        GITHUB_LEDGER,
        "--results",
        str(results_file),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    # Every write was made...
    assert sorted(org.secrets("octo-org", "actions")) == ["NPM_TOKEN"]
    assert sorted(org.secrets("octo-org/web", "actions")) == ["WEB_TOKEN"]
    # ...and every output says so, though the ledger failed afterwards.
    assert "Apply: 2 done, 0 failed, 0 skipped" in result.out
    doc = json.loads(results_file.read_text(encoding="utf-8"))
    assert sorted(r["name"] for r in doc["results"] if r["outcome"] == "done") == [
        "NPM_TOKEN",
        "WEB_TOKEN",
    ]
    assert "NPM_TOKEN" in summary.read_text(encoding="utf-8")
    # The error says which writes were made, where recording failed, and how to recover.
    assert "GitHub was changed (2 writes" in result.err
    assert f"recording them in the ledger {GITHUB_LEDGER} failed" in result.err
    for line in WRITTEN:
        assert line in result.err
    assert "re-run apply: it is safe" in result.err
    assert org.file(LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH) is None
    _assert_no_value_in(result.out, result.err, results_file.read_text(encoding="utf-8"))
    # The recovery the message promises works.
    org.clear_faults()
    again = _apply(capsys, org, manifest, "--ledger", GITHUB_LEDGER)
    assert again.code == 0, again.err
    recorded = org.file(LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    assert recorded is not None
    names = {k[3] for k in parse_ledger(recorded.decode(), "branch").entries}
    assert names == {"NPM_TOKEN", "WEB_TOKEN"}


# -- a github: ledger over the contents API's 1 MB ------------------------------------------


def _big_ledger(count: int) -> bytes:
    entries = {
        ("repo", f"octo-org/r{i:05d}", "actions", f"SECRET_{i:05d}"): Entry(
            "2030-01-01T00:00:00Z", f"hmac-sha256:{i:064x}", f"env:SOURCE_{i:05d}"
        )
        for i in range(count)
    }
    return dump_ledger(Ledger(MappingProxyType(entries))).encode()


def test_a_github_ledger_over_one_megabyte_reads_and_writes(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = _big_ledger(6000)
    assert len(big) > CONTENTS_LIMIT
    org.put_file(LEDGER_REPO, LEDGER_PATH, big, branch=LEDGER_BRANCH)
    org.clear_requests()
    applied = _apply(capsys, org, manifest, "--ledger", GITHUB_LEDGER)
    assert applied.code == 0, applied.err
    # The contents API gave no content; the blob came from the git blobs API.
    gets = [x for x in org.exchanges if x.method == "GET" and "/contents/" in x.url]
    assert gets and all(json.loads(x.response_body)["encoding"] == "none" for x in gets)
    assert any(r.method == "GET" and "/git/blobs/" in r.path for r in org.requests)
    recorded = org.file(LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    assert recorded is not None and len(recorded) > CONTENTS_LIMIT
    entries = parse_ledger(recorded.decode(), "branch").entries
    assert len(entries) == 6002  # every old entry kept, both new ones added
    assert {"NPM_TOKEN", "WEB_TOKEN"} <= {k[3] for k in entries}
    # Read back once more: the plan is exact (values known equal), so nothing to do.
    replan = run(
        capsys,
        ["plan", str(manifest), "--ledger", GITHUB_LEDGER, "--detailed-exitcode"],
        _env(),
        sb=org,
    )
    assert replan.code == 0, replan.out + replan.err


def test_the_file_ledger_store_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    store = FileLedgerStore(tmp_path / "new" / "ledger.json")
    store.check_writable()
    assert list((tmp_path / "new").iterdir()) == []


def test_the_sandbox_serves_large_files_as_github_does(org: Sandbox, api: Api) -> None:
    small, large = b"small ledger\n", b"x" * (CONTENTS_LIMIT + 1)
    for path, data in (("small.json", small), ("large.json", large)):
        org.put_file(LEDGER_REPO, path, data, branch=LEDGER_BRANCH)
    base, ref = f"/repos/{LEDGER_REPO}", {"ref": LEDGER_BRANCH}
    got_small = api.get(f"{base}/contents/small.json", params=ref).json()
    assert got_small["encoding"] == "base64"
    assert base64.b64decode(got_small["content"]) == small
    got_large = api.get(f"{base}/contents/large.json", params=ref).json()
    assert (got_large["encoding"], got_large["content"]) == ("none", "")
    assert got_large["size"] == len(large)
    for got, data in ((got_small, small), (got_large, large)):
        blob = api.get(f"{base}/git/blobs/{got['sha']}")
        assert blob.status_code == 200
        assert blob.json()["encoding"] == "base64"
        assert base64.b64decode(blob.json()["content"]) == data
        assert blob.json()["size"] == len(data)
    assert api.get(f"{base}/git/blobs/{'0' * 40}").status_code == 404
