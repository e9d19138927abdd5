"""The conditional-request cache, end to end: the real CLI against the sandbox, whose ETags are
specific to the token that asked (as GitHub's are) and whose 304s cost no primary rate limit.

A warm re-plan costs (almost) nothing against the rate limit; an `apply plan.json` right after
the reviewed plan neither; a change on GitHub is seen at once; the cache holds no token and no
secret value; a corrupt, foreign or tampered entry is ignored, never trusted; another token
never reuses an entry; a cache that cannot be written is a warning, not a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox
from reconciler.sandbox.rules.permissions import PERMISSION_KEYS
from tests.support.e2e import Run, run, write_manifest

VALUE = "cache-test-secret-value-7d1c"
ENV = {"TEAM_TOKEN": VALUE, "RECONCILER_LEDGER_KEY": "cache-ledger-key-0123456789abcdef"}
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: TEAM_TOKEN}, visibility: selected, repositories: [web, docs]}
        PLAIN: {value: {env: TEAM_TOKEN}}
      variables:
        REGION: {value: eu-west-1}
repos:
  octo-org/web:
    actions:
      secrets: {DEPLOY_TOKEN: {value: {env: TEAM_TOKEN}}}
    environments:
      production:
        secrets: {DB_PASSWORD: {value: {env: TEAM_TOKEN}}}
"""


