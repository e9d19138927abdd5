"""`plan --comment` / `--pr`: one pull-request comment per manifest set, updated in place.

The real CLI posts to the sandbox's issue-comment endpoints the way it would in a GitHub
Actions `pull_request` run: GITHUB_REPOSITORY plus the event file at GITHUB_EVENT_PATH.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from reconciler.errors import UsageError
from reconciler.github.client import GitHubClient
from reconciler.github.comments import (
    MARKER_PREFIX,
    MAX_COMMENT_CHARS,
    PullRequest,
    fit_comment,
    marker,
    parse_pr,
    pull_request_from_environ,
)
from reconciler.github.transport import ClientConfig
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

REPO = "octo-org/infra"
PR = 7
ENV = {"A_TOKEN": "alpha", "B_TOKEN": "bravo"}
ONE = """
version: 1
orgs:
  octo-org:
    dependabot:
      secrets:
        A_TOKEN: {value: {env: A_TOKEN}, visibility: private}
"""
TWO = ONE + "        B_TOKEN: {value: {env: B_TOKEN}, visibility: private}\n"


@pytest.fixture
def pr(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """A pull request in the sandbox and the Actions environment of a run on it."""
    sandbox.add_repo(REPO)
    sandbox.add_pull_request(REPO, PR)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": PR, "pull_request": {"number": PR}}), "utf-8")
    return {
        **ENV,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def _plan(capsys: pytest.CaptureFixture[str], sb: Sandbox, env: dict[str, str], *args: str) -> Run:
    result = run(capsys, ["plan", *args, "--comment"], env, sb=sb)
    assert result.code == 0, result.err
    return result


def test_first_run_creates_one_comment_and_re_runs_update_it(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path, ONE)
    _plan(capsys, sandbox, pr, str(manifest))
    [first] = sandbox.comments(REPO, PR)
    assert first["body"].startswith(MARKER_PREFIX)
    assert first["body"].splitlines()[0] == marker([str(manifest)])
    assert "### reconciler plan" in first["body"] and "`A_TOKEN`" in first["body"]
    assert "B_TOKEN" not in first["body"]

    write_manifest(tmp_path, TWO)
    _plan(capsys, sandbox, pr, str(manifest))
    [second] = sandbox.comments(REPO, PR)
    assert second["id"] == first["id"]
    assert second["body"] != first["body"] and "`B_TOKEN`" in second["body"]
    assert second["updated_at"] > first["updated_at"]
    assert [r.method for r in sandbox.requests if "/comments" in r.path].count("POST") == 1


def test_unchanged_plan_does_not_edit_the_comment(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = str(write_manifest(tmp_path, ONE))
    _plan(capsys, sandbox, pr, manifest, "--no-ledger")
    [before] = sandbox.comments(REPO, PR)
    sandbox.clear_requests()
    _plan(capsys, sandbox, pr, manifest, "--no-ledger")
    assert sandbox.comments(REPO, PR) == [before]
    assert not [r for r in sandbox.requests if r.method in ("POST", "PATCH")]


def test_each_manifest_set_keeps_its_own_comment_and_others_are_untouched(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = requests.post(
        f"{sandbox.url}/repos/{REPO}/issues/{PR}/comments",
        json={"body": "LGTM, but see the plan below"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert foreign.status_code == 201
    (tmp_path / "org").mkdir()
    (tmp_path / "repo").mkdir()
    org = str(write_manifest(tmp_path / "org", ONE))
    repo = str(
        write_manifest(
            tmp_path / "repo",
            f"""
            version: 1
            repos:
              {REPO}:
                actions:
                  secrets:
                    R_TOKEN: {{value: {{env: A_TOKEN}}}}
            """,
        )
    )
    _plan(capsys, sandbox, pr, org)
    _plan(capsys, sandbox, pr, repo)
    _plan(capsys, sandbox, pr, org)
    comments = sandbox.comments(REPO, PR)
    assert [c["body"].splitlines()[0] for c in comments] == [
        "LGTM, but see the plan below",
        marker([org]),
        marker([repo]),
    ]
    assert marker([org]) != marker([repo])
    assert "`A_TOKEN`" in comments[1]["body"] and "`R_TOKEN`" in comments[2]["body"]


def test_plan_longer_than_the_comment_limit_is_truncated_to_fit(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orgs = [f"org{i}" for i in range(6)]
    lines = ["version: 1", "orgs:"]
    for org in orgs:
        sandbox.add_org(org)
        lines += [f"  {org}:", "    actions:", "      secrets:"]
        lines += [
            f"        {'VERY_LONG_SECRET_NAME_' * 4}{n:04}: "
            "{value: {env: A_TOKEN}, visibility: private}"
            for n in range(120)
        ]
    manifest = tmp_path / "big.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = run(capsys, ["plan", str(manifest), "--no-ledger"], pr, sb=sandbox)
    assert text.code == 0, text.err
    assert len(text.out) > MAX_COMMENT_CHARS  # the full plan would not fit in a comment
    _plan(capsys, sandbox, pr, str(manifest), "--no-ledger")
    [comment] = sandbox.comments(REPO, PR)
    assert MAX_COMMENT_CHARS // 2 < len(comment["body"]) <= MAX_COMMENT_CHARS
    assert "Truncated" in comment["body"]
    assert comment["body"].rstrip().endswith("`</sub>")  # the checksum footer survives


def test_upsert_cuts_any_body_to_the_limit(sandbox: Sandbox, pr: dict[str, str]) -> None:
    client = GitHubClient(ClientConfig(api_url=sandbox.url, token=sandbox.token))
    tag = marker(["huge.yaml"])
    rows = "\n".join(f"| row {n} | {'x' * 90} |" for n in range(1000))
    try:
        client.comments.upsert(PullRequest(REPO, PR), rows, tag, author="sandbox-user")
        client.comments.upsert(PullRequest(REPO, PR), rows + "\nmore", tag, author="sandbox-user")
    finally:
        client.close()
    [comment] = sandbox.comments(REPO, PR)
    body = comment["body"]
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.startswith(tag)
    assert "Truncated" in body
    assert body.split("\n\n> **Truncated**")[0].endswith("x |")  # cut at a line boundary
    assert fit_comment("short") == "short"
    assert len(fit_comment("y" * 100_000)) <= MAX_COMMENT_CHARS


def test_step_summary_is_appended(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = Path(pr["GITHUB_STEP_SUMMARY"])
    summary.write_text("## earlier step\n", encoding="utf-8")
    manifest = str(write_manifest(tmp_path, ONE))
    _plan(capsys, sandbox, pr, manifest)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## earlier step\n")
    assert "### reconciler plan" in text and "`A_TOKEN`" in text
    [comment] = sandbox.comments(REPO, PR)
    assert comment["body"].split("\n", 1)[1] in text  # the summary shows the same plan


def test_pr_option_needs_no_event_file(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo(REPO)
    sandbox.add_pull_request(REPO, 12)
    manifest = str(write_manifest(tmp_path, ONE))
    result = run(capsys, ["plan", manifest, "--pr", f"{REPO}#12"], ENV, sb=sandbox)
    assert result.code == 0, result.err
    assert len(sandbox.comments(REPO, 12)) == 1


def test_comment_token_is_used_for_the_comment_only(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The main token may read secrets but not write issues; the comment token may."""
    sandbox.add_token(
        "reader-token", {"organization_dependabot_secrets": "read", "metadata": "read"}
    )
    sandbox.add_token("commenter-token", {"issues": "write", "metadata": "read"})
    manifest = str(write_manifest(tmp_path, ONE))
    env = {**pr, "GITHUB_TOKEN": "reader-token"}
    denied = run(capsys, ["plan", manifest, "--comment"], env, sb=sandbox)
    assert denied.code == 1
    assert "permission denied" in denied.err and "/comments" in denied.err
    assert sandbox.comments(REPO, PR) == []
    _plan(capsys, sandbox, {**env, "RECONCILER_COMMENT_TOKEN": "commenter-token"}, manifest)
    assert len(sandbox.comments(REPO, PR)) == 1


