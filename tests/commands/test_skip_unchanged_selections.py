"""`--skip-unchanged-selections`: a selected secret whose `updated_at` and manifest selection
match what the ledger recorded at the last apply is not listed.

Opt-in because it rests on an assumption GitHub does not document: that a change of only the
selection moves `updated_at`. The sandbox can model either answer; both are tested, so the
risk the README describes is shown, not just told.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest
from tests.support.sandbox_client import Api

ENV = {"TEAM_TOKEN": "skip-test-value", "RECONCILER_LEDGER_KEY": "skip-ledger-key-0123456789abcd"}
SKIP = "--skip-unchanged-selections"
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: TEAM_TOKEN}, visibility: selected, repositories: [web, docs]}
        PLAIN: {value: {env: TEAM_TOKEN}}
"""
SELECTION = "/orgs/octo-org/actions/secrets/NPM_TOKEN/repositories"


class Clock:
    """The sandbox's time, moved by hand: GitHub's `updated_at` has a resolution of seconds."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _applied(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, bumps: bool
) -> tuple[Sandbox, Clock]:
    clock = Clock()
    sb = make_sandbox(now=clock, selection_bumps_updated_at=bumps)
    for name in ("web", "docs", "api"):
        sb.add_repo(f"octo-org/{name}")
    write_manifest(tmp_path, MANIFEST)
    return sb, clock


def _run(capsys: pytest.CaptureFixture[str], sb: Sandbox, tmp: Path, *args: str) -> Run:
    env = {**ENV, "RECONCILER_LEDGER": str(tmp / "ledger.json")}
    argv = [args[0], str(tmp / "secrets.yaml"), *args[1:], "--format", "json"]
    if args[0] == "apply":
        argv += ["--auto-approve", "--write-delay", "0"]
    result = run(capsys, argv, env, sb)
    assert result.code in (0, 2), result.err
    return result


def _listed(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.path == SELECTION)


def _add_out_of_band(sb: Sandbox, clock: Clock) -> None:
    """Someone adds a repository to the selection in GitHub's UI, a while later."""
    clock.now += 60
    api_id = json.loads(Api(sb).get("/repos/octo-org/api").text)["id"]
    assert Api(sb).put(f"{SELECTION}/{api_id}").status_code == 204


@pytest.fixture(params=[True, False], ids=["bumps-updated_at", "keeps-updated_at"])
def bumps(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_an_unchanged_selection_is_not_listed_and_the_ledger_records_it(
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bumps: bool,
) -> None:
    sb, clock = _applied(make_sandbox, tmp_path, bumps)
    _run(capsys, sb, tmp_path, "apply")
    entries = json.loads((tmp_path / "ledger.json").read_text())["secrets"]
    recorded = {e["name"]: e.get("selection") for e in entries}
    assert recorded["NPM_TOKEN"].startswith("sha256:") and recorded["PLAIN"] is None
    clock.now += 60
    sb.clear_requests()
    plain = _run(capsys, sb, tmp_path, "plan")
    assert plain.json()["changes"] == [] and _listed(sb) == 1
    sb.clear_requests()
    skipping = _run(capsys, sb, tmp_path, "plan", SKIP)
    assert skipping.json()["changes"] == []
    assert _listed(sb) == 0, "the selection is taken from the ledger"
    assert not any(r.path.startswith("/repos/") for r in sb.requests), "and no id is looked up"


def test_an_out_of_band_selection_change_is_seen_only_if_github_moves_updated_at(
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bumps: bool,
) -> None:
    sb, clock = _applied(make_sandbox, tmp_path, bumps)
    _run(capsys, sb, tmp_path, "apply")
    _add_out_of_band(sb, clock)
    # Without the option, the change is always seen (with a moved updated_at the ledger also
    # calls the value into question: an update that writes value and selection).
    plain = _run(capsys, sb, tmp_path, "plan")
    assert [c["name"] for c in plain.json()["changes"]] == ["NPM_TOKEN"]
    skipping = _run(capsys, sb, tmp_path, "plan", SKIP)
    seen = [c["name"] for c in skipping.json()["changes"]]
    # The risk the option takes, shown: if GitHub kept updated_at, the change goes unseen.
    assert seen == (["NPM_TOKEN"] if bumps else [])


def test_a_value_write_of_a_trusted_selection_keeps_the_selection(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The write carries the full selection, so the ids not read from a listing are looked
    up then, one by one, and the selection GitHub keeps is the manifest's."""
    sb, clock = _applied(make_sandbox, tmp_path, True)
    _run(capsys, sb, tmp_path, "apply")
    clock.now += 60
    sb.clear_requests()
    done = _run(capsys, sb, tmp_path, "apply", SKIP, "--values", "always")
    assert _listed(sb) == 0
    written = {r["name"]: r["outcome"] for r in done.json()["results"]}
    assert written == {"NPM_TOKEN": "done", "PLAIN": "done"}
    lookups = sorted(r.path for r in sb.requests if r.path.startswith("/repos/octo-org/"))
    assert lookups == ["/repos/octo-org/docs", "/repos/octo-org/web"]
    assert sb.secrets("octo-org", "actions")["NPM_TOKEN"].selected == {"web", "docs"}
