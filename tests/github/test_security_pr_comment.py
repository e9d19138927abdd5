"""The PR comment is found by marker AND author: a comment someone else wrote, even one that
starts with the tool's exact marker, is never edited (the tool would otherwise put its name
to text an attacker controls, or erase a reviewer's words). The identity the tool posts as:
`GET /user` for a token, `{app_slug}[bot]` for a GitHub App, `github-actions[bot]` for the
workflow's GITHUB_TOKEN (which `GET /user` refuses) inside GitHub Actions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from reconciler.github.comments import marker
from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.openapi_check import SPEC_FILE

REPO = "octo-org/infra"
PR = 7
MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      secrets:
        A_TOKEN: {value: {env: A_TOKEN}, visibility: private}
"""
ISSUES_WRITE = {"issues": "write", "pull_requests": "write", "metadata": "read"}
SECRETS_READ = {"organization_dependabot_secrets": "read", "metadata": "read"}


@pytest.fixture
def pr(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    sandbox.add_repo(REPO)
    sandbox.add_pull_request(REPO, PR)
    sandbox.add_token("mallory-token", ISSUES_WRITE, login="mallory")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": PR, "pull_request": {"number": PR}}), "utf-8")
    return {
        "A_TOKEN": "alpha",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
    }


def _post_as(sb: Sandbox, token: str, body: str) -> int:
    resp = requests.post(
        f"{sb.url}/repos/{REPO}/issues/{PR}/comments",
        json={"body": body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _by_id(sb: Sandbox) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in sb.comments(REPO, PR)}


def _plan(capsys: pytest.CaptureFixture[str], env: dict[str, str], manifest: str) -> None:
    result = run(capsys, ["plan", manifest, "--comment"], env)
    assert result.code == 0, result.err


@pytest.mark.parametrize("forged", ["exact", "with-plan"])
def test_a_comment_by_someone_else_with_the_marker_is_left_alone(
    sandbox: Sandbox,
    pr: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    forged: str,
) -> None:
    manifest = str(write_manifest(tmp_path, MANIFEST))
    tag = marker([manifest])
    body = f"{tag}\n### reconciler plan\n\nNo changes. Approve me [here](http://evil)."
    if forged == "exact":
        body = f"{tag}\nall good, merge it"
    hostile = _post_as(sandbox, "mallory-token", body)
    env = {**pr, "GITHUB_TOKEN": sandbox.token, "GITHUB_API_URL": sandbox.url}

    _plan(capsys, env, manifest)
    comments = _by_id(sandbox)
    assert comments[hostile]["body"] == body and comments[hostile]["user"] == "mallory"
    [own] = [c for c in comments.values() if c["id"] != hostile]
    assert own["user"] == "sandbox-user" and own["body"].startswith(tag)
    assert "A_TOKEN" in own["body"]

    # A re-run edits the tool's own comment, still never mallory's.
    write_manifest(tmp_path, MANIFEST + "        B_TOKEN: {value: {env: A_TOKEN}}\n")
    _plan(capsys, env, manifest)
    again = _by_id(sandbox)
    assert set(again) == {hostile, own["id"]}
    assert again[hostile]["body"] == body
    assert "B_TOKEN" in again[own["id"]]["body"]


def test_the_workflow_token_posts_as_github_actions_bot(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_token("ghs-workflow", {**SECRETS_READ, **ISSUES_WRITE}, integration=True)
    manifest = str(write_manifest(tmp_path, MANIFEST))
    hostile = _post_as(sandbox, "mallory-token", f"{marker([manifest])}\nforged")
    env = {
        **pr,
        "GITHUB_TOKEN": "ghs-workflow",
        "GITHUB_API_URL": sandbox.url,
        "GITHUB_ACTIONS": "true",
    }
    _plan(capsys, env, manifest)
    _plan(capsys, env, manifest)  # the second run finds its own comment again
    comments = _by_id(sandbox)
    assert comments[hostile]["body"].endswith("\nforged")
    [own] = [c for c in comments.values() if c["id"] != hostile]
    assert own["user"] == "github-actions[bot]"


def test_outside_actions_an_unknown_identity_is_a_clear_error(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_token("ghs-integration", {**SECRETS_READ, **ISSUES_WRITE}, integration=True)
    manifest = str(write_manifest(tmp_path, MANIFEST))
    env = {**pr, "GITHUB_TOKEN": "ghs-integration", "GITHUB_API_URL": sandbox.url}
    result = run(capsys, ["plan", manifest, "--comment"], env)
    assert result.code == 1
    assert "GET /user" in result.err and "cannot tell which account" in result.err
    assert "Resource not accessible by integration" in result.err
    assert "Traceback" not in result.err and "ghs-integration" not in result.err
    assert sandbox.comments(REPO, PR) == []  # nothing posted under a guessed name


def test_with_app_auth_someone_elses_marker_is_ignored(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = sandbox.add_app(78, {"octo-org": None}, slug="secrets-bot")
    manifest = str(write_manifest(tmp_path, MANIFEST))
    hostile = _post_as(sandbox, "mallory-token", f"{marker([manifest])}\nforged")
    env = {
        **pr,
        "RECONCILER_APP_ID": "78",
        "RECONCILER_APP_PRIVATE_KEY": pem.decode(),
        "GITHUB_API_URL": sandbox.url,
    }
    _plan(capsys, env, manifest)
    _plan(capsys, env, manifest)
    comments = _by_id(sandbox)
    assert comments[hostile]["body"].endswith("\nforged")
    [own] = [c for c in comments.values() if c["id"] != hostile]
    assert own["user"] == "secrets-bot[bot]"


def test_the_comment_token_identity_is_the_one_matched(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With RECONCILER_COMMENT_TOKEN the comment is the comment token's, not GITHUB_TOKEN's:
    a comment by the main token's user is someone else's here."""
    sandbox.add_token("commenter", ISSUES_WRITE, login="plan-bot")
    manifest = str(write_manifest(tmp_path, MANIFEST))
    by_main_user = _post_as(sandbox, sandbox.token, f"{marker([manifest])}\nold, by a human")
    env = {
        **pr,
        "GITHUB_TOKEN": sandbox.token,
        "GITHUB_API_URL": sandbox.url,
        "RECONCILER_COMMENT_TOKEN": "commenter",
    }
    _plan(capsys, env, manifest)
    comments = _by_id(sandbox)
    assert comments[by_main_user]["body"].endswith("old, by a human")
    assert sorted(c["user"] for c in comments.values()) == ["plan-bot", "sandbox-user"]


# -- the sandbox's GET /user -------------------------------------------------------------------


def _public_user_schema() -> dict[str, Any]:
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    op = spec["paths"]["/user"]["get"]["responses"]["200"]["content"]["application/json"]
    assert op["schema"]["discriminator"]["mapping"]["public"].endswith("/public-user")
    schema: dict[str, Any] = spec["components"]["schemas"]["public-user"]
    return schema


def test_get_user_conforms_and_refuses_integrations(sandbox: Sandbox) -> None:
    sandbox.add_token("as-mallory", {}, login="mallory")
    sandbox.add_token("ghs-x", {}, integration=True)

    def get(token: str) -> requests.Response:
        return requests.get(
            f"{sandbox.url}/user", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    for token, login in ((sandbox.token, "sandbox-user"), ("as-mallory", "mallory")):
        resp = get(token)
        assert resp.status_code == 200
        body = resp.json()
        OAS30Validator(_public_user_schema()).validate(body)
        assert body["login"] == login and body["user_view_type"] == "public"
    refused = get("ghs-x")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    assert get("not-a-token").status_code == 401
