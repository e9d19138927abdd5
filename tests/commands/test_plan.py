"""`reconciler plan` end to end: the real CLI against the sandbox over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.sandbox import Fault, Sandbox
from tests.support.e2e import changes, run, write_manifest

APPS = ("actions", "agents", "codespaces", "dependabot")


def _seed_org(sb: Sandbox, repos: int = 4) -> None:
    for name in ["web", "api", "infra", "docs"][:repos]:
        sb.add_repo(f"octo-org/{name}")


def test_every_change_kind_every_app(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    blocks = []
    for app in APPS:
        sandbox.put_secret("octo-org", app, "KEEP", b"v", visibility="private")
        sandbox.put_secret("octo-org", app, "WIDEN", b"v", visibility="private")
        sandbox.put_secret("octo-org", app, "SEL", b"v", visibility="selected", selected=["web"])
        sandbox.put_secret("octo-org", app, "GONE", b"v", visibility="all")
        sandbox.put_secret("octo-org/web", app, "REPO_OLD", b"v")
        blocks.append(
            f"""
    {app}:
      prune: true
      secrets:
        KEEP: {{value: {{env: A_TOKEN}}, visibility: private}}
        WIDEN: {{value: {{env: A_TOKEN}}, visibility: all}}
        SEL: {{value: {{env: A_TOKEN}}, visibility: selected, repositories: [api, infra]}}
        NEW: {{value: {{env: A_TOKEN}}, visibility: selected, repositories: [web]}}"""
        )
    repo_blocks = "".join(
        f"""
    {app}:
      secrets:
        REPO_NEW: {{value: {{env: A_TOKEN}}}}"""
        for app in APPS
    )
    manifest = write_manifest(
        tmp_path,
        "version: 1\norgs:\n  octo-org:"
        + "".join(blocks)
        + "\nrepos:\n  octo-org/web:"
        + repo_blocks
        + "\n",
    )
    result = run(
        capsys,
        ["plan", str(manifest), "--format", "json", "--values", "skip-unknown"],
        {"A_TOKEN": "plan-token-value"},
        sb=sandbox,
    )
    # Widening WIDEN to `all` is a safety refusal apply would make: plan predicts it (exit 3).
    assert result.code == 3, result.err
    doc = result.json()
    assert {p["kind"] for p in doc["problems"]} == {"unsafe"}
    expected = []
    for app in sorted(APPS):
        expected += [
            ("octo-org", app, "create", "NEW"),
            ("octo-org", app, "update", "WIDEN"),
            ("octo-org", app, "selection", "SEL"),
            ("octo-org", app, "delete", "GONE"),
        ]
    for app in sorted(APPS):
        expected += [
            ("octo-org/web", app, "create", "REPO_NEW"),
            ("octo-org/web", app, "unmanaged", "REPO_OLD"),
        ]
    assert changes(doc) == expected
    sel = next(c for c in doc["changes"] if c["name"] == "SEL")
    assert sel["repositories"] == {"added": ["api", "infra"], "removed": ["web"]}
    widen = {c["app"]: c for c in doc["changes"] if c["name"] == "WIDEN"}
    # Actions and agents need the value in every org PUT; Dependabot/Codespaces do not.
    assert widen["actions"]["value"] == "required to change visibility"
    assert widen["dependabot"]["value"] == "not comparable, skipped"
    assert doc["api"]["writes_planned"] == 20
    # Plans never write.
    assert all(r.method == "GET" for r in sandbox.requests)


def test_detailed_exitcode_and_no_changes(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    sandbox.put_secret("octo-org", "dependabot", "A", b"v", visibility="selected", selected=["web"])
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: selected, repositories: [web]}
        """,
    )
    args = ["plan", str(manifest), "--detailed-exitcode"]
    same = run(capsys, [*args, "--values", "skip-unknown"], sb=sandbox)
    assert same.code == 0, same.err
    assert "No changes." in same.out
    auto = run(capsys, args, {"A_TOKEN": "plan-token-value"}, sb=sandbox)
    assert auto.code == 2
    assert "~ A  value: not comparable, will be written from env:A_TOKEN" in auto.out


