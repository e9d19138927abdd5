"""`apply` under injected faults: it succeeds or fails cleanly, never loses a secret, and a
second run converges. Also: bad value sources write nothing, and a stop (Ctrl-C) mid-run
skips the remaining writes and reports them.

Retry back-off and rate-limit waits go through the Env's `sleep`, which these tests replace
with a recorder (the `quick` Env records into `waits`): the waits are asserted, never slept.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest

from reconciler.diff import diff
from reconciler.env import Env
from reconciler.executor import ApplyOptions, apply_plan
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.live import read_live
from reconciler.manifest.load import load_manifests
from reconciler.plan import Outcome, Result, ValuePolicy
from reconciler.sandbox import Fault, Sandbox
from reconciler.values.resolver import Resolver
from tests.support.e2e import Run, cli_env, run, write_manifest

ORG = "octo-org"
MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      prune: true
      secrets:
        KEEP: {value: {env: KEEP_TOKEN}, visibility: private}
        SEL: {value: {env: SEL_TOKEN}, visibility: selected, repositories: [web, api]}
        NEW: {value: {file: values/new.txt}, visibility: selected, repositories: [infra]}
    actions:
      prune: true
      secrets:
        DEPLOY: {value: {env: DEPLOY_TOKEN}, visibility: selected, repositories: [api]}
        FRESH: {value: {env: FRESH_TOKEN}, visibility: private}
repos:
  octo-org/web:
    actions:
      secrets:
        R1: {value: {env: R1_TOKEN}}
        R2: {value: {file: values/r2.txt}}
"""
ENV = {
    "KEEP_TOKEN": "keep-value",
    "SEL_TOKEN": "sel-value",
    "DEPLOY_TOKEN": "deploy-value",
    "FRESH_TOKEN": "fresh-value",
    "R1_TOKEN": "r1-value",
}
FILES = {"values/new.txt": b"new-value\n", "values/r2.txt": b"r2 \xe2\x9c\x93 value"}
# scope, app, name -> (value, visibility, selected)
EXPECTED: dict[tuple[str, str, str], tuple[bytes, str | None, frozenset[str]]] = {
    (ORG, "dependabot", "KEEP"): (b"keep-value", "private", frozenset()),
    (ORG, "dependabot", "SEL"): (b"sel-value", "selected", frozenset({"web", "api"})),
    (ORG, "dependabot", "NEW"): (b"new-value\n", "selected", frozenset({"infra"})),
    (ORG, "actions", "DEPLOY"): (b"deploy-value", "selected", frozenset({"api"})),
    (ORG, "actions", "FRESH"): (b"fresh-value", "private", frozenset()),
    (f"{ORG}/web", "actions", "R1"): (b"r1-value", None, frozenset()),
    (f"{ORG}/web", "actions", "R2"): (b"r2 \xe2\x9c\x93 value", None, frozenset()),
}
GROUPS = sorted({(scope, app) for scope, app, _ in EXPECTED})
# The first apply of MANIFEST against `org`: 3 creates, 4 updates, 2 deletes.
FIRST_APPLY_WRITES = 9
REQUEST_ID = re.compile(
    r"\(request id [0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{6}:[0-9A-F]{6}:[0-9A-F]{8}\)"
)
RESULT_LINE = re.compile(r"^\s*(ok|FAILED|skipped)  ", re.MULTILINE)


@pytest.fixture
def waits() -> list[float]:
    """Every back-off and rate-limit wait the CLI's client asks for, instead of sleeping."""
    return []


@pytest.fixture
def quick(waits: list[float]) -> Env:
    """The Env these tests run the CLI in: its `sleep` records into `waits`."""
    return replace(cli_env(), sleep=waits.append)


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "infra", "docs"):
        sandbox.add_repo(f"{ORG}/{name}")
    sandbox.put_secret(ORG, "dependabot", "KEEP", b"old", visibility="all")
    sandbox.put_secret(ORG, "dependabot", "SEL", b"old", visibility="selected", selected=["web"])
    sandbox.put_secret(ORG, "dependabot", "OLD", b"old", visibility="private")
    sandbox.put_secret(ORG, "actions", "DEPLOY", b"old", visibility="private")
    sandbox.put_secret(ORG, "actions", "GONE", b"old", visibility="all")
    sandbox.put_secret(f"{ORG}/web", "actions", "R1", b"old")
    return sandbox


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    for rel, data in FILES.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return write_manifest(tmp_path, MANIFEST)


