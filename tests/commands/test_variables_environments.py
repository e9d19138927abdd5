"""Variables and environment secrets end to end: the real CLI against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest

MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      prune: true
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}}
      variables:
        REGION: {value: eu-west-1, visibility: selected, repositories: [web, api]}
        LOG_LEVEL: {value: info}
    agents:
      variables:
        MODEL: {value: fast, visibility: all}
repos:
  octo-org/web:
    actions:
      variables:
        APP_NAME: {value: {file: app-name.txt}}
    environments:
      production:
        prune: true
        secrets:
          DB_PASSWORD: {value: {env: PROD_DB_PASSWORD}}
        variables:
          URL: {value: "https://example.com"}
      review/pr-1:
        variables:
          URL: {value: "https://pr-1.example.com"}
"""
ENV = {
    "NPM_TOKEN": "npm-value",
    "PROD_DB_PASSWORD": "db-value",
    "RECONCILER_LEDGER_KEY": "k" * 32,
}


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "docs"):
        sandbox.add_repo(f"octo-org/{name}")
    sandbox.put_variable("octo-org", "actions", "STALE", "x")
    sandbox.put_secret("octo-org/web", "actions", "UNTOUCHED", b"u")
    sandbox.create_environment("octo-org/web", "Production")
    sandbox.put_environment_variable("octo-org/web", "Production", "URL", "https://old.example")
    sandbox.put_environment_variable("octo-org/web", "Production", "OLD", "gone")
    return sandbox


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    (tmp_path / "app-name.txt").write_text("web-frontend", encoding="utf-8")
    return write_manifest(tmp_path, MANIFEST)


def _writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sb.requests if r.method != "GET"]


def test_plan_shows_variables_by_value_and_environments_created(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["plan", str(manifest)], ENV, sb=org)
    assert result.code == 0, result.err
    out = result.out
    assert "octo-org/web/production (deployment environment)" in out
    assert "~ variable URL  value: https://old.example -> https://example.com" in out
    assert "- variable OLD  deleted (prune is on)" in out
    assert "+ environment review/pr-1  created, with no protection rules" in out
    assert "+ variable APP_NAME  value from file:app-name.txt: web-frontend" in out
    assert (
        "+ variable REGION  visibility: selected; repositories: +api +web; value: eu-west-1" in out
    )
    assert "- variable STALE  deleted (prune is on)" in out
    assert "UNTOUCHED" not in out  # the repo's actions group declares variables only
    assert "Plan: 8 to create, 1 to update, 0 selection changes, 2 to delete." in out
    assert _writes(org) == []


