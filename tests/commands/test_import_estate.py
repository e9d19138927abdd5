"""`reconciler import` of a whole estate: an org and its repositories, one variable per
distinct secret, repository globs, an env template, and no silent overwrite."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.adoption.env_names import (
    assign_env_names,
    env_name_for,
    extra_allow_env,
)
from reconciler.model import App, Scope, ScopeKind
from reconciler.sandbox import Sandbox
from reconciler.values.env_policy import env_refusal
from tests.support.e2e import run

ORG = "acme"
REPOS = ("web", "api", "svc-one", "svc-two", "docs")
# Every value planted, to prove none comes out anywhere.
VALUES = {
    (ORG, "actions", "PROD_API_KEY"): b"org-prod-key-0001",
    (f"{ORG}/web", "actions", "PROD_API_KEY"): b"web-prod-key-0002",
    (f"{ORG}/web", "dependabot", "PROD_API_KEY"): b"web-dependabot-key-0003",
    (f"{ORG}/api", "actions", "PROD_API_KEY"): b"api-prod-key-0004",
    (f"{ORG}/svc-one", "actions", "PROD_API_KEY"): b"svc-one-prod-key-0005",
    (f"{ORG}/svc-two", "actions", "DEPLOY_HOOK"): b"svc-two-hook-0006",
    (ORG, "dependabot", "NPM_TOKEN"): b"org-npm-token-0007",
}
EXPECTED_VARS = {
    (ORG, "actions", "PROD_API_KEY"): "ACME__PROD_API_KEY",
    (f"{ORG}/web", "actions", "PROD_API_KEY"): "ACME_WEB_ACTIONS__PROD_API_KEY",
    (f"{ORG}/web", "dependabot", "PROD_API_KEY"): "ACME_WEB_DEPENDABOT__PROD_API_KEY",
    (f"{ORG}/api", "actions", "PROD_API_KEY"): "ACME_API__PROD_API_KEY",
    (f"{ORG}/svc-one", "actions", "PROD_API_KEY"): "ACME_SVC_ONE__PROD_API_KEY",
    (f"{ORG}/svc-two", "actions", "DEPLOY_HOOK"): "DEPLOY_HOOK",  # one scope: its own name
    (ORG, "dependabot", "NPM_TOKEN"): "NPM_TOKEN",
}


@pytest.fixture
def estate(sandbox: Sandbox) -> Sandbox:
    for name in REPOS:
        sandbox.add_repo(f"{ORG}/{name}")
    sandbox.add_repo("elsewhere/web")
    for (scope, app, name), value in VALUES.items():
        if "/" in scope:
            sandbox.put_secret(scope, app, name, value)
        else:
            sandbox.put_secret(scope, app, name, value, visibility="selected", selected=["web"])
    sandbox.put_secret("elsewhere/web", "actions", "PROD_API_KEY", b"elsewhere-key-0008")
    return sandbox


def _manifest_vars(doc: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    found: dict[tuple[str, str, str], str] = {}
    for top in ("orgs", "repos"):
        for scope, apps in (doc.get(top) or {}).items():
            for app, group in apps.items():
                for name, secret in group["secrets"].items():
                    found[(scope, app, name)] = secret["value"]["env"]
    return found


def _template(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """NAME -> value, and NAME -> the comment above it."""
    values: dict[str, str] = {}
    comments: dict[str, str] = {}
    last = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            last = line[2:]
        elif line:
            name, _, value = line.partition("=")
            assert name not in values, f"{name} listed twice"
            values[name], comments[name] = value, last
    return values, comments


def _no_values(*texts: str) -> None:
    for text in texts:
        for value in VALUES.values():
            assert value.decode() not in text


def test_an_estate_imports_to_one_variable_per_distinct_secret(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "estate.yaml"
    result = run(capsys, ["import", "--org", ORG, "--out", str(out)], {}, sb=estate)
    assert result.code == 0, result.err
    assert result.out == ""
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert _manifest_vars(doc) == EXPECTED_VARS  # elsewhere/web is another owner: not read
    assert doc["settings"]["allow_env"] == ["DEPLOY_HOOK"]
    assert doc["orgs"][ORG]["actions"]["secrets"]["PROD_API_KEY"]["repositories"] == ["web"]

    template = tmp_path / "estate.yaml.env"
    values, comments = _template(template)
    assert set(values) == set(EXPECTED_VARS.values())
    assert set(values.values()) == {""}  # names only: GitHub never returns values
    assert comments["ACME_WEB_DEPENDABOT__PROD_API_KEY"] == "acme/web dependabot PROD_API_KEY"
    assert comments["ACME__PROD_API_KEY"] == "acme actions PROD_API_KEY"
    assert f"wrote 7 environment variables to set to {template}" in result.err
    assert f"read 5/6 {ORG}/svc-two: 1 secret\n" in result.err  # progress: a line per scope
    assert f"read 6/6 {ORG}/web: 2 secrets\n" in result.err
    assert f"{ORG}: 5 repositories, 5 selected" in result.err

    # Every listed variable set (to a different value each): the manifest validates and
    # the first plan only says that values cannot be compared: nothing created or deleted.
    environ = {name: f"v-{i}" for i, name in enumerate(values)}
    checked = run(capsys, ["validate", str(out), "--resolve-values"], environ)
    assert checked.code == 0, checked.err
    plan = run(capsys, ["plan", str(out), "--format", "json"], environ, sb=estate)
    assert plan.code == 0, plan.err
    changes = plan.json()["changes"]
    assert len(changes) == len(EXPECTED_VARS)
    assert {(c["action"], c["value"]) for c in changes} == {("update", "not comparable")}
    _no_values(result.out, result.err, out.read_text(), template.read_text(), plan.out, plan.err)


def test_without_out_the_variables_close_the_manifest_as_a_comment(
    estate: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["import", "--org", ORG], {}, sb=estate)
    assert result.code == 0, result.err
    head, _, block = result.out.partition("# Environment variables this manifest reads")
    assert "several secrets one" in head and "a choice you wrote" in head
    listed = re.findall(r"^#   (\S+)\s+(\S+) (\S+) (\S+)$", block, re.MULTILINE)
    assert {(s, a, n): v for v, s, a, n in listed} == EXPECTED_VARS
    assert _manifest_vars(yaml.safe_load(result.out)) == EXPECTED_VARS
    _no_values(result.out, result.err)


def test_globs_and_excludes_select_exactly_and_never_reach_the_api(
    estate: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "--org", ORG, "--repo", "ACME/svc-*", "--repo", "WEB"]
    result = run(capsys, [*args, "--exclude-repo", "*-two"], {}, sb=estate)
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert sorted(doc["repos"]) == [f"{ORG}/svc-one", f"{ORG}/web"]
    assert list(doc["orgs"]) == [ORG]
    # Names now repeat in fewer scopes, yet every secret still has its own variable.
    found = _manifest_vars(doc)
    assert len(set(found.values())) == len(found) == 5

    # A glob alone: that owner's repositories, not its org secrets.
    only = run(capsys, ["import", "--repo", "acme/*", "--exclude-repo", "acme/docs"], {}, estate)
    assert only.code == 0, only.err
    assert "orgs" not in yaml.safe_load(only.out)
    assert sorted(yaml.safe_load(only.out)["repos"]) == [
        f"{ORG}/{n}" for n in sorted(("web", "api", "svc-one", "svc-two"))
    ]
    paths = [r.path + "?" + r.query for r in estate.requests]
    assert [p for p in paths if p.startswith(f"/orgs/{ORG}/repos?")]  # globs: the listing
    assert not [p for p in paths if "*" in p or "%2A" in p.upper()]  # never a name
    assert not [p for p in paths if f"/repos/{ORG}/docs/" in p]  # excluded: never read

    nothing = run(capsys, ["import", "--org", ORG, "--repo", "svc-x*"], {}, sb=estate)
    assert nothing.code == 1
    assert 'has no repository matching --repo "svc-x*"' in nothing.err
    owner_glob = run(capsys, ["import", "--repo", "ac*/web"], {}, sb=estate)
    assert owner_glob.code == 64 and "the owner cannot be a glob" in owner_glob.err


def test_existing_files_are_refused_before_any_request_then_force_regenerates_identically(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "estate.yaml"
    template = tmp_path / "estate.yaml.env"
    args = ["import", "--org", ORG, "--out", str(out)]
    assert run(capsys, args, {}, sb=estate).code == 0
    first = (out.read_bytes(), template.read_bytes())

    out.write_text("# my edits\n", encoding="utf-8")
    estate.clear_requests()
    refused = run(capsys, args, {}, sb=estate)
    assert refused.code == 64
    assert f'--out "{out}" already exists' in refused.err and "--force" in refused.err
    assert estate.requests == []
    assert out.read_text(encoding="utf-8") == "# my edits\n"

    out.unlink()  # the template alone is protected too
    refused = run(capsys, args, {}, sb=estate)
    assert refused.code == 64 and f'"{template}" already exists' in refused.err
    assert not out.exists() and estate.requests == []

    forced = run(capsys, [*args, "--force"], {}, sb=estate)
    assert forced.code == 0, forced.err
    assert (out.read_bytes(), template.read_bytes()) == first  # deterministic


SECRET_KEYS = [
    (Scope(ScopeKind.ORG, "acme"), App.ACTIONS, "X_TOKEN"),
    (Scope(ScopeKind.REPO, "acme/svc-a"), App.ACTIONS, "X_TOKEN"),
    (Scope(ScopeKind.REPO, "acme/svc.a"), App.ACTIONS, "X_TOKEN"),  # same token: SVC_A
    (Scope(ScopeKind.REPO, "acme/web"), App.ACTIONS, "ACME_SVC_A__X_TOKEN"),  # taken first
    (Scope(ScopeKind.ORG, "42corp"), App.ACTIONS, "X_TOKEN"),  # would start with a digit
    (Scope(ScopeKind.ORG, "aws"), App.ACTIONS, "X_TOKEN"),  # would be a guarded AWS_* name
    (Scope(ScopeKind.ORG, "github"), App.ACTIONS, "X_TOKEN"),  # would be forbidden GITHUB_*
    (Scope(ScopeKind.REPO, "acme/web"), App.DEPENDABOT, "PLAIN"),
]


def test_names_are_unique_valid_admitted_and_independent_of_order() -> None:
    names = assign_env_names(SECRET_KEYS)
    assert assign_env_names(reversed(SECRET_KEYS)) == names
    assert len(set(names.values())) == len(SECRET_KEYS)
    assert names[SECRET_KEYS[3]] == "ACME_SVC_A__X_TOKEN"  # unqualified names keep theirs
    assert names[SECRET_KEYS[1]] == "ACME_SVC_A__X_TOKEN_2"
    assert names[SECRET_KEYS[2]] == "ACME_SVC_A__X_TOKEN_3"
    assert names[SECRET_KEYS[4]] == "SECRET_42CORP__X_TOKEN"
    assert names[SECRET_KEYS[5]] == "SECRET_AWS__X_TOKEN"
    assert names[SECRET_KEYS[6]] == "SECRET_GITHUB__X_TOKEN"
    allow = extra_allow_env(names.values())
    assert allow == ("ACME_SVC_A__X_TOKEN_2", "ACME_SVC_A__X_TOKEN_3", "PLAIN")
    for name in names.values():
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", name)
        assert env_refusal(name, allow) is None


def test_a_well_known_credential_name_is_not_imported_as_its_own_variable() -> None:
    # The runner's own AWS_SECRET_ACCESS_KEY would be copied into the secret otherwise.
    assert env_name_for("AWS_SECRET_ACCESS_KEY") == "SECRET_AWS_SECRET_ACCESS_KEY"
    assert env_name_for("CI_JOB_TOKEN") == "SECRET_CI_JOB_TOKEN"