def _apply(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    *extra: str,
    base: Env | None = None,
) -> Run:
    argv = ["apply", str(manifest), "--write-delay", "0", *extra]
    return run(capsys, argv, ENV, sb=sb, base=base)


def _writes(sb: Sandbox) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in sb.requests if r.method != "GET"]


def _snapshot(sb: Sandbox) -> dict[tuple[str, str, str], bytes]:
    return {
        (scope, app, name): record.value
        for scope, app in GROUPS
        for name, record in sb.secrets(scope, app).items()
    }


def _assert_clean(result: Run, sb: Sandbox) -> None:
    """Success, or a clean failure: exit 1, every failure names its request, no traceback."""
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.err + result.out
    assert "internal error" not in result.err
    if result.code == 0:
        return
    failed = [line for line in result.err.splitlines() if line.lstrip().startswith("FAILED")]
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert failed or errors, result.err
    seen_ids = {r.request_id for r in sb.requests}
    for line in failed + errors:
        if "connection failed" in line:  # a dropped connection has no response, so no id
            assert re.search(r"(GET|PUT|DELETE) /\S+: connection failed after \d+ attempts", line)
            continue
        found = REQUEST_ID.search(line)
        assert found, f"no request id in: {line}"
        assert found.group(0)[len("(request id ") : -1] in seen_ids


def _assert_nothing_lost(sb: Sandbox, before: dict[tuple[str, str, str], bytes]) -> None:
    """Every managed secret that existed before the run still exists, with a value."""
    after = _snapshot(sb)
    for key in EXPECTED:
        if key in before:
            assert key in after, f"{key} was lost by a failed run"
            assert after[key], f"{key} was emptied by a failed run"


def _assert_converged(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, manifest: Path, base: Env | None = None
) -> None:
    """A fault-free run finishes the job; then GitHub equals the manifest and a plan is empty."""
    sb.clear_faults()
    again = _apply(capsys, sb, manifest, base=base)
    assert again.code == 0, again.err
    replan = run(
        capsys,
        ["plan", str(manifest), "--values", "skip-unknown", "--detailed-exitcode"],
        ENV,
        sb=sb,
        base=base,
    )
    assert replan.code == 0, replan.out + replan.err
    assert "No changes." in replan.out
    state = {
        (scope, app, name): (r.value, r.visibility, r.selected)
        for scope, app in GROUPS
        for name, r in sb.secrets(scope, app).items()
    }
    assert state == EXPECTED