def test_pagination_and_large_selection(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repos = [f"r{i:03d}" for i in range(130)]
    for r in repos:
        sandbox.add_repo(f"octo-org/{r}")
    for i in range(150):
        sandbox.put_secret("octo-org", "codespaces", f"S{i:03d}", b"v", visibility="private")
    sandbox.put_secret(
        "octo-org", "codespaces", "WIDE", b"v", visibility="selected", selected=repos
    )
    lines = [
        f"        S{i:03d}: {{value: {{env: A_TOKEN}}, visibility: private}}" for i in range(150)
    ]
    lines.append(
        "        WIDE: {value: {env: A_TOKEN}, visibility: selected, repositories: ["
        + ", ".join(repos[:-1])
        + "]}"
    )
    manifest = write_manifest(
        tmp_path,
        "version: 1\norgs:\n  octo-org:\n    codespaces:\n      secrets:\n"
        + "\n".join(lines)
        + "\n",
    )
    result = run(
        capsys, ["plan", str(manifest), "--format", "json", "--values", "skip-unknown"], sb=sandbox
    )
    assert result.code == 0, result.err
    doc = result.json()
    assert changes(doc) == [("octo-org", "codespaces", "selection", "WIDE")]
    assert doc["changes"][0]["repositories"] == {"added": [], "removed": [repos[-1]]}


def test_unknown_repositories_reported_at_once_before_anything_else(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: selected, repositories: [web, wbe]}
                B: {value: {env: A_TOKEN}, visibility: selected, repositories: [nope]}
        repos:
          octo-org/missing:
            actions:
              secrets:
                C: {value: {env: A_TOKEN}}
        """,
    )
    result = run(capsys, ["plan", str(manifest)], sb=sandbox)
    assert result.code == 1
    assert f"{manifest}:6:78  orgs.octo-org.dependabot.secrets.A.repositories[1]: " in result.err
    assert 'unknown repository "octo-org/wbe"' in result.err
    assert 'unknown repository "octo-org/nope"' in result.err
    assert 'unknown repository "octo-org/missing"' in result.err
    assert "3 problems" in result.err
    # Found while reading (ids come from live selections; only the rest are looked up), and
    # reported together before any write.
    assert all(r.method == "GET" for r in sandbox.requests)


def test_permission_error_names_the_permission(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    sandbox.add_token("t-metadata-only", {"metadata": "read"})
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: private}
        """,
    )
    result = run(capsys, ["plan", str(manifest)], {"GITHUB_TOKEN": "t-metadata-only"}, sb=sandbox)
    assert result.code == 1
    assert "GET /orgs/octo-org/dependabot/secrets -> 403" in result.err
    assert "Organization permissions: Dependabot secrets (read)" in result.err
    assert "Traceback" not in result.err
    bad = run(capsys, ["plan", str(manifest)], {"GITHUB_TOKEN": "wrong"}, sb=sandbox)
    assert bad.code == 1
    assert "authentication failed" in bad.err and "Bad credentials" in bad.err
    assert "wrong" not in bad.err


def test_retries_after_5xx_and_rate_limit(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    sandbox.put_secret("octo-org", "agents", "A", b"v", visibility="private")
    sandbox.add_fault(Fault(kind="status", status=502, path_pattern=r".*/agents/secrets$", count=2))
    sandbox.add_fault(
        Fault(
            kind="secondary_rate_limit", path_pattern=r".*/agents/secrets$", count=1, retry_after=1
        )
    )
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            agents:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: private}
        """,
    )
    result = run(capsys, ["plan", str(manifest), "--values", "skip-unknown"], sb=sandbox)
    assert result.code == 0, result.err
    statuses = [r.status for r in sandbox.requests if r.path.endswith("/agents/secrets")]
    assert statuses == [502, 502, 403, 200]
    versions = {r.api_version for r in sandbox.requests if "/agents/" in r.path}
    assert versions == {"2026-03-10"}


def test_rate_limit_wait_beyond_bound_is_a_clear_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_org(sandbox)
    sandbox.add_fault(Fault(kind="primary_rate_limit", path_pattern=r".*/secrets$", count=1))
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            actions:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: private}
        """,
    )
    result = run(capsys, ["plan", str(manifest), "--max-wait", "0"], sb=sandbox)
    assert result.code == 1
    assert "rate limited" in result.err
    assert "re-run later, or raise --max-wait" in result.err