def test_with_app_auth_the_app_posts_the_comment(
    sandbox: Sandbox, pr: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = sandbox.add_app(77, {"octo-org": None}, slug="secrets-bot")
    env = {**pr, "RECONCILER_APP_ID": "77", "RECONCILER_APP_PRIVATE_KEY": pem.decode()}
    env["GITHUB_API_URL"] = sandbox.url
    manifest = str(write_manifest(tmp_path, ONE))
    result = run(capsys, ["plan", manifest, "--comment"], env)
    assert result.code == 0, result.err
    [comment] = sandbox.comments(REPO, PR)
    assert comment["user"] == "secrets-bot[bot]"


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (None, "no event file"),
        ({"ref": "refs/heads/main", "commits": []}, "a push event"),
        ("{not json", "unreadable event"),
    ],
)
def test_comment_outside_a_pull_request_is_a_usage_error(
    sandbox: Sandbox,
    pr: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    event: object,
    why: str,
) -> None:
    env = dict(pr)
    if event is None:
        del env["GITHUB_EVENT_PATH"]
    else:
        text = event if isinstance(event, str) else json.dumps(event)
        Path(env["GITHUB_EVENT_PATH"]).write_text(text, encoding="utf-8")
    manifest = str(write_manifest(tmp_path, ONE))
    result = run(capsys, ["plan", manifest, "--comment"], env, sb=sandbox)
    assert result.code == 64, why
    assert "--comment needs a pull request" in result.err and "--pr" in result.err
    assert "Traceback" not in result.err
    assert sandbox.comments(REPO, PR) == []


def test_malformed_pr_option_is_a_usage_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_org("octo-org")
    manifest = str(write_manifest(tmp_path, ONE))
    for bad in ("octo-org/infra", "infra#7", "octo-org/infra#seven", "a/b/c#1"):
        result = run(capsys, ["plan", manifest, "--pr", bad], ENV, sb=sandbox)
        assert result.code == 64, bad
        assert "is not OWNER/REPO#NUMBER" in result.err


def test_pull_request_parsing() -> None:
    assert parse_pr("octo-org/infra#7") == PullRequest("octo-org/infra", 7)
    with pytest.raises(UsageError):
        pull_request_from_environ({"GITHUB_EVENT_PATH": "/nonexistent/event.json"})
    with pytest.raises(UsageError):
        pull_request_from_environ({"GITHUB_REPOSITORY": REPO})
    assert marker(["a.yaml", "b.yaml"]) == marker(["b.yaml", "a.yaml"])
    assert marker(["a.yaml"]) != marker(["a.yaml", "b.yaml"])


def test_manifest_errors_become_annotations_in_github_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                A_TOKEN: {value: {env: A_TOKEN}, visibility: sometimes}
        """,
    )
    result = run(capsys, ["validate", str(manifest)], {"GITHUB_ACTIONS": "true"})
    assert result.code == 1
    [annotation] = [line for line in result.out.splitlines() if line.startswith("::error ")]
    assert annotation.startswith(f"::error file={manifest},line=6,col=")
    assert "visibility" in annotation
    plain = run(capsys, ["validate", str(manifest)], {})
    assert "::error" not in plain.out + plain.err
