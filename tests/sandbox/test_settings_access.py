"""Fine-grained permissions of the variables and environments endpoints: read vs write, and
the 403 with `X-Accepted-GitHub-Permissions`."""

from __future__ import annotations

import pytest

from reconciler.sandbox import DEFAULT_APP_PERMISSIONS, PERMISSION_KEYS, PERMISSIONS, Sandbox
from tests.support.sandbox_client import Api, error_of

DENIED = "Resource not accessible by integration"


@pytest.fixture
def web(sandbox: Sandbox) -> int:
    web = sandbox.add_repo("octo-org/web")
    sandbox.create_environment("octo-org/web", "production")
    sandbox.put_variable("octo-org", "actions", "SHARED", "v", visibility="selected")
    return web


def _refused(response: object, accepted: str) -> None:
    import requests

    assert isinstance(response, requests.Response)
    assert error_of(response, 403) == DENIED
    assert response.headers["X-Accepted-GitHub-Permissions"] == accepted


@pytest.mark.parametrize(
    ("app", "org_key", "repo_key"),
    [
        ("actions", "organization_variables", "variables"),
        ("agents", "organization_agent_variables", "agent_variables"),
    ],
)
def test_variables_need_their_own_permission(
    sandbox: Sandbox, web: int, app: str, org_key: str, repo_key: str
) -> None:
    sandbox.add_token("t-read", {org_key: "read", repo_key: "read"})
    sandbox.add_token("t-write", {org_key: "write", repo_key: "write"})
    secret_keys = (PERMISSION_KEYS[("org", app)], PERMISSION_KEYS[("repo", app)])
    sandbox.add_token("t-secrets", dict.fromkeys(secret_keys, "write"))
    reader, writer = Api(sandbox, token="t-read"), Api(sandbox, token="t-write")
    org, repo = f"/orgs/octo-org/{app}/variables", f"/repos/octo-org/web/{app}/variables"
    assert reader.get(org).status_code == 200
    assert reader.get(repo).status_code == 200
    assert reader.get(f"/repos/octo-org/web/{app}/organization-variables").status_code == 200
    _refused(reader.post(org, {"name": "A", "value": "v", "visibility": "all"}), f"{org_key}=write")
    _refused(reader.post(repo, {"name": "A", "value": "v"}), f"{repo_key}=write")
    assert writer.post(repo, {"name": "A", "value": "v"}).status_code == 201
    assert writer.patch(f"{repo}/A", {"value": "w"}).status_code == 204
    # Adding one repository also needs Metadata (read), as for secrets.
    if app == "actions":
        _refused(writer.put(f"{org}/SHARED/repositories/{web}"), f"{org_key}=write,metadata=read")
    # Secrets permissions do not reach variables.
    secrets_only = Api(sandbox, token="t-secrets")
    _refused(secrets_only.get(repo), f"{repo_key}=read")
    assert PERMISSIONS[("org", org_key, "read")].endswith("organization permissions (read)")
    assert PERMISSIONS[("repo", repo_key, "write")].endswith("repository permissions (write)")


def test_environments_need_actions_to_read_and_administration_to_write(
    sandbox: Sandbox, web: int
) -> None:
    sandbox.add_token("t-actions", {"actions": "read"})
    sandbox.add_token("t-admin", {"administration": "write"})
    reader, admin = Api(sandbox, token="t-actions"), Api(sandbox, token="t-admin")
    envs = "/repos/octo-org/web/environments"
    assert reader.get(envs).status_code == 200
    assert reader.get(f"{envs}/production").status_code == 200
    _refused(reader.put(f"{envs}/staging"), "administration=write")
    _refused(reader.delete(f"{envs}/production"), "administration=write")
    assert admin.put(f"{envs}/staging").status_code == 200
    assert admin.delete(f"{envs}/staging").status_code == 204
    _refused(admin.get(envs), "actions=read")
    assert PERMISSIONS[("environment", "administration", "write")] == (
        '"Administration" repository permissions (write)'
    )


def test_environment_secrets_and_variables_need_environments(sandbox: Sandbox, web: int) -> None:
    sandbox.add_token("t-env-read", {"environments": "read", "secrets": "read"})
    sandbox.add_token("t-env-write", {"environments": "write", "secrets": "write"})
    sandbox.add_token("t-secrets", {"secrets": "write", "variables": "write"})
    reader, writer = Api(sandbox, token="t-env-read"), Api(sandbox, token="t-env-write")
    secrets = "/repos/octo-org/web/environments/production/secrets"
    variables = "/repos/octo-org/web/environments/production/variables"
    assert reader.get(secrets).status_code == 200
    assert reader.get(f"{secrets}/public-key").status_code == 200
    assert reader.get(variables).status_code == 200
    _refused(reader.put(f"{secrets}/X", reader.seal_for(secrets, b"v")),
             "environments=write,secrets=write")  # fmt: skip
    _refused(reader.post(variables, {"name": "X", "value": "v"}), "environments=write")
    assert writer.put(f"{secrets}/X", writer.seal_for(secrets, b"v")).status_code == 201
    assert writer.post(variables, {"name": "X", "value": "v"}).status_code == 201
    # Repository secrets and variables permissions alone do not reach an environment.
    outsider = Api(sandbox, token="t-secrets")
    _refused(outsider.get(secrets), "environments=read,secrets=read")
    _refused(outsider.get(variables), "environments=read")


def test_default_app_permissions_cover_variables_and_environments() -> None:
    for key in ("organization_variables", "variables", "organization_agent_variables",
                "agent_variables", "environments", "administration"):  # fmt: skip
        assert DEFAULT_APP_PERMISSIONS[key] == "write"
    assert DEFAULT_APP_PERMISSIONS["actions"] == "read"


def test_the_admin_token_reaches_everything(api: Api, web: int) -> None:
    assert api.get("/repos/octo-org/web/environments").status_code == 200
    assert api.get("/orgs/octo-org/agents/variables").status_code == 200
    assert api.get("/repos/octo-org/web/environments/production/secrets").status_code == 200
