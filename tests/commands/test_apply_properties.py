"""Property: for any live state and any manifest, `apply` makes GitHub equal the manifest.

Each example gets a fresh sandbox and seeds random live state: secrets of all four apps and
Actions/agents variables at org and repo scope (every visibility, selections over a small
repository pool), and deployment environments (mixed-case names, one with a "/") holding
secrets and variables. It writes a random manifest over the same ground: groups listing
secrets, variables or both, prune on and off, environments that exist and ones apply must
create, env/file sources (and inline variable text) with random unicode or binary values,
a random `--values` policy. Then it runs the real CLI: `plan --format json`,
`apply --force`, and an immediate re-plan. It checks the sandbox's state (a prune never
deletes a kind its group does not list; everything unmanaged is untouched), that the re-plan
is empty, that the writes made equal the writes planned, that an environment is created
before anything is written into it, and that every exchange conforms to GitHub's OpenAPI
description.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import Sandbox, SandboxConfig, SecretRecord, VariableRecord
from tests.support.e2e import Run, run, write_manifest
from tests.support.openapi_check import check_exchanges

ORG = "octo-org"
REPO_POOL = ("web", "api", "infra", "docs", "site")
REPO_SCOPES = (f"{ORG}/web", f"{ORG}/api")
SCOPES = (ORG, *REPO_SCOPES)
APPS = ("actions", "agents", "codespaces", "dependabot")
VARIABLE_APPS = ("actions", "agents")
ENVIRONMENTS = ("production", "staging", "review/pr-1")  # identities: lower case
NAMES = ("ALPHA", "BETA", "GAMMA", "DELTA")
VISIBILITIES = ("all", "private", "selected")
# Apps whose org-secret PUT must carry the value, so a visibility change rewrites it.
VALUE_REQUIRED_FOR_PUT = ("actions", "agents")

Group = tuple[str, str, str]  # (org or owner/repo, environment identity or "", app)
Key = tuple[Group, str]  # (group, "secret" or "variable")
Record = SecretRecord | VariableRecord

PLAIN_GROUPS = [(s, "", a) for s in SCOPES for a in APPS]
ENV_GROUPS = [(r, e, "actions") for r in REPO_SCOPES for e in ENVIRONMENTS]


def _kinds(group: Group) -> tuple[str, ...]:
    return ("secret", "variable") if group[2] in VARIABLE_APPS else ("secret",)


ALL_KEYS = [(g, k) for g in PLAIN_GROUPS + ENV_GROUPS for k in _kinds(g)]


@dataclass(frozen=True)
class LiveItem:
    value: bytes | str  # bytes: a secret; str: a variable
    visibility: str | None = None  # None outside an organisation
    selected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Want:
    source: str  # "env", "file" or (variables only) "inline"
    value: bytes | str
    visibility: str | None = None  # None: omitted (org: private), or not an org item
    repositories: tuple[str, ...] = ()


@dataclass(frozen=True)
class WantGroup:
    prune: bool
    listed: dict[str, dict[str, Want]]  # the kinds the group lists (maybe empty) -> items


@dataclass(frozen=True)
class Case:
    live: dict[Key, dict[str, LiveItem]]
    environments: dict[str, dict[str, str]]  # repo -> live environments: identity -> spelling
    manifest: dict[Group, WantGroup]
    spelling: dict[tuple[str, str], str]  # (repo, identity) -> the manifest's spelling
    values: str


texts = st.text(min_size=1, max_size=24)
env_values = texts.map(lambda t: t.encode("utf-8"))
file_values = st.one_of(env_values, st.binary(min_size=1, max_size=24))
repo_selections = st.lists(st.sampled_from(REPO_POOL), unique=True, max_size=4).map(tuple)
item_names = st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES))


def spellings(identity: str) -> st.SearchStrategy[str]:
    return st.sampled_from((identity, identity.upper(), identity.title()))


@st.composite
def live_items(draw: st.DrawFn, key: Key) -> LiveItem:
    (scope, _, _), kind = key
    value: bytes | str
    value = draw(st.binary(min_size=1, max_size=16)) if kind == "secret" else draw(texts)
    if scope != ORG:
        return LiveItem(value)
    visibility = draw(st.sampled_from(VISIBILITIES))
    return LiveItem(value, visibility, draw(repo_selections) if visibility == "selected" else ())


@st.composite
def wants(draw: st.DrawFn, key: Key) -> Want:
    (scope, _, _), kind = key
    if kind == "secret":
        source = draw(st.sampled_from(("env", "file")))
        value: bytes | str = draw(env_values if source == "env" else file_values)
    else:
        source, value = draw(st.sampled_from(("inline", "env", "file"))), draw(texts)
    if scope != ORG:
        return Want(source, value)
    visibility = draw(st.sampled_from((None, *VISIBILITIES)))
    repositories = draw(repo_selections) if visibility == "selected" else ()
    return Want(source, value, visibility, repositories)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    environments = {
        repo: {e: draw(spellings(e)) for e in draw(st.lists(st.sampled_from(ENVIRONMENTS)))}
        for repo in REPO_SCOPES
    }
    seedable = [(g, k) for g, k in ALL_KEYS if not g[1] or g[1] in environments[g[0]]]
    live_keys = draw(st.lists(st.sampled_from(seedable), unique=True, max_size=8))
    live = {key: {n: draw(live_items(key)) for n in draw(item_names)} for key in live_keys}
    everywhere = st.sampled_from(PLAIN_GROUPS + ENV_GROUPS)
    # Favour groups that also hold live items, so updates and prunes happen often.
    live_groups = sorted({g for g, _ in live})
    candidates = st.one_of(st.sampled_from(live_groups), everywhere) if live else everywhere
    manifest: dict[Group, WantGroup] = {}
    for group in draw(st.lists(candidates, unique=True, min_size=1, max_size=6)):
        options = (("secret",), ("variable",), ("secret", "variable"))
        kinds = draw(st.sampled_from(options)) if len(_kinds(group)) == 2 else ("secret",)
        listed = {k: {n: draw(wants((group, k))) for n in draw(item_names)} for k in kinds}
        manifest[group] = WantGroup(draw(st.booleans()), listed)
    spelling = {(g[0], g[1]): draw(spellings(g[1])) for g in manifest if g[1]}
    values = draw(st.sampled_from(("auto", "always", "skip-unknown")))
    return Case(live, environments, manifest, spelling, values)


# -- building the inputs and reading the sandbox -----------------------------------------------


def _seed(sb: Sandbox, case: Case) -> None:
    for repo in REPO_POOL:
        sb.add_repo(f"{ORG}/{repo}")
    for repo, live_environments in case.environments.items():
        for spelled in live_environments.values():
            sb.create_environment(repo, spelled)
    for ((scope, env, app), _), items in case.live.items():
        for name, s in items.items():
            selected = s.selected if s.visibility == "selected" else None
            if isinstance(s.value, bytes) and env:
                sb.put_environment_secret(scope, env, name, s.value)
            elif isinstance(s.value, bytes):
                sb.put_secret(scope, app, name, s.value, visibility=s.visibility, selected=selected)
            elif env:
                sb.put_environment_variable(scope, env, name, s.value)
            else:
                sb.put_variable(
                    scope, app, name, s.value, visibility=s.visibility, selected=selected
                )


def _read(sb: Sandbox, key: Key) -> dict[str, Record]:
    (scope, env, app), kind = key
    if env and env not in {e.lower() for e in sb.environments(scope)}:
        return {}
    if env:
        found = sb.environment_secrets if kind == "secret" else sb.environment_variables
        return dict(found(scope, env))
    return dict(sb.secrets(scope, app) if kind == "secret" else sb.variables(scope, app))


def _spec(directory: Path, env: dict[str, str], tag: str, want: Want) -> dict[str, Any]:
    if want.source == "inline":
        spec: dict[str, Any] = {"value": want.value}
    elif want.source == "env":
        var = f"V{tag}_SECRET".upper()
        raw = want.value
        env[var] = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        spec = {"value": {"env": var}}
    else:
        rel = f"values/{tag}.bin"
        raw = want.value
        (directory / rel).write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        spec = {"value": {"file": rel}}
    if want.visibility is not None:
        spec["visibility"] = want.visibility
    if want.visibility == "selected":
        spec["repositories"] = list(want.repositories)
    return spec


def _write_inputs(directory: Path, case: Case) -> tuple[Path, dict[str, str]]:
    """The manifest, its value files, and the environment holding the env values."""
    env: dict[str, str] = {}
    doc: dict[str, Any] = {"version": 1, "orgs": {}, "repos": {}}
    (directory / "values").mkdir()
    for n, ((scope, environment, app), group) in enumerate(sorted(case.manifest.items())):
        block: dict[str, Any] = {"prune": group.prune}
        for kind, items in group.listed.items():
            block[f"{kind}s"] = {
                name: _spec(directory, env, f"{n}_{kind}_{name}", want)
                for name, want in items.items()
            }
        holder = doc["orgs" if scope == ORG else "repos"].setdefault(scope, {})
        if environment:
            spelled = case.spelling[(scope, environment)]
            holder.setdefault("environments", {})[spelled] = block
        else:
            holder[app] = block
    text = yaml.safe_dump({k: v for k, v in doc.items() if v}, sort_keys=False)
    return write_manifest(directory, text), env


# -- the oracle --------------------------------------------------------------------------------


def _expected_value(case: Case, key: Key, name: str, want: Want) -> bytes | str:
    before = case.live.get(key, {}).get(name)
    (scope, _, app), kind = key
    if before is None or kind == "variable" or case.values != "skip-unknown":
        return want.value
    visibility_changed = scope == ORG and (want.visibility or "private") != before.visibility
    if visibility_changed and app in VALUE_REQUIRED_FOR_PUT:
        return want.value
    return before.value


def _check_item(case: Case, key: Key, name: str, want: Want, got: Record) -> None:
    where = (key, name)
    assert got.value == _expected_value(case, key, name, want), where
    if key[0][0] == ORG:
        assert got.visibility == (want.visibility or "private"), where
        assert got.selected == frozenset(want.repositories), where
    else:
        assert got.visibility is None, where


def _check_state(sb: Sandbox, case: Case, before: dict[Key, dict[str, Record]]) -> None:
    for key, records in before.items():
        group, kind = key
        now = _read(sb, key)
        want_group = case.manifest.get(group)
        wanted = want_group.listed.get(kind) if want_group else None
        if want_group is None or wanted is None:
            # Not managed here (another kind's `prune` included): exactly as it was.
            assert now == records, f"{key}: not managed, was changed"
            continue
        for name, want in wanted.items():
            assert name in now, f"{key} {name} missing after apply"
            _check_item(case, key, name, want, now[name])
        for name, record in records.items():
            if name not in wanted and want_group.prune:
                assert name not in now, f"{key} {name}: prune is on, still there"
            elif name not in wanted:
                assert now.get(name) == record, f"{key} {name}: unmanaged, was changed"
        unexpected = set(now) - set(wanted) - set(records)
        assert not unexpected, f"{key}: items nobody asked for: {unexpected}"


def _created(case: Case) -> dict[tuple[str, str], str]:
    """The environments apply must create: (repo, identity) -> the manifest's spelling."""
    return {
        (repo, identity): spelled
        for (repo, identity), spelled in case.spelling.items()
        if identity not in case.environments[repo]
    }