# -- retried faults: the run succeeds ------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503])
def test_transient_5xx_on_writes_are_retried(
    org: Sandbox,
    manifest: Path,
    waits: list[float],
    quick: Env,
    status: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org.add_fault(Fault(kind="status", status=status, method="PUT", count=3))
    org.add_fault(Fault(kind="status", status=status, method="DELETE", count=1))
    result = _apply(capsys, org, manifest, base=quick)
    assert result.code == 0, result.err
    statuses = [s for _, _, s in _writes(org)]
    assert statuses.count(status) == 4
    assert len(statuses) == FIRST_APPLY_WRITES + 4
    assert len(waits) == 4  # one back-off per retry
    _assert_converged(capsys, org, manifest, quick)


def test_secondary_rate_limit_on_writes_waits_as_told(
    org: Sandbox, manifest: Path, waits: list[float], quick: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    org.add_fault(Fault(kind="secondary_rate_limit", retry_after=1, method="PUT", count=2))
    result = _apply(capsys, org, manifest, base=quick)
    assert result.code == 0, result.err
    assert waits == [1.0, 1.0]
    assert [s for _, _, s in _writes(org)].count(403) == 2
    assert "rate limited on PUT" in result.err
    _assert_converged(capsys, org, manifest, quick)


def test_dropped_connections_on_writes_are_retried(
    org: Sandbox, manifest: Path, quick: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    org.add_fault(Fault(kind="drop", method="PUT", count=2))
    org.add_fault(Fault(kind="drop", method="DELETE", count=1))
    result = _apply(capsys, org, manifest, base=quick)
    assert result.code == 0, result.err
    assert [s for _, _, s in _writes(org)].count(0) == 3
    _assert_converged(capsys, org, manifest, quick)


# -- persistent faults: a clean failure, nothing lost, independent writes done -------------------


@pytest.mark.parametrize("kind", ["status", "drop"])
def test_a_failed_write_does_not_stop_independent_writes(
    org: Sandbox,
    manifest: Path,
    quick: Env,
    kind: Literal["status", "drop"],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _snapshot(org)
    only_new = r"/dependabot/secrets/NEW$"
    org.add_fault(Fault(kind=kind, status=502, method="PUT", path_pattern=only_new))
    result = _apply(capsys, org, manifest, "--format", "json", base=quick)
    _assert_clean(result, org)
    assert result.code == 1
    outcomes = {(r["target"], r["app"], r["name"]): r for r in result.json()["results"]}
    new = outcomes[(ORG, "dependabot", "NEW")]
    assert new["outcome"] == "failed"
    assert "PUT /orgs/octo-org/dependabot/secrets/NEW" in new["detail"]
    # The prune in the scope where a write failed is held back, so nothing goes missing...
    old = outcomes[(ORG, "dependabot", "OLD")]
    assert old["outcome"] == "skipped"
    assert "not deleting" in old["detail"]
    assert "OLD" in org.secrets(ORG, "dependabot")
    # ...and every other change was made.
    others = {k: r["outcome"] for k, r in outcomes.items() if k[2] not in ("NEW", "OLD")}
    assert set(others.values()) == {"done"}, others
    assert "GONE" not in org.secrets(ORG, "actions")
    assert org.secrets(f"{ORG}/web", "actions")["R2"].value == FILES["values/r2.txt"]
    assert "NEW" not in org.secrets(ORG, "dependabot")
    _assert_nothing_lost(org, before)
    _assert_converged(capsys, org, manifest, quick)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", r"^/orgs/octo-org/dependabot/secrets$"),  # a list read
        ("GET", r"/secrets/SEL/repositories$"),  # a selected-repositories read
        ("GET", r"/public-key$"),  # the keys, fetched before the first write
        # repository resolution, of the names no live selection gave an id for
        ("GET", r"^/(orgs/octo-org/repos|repos/octo-org/[^/]+)$"),
    ],
)
def test_failed_reads_fail_cleanly_before_any_write(
    org: Sandbox,
    manifest: Path,
    quick: Env,
    method: str,
    path: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org.add_fault(Fault(kind="status", status=503, method=method, path_pattern=path))
    before = _snapshot(org)
    result = _apply(capsys, org, manifest, base=quick)
    _assert_clean(result, org)
    assert result.code == 1
    assert "-> 503 (request id" in result.err
    assert _writes(org) == []
    assert _snapshot(org) == before
    _assert_converged(capsys, org, manifest, quick)


def test_writes_refused_by_permissions_fail_each_with_their_request(
    org: Sandbox, manifest: Path, quick: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token that may read but not write: every write fails alone, and the run reports
    all of them; nothing is lost because the deletes after a failure are held back."""
    permissions = {
        "metadata": "read",
        "organization_dependabot_secrets": "read",
        "organization_secrets": "read",
        "secrets": "read",
    }
    org.add_token("t-read-only", permissions)
    before = _snapshot(org)
    result = run(
        capsys,
        ["apply", str(manifest), "--write-delay", "0"],
        {**ENV, "GITHUB_TOKEN": "t-read-only"},
        sb=org,
        base=quick,
    )
    _assert_clean(result, org)
    assert result.code == 1
    failed = [line for line in result.err.splitlines() if line.lstrip().startswith("FAILED")]
    assert len(failed) == 7  # 3 creates + 4 updates; the 2 deletes are skipped
    assert all("permission denied" in line for line in failed)
    assert _snapshot(org) == before
    _assert_converged(capsys, org, manifest, quick)


@pytest.mark.parametrize(
    ("kind", "fraction", "seed"),
    [
        ("status", 0.45, 1),
        ("status", 0.45, 2),
        ("status", 0.6, 3),
        ("drop", 0.45, 4),
        ("secondary_rate_limit", 0.45, 5),
    ],
)
def test_random_faults_everywhere_fail_cleanly_and_converge(
    org: Sandbox,
    manifest: Path,
    quick: Env,
    kind: Literal["status", "drop", "secondary_rate_limit"],
    fraction: float,
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Faults on a random fraction of every request, reads and writes alike."""
    org.add_fault(Fault(kind=kind, status=503, retry_after=1, fraction=fraction, seed=seed))
    before = _snapshot(org)
    result = _apply(capsys, org, manifest, base=quick)
    _assert_clean(result, org)
    assert any(r.status in (0, 403, 503) for r in org.requests), "no fault fired"
    _assert_nothing_lost(org, before)
    _assert_converged(capsys, org, manifest, quick)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Fault(kind="secondary_rate_limit", retry_after=1, method="PUT", path_pattern="KEEP$"),
            "rate limited; still limited after 5 attempts",
        ),
        (
            Fault(kind="primary_rate_limit", retry_after=3600, method="PUT", path_pattern="KEEP$"),
            "rate limited; GitHub asks to wait",
        ),
    ],
    ids=["secondary", "primary"],
)
def test_a_rate_limit_stops_the_writes_after_it(
    org: Sandbox,
    manifest: Path,
    quick: Env,
    fault: Fault,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Writes share the token's budget: after a rate limit the rest are skipped, not sent,
    and the failure says "rate limited" (not "permission denied", though it is a 403)."""
    before = _snapshot(org)
    org.add_fault(fault)
    result = _apply(capsys, org, manifest, "--format", "json", base=quick)
    _assert_clean(result, org)
    assert result.code == 1
    outcomes = [(r["name"], r["outcome"], r["detail"]) for r in result.json()["results"]]
    # Plan order: actions (FRESH, DEPLOY, GONE), then dependabot (NEW, KEEP, SEL, OLD), ...
    assert [o[:2] for o in outcomes[:5]] == [
        ("FRESH", "done"),
        ("DEPLOY", "done"),
        ("GONE", "done"),
        ("NEW", "done"),
        ("KEEP", "failed"),
    ]
    assert message in outcomes[4][2]
    assert "permission denied" not in result.err
    assert {o[1:] for o in outcomes[5:]} == {
        ("skipped", "not attempted: the token is rate limited")
    }
    keep_puts = [w for w in _writes(org) if w[1].endswith("/KEEP")]
    assert len(keep_puts) == (5 if fault.kind == "secondary_rate_limit" else 1)
    assert len(_writes(org)) == 4 + len(keep_puts)
    _assert_nothing_lost(org, before)
    _assert_converged(capsys, org, manifest, quick)


# -- value sources -----------------------------------------------------------------------------


def test_a_bad_value_source_writes_nothing(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {k: v for k, v in ENV.items() if k != "FRESH_TOKEN"}
    (manifest.parent / "values/r2.txt").unlink()
    before = _snapshot(org)
    result = run(capsys, ["apply", str(manifest), "--write-delay", "0"], env, sb=org)
    assert result.code == 1, result.err
    assert "refusing to apply (2 problems found before the first write); nothing was written" in (
        result.err
    )
    assert 'environment variable "FRESH_TOKEN" is not set' in result.err
    assert 'file source "values/r2.txt" cannot be read' in result.err
    assert "Traceback" not in result.err
    assert _writes(org) == []
    assert _snapshot(org) == before


# -- stopping mid-run ----------------------------------------------------------------------------


def _plan_and_apply(
    sb: Sandbox, manifest: Path, should_stop: Callable[[], bool], results: list[Result]
) -> tuple[Result, ...]:
    desired = load_manifests([str(manifest)]).desired
    client = GitHubClient(ClientConfig(api_url=sb.url, token=sb.token))
    try:
        live, keys = read_live(desired, client)
        plan = diff(desired.groups, live, ValuePolicy.AUTO)
        assert len(plan.actionable) == FIRST_APPLY_WRITES
        return apply_plan(
            plan,
            desired.items(),
            live,
            keys,
            client,
            ApplyOptions(Resolver(ENV, ()), write_delay=0),
            on_result=results.append,
            should_stop=should_stop,
        )
    finally:
        client.close()


def test_stop_mid_run_skips_the_remaining_writes(org: Sandbox, manifest: Path) -> None:
    seen: list[Result] = []
    org.clear_requests()
    results = _plan_and_apply(org, manifest, lambda: len(seen) >= 3, seen)
    assert list(results) == seen  # every result was reported as it happened
    assert [r.outcome for r in results] == [Outcome.DONE] * 3 + [Outcome.SKIPPED] * 6
    assert all(r.detail == "interrupted before this write" for r in results[3:])
    assert len(_writes(org)) == 3
    # The writes made were the first three in plan order (the actions scope), nothing else.
    done = [(r.change.app.value, r.change.action.value, r.change.name) for r in results[:3]]
    assert done == [
        ("actions", "create", "FRESH"),
        ("actions", "update", "DEPLOY"),
        ("actions", "delete", "GONE"),
    ]
    actions = org.secrets(ORG, "actions")
    assert sorted(actions) == ["DEPLOY", "FRESH"]
    assert actions["DEPLOY"].value == b"deploy-value"
    assert org.secrets(ORG, "dependabot")["KEEP"].value == b"old"
    assert "OLD" in org.secrets(ORG, "dependabot")


def test_sigint_during_apply_skips_the_rest_and_exits_130(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.set_latency(0.2)  # each write is in flight long enough to be interrupted
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env.update(ENV, GITHUB_TOKEN=org.token, GITHUB_API_URL=org.url, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(manifest), "--write-delay", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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
                break
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(early) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    skipped = re.findall(r"skipped  .*: interrupted before this write", err)
    assert skipped, err
    assert "interrupted before this write" in out  # the summary repeats the skips
    summary = re.search(r"Apply: (\d+) done, 0 failed, (\d+) skipped", out)
    assert summary, out
    done, skipped_count = int(summary.group(1)), int(summary.group(2))
    assert done + skipped_count == FIRST_APPLY_WRITES
    assert skipped_count == len(skipped) >= 1
    assert len(_writes(org)) == done
    org.set_latency(0)
    _assert_converged(capsys, org, manifest)


def test_the_write_delay_spaces_the_starts_of_writes(org: Sandbox, manifest: Path) -> None:
    """The pause after a write is the delay minus the time since that write started, so a
    slow write is not followed by a full delay on top."""
    desired = load_manifests([str(manifest)]).desired
    client = GitHubClient(ClientConfig(api_url=org.url, token=org.token))
    now = [0.0]
    waits: list[float] = []

    def clock() -> float:  # every reading is a quarter second later
        now[0] += 0.25
        return now[0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    try:
        live, keys = read_live(desired, client)
        plan = diff(desired.groups, live, ValuePolicy.AUTO)
        options = ApplyOptions(Resolver(ENV, ()), write_delay=1.0)
        results = apply_plan(
            plan, desired.items(), live, keys, client, options, sleep=sleep, clock=clock
        )
    finally:
        client.close()
    assert len(results) == FIRST_APPLY_WRITES
    # Read at each write's start and before each pause: 0.25 s passed in between.
    assert waits == [0.75] * (FIRST_APPLY_WRITES - 1)
