"""Request economy with variables and environments: exact counts of what plan and apply ask.

Counts are read from the sandbox's recorded requests (method, path, query). A no-op plan
lists each (scope, app, kind) the manifest manages once, each repository's environments
once when the manifest names environments there, and the selected repositories only of
managed organisation items whose visibility is `selected`; it reads no item one by one,
no public key and no repository (every id comes with the live selections). Apply reads
one public key per scope it writes secrets into, the key of
an environment it creates only after creating it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

ENV = {"TEAM_TOKEN": "t-value", "RECONCILER_LEDGER_KEY": "economy-ledger-key-0123456789abcdef"}
WEB = "/repos/octo-org/web"
MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: TEAM_TOKEN}, visibility: selected, repositories: [web, docs]}
        PLAIN: {value: {env: TEAM_TOKEN}}
      variables:
        REGION: {value: eu-west-1, visibility: selected, repositories: [web, api]}
        LOG_LEVEL: {value: info}
    agents:
      variables:
        MODEL: {value: fast, visibility: all}
    dependabot:
      secrets:
        DEP_TOKEN: {value: {env: TEAM_TOKEN}}
repos:
  octo-org/web:
    actions:
      secrets: {DEPLOY_TOKEN: {value: {env: TEAM_TOKEN}}}
      variables: {APP_NAME: {value: web}}
    environments:
      Production:
        secrets: {DB_PASSWORD: {value: {env: TEAM_TOKEN}}}
        variables: {URL: {value: "https://example.com"}}
      review/pr-1:
        variables: {URL: {value: "https://pr-1.example.com"}}
  octo-org/api:
    agents:
      variables: {MODEL: {value: slow}}
    environments:
      staging:
        secrets: {DB_PASSWORD: {value: {env: TEAM_TOKEN}}}
  octo-org/docs:
    codespaces:
      secrets: {DOCS_TOKEN: {value: {env: TEAM_TOKEN}}}
"""

# Everything a no-op plan of MANIFEST reads, once each.
NO_OP_PLAN_READS = [
    f"{WEB}/environments",
    "/repos/octo-org/api/environments",
    "/orgs/octo-org/actions/secrets",
    "/orgs/octo-org/actions/variables",
    "/orgs/octo-org/agents/variables",
    "/orgs/octo-org/dependabot/secrets",
    "/orgs/octo-org/actions/secrets/NPM_TOKEN/repositories",
    "/orgs/octo-org/actions/variables/REGION/repositories",
    f"{WEB}/actions/secrets",
    f"{WEB}/actions/variables",
    "/repos/octo-org/api/agents/variables",
    "/repos/octo-org/docs/codespaces/secrets",
    f"{WEB}/environments/production/secrets",
    f"{WEB}/environments/production/variables",
    f"{WEB}/environments/review%2Fpr-1/variables",
    "/repos/octo-org/api/environments/staging/secrets",
]


def _reads(sb: Sandbox) -> Counter[str]:
    """GET paths and how often each was requested; environment names are case-insensitive,
    so paths compare in lower case."""
    return Counter(r.path.lower() for r in sb.requests if r.method == "GET")


def _expected(paths: list[str]) -> Counter[str]:
    return Counter(p.lower() for p in paths)


def _ok(result: Run) -> Run:
    assert result.code == 0, f"exit {result.code}\n{result.err}\n{result.out}"
    return result


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "docs", "infra"):
        sandbox.add_repo(f"octo-org/{name}")
    sandbox.create_environment("octo-org/web", "production")
    sandbox.create_environment("octo-org/web", "Other")
    sandbox.put_environment_variable("octo-org/web", "Other", "UNMANAGED", "x")
    # Live but unmanaged, with a selection: their selections are never read.
    sandbox.put_variable("octo-org", "actions", "STRAY", "s", visibility="selected", selected=[])
    sandbox.put_secret("octo-org", "actions", "STRAY", b"s", visibility="selected", selected=[])
    return sandbox


def test_a_no_op_plan_reads_each_listing_once_and_nothing_else(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    _ok(run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org))
    org.clear_requests()
    plan = _ok(run(capsys, ["plan", str(manifest), "--format", "json"], ENV, sb=org))
    assert [c for c in plan.json()["changes"] if c["action"] != "unmanaged"] == []
    assert all(r.method == "GET" for r in org.requests)
    assert _reads(org) == _expected(NO_OP_PLAN_READS)
    assert plan.json()["api"]["requests_made"] == len(NO_OP_PLAN_READS)


