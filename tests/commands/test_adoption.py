"""Adopting an existing organization, end to end against the sandbox (issue 12's proof):

an org whose repositories hold same-named secrets with DIFFERENT values -> `import --org` ->
set every variable the env template lists to the value the sandbox holds for that secret ->
`baseline` -> the first plan is empty -> rotate ONE repository's value -> the plan shows
exactly that one change -> `apply` -> read back from the sandbox: that repository has the new
value and every other secret is unchanged, value and updated_at.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run

KEY = "adoption-ledger-key-0123456789abcdef"
ORG = "acme"
SecretId = tuple[str, str, str]  # scope as GitHub spells it, app, NAME

# What the org holds before adoption; no two values alike, the same name in four scopes.
SEED: dict[SecretId, str] = {
    ("acme", "actions", "PROD_API_KEY"): "org-prod-key-a1f0",
    ("acme/web", "actions", "PROD_API_KEY"): "web-prod-key-b2e1",
    ("acme/api", "actions", "PROD_API_KEY"): "api-prod-key-c3d2",
    ("acme/worker", "actions", "PROD_API_KEY"): "worker-prod-key-d4c3",
    ("acme/worker", "dependabot", "PROD_API_KEY"): "worker-dependabot-key-e5b4",
    ("acme/api", "actions", "NPM_TOKEN"): "api-npm-token-f6a5",
    ("acme", "actions", "SHARED_TOKEN"): "org-shared-token-07f6",
}
ROTATED = "api-prod-key-rotated-18e7"
ROTATED_ID: SecretId = ("acme/api", "actions", "PROD_API_KEY")


@pytest.fixture
def acme(sandbox: Sandbox) -> Sandbox:
    for repo in ("web", "api", "worker", "docs"):
        sandbox.add_repo(f"{ORG}/{repo}")
    for (scope, app, name), value in SEED.items():
        if scope == ORG and name == "SHARED_TOKEN":
            sandbox.put_secret(
                scope, app, name, value.encode(), visibility="selected", selected=["web", "api"]
            )
        else:
            sandbox.put_secret(scope, app, name, value.encode())
    return sandbox


def held(sb: Sandbox) -> dict[SecretId, tuple[str, str]]:
    """(value, updated_at) of every secret, read back from the sandbox's dump."""
    state = sb.dump_state()
    found: dict[SecretId, tuple[str, str]] = {}
    scopes: list[tuple[str, dict[str, Any]]] = [
        (login, org["secrets"]) for login, org in state["orgs"].items()
    ]
    scopes += [(full, repo["secrets"]) for full, repo in state["repos"].items()]
    for scope, apps in scopes:
        for app, secrets in apps.items():
            for name, secret in secrets.items():
                found[(scope, app, name)] = (secret["value"], secret["updated_at"])
    return found


def variables_from_template(template: Path) -> dict[SecretId, str]:
    """The env template's contract: `# scope app SECRET` above each `NAME=` line."""
    names: dict[SecretId, str] = {}
    above: SecretId | None = None
    for line in template.read_text(encoding="utf-8").splitlines():
        words = line[1:].split() if line.startswith("#") else []
        if len(words) == 3 and words[1] in {"actions", "dependabot", "codespaces"}:
            above = (words[0], words[1], words[2])
        elif line.endswith("=") and above is not None:
            names[above] = line[:-1]
            above = None
    return names


def variables_from_manifest(manifest: Path) -> dict[SecretId, str]:
    """Every `env:` source in the manifest, by the secret that reads it."""
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    names: dict[SecretId, str] = {}
    for top in ("orgs", "repos"):
        for scope, apps in (doc.get(top) or {}).items():
            for app, group in apps.items():
                for name, secret in group["secrets"].items():
                    names[(scope, app, name)] = secret["value"]["env"]
    return names


def assert_no_value_shown(*results: Run) -> None:
    for result in results:
        text = result.out + result.err
        for value in (*SEED.values(), ROTATED):
            raw = value.encode()
            for form in (value, base64.b64encode(raw).decode(), raw.hex()):
                assert form not in text


def test_adopting_an_org_whose_repositories_share_secret_names(
    acme: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.yaml"
    imported = run(capsys, ["import", "--org", ORG, "--out", str(manifest)], {}, sb=acme)
    assert imported.code == 0, imported.err

    # Each distinct secret reads its own variable, listed in the env template.
    from_manifest = variables_from_manifest(manifest)
    template = tmp_path / "m.yaml.env"
    variables = variables_from_template(template) if template.exists() else from_manifest
    assert variables == from_manifest
    assert set(variables) == set(SEED)
    assert len(set(variables.values())) == len(SEED), "two secrets read one variable"

    environ = {variables[secret]: value for secret, value in SEED.items()}
    environ["RECONCILER_LEDGER_KEY"] = KEY
    before = held(acme)
    acme.clear_requests()

    baselined = run(capsys, ["baseline", str(manifest)], environ, sb=acme)
    assert baselined.code == 0, baselined.err
    assert f"recorded {len(SEED)} secrets" in baselined.out
    assert not [r for r in acme.requests if r.method != "GET"], "baseline wrote to GitHub"

    plan_args = ["plan", str(manifest), "--format", "json", "--detailed-exitcode"]
    first = run(capsys, plan_args, environ, sb=acme)
    assert first.code == 0, first.out + first.err
    assert first.json()["changes"] == []

    # A rotation of one repository's key: exactly that one change, and why.
    environ[variables[ROTATED_ID]] = ROTATED
    rotated = run(capsys, plan_args, environ, sb=acme)
    assert rotated.code == 2, rotated.err
    assert [
        (c["target"], c["app"], c["name"], c["action"], c.get("value"))
        for c in rotated.json()["changes"]
    ] == [("acme/api", "actions", "PROD_API_KEY", "update", "value changed")]

    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], environ, sb=acme)
    assert applied.code == 0, applied.out + applied.err

    after = held(acme)
    assert after[ROTATED_ID][0] == ROTATED
    assert {k: v for k, v in after.items() if k != ROTATED_ID} == {
        k: v for k, v in before.items() if k != ROTATED_ID
    }
    settled = run(capsys, plan_args, environ, sb=acme)
    assert settled.code == 0, settled.out + settled.err
    assert_no_value_shown(imported, baselined, first, rotated, applied, settled)
    assert not any(v in template.read_text() for v in SEED.values()) if template.exists() else True