def _check_environments(sb: Sandbox, case: Case, writes: list[str]) -> None:
    created = _created(case)
    for repo in REPO_SCOPES:
        # A live environment keeps its own spelling; a created one takes the manifest's.
        expected = [*case.environments[repo].values()]
        expected += [spelled for (r, _), spelled in created.items() if r == repo]
        assert sorted(sb.environments(repo)) == sorted(expected), repo
    made = [w for w in writes if re.fullmatch(r"PUT /repos/[^/]+/[^/]+/environments/[^/]+", w)]
    paths = {k: f"/repos/{k[0]}/environments/{quote(s, safe='')}" for k, s in created.items()}
    assert sorted(made) == sorted(f"PUT {p}" for p in paths.values())
    for path in paths.values():
        creation = writes.index(f"PUT {path}")
        into = [i for i, w in enumerate(writes) if w.split(" ", 1)[1].startswith(path + "/")]
        assert all(i > creation for i in into), f"written into {path} before creating it"


def _writes(sb: Sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in sb.requests if r.method not in ("GET", "HEAD")]


def _ok(result: Run, *codes: int) -> Run:
    assert result.code in (codes or (0,)), f"exit {result.code}\n{result.err}\n{result.out}"
    assert "Traceback" not in result.err
    return result


REPLAN = ["--values", "skip-unknown", "--format", "json", "--detailed-exitcode"]
PROPERTY = settings(
    max_examples=40,
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
        before = {key: _read(sb, key) for key in ALL_KEYS}
        common = [str(manifest), "--values", case.values, "--format", "json"]

        # Exit 3: plan predicts that apply needs --force (given below) for an unsafe example.
        planned = _ok(run(capsys, ["plan", *common], env, sb=sb), 0, 3).json()
        assert _writes(sb) == [], "plan wrote"

        sb.clear_requests()
        applied = _ok(
            run(capsys, ["apply", *common, "--write-delay", "0", "--force"], env, sb=sb)
        ).json()
        # (d) the writes made are the writes planned, for the very same plan
        writes = _writes(sb)
        assert applied["plan_checksum"] == planned["checksum"]
        assert len(writes) == planned["api"]["writes_planned"]
        assert all(r["outcome"] == "done" for r in applied["results"])
        assert all(200 <= r.status < 300 for r in sb.requests), [
            (r.method, r.path, r.status) for r in sb.requests if r.status >= 300
        ]

        # (a) managed items equal the manifest; (b) unmanaged kept or pruned, by kind
        _check_state(sb, case, before)
        _check_environments(sb, case, writes)

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
