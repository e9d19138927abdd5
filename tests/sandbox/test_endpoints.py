"""Every endpoint, every app, both scopes, over real HTTP (conformance-checked at teardown)."""

from __future__ import annotations

import pytest

from reconciler.sandbox import APPS, Sandbox
from tests.support.sandbox_client import Api

ORG_SECRETS_FOR_REPO = ("actions", "agents")


@pytest.fixture
def world(sandbox: Sandbox) -> dict[str, int]:
    return {
        "web": sandbox.add_repo("octo-org/web"),
        "api": sandbox.add_repo("octo-org/api"),
        "infra": sandbox.add_repo("octo-org/infra", private=True),
    }


@pytest.mark.parametrize("app", APPS)
def test_org_secret_lifecycle(app: str, api: Api, sandbox: Sandbox, world: dict[str, int]) -> None:
    base = f"/orgs/octo-org/{app}/secrets"
    key = api.get(f"{base}/public-key")
    assert key.status_code == 200
    assert len(key.json()["key_id"]) == 18 and key.json()["key_id"].isdigit()

    body = api.seal("/orgs/octo-org", app, b"first")
    created = api.put(
        f"{base}/npm_token",
        {**body, "visibility": "selected", "selected_repository_ids": [world["web"]]},
    )
    assert (created.status_code, created.json()) == (201, {})
    record = sandbox.secrets("octo-org", app)["NPM_TOKEN"]
    assert (record.value, record.visibility, record.selected) == (
        b"first",
        "selected",
        frozenset({"web"}),
    )

    got = api.get(f"{base}/NPM_TOKEN").json()
    assert got["name"] == "NPM_TOKEN" and got["visibility"] == "selected"
    assert got["selected_repositories_url"] == f"{sandbox.url}{base}/NPM_TOKEN/repositories"
    listed = api.get(base).json()
    assert listed["total_count"] == 1 and [s["name"] for s in listed["secrets"]] == ["NPM_TOKEN"]

    repos = api.get(f"{base}/NPM_TOKEN/repositories").json()
    assert [r["name"] for r in repos["repositories"]] == ["web"] and repos["total_count"] == 1
    assert (
        api.put(
            f"{base}/NPM_TOKEN/repositories",
            {"selected_repository_ids": [world["api"], world["infra"]]},
        ).status_code
        == 204
    )
    assert api.put(f"{base}/NPM_TOKEN/repositories/{world['web']}").status_code == 204
    assert api.delete(f"{base}/NPM_TOKEN/repositories/{world['api']}").status_code == 204
    assert sandbox.secrets("octo-org", app)["NPM_TOKEN"].selected == {"web", "infra"}

    updated = api.put(
        f"{base}/NPM_TOKEN", {**api.seal("/orgs/octo-org", app, b"second"), "visibility": "all"}
    )
    assert updated.status_code == 204 and updated.content == b""
    record = sandbox.secrets("octo-org", app)["NPM_TOKEN"]
    assert (record.value, record.visibility, record.selected) == (b"second", "all", frozenset())
    assert "selected_repositories_url" not in api.get(f"{base}/NPM_TOKEN").json()

    assert api.delete(f"{base}/NPM_TOKEN").status_code == 204
    assert api.get(f"{base}/NPM_TOKEN").status_code == 404
    assert api.delete(f"{base}/NPM_TOKEN").status_code == 404
    assert sandbox.secrets("octo-org", app) == {}


@pytest.mark.parametrize("app", APPS)
def test_repo_secret_lifecycle(app: str, api: Api, sandbox: Sandbox, world: dict[str, int]) -> None:
    base = f"/repos/octo-org/web/{app}/secrets"
    assert api.get(f"{base}/public-key").status_code == 200
    # Each scope and app has its own key pair, as on GitHub.
    assert sandbox.public_key("octo-org/web", app) != sandbox.public_key("octo-org", app)
    assert sandbox.public_key("octo-org/web", app) != sandbox.public_key("octo-org/api", app)

    created = api.put(f"{base}/Deploy_Key", api.seal("/repos/octo-org/web", app, b"v1"))
    assert (created.status_code, created.json()) == (201, {})
    assert sandbox.secrets("octo-org/web", app)["DEPLOY_KEY"].value == b"v1"
    assert sandbox.secrets("octo-org/web", app)["DEPLOY_KEY"].visibility is None

    got = api.get(f"{base}/deploy_key").json()
    assert set(got) == {"name", "created_at", "updated_at"} and got["name"] == "DEPLOY_KEY"
    assert api.get(base).json()["total_count"] == 1
    again = api.put(f"{base}/DEPLOY_KEY", api.seal("/repos/octo-org/web", app, b"v2"))
    assert again.status_code == 204
    assert sandbox.secrets("octo-org/web", app)["DEPLOY_KEY"].value == b"v2"
    assert api.delete(f"{base}/DEPLOY_KEY").status_code == 204
    assert api.get(f"{base}/DEPLOY_KEY").status_code == 404