def test_request_economy_noop_plan_250_secrets(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A no-op plan makes exactly: list pages + one selected-repos page per selected
    secret. No repository lookups, no per-secret GETs, no public keys."""
    repos = [f"r{i:03d}" for i in range(150)]
    for r in repos:
        sandbox.add_repo(f"octo-org/{r}")
    lines = []
    for i in range(250):
        if i % 5 == 0:  # 50 selected secrets, 3 repositories each
            sel = [repos[(i + k) % 150] for k in range(3)]
            sandbox.put_secret(
                "octo-org", "dependabot", f"S{i:03d}", b"v", visibility="selected", selected=sel
            )
            lines.append(
                f"        S{i:03d}: {{value: {{env: A_TOKEN}}, visibility: selected, "
                f"repositories: [{', '.join(sel)}]}}"
            )
        else:
            sandbox.put_secret("octo-org", "dependabot", f"S{i:03d}", b"v", visibility="all")
            lines.append(f"        S{i:03d}: {{value: {{env: A_TOKEN}}, visibility: all}}")
    manifest = write_manifest(
        tmp_path,
        "version: 1\norgs:\n  octo-org:\n    dependabot:\n      secrets:\n"
        + "\n".join(lines)
        + "\n",
    )
    sandbox.clear_requests()
    result = run(
        capsys, ["plan", str(manifest), "--values", "skip-unknown", "--format", "json"], sb=sandbox
    )
    assert result.code == 0, result.err
    made = sandbox.requests
    list_pages = [r for r in made if r.path == "/orgs/octo-org/dependabot/secrets"]
    selected_pages = [r for r in made if r.path.endswith("/repositories")]
    repo_pages = [r for r in made if r.path == "/orgs/octo-org/repos"]
    assert len(list_pages) == 3  # 250 secrets at 100 per page
    assert len(selected_pages) == 50
    # Every repository named also appears, with its id, in a live selection: no lookup.
    assert repo_pages == []
    assert len(made) == 3 + 50
    assert not any("public-key" in r.path for r in made)
    assert result.json()["api"]["requests_made"] == 53


def test_repository_scopes_of_a_user_account_resolve_one_by_one(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`/orgs/{owner}/repos` is 404 for a user account: fall back to per-repository GETs."""
    for name in ("a", "b", "c"):
        sandbox.add_repo(f"octo-org/{name}")
    repos = "".join(
        f"  octocat/{name}:\n    actions:\n      secrets:\n        X: {{value: {{env: A_TOKEN}}}}\n"
        for name in ("a", "b", "c")
    )
    manifest = write_manifest(tmp_path, "version: 1\nrepos:\n" + repos)
    result = run(capsys, ["plan", str(manifest)], sb=sandbox)
    assert result.code == 1  # octocat has none of them: all three reported, located
    assert result.err.count('unknown repository "octocat/') == 3
    assert [r.status for r in sandbox.requests if r.path == "/orgs/octocat/repos"] == [404]
    # Each repository's listing is refused as not found, then each is looked up to tell an
    # unknown repository from a refusal.
    looked_up = [r.path for r in sandbox.requests if r.path.startswith("/repos/octocat/")]
    assert sorted(looked_up) == sorted(
        [f"/repos/octocat/{n}/actions/secrets" for n in "abc"]
        + [f"/repos/octocat/{n}" for n in "abc"]
    )
