"""Variables: Actions and agents, organisation, repository and environment scope; plain-text
values returned on read; 409 on a taken name; renames; selected repositories; the
organisation variables a repository sees; names, sizes and counts GitHub refuses."""

from __future__ import annotations

import pytest

from reconciler.sandbox import VARIABLE_APPS, ApiError, Sandbox
from tests.support.sandbox_client import Api, error_of


@pytest.fixture
def ids(sandbox: Sandbox) -> dict[str, int]:
    ids = {name: sandbox.add_repo(f"octo-org/{name}") for name in ("web", "api")}
    ids["vault"] = sandbox.add_repo("octo-org/vault", private=True)
    return ids


@pytest.mark.parametrize("app", VARIABLE_APPS)
def test_org_variable_lifecycle(app: str, api: Api, sandbox: Sandbox, ids: dict[str, int]) -> None:
    base = f"/orgs/octo-org/{app}/variables"
    body = {"name": "region", "value": "eu-west-1", "visibility": "selected",
            "selected_repository_ids": [ids["web"]]}  # fmt: skip
    created = api.post(base, body)
    assert created.status_code == 201 and created.json() == {}
    assert "already exists" in error_of(api.post(base, {**body, "name": "REGION"}), 409)
    got = api.get(f"{base}/Region").json()
    record = sandbox.variables("octo-org", app)["REGION"]
    assert got == {
        "name": "REGION",
        "value": "eu-west-1",
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "visibility": "selected",
        "selected_repositories_url": f"{sandbox.url}{base}/REGION/repositories",
    }
    assert record.selected == {"web"}
    assert api.patch(f"{base}/REGION", {"value": "eu-central-1"}).status_code == 204
    after = sandbox.variables("octo-org", app)["REGION"]
    assert after.value == "eu-central-1" and after.selected == {"web"}
    assert after.updated_at > record.updated_at and after.created_at == record.created_at
    assert api.patch(f"{base}/REGION", {"name": "zone", "visibility": "all"}).status_code == 204
    assert error_of(api.get(f"{base}/REGION"), 404) == "Not Found"
    renamed = api.get(f"{base}/ZONE").json()
    assert renamed["visibility"] == "all" and "selected_repositories_url" not in renamed
    assert api.get(base).json() == {"total_count": 1, "variables": [renamed]}
    assert api.delete(f"{base}/zone").status_code == 204
    assert error_of(api.delete(f"{base}/ZONE"), 404) == "Not Found"
    assert sandbox.variables("octo-org", app) == {}


@pytest.mark.parametrize("app", VARIABLE_APPS)
def test_org_variable_selected_repositories(
    app: str, api: Api, sandbox: Sandbox, ids: dict[str, int]
) -> None:
    base = f"/orgs/octo-org/{app}/variables"
    api.post(base, {"name": "SHARED", "value": "1", "visibility": "selected"})
    api.post(base, {"name": "OPEN", "value": "1", "visibility": "all"})
    assert api.get(f"{base}/SHARED/repositories").json() == {"total_count": 0, "repositories": []}
    assert api.put(f"{base}/SHARED/repositories", {"selected_repository_ids": [ids["web"]]})
    assert api.put(f"{base}/SHARED/repositories/{ids['api']}").status_code == 204
    listed = api.get(f"{base}/SHARED/repositories").json()
    assert [r["name"] for r in listed["repositories"]] == ["web", "api"]
    assert api.delete(f"{base}/SHARED/repositories/{ids['web']}").status_code == 204
    assert sandbox.variables("octo-org", app)["SHARED"].selected == {"api"}
    for response in (
        api.get(f"{base}/OPEN/repositories"),
        api.put(f"{base}/OPEN/repositories", {"selected_repository_ids": []}),
        api.put(f"{base}/OPEN/repositories/{ids['web']}"),
        api.delete(f"{base}/OPEN/repositories/{ids['web']}"),
    ):
        assert error_of(response, 409) == "Variable visibility is not set to selected."
    unknown = api.put(f"{base}/SHARED/repositories/999")
    assert "not in organization" in error_of(unknown, 422)
    assert error_of(api.get(f"{base}/NOPE/repositories"), 404) == "Not Found"
    # Ids only go with visibility `selected`.
    mixed = {"name": "X", "value": "1", "visibility": "all", "selected_repository_ids": []}
    assert "only be given" in error_of(api.post(base, mixed), 422)