@pytest.mark.parametrize("app", APPS)
def test_repository_organization_secrets(
    app: str, api: Api, sandbox: Sandbox, world: dict[str, int]
) -> None:
    sandbox.put_secret("octo-org", app, "EVERYONE", b"1", visibility="all")
    sandbox.put_secret("octo-org", app, "PRIVATE_ONLY", b"2", visibility="private")
    sandbox.put_secret("octo-org", app, "WEB_ONLY", b"3", visibility="selected", selected=["web"])
    response = api.get(f"/repos/octo-org/infra/{app}/organization-secrets")
    if app not in ORG_SECRETS_FOR_REPO:
        # Not in GitHub's description for this app, so not served.
        assert response.status_code == 404
        return
    names = [s["name"] for s in response.json()["secrets"]]
    assert names == ["EVERYONE", "PRIVATE_ONLY"]
    web = api.get(f"/repos/octo-org/web/{app}/organization-secrets").json()
    assert [s["name"] for s in web["secrets"]] == ["EVERYONE", "WEB_ONLY"]
    assert web["total_count"] == 2


def test_org_repos_and_repo(api: Api, sandbox: Sandbox, world: dict[str, int]) -> None:
    listed = api.get("/orgs/octo-org/repos", params={"sort": "full_name"})
    assert listed.status_code == 200
    assert [r["name"] for r in listed.json()] == ["api", "infra", "web"]
    private = api.get("/orgs/octo-org/repos", params={"type": "private"}).json()
    assert [r["name"] for r in private] == ["infra"]
    repo = api.get("/repos/OCTO-ORG/WEB").json()
    assert (repo["id"], repo["full_name"], repo["private"]) == (world["web"], "octo-org/web", False)
    assert repo["owner"]["login"] == "octo-org"
    assert api.get("/repos/octo-org/nope").status_code == 404
    assert api.get("/orgs/nope/repos").status_code == 404


def test_rate_limit_endpoint(api: Api) -> None:
    first = api.get("/rate_limit").json()
    assert first["resources"]["core"]["limit"] == 5000
    assert first["rate"] == first["resources"]["core"]
    newer = api.get("/rate_limit", headers={"X-GitHub-Api-Version": "2026-03-10"}).json()
    assert "rate" not in newer  # removed in API version 2026-03-10
    # GET /rate_limit does not spend the budget.
    assert newer["resources"]["core"]["used"] == first["resources"]["core"]["used"]


def test_ghes_prefix_serves_the_same_api(sandbox: Sandbox, world: dict[str, int]) -> None:
    ghes = Api(sandbox, prefix="/api/v3")
    body = {**ghes.seal("/orgs/octo-org", "dependabot", b"x"), "visibility": "all"}
    assert ghes.put("/orgs/octo-org/dependabot/secrets/ON_GHES", body).status_code == 201
    listed = ghes.get("/orgs/octo-org/dependabot/secrets").json()
    assert [s["name"] for s in listed["secrets"]] == ["ON_GHES"]
    sandbox.put_secret("octo-org", "dependabot", "SEL", b"y", visibility="selected")
    got = ghes.get("/orgs/octo-org/dependabot/secrets/SEL").json()
    assert got["selected_repositories_url"].startswith(f"{sandbox.url}/api/v3/orgs/octo-org/")
    assert (
        ghes.get("/repos/octo-org/web").json()["url"] == f"{sandbox.url}/api/v3/repos/octo-org/web"
    )
    assert sandbox.requests[-1].path == "/api/v3/repos/octo-org/web"
    ghes.close()


def test_names_are_case_insensitive(api: Api, sandbox: Sandbox, world: dict[str, int]) -> None:
    sandbox.add_repo("Octo-Org/Mixed-Case")
    sandbox.put_secret("OCTO-ORG", "actions", "lower_name", b"v", visibility="all")
    assert set(sandbox.secrets("octo-org", "actions")) == {"LOWER_NAME"}
    assert api.get("/orgs/Octo-Org/actions/secrets/Lower_Name").json()["name"] == "LOWER_NAME"
    assert api.get("/repos/OCTO-ORG/mixed-case").json()["full_name"] == "octo-org/Mixed-Case"
    body = {**api.seal("/orgs/OCTO-org", "actions", b"w"), "visibility": "all"}
    assert api.put("/orgs/octo-org/actions/secrets/LOWER_NAME", body).status_code == 204
    assert sandbox.secrets("octo-org", "actions")["LOWER_NAME"].value == b"w"