def test_variables_are_listed_thirty_to_a_page(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("octo-org/web")
    for i in range(65):
        sandbox.put_variable("octo-org/web", "actions", f"V{i:02}", str(i))
    manifest = write_manifest(
        tmp_path,
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      variables:\n"
        "        V00: {value: '0'}\n",
    )
    sandbox.clear_requests()
    _ok(run(capsys, ["plan", str(manifest)], {}, sb=sandbox))
    listings = [r for r in sandbox.requests if r.path == f"{WEB}/actions/variables"]
    queries = [parse_qs(r.query) for r in listings]
    assert [q["per_page"] for q in queries] == [["30"]] * 3
    # Page 1 names the last page; pages 2 and 3 are then read at once, in either order.
    assert sorted(q.get("page", ["1"]) for q in queries) == [["1"], ["2"], ["3"]]


def test_an_environment_the_plan_creates_is_not_listed_and_its_key_is_read_after_creation(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("octo-org/web")
    sandbox.create_environment("octo-org/web", "Production")
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            actions:
              secrets: {A: {value: {env: TEAM_TOKEN}}, B: {value: {env: TEAM_TOKEN}}}
        repos:
          octo-org/web:
            environments:
              production:
                secrets: {A: {value: {env: TEAM_TOKEN}}, B: {value: {env: TEAM_TOKEN}}}
              review/pr-2:
                secrets: {A: {value: {env: TEAM_TOKEN}}, B: {value: {env: TEAM_TOKEN}}}
                variables: {URL: {value: "https://pr-2.example.com"}}
        """,
    )
    plan_reads = [
        f"{WEB}/environments",
        "/orgs/octo-org/actions/secrets",
        f"{WEB}/environments/production/secrets",
    ]
    sandbox.clear_requests()
    _ok(run(capsys, ["plan", str(manifest)], ENV, sb=sandbox))
    assert _reads(sandbox) == _expected(plan_reads)

    sandbox.clear_requests()
    _ok(run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=sandbox))
    keys = [
        "/orgs/octo-org/actions/secrets/public-key",
        f"{WEB}/environments/production/secrets/public-key",
        f"{WEB}/environments/review%2Fpr-2/secrets/public-key",
    ]
    # After the writes, the ledger lists each group it wrote secrets into once, for their
    # `updated_at`: that is the first listing of the new environment's secrets.
    ledger = [
        "/orgs/octo-org/actions/secrets",
        f"{WEB}/environments/production/secrets",
        f"{WEB}/environments/review%2Fpr-2/secrets",
    ]
    assert _reads(sandbox) == _expected(plan_reads + keys + ledger)
    sent = [f"{r.method} {r.path}" for r in sandbox.requests]
    created = sent.index(f"PUT {WEB}/environments/review%2Fpr-2")
    key_read = sent.index(f"GET {WEB}/environments/review%2Fpr-2/secrets/public-key")
    first_secret = sent.index(f"PUT {WEB}/environments/review%2Fpr-2/secrets/A")
    assert created < key_read < first_secret
    assert set(sandbox.environment_secrets("octo-org/web", "review/pr-2")) == {"A", "B"}


def test_a_selection_is_read_only_for_the_kind_managed_as_selected(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret and a variable may share a name. A managed secret with visibility
    `selected` does not make the plan read the selection of a variable of that name the
    manifest leaves unmanaged (nor the other way round)."""
    for name in ("web", "api"):
        sandbox.add_repo(f"octo-org/{name}")
    for app in ("actions", "agents"):
        sandbox.put_secret("octo-org", app, "SHARED", b"s", visibility="selected", selected=["web"])
        sandbox.put_variable(
            "octo-org", app, "SHARED", "v", visibility="selected", selected=["web"]
        )
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            actions:
              secrets:
                SHARED: {value: {env: TEAM_TOKEN}, visibility: selected, repositories: [web]}
              variables: {}
            agents:
              secrets: {}
              variables:
                SHARED: {value: v, visibility: selected, repositories: [web]}
        """,
    )
    sandbox.clear_requests()
    args = ["plan", str(manifest), "--values", "skip-unknown", "--format", "json"]
    plan = _ok(run(capsys, args, ENV, sb=sandbox))
    assert {(c["app"], c.get("kind", "secret"), c["action"]) for c in plan.json()["changes"]} == {
        ("actions", "variable", "unmanaged"),
        ("agents", "secret", "unmanaged"),
    }
    selections = sorted(p for p in _reads(sandbox) if p.endswith("/repositories"))
    assert selections == [
        "/orgs/octo-org/actions/secrets/shared/repositories",
        "/orgs/octo-org/agents/variables/shared/repositories",
    ]