def test_apply_converges_with_exact_writes_and_a_re_plan_is_empty(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.clear_requests()
    first = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert first.code == 0, first.err
    assert "Apply: 11 done, 0 failed, 0 skipped (11 write requests)." in first.out
    writes = _writes(org)
    # The environment is created before anything is written into it.
    create = writes.index(("PUT", "/repos/octo-org/web/environments/review%2Fpr-1"))
    assert writes[create + 1] == (
        "POST",
        "/repos/octo-org/web/environments/review%2Fpr-1/variables",
    )
    assert ("PATCH", "/repos/octo-org/web/environments/production/variables/URL") in writes
    assert sum(1 for method, _ in writes if method == "POST") == 5
    variables = org.variables("octo-org", "actions")
    assert {n: v.value for n, v in variables.items()} == {
        "REGION": "eu-west-1",
        "LOG_LEVEL": "info",
    }
    assert variables["REGION"].visibility == "selected"
    assert variables["REGION"].selected == frozenset({"web", "api"})
    assert org.variables("octo-org", "agents")["MODEL"].visibility == "all"
    assert org.variables("octo-org/web", "actions")["APP_NAME"].value == "web-frontend"
    assert org.environments("octo-org/web") == ["Production", "review/pr-1"]
    production = org.environment_variables("octo-org/web", "production")
    assert {n: v.value for n, v in production.items()} == {"URL": "https://example.com"}
    assert org.environment_secrets("octo-org/web", "production")["DB_PASSWORD"].value == b"db-value"
    assert set(org.secrets("octo-org/web", "actions")) == {"UNTOUCHED"}
    org.clear_requests()
    again = run(capsys, ["plan", str(manifest), "--detailed-exitcode"], ENV, sb=org)
    assert again.code == 0, again.out + again.err
    assert "No changes. GitHub matches the manifest." in again.out
    assert _writes(org) == []


def test_hidden_variable_values_never_appear_and_still_bind_the_reviewed_plan(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    outputs = []
    for fmt in ("text", "json", "markdown"):
        args = ["plan", str(manifest), "--hide-variable-values", "--format", fmt]
        result = run(capsys, args, ENV, sb=org)
        assert result.code == 0, result.err
        outputs.append(result.out + result.err)
    reviewed = run(
        capsys,
        ["plan", str(manifest), "--hide-variable-values", "--out", str(plan_file)],
        ENV,
        sb=org,
    )
    assert reviewed.code == 0, reviewed.err
    outputs.append(plan_file.read_text())
    for text in outputs:
        for value in ("https://old.example", "https://example.com", "eu-west-1", "web-frontend"):
            assert value not in text
    assert json.loads(plan_file.read_text())["variable_values"] == "hidden"
    applied = run(capsys, ["apply", str(plan_file), "--write-delay", "0"], ENV, sb=org)
    assert applied.code == 0, applied.err
    assert org.environment_variables("octo-org/web", "production")["URL"].value == (
        "https://example.com"
    )


def test_a_reviewed_plan_is_refused_when_a_variable_changed_since(
    org: Sandbox, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    made = run(capsys, ["plan", str(manifest), "--out", str(plan_file)], ENV, sb=org)
    assert made.code == 0, made.err
    org.put_environment_variable("octo-org/web", "Production", "URL", "https://edited.example")
    org.clear_requests()
    stale = run(capsys, ["apply", str(plan_file), "--write-delay", "0"], ENV, sb=org)
    assert stale.code == 1
    assert (
        'octo-org/web/production actions variable URL: variable was {"before": '
        '"https://old.example", "after": "https://example.com"}, now {"before": '
        '"https://edited.example", "after": "https://example.com"}'
    ) in stale.err
    assert _writes(org) == []


def test_an_environment_that_cannot_be_created_holds_back_only_its_own_writes(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without Administration the environment PUT is refused: the writes into it are
    skipped (they could only fail), every other write is made, and the next run finishes."""
    permissions = {
        "metadata": "read",
        "organization_secrets": "write",
        "organization_variables": "write",
        "organization_agent_variables": "write",
        "variables": "write",
        "secrets": "write",
        "environments": "write",
        "actions": "read",
    }
    org.add_token("t-no-admin", permissions)
    org.clear_requests()
    args = ["apply", str(manifest), "--write-delay", "0"]
    result = run(capsys, args, {**ENV, "GITHUB_TOKEN": "t-no-admin"}, sb=org)
    assert result.code == 1
    assert "FAILED  + octo-org/web/review/pr-1 actions environment review/pr-1" in result.err
    assert "Administration (write)" in result.err
    assert (
        "skipped  + octo-org/web/review/pr-1 actions variable URL: not attempted: the "
        "environment could not be created"
    ) in result.err
    assert "Apply: 9 done, 1 failed, 1 skipped" in result.out
    assert "review/pr-1" not in org.environments("octo-org/web")
    finished = run(capsys, args, ENV, sb=org)
    assert finished.code == 0, finished.err
    assert "Apply: 2 done, 0 failed, 0 skipped" in finished.out


def test_an_environment_target_plans_that_environment_only(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target, expected in (
        ("octo-org/web/review/*", {("environment", "review/pr-1"), ("variable", "URL")}),
        ("octo-org/web/production:actions:url", {("variable", "URL")}),
        ("octo-org/web/review/pr-1:*:URL", {("environment", "review/pr-1"), ("variable", "URL")}),
    ):
        args = ["plan", str(manifest), "--format", "json", "--target", target]
        result = run(capsys, args, ENV, sb=org)
        assert result.code == 0, result.err
        doc = json.loads(result.out)
        assert {(c.get("kind", "secret"), c["name"]) for c in doc["changes"]} == expected, target
        assert doc["targets"] == [target.lower()] or doc["targets"] == [target]


def test_an_unreadable_variable_source_fails_the_plan_before_any_write(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (manifest.parent / "app-name.txt").write_bytes(b"\xff\xfe not text")
    plan = run(capsys, ["plan", str(manifest)], ENV, sb=org)
    assert plan.code == 1
    assert "apply would fail before its first write" in plan.out + plan.err
    assert "file:app-name.txt is not UTF-8 text" in plan.out + plan.err
    org.clear_requests()
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert applied.code == 1
    assert _writes(org) == []


def test_variable_values_cannot_break_the_outputs(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A variable's value is shown in plans: terminal escapes, workflow commands and table
    breakers in it are shown escaped, never acted on."""
    sandbox.add_repo("octo-org/web")
    hostile = "\x1b]0;title\x07::set-output name=x::y | `tick` </details>"
    sandbox.put_variable("octo-org/web", "actions", "V", hostile)
    manifest = write_manifest(
        tmp_path,
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      variables:\n"
        "        V: {value: plain}\n",
    )
    for fmt in ("text", "json", "markdown"):
        result = run(capsys, ["plan", str(manifest), "--format", fmt], {}, sb=sandbox)
        assert result.code == 0, result.err
        assert "\x1b" not in result.out and "\x07" not in result.out
        assert "::set-output" not in result.out
        assert "</details> |" not in result.out


def test_import_brings_variables_inline_and_environments_and_plans_no_variable_change(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.put_variable(
        "octo-org", "actions", "REGION", "eu-west-1", visibility="selected", selected=["web"]
    )
    org.put_environment_secret("octo-org/web", "Production", "DB_PASSWORD", b"db")
    out = tmp_path / "imported.yaml"
    result = run(capsys, ["import", "--org", "octo-org", "--out", str(out)], {}, sb=org)
    assert result.code == 0, result.err
    assert "wrote 2 secrets and 4 variables" in result.err
    doc = yaml.safe_load(out.read_text())
    assert doc["orgs"]["octo-org"]["actions"]["variables"]["REGION"] == {
        "value": "eu-west-1",
        "visibility": "selected",
        "repositories": ["web"],
    }
    production = doc["repos"]["octo-org/web"]["environments"]["Production"]
    assert production["variables"] == {
        "OLD": {"value": "gone"},
        "URL": {"value": "https://old.example"},
    }
    assert list(production["secrets"]) == ["DB_PASSWORD"]
    template = (tmp_path / "imported.yaml.env").read_text()
    assert "DB_PASSWORD=" in template and "REGION" not in template
    env = {name: "v" for name in ("DB_PASSWORD", "UNTOUCHED")}
    plan = run(capsys, ["plan", str(out), "--no-ledger", "--format", "json"], env, sb=org)
    assert plan.code == 0, plan.err
    changes = json.loads(plan.out)["changes"]
    # Only the two secrets, whose values GitHub never shows; every variable already matches.
    assert {(c.get("kind", "secret"), c["name"], c["value"]) for c in changes} == {
        ("secret", "DB_PASSWORD", "not comparable"),
        ("secret", "UNTOUCHED", "not comparable"),
    }


def test_the_ledger_makes_environment_secrets_exact(
    org: Sandbox, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], ENV, sb=org)
    assert applied.code == 0, applied.err
    ledger = json.loads((Path.cwd() / ".reconciler-ledger.json").read_text())
    targets = {(e["scope"], e["target"]) for e in ledger["secrets"]}
    assert ("environment", "octo-org/web/production") in targets
    rotated = {**ENV, "PROD_DB_PASSWORD": "rotated"}
    plan = run(capsys, ["plan", str(manifest), "--format", "json"], rotated, sb=org)
    assert plan.code == 0, plan.err
    assert [(c["environment"], c["name"], c["value"]) for c in json.loads(plan.out)["changes"]] == [
        ("production", "DB_PASSWORD", "value changed")
    ]