@pytest.fixture
def applied(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A manifest applied (no cache), so every later plan is a no-op."""
    for repo in ("web", "docs"):
        sandbox.add_repo(f"octo-org/{repo}")
    manifest = write_manifest(tmp_path, MANIFEST)
    done = _run(capsys, sandbox, tmp_path, "apply", str(manifest), "--auto-approve", "--no-cache")
    assert done.code == 0, done.err
    return manifest


def _run(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, tmp_path: Path, *args: str) -> Run:
    env = {**ENV, "RECONCILER_LEDGER": str(tmp_path / "ledger.json")}
    return run(
        capsys, [*args, "--write-delay", "0"] if args[0] == "apply" else list(args), env, sandbox
    )


def _plan(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, tmp_path: Path, *extra: str
) -> dict[str, int]:
    result = _run(
        capsys,
        sandbox,
        tmp_path,
        "plan",
        str(tmp_path / "secrets.yaml"),
        "--format",
        "json",
        *extra,
    )
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["changes"] == [], "the plan is a no-op"
    api: dict[str, int] = doc["api"]
    return api


def test_a_warm_re_plan_costs_no_rate_limit(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold = _plan(capsys, sandbox, tmp_path, *cache)
    sandbox.clear_requests()
    warm = _plan(capsys, sandbox, tmp_path, *cache)
    assert cold["not_modified"] == 0 and cold["rate_limit_counted"] == cold["requests_made"]
    assert warm["requests_made"] == cold["requests_made"] > 5
    assert warm["not_modified"] == warm["requests_made"]
    assert warm["rate_limit_counted"] <= 0.05 * cold["rate_limit_counted"]
    # The sandbox agrees: every request of the warm plan was answered 304.
    assert {r.status for r in sandbox.requests} == {304}
    assert warm["rate_limit_remaining"] == cold["rate_limit_remaining"]


def test_apply_of_the_reviewed_plan_re_reads_at_no_cost(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    # A change to review: one more repository in the selection.
    sandbox.add_repo("octo-org/api")
    edited = MANIFEST.replace("repositories: [web, docs]", "repositories: [web, docs, api]")
    manifest = write_manifest(tmp_path, edited)
    reviewed = _run(
        capsys, sandbox, tmp_path, "plan", str(manifest), "--out", str(tmp_path / "p.json"), *cache
    )
    assert reviewed.code == 0, reviewed.err
    sandbox.clear_requests()
    done = _run(
        capsys, sandbox, tmp_path, "apply", str(tmp_path / "p.json"), "--auto-approve", *cache
    )
    assert done.code == 0, done.err
    reads = [r for r in sandbox.requests if r.method == "GET"]
    writes = [r for r in sandbox.requests if r.method != "GET"]
    assert len(writes) == 1  # the one repository added
    before_write = [
        r for r in reads if sandbox.requests.index(r) < sandbox.requests.index(writes[0])
    ]
    assert before_write and {r.status for r in before_write} == {304}


def test_a_change_on_github_is_seen_at_once(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    _plan(capsys, sandbox, tmp_path, *cache)
    sandbox.delete_secret("octo-org/web", "actions", "DEPLOY_TOKEN")
    result = _run(capsys, sandbox, tmp_path, "plan", str(applied), "--format", "json", *cache)
    assert result.code == 0, result.err
    doc = result.json()
    assert [(c["action"], c["name"]) for c in doc["changes"]] == [("create", "DEPLOY_TOKEN")]
    assert doc["api"]["rate_limit_counted"] == 1  # only the listing that changed


def test_the_cache_holds_no_token_and_no_value(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "cache"
    _plan(capsys, sandbox, tmp_path, "--cache-dir", str(directory))
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        data = path.read_bytes()
        assert sandbox.token.encode() not in data and VALUE.encode() not in data
        assert path.stat().st_mode & 0o077 == 0, "entries are private to the user"
    assert all(p.stat().st_mode & 0o077 == 0 for p in directory.rglob("*") if p.is_dir())


def test_corrupt_foreign_and_tampered_entries_are_ignored(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "cache"
    cache = ["--cache-dir", str(directory)]
    _plan(capsys, sandbox, tmp_path, *cache)
    files = sorted(p for p in directory.rglob("*.json"))
    corrupt, foreign, tampered, moved = files[0], files[1], files[2], files[3]
    corrupt.write_bytes(b"\x00not json{")
    # Another entry's contents under this entry's name: its key does not match the file.
    foreign.write_bytes(moved.read_bytes())
    entry = json.loads(tampered.read_text())
    # The attack: a body claiming a secret GitHub does not have, under GitHub's current ETag.
    entry["body"] = entry["body"].replace('"total_count"', '"injected": 1, "total_count"', 1) + " "
    tampered.write_text(json.dumps(entry))
    api = _plan(capsys, sandbox, tmp_path, *cache)
    assert api["rate_limit_counted"] == 3, "exactly the three bad entries were asked afresh"
    # ...and re-written: the next plan is free again.
    assert _plan(capsys, sandbox, tmp_path, *cache)["rate_limit_counted"] == 0


def test_another_token_never_uses_an_entry(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold = _plan(capsys, sandbox, tmp_path, *cache)
    other = "other-token-for-the-cache-test"
    sandbox.add_token(other, dict.fromkeys(PERMISSION_KEYS.values(), "write"))
    env = {**ENV, "RECONCILER_LEDGER": str(tmp_path / "ledger.json"), "GITHUB_TOKEN": other}
    result = run(capsys, ["plan", str(applied), "--format", "json", *cache], env, sandbox)
    assert result.code == 0, result.err
    assert result.json()["api"]["not_modified"] == 0
    assert result.json()["api"]["requests_made"] == cold["requests_made"]


def test_an_unwritable_cache_is_a_warning(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be\n")
    result = _run(
        capsys, sandbox, tmp_path, "plan", str(applied), "--cache-dir", str(blocked / "c")
    )
    assert result.code == 0, result.err
    assert result.err.count("cannot be written") == 1 and "Traceback" not in result.err


def test_the_default_cache_is_the_users_and_no_cache_keeps_none(
    applied: Path, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "xdg"
    env = {**ENV, "RECONCILER_LEDGER": str(tmp_path / "ledger.json"), "XDG_CACHE_HOME": str(home)}
    assert run(capsys, ["plan", str(applied), "--no-cache"], env, sandbox).code == 0
    assert not home.exists()
    assert run(capsys, ["plan", str(applied)], env, sandbox).code == 0
    assert any((home / "reconciler" / "http").rglob("*.json"))
    if os.name == "posix":
        assert (home / "reconciler" / "http").stat().st_mode & 0o077 == 0
