"""Property: for any live state and any manifest, `apply` makes GitHub equal the manifest.

Each example gets a fresh sandbox, seeds random live secrets (all four apps, org and repo
scope, every visibility, selections over a small repository pool), writes a random manifest
(env and file sources with random unicode or binary values, prune on and off, a random
`--values` policy), then runs the real CLI: `plan --format json`, `apply --force`, and an
immediate re-plan. It checks the sandbox's decrypted state, what happened to unmanaged
secrets, that the re-plan is empty, that the writes made equal the writes planned, and
that every exchange conforms to GitHub's OpenAPI description.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import Sandbox, SandboxConfig, SecretRecord
from tests.support.e2e import Run, run, write_manifest
from tests.support.openapi_check import check_exchanges

ORG = "octo-org"
REPO_POOL = ("web", "api", "infra", "docs", "site")
REPO_SCOPES = (f"{ORG}/web", f"{ORG}/api")
SCOPES = (ORG, *REPO_SCOPES)
APPS = ("actions", "agents", "codespaces", "dependabot")
NAMES = ("ALPHA", "BETA", "GAMMA", "DELTA")
VISIBILITIES = ("all", "private", "selected")
# Apps whose org-secret PUT must carry the value, so a visibility change rewrites it.
VALUE_REQUIRED_FOR_PUT = ("actions", "agents")

Group = tuple[str, str]  # (scope, app)


@dataclass(frozen=True)
class LiveItem:
    value: bytes
    visibility: str | None  # None for repository secrets
    selected: tuple[str, ...] = ()


@dataclass(frozen=True)
class WantSecret:
    source: str  # "env" or "file"
    value: bytes
    visibility: str | None  # None: omitted (org: private) or a repository secret
    repositories: tuple[str, ...] = ()

    @property
    def effective_visibility(self) -> str:
        return self.visibility or "private"


@dataclass(frozen=True)
class WantGroup:
    prune: bool
    secrets: dict[str, WantSecret] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    live: dict[Group, dict[str, LiveItem]]
    manifest: dict[Group, WantGroup]
    values: str


env_values = st.text(min_size=1, max_size=24).map(lambda t: t.encode("utf-8"))
file_values = st.one_of(env_values, st.binary(min_size=1, max_size=24))
repo_selections = st.lists(st.sampled_from(REPO_POOL), unique=True, max_size=4).map(tuple)
groups = st.tuples(st.sampled_from(SCOPES), st.sampled_from(APPS))
secret_names = st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES))


@st.composite
def live_secrets(draw: st.DrawFn, scope: str) -> LiveItem:
    value = draw(st.binary(min_size=1, max_size=16))
    if scope != ORG:
        return LiveItem(value, None)
    visibility = draw(st.sampled_from(VISIBILITIES))
    selected = draw(repo_selections) if visibility == "selected" else ()
    return LiveItem(value, visibility, selected)


@st.composite
def want_secrets(draw: st.DrawFn, scope: str) -> WantSecret:
    source = draw(st.sampled_from(("env", "file")))
    value = draw(env_values if source == "env" else file_values)
    if scope != ORG:
        return WantSecret(source, value, None)
    visibility = draw(st.sampled_from((None, *VISIBILITIES)))
    repositories = draw(repo_selections) if visibility == "selected" else ()
    return WantSecret(source, value, visibility, repositories)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    live: dict[Group, dict[str, LiveItem]] = {}
    for group in draw(st.lists(groups, unique=True, max_size=6)):
        live[group] = {name: draw(live_secrets(group[0])) for name in draw(secret_names)}
    manifest: dict[Group, WantGroup] = {}
    # Favour groups that also have live secrets, so updates and prunes happen often.
    candidates = st.one_of(st.sampled_from(sorted(live)), groups) if live else groups
    for group in draw(st.lists(candidates, unique=True, min_size=1, max_size=5)):
        secrets = {name: draw(want_secrets(group[0])) for name in draw(secret_names)}
        manifest[group] = WantGroup(draw(st.booleans()), secrets)
    values = draw(st.sampled_from(("auto", "always", "skip-unknown")))
    return Case(live, manifest, values)


# -- building the inputs -----------------------------------------------------------------------


def _seed(sb: Sandbox, case: Case) -> None:
    for repo in REPO_POOL:
        sb.add_repo(f"{ORG}/{repo}")
    for (scope, app), secrets in case.live.items():
        for name, s in secrets.items():
            selected = s.selected if s.visibility == "selected" else None
            sb.put_secret(scope, app, name, s.value, visibility=s.visibility, selected=selected)


def _write_inputs(directory: Path, case: Case) -> tuple[Path, dict[str, str]]:
    """The manifest, its value files, and the environment holding the env values."""
    env: dict[str, str] = {}
    doc: dict[str, Any] = {"version": 1, "orgs": {}, "repos": {}}
    (directory / "values").mkdir()
    for n, ((scope, app), group) in enumerate(sorted(case.manifest.items())):
        secrets: dict[str, Any] = {}
        for name, s in group.secrets.items():
            if s.source == "env":
                var = f"V{n}_{name}_SECRET"
                env[var] = s.value.decode("utf-8")
                spec: dict[str, Any] = {"value": {"env": var}}
            else:
                rel = f"values/{n}-{name}.bin"
                (directory / rel).write_bytes(s.value)
                spec = {"value": {"file": rel}}
            if s.visibility is not None:
                spec["visibility"] = s.visibility
            if s.visibility == "selected":
                spec["repositories"] = list(s.repositories)
            secrets[name] = spec
        block = {"prune": group.prune, "secrets": secrets}
        key = "orgs" if scope == ORG else "repos"
        doc[key].setdefault(scope, {})[app] = block
    text = yaml.safe_dump({k: v for k, v in doc.items() if v}, sort_keys=False)
    return write_manifest(directory, text), env


# -- the oracle --------------------------------------------------------------------------------


def _expected_value(case: Case, group: Group, name: str, want: WantSecret) -> bytes:
    before = case.live.get(group, {}).get(name)
    if before is None or case.values != "skip-unknown":
        return want.value
    scope, app = group
    visibility_changed = scope == ORG and want.effective_visibility != before.visibility
    if visibility_changed and app in VALUE_REQUIRED_FOR_PUT:
        return want.value
    return before.value


def _check_state(sb: Sandbox, case: Case, before: dict[Group, dict[str, SecretRecord]]) -> None:
    for group, want_group in case.manifest.items():
        scope, app = group
        now = sb.secrets(scope, app)
        for name, want in want_group.secrets.items():
            assert name in now, f"{scope} {app} {name} missing after apply"
            got = now[name]
            assert got.value == _expected_value(case, group, name, want), (scope, app, name)
            if scope == ORG:
                assert got.visibility == want.effective_visibility, (scope, app, name)
                expected_sel = want.repositories if want.visibility == "selected" else ()
                assert got.selected == frozenset(expected_sel), (scope, app, name)
            else:
                assert got.visibility is None
        for name, record in before[group].items():
            if name in want_group.secrets:
                continue
            if want_group.prune:
                assert name not in now, f"{scope} {app} {name}: prune is on, still there"
            else:
                assert now.get(name) == record, f"{scope} {app} {name}: unmanaged, was changed"
        unexpected = set(now) - set(want_group.secrets) - set(before[group])
        assert not unexpected, f"{scope} {app}: secrets nobody asked for: {unexpected}"
    for group, records in before.items():
        if group not in case.manifest:
            assert sb.secrets(*group) == records, f"{group}: not in the manifest, was changed"


def _writes(sb: Sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in sb.requests if r.method not in ("GET", "HEAD")]


def _ok(result: Run, *codes: int) -> Run:
    assert result.code in (codes or (0,)), f"exit {result.code}\n{result.err}\n{result.out}"
    assert "Traceback" not in result.err
    return result


REPLAN = ["--values", "skip-unknown", "--format", "json", "--detailed-exitcode"]
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@PROPERTY
@given(case=cases())
def test_apply_makes_github_equal_the_manifest(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        tempfile.TemporaryDirectory(dir=tmp_path) as tmp,
        Sandbox(SandboxConfig(record_exchanges=True)) as sb,
    ):
        _seed(sb, case)
        manifest, env = _write_inputs(Path(tmp), case)
        # A ledger of this example's own, keyed, so values are comparable on the re-plan.
        env["RECONCILER_LEDGER"] = str(Path(tmp) / "ledger.json")
        env["RECONCILER_LEDGER_KEY"] = "property-test-ledger-key-0123456789"
        before = {g: sb.secrets(*g) for g in set(case.live) | set(case.manifest)}
        common = [str(manifest), "--values", case.values, "--format", "json"]

        # Exit 3: plan predicts that apply needs --force (given below) for an unsafe example.
        planned = _ok(run(capsys, ["plan", *common], env, sb=sb), 0, 3).json()
        assert _writes(sb) == [], "plan wrote"

        sb.clear_requests()
        applied = _ok(
            run(capsys, ["apply", *common, "--write-delay", "0", "--force"], env, sb=sb)
        ).json()
        # (d) the writes made are the writes planned, for the very same plan
        assert applied["plan_checksum"] == planned["checksum"]
        assert len(_writes(sb)) == planned["api"]["writes_planned"]
        assert all(r["outcome"] == "done" for r in applied["results"])
        assert all(200 <= r.status < 300 for r in sb.requests), [
            (r.method, r.path, r.status) for r in sb.requests if r.status >= 300
        ]

        # (a) managed secrets equal the manifest; (b) unmanaged kept or pruned
        _check_state(sb, case, before)

        # (c) an immediate re-plan has nothing left to do
        replan = _ok(run(capsys, ["plan", str(manifest), *REPLAN], env, sb=sb))
        leftover = [c for c in replan.json()["changes"] if c["action"] != "unmanaged"]
        assert leftover == []
        if case.values != "skip-unknown":
            # Every managed value was written and recorded: with the ledger, plainly empty.
            plain = _ok(run(capsys, ["plan", str(manifest), "--format", "json"], env, sb=sb))
            assert [c for c in plain.json()["changes"] if c["action"] != "unmanaged"] == []

    assert sb.errors == []
    assert check_exchanges(sb.exchanges) == []


# -- safety refusals ---------------------------------------------------------------------------


def test_unsafe_plan_exits_3_and_writes_nothing_without_force(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for repo in REPO_POOL:
        sandbox.add_repo(f"{ORG}/{repo}")
    for i in range(10):
        sandbox.put_secret(ORG, "actions", f"S{i}", b"old", visibility="private")
    sandbox.put_secret(ORG, "dependabot", "NARROW", b"old", visibility="private")
    # Keep 6 of 10 (40 % deleted, above 30 %), and widen a dependabot secret to `all`.
    keep = "\n".join(f"        S{i}: {{value: {{env: KEEP_TOKEN}}}}" for i in range(6))
    manifest = write_manifest(
        tmp_path,
        f"""version: 1
orgs:
  {ORG}:
    actions:
      prune: true
      secrets:
{keep}
    dependabot:
      secrets:
        NARROW: {{value: {{env: KEEP_TOKEN}}, visibility: all}}
""",
    )
    env = {"KEEP_TOKEN": "new"}
    before = {app: sandbox.secrets(ORG, app) for app in ("actions", "dependabot")}
    sandbox.clear_requests()

    refused = run(capsys, ["apply", str(manifest), "--write-delay", "0"], env, sb=sandbox)
    assert refused.code == 3, refused.err
    assert "refusing an unsafe plan; nothing was written" in refused.err
    assert "4 of 10 live secrets would be deleted (40%" in refused.err
    assert "NARROW: visibility widens from private to all" in refused.err
    assert _writes(sandbox) == []
    assert {app: sandbox.secrets(ORG, app) for app in before} == before

    forced = run(capsys, ["apply", str(manifest), "--write-delay", "0", "--force"], env, sb=sandbox)
    assert forced.code == 0, forced.err
    assert sorted(sandbox.secrets(ORG, "actions")) == [f"S{i}" for i in range(6)]
    assert sandbox.secrets(ORG, "dependabot")["NARROW"].visibility == "all"