@pytest.mark.parametrize("app", VARIABLE_APPS)
def test_repo_variables_and_the_org_variables_a_repo_sees(
    app: str, api: Api, sandbox: Sandbox, ids: dict[str, int]
) -> None:
    base = f"/repos/octo-org/web/{app}/variables"
    assert api.post(base, {"name": "level", "value": "debug"}).status_code == 201
    assert "already exists" in error_of(api.post(base, {"name": "LEVEL", "value": "x"}), 409)
    got = api.get(f"{base}/level").json()
    assert set(got) == {"name", "value", "created_at", "updated_at"}
    assert (got["name"], got["value"]) == ("LEVEL", "debug")
    # A visibility in a repository PATCH is ignored, as GitHub ignores unknown fields.
    assert api.patch(f"{base}/LEVEL", {"value": "info", "visibility": "all"}).status_code == 204
    assert sandbox.variables("octo-org/web", app)["LEVEL"].value == "info"
    assert sandbox.variables("octo-org/web", app)["LEVEL"].visibility is None
    sandbox.put_variable("octo-org", app, "ALL", "a")
    sandbox.put_variable("octo-org", app, "PRIVATE", "p", visibility="private")
    sandbox.put_variable("octo-org", app, "PICKED", "s", visibility="selected", selected=["vault"])
    seen = f"/repos/octo-org/{{}}/{app}/organization-variables"
    public = api.get(seen.format("web")).json()
    assert [v["name"] for v in public["variables"]] == ["ALL"]
    assert set(public["variables"][0]) == {"name", "value", "created_at", "updated_at"}
    private = api.get(seen.format("vault")).json()
    assert [v["name"] for v in private["variables"]] == ["ALL", "PICKED", "PRIVATE"]
    assert api.delete(f"{base}/LEVEL").status_code == 204
    assert error_of(api.patch(f"{base}/LEVEL", {"value": "x"}), 404) == "Not Found"


def test_environment_variables(api: Api, sandbox: Sandbox, ids: dict[str, int]) -> None:
    sandbox.create_environment("octo-org/web", "Production")
    base = "/repos/octo-org/web/environments/production/variables"
    assert api.post(base, {"name": "url", "value": "https://example.com"}).status_code == 201
    assert "already exists" in error_of(api.post(base, {"name": "URL", "value": "x"}), 409)
    assert api.get(f"{base}/URL").json()["value"] == "https://example.com"
    assert api.patch(f"{base}/url", {"name": "HOME", "value": "h"}).status_code == 204
    assert api.get(base).json()["variables"][0]["name"] == "HOME"
    records = sandbox.environment_variables("octo-org/web", "PRODUCTION")
    assert list(records) == ["HOME"] and records["HOME"].value == "h"
    assert sandbox.variables("octo-org/web", "actions") == {}  # not the repository's
    assert api.delete(f"{base}/HOME").status_code == 204
    # Environments have Actions variables only.
    no_agents = api.get("/repos/octo-org/web/environments/production/agents/variables")
    assert error_of(no_agents, 404) == "Not Found"


def test_variables_and_secrets_are_separate_namespaces(
    api: Api, sandbox: Sandbox, ids: dict[str, int]
) -> None:
    sandbox.put_secret("octo-org/web", "actions", "TOKEN", b"secret")
    base = "/repos/octo-org/web/actions/variables"
    assert api.post(base, {"name": "TOKEN", "value": "plain"}).status_code == 201
    assert sandbox.secrets("octo-org/web", "actions")["TOKEN"].value == b"secret"
    assert sandbox.variables("octo-org/web", "actions")["TOKEN"].value == "plain"
    # Agents variables are apart from Actions variables too.
    assert sandbox.variables("octo-org/web", "agents") == {}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1ST", "must not start with a number"),
        ("HAS-DASH", "alphanumeric characters"),
        ("github_token", "must not start with GITHUB_"),
    ],
)
def test_names_github_refuses(api: Api, ids: dict[str, int], name: str, reason: str) -> None:
    for base, extra in (("/orgs/octo-org/actions/variables", {"visibility": "all"}),
                        ("/repos/octo-org/web/agents/variables", {})):  # fmt: skip
        message = error_of(api.post(base, {"name": name, "value": "v", **extra}), 422)
        assert "Variable names" in message and reason in message
    api.post("/repos/octo-org/web/actions/variables", {"name": "OK", "value": "v"})
    renamed = api.patch("/repos/octo-org/web/actions/variables/OK", {"name": name})
    assert reason in error_of(renamed, 422)


def test_required_fields_and_types(api: Api, ids: dict[str, int]) -> None:
    org = "/orgs/octo-org/actions/variables"
    assert "visibility" in error_of(api.post(org, {"name": "A", "value": "v"}), 422)
    assert "value" in error_of(
        api.post("/repos/octo-org/web/actions/variables", {"name": "A"}), 422
    )
    assert "must be a string" in error_of(
        api.post(org, {"name": "A", "value": 1, "visibility": "all"}), 422
    )
    bad = {"name": "A", "value": "v", "visibility": "everyone"}
    assert "must be one of" in error_of(api.post(org, bad), 422)


def test_values_are_at_most_48_kb(api: Api, sandbox: Sandbox, ids: dict[str, int]) -> None:
    base = "/repos/octo-org/web/actions/variables"
    assert api.post(base, {"name": "BIG", "value": "x" * 48 * 1024}).status_code == 201
    too_big = api.post(base, {"name": "BIGGER", "value": "x" * (48 * 1024 + 1)})
    assert "at most 48 KB" in error_of(too_big, 422)
    # Bytes count, not characters: 16,385 three-byte characters are over.
    wide = api.patch(f"{base}/BIG", {"value": "€" * 16385})
    assert "at most 48 KB" in error_of(wide, 422)
    assert sandbox.variables("octo-org/web", "actions")["BIG"].value == "x" * 48 * 1024


@pytest.mark.parametrize(
    ("scope", "limit", "where"),
    [
        ("octo-org", 1000, "An organization"),
        ("octo-org/web", 500, "A repository"),
        ("environment", 100, "An environment"),
    ],
)
def test_count_limits(
    api: Api, sandbox: Sandbox, ids: dict[str, int], scope: str, limit: int, where: str
) -> None:
    if scope == "environment":
        sandbox.create_environment("octo-org/web", "production")
        for i in range(limit):
            sandbox.put_environment_variable("octo-org/web", "production", f"V{i:04d}", "v")
        base = "/repos/octo-org/web/environments/production/variables"
    else:
        for i in range(limit):
            sandbox.put_variable(scope, "actions", f"V{i:04d}", "v")
        kind = "orgs" if "/" not in scope else "repos"
        base = f"/{kind}/{scope}/actions/variables"
    body = {"name": "ONE_MORE", "value": "v", "visibility": "all"}
    assert error_of(api.post(base, body), 422).endswith(
        f"{where} can have at most {limit} variables."
    )
    assert api.patch(f"{base}/V0000", {"value": "w"}).status_code == 204  # updates still work
    assert api.get(base).json()["total_count"] == limit
    with pytest.raises(ApiError):
        if scope == "environment":
            sandbox.put_environment_variable("octo-org/web", "production", "ONE_MORE", "v")
        else:
            sandbox.put_variable(scope, "actions", "ONE_MORE", "v")
