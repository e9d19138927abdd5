"""Refusals: 400, 401, 403, 404, 409 and 422, with GitHub's error bodies."""

from __future__ import annotations

import base64

import pytest

from reconciler.sandbox import APPS, Sandbox
from tests.support.sandbox_client import Api

ORG = "/orgs/octo-org/dependabot/secrets"


@pytest.fixture
def web(sandbox: Sandbox) -> int:
    sandbox.add_repo("other-org/elsewhere")
    return sandbox.add_repo("octo-org/web")


def _error(response: object, status: int) -> dict[str, str]:
    import requests

    assert isinstance(response, requests.Response)
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert body["status"] == str(status) and body["message"] and body["documentation_url"]
    return body


def test_missing_and_unknown_credentials(sandbox: Sandbox, web: int) -> None:
    anonymous = Api(sandbox, token="")
    assert _error(anonymous.get(ORG), 401)["message"] == "Requires authentication"
    wrong = Api(sandbox, token="not-a-token")
    assert _error(wrong.get(ORG), 401)["message"] == "Bad credentials"
    scheme = Api(sandbox, token="")
    scheme.session.headers["Authorization"] = f"token {sandbox.token}"
    assert scheme.get(ORG).status_code == 200  # the classic `token X` form works too


@pytest.mark.parametrize("app", APPS)
def test_fine_grained_permissions(sandbox: Sandbox, web: int, app: str) -> None:
    from reconciler.sandbox import PERMISSION_KEYS

    org_key, repo_key = PERMISSION_KEYS[("org", app)], PERMISSION_KEYS[("repo", app)]
    sandbox.add_token("t-read", {org_key: "read", repo_key: "read"})
    sandbox.add_token("t-write", {org_key: "write"})
    sandbox.put_secret("octo-org", app, "S", b"v", visibility="selected")
    reader, writer = Api(sandbox, token="t-read"), Api(sandbox, token="t-write")
    base = f"/orgs/octo-org/{app}/secrets"
    assert reader.get(base).status_code == 200
    assert reader.get(f"/repos/octo-org/web/{app}/secrets").status_code == 200
    refused = reader.delete(f"{base}/S")
    assert _error(refused, 403)["message"] == "Resource not accessible by integration"
    assert refused.headers["X-Accepted-GitHub-Permissions"] == f"{org_key}=write"
    # Write includes read; adding one repository also needs Metadata (read), per the docs.
    assert writer.get(base).status_code == 200
    assert writer.get(f"/repos/octo-org/web/{app}/secrets").status_code == 403
    added = writer.put(f"{base}/S/repositories/{web}")
    assert _error(added, 403)["message"] == "Resource not accessible by integration"
    assert added.headers["X-Accepted-GitHub-Permissions"] == f"{org_key}=write,metadata=read"
    assert (
        writer.put(f"{base}/S/repositories", {"selected_repository_ids": [web]}).status_code == 204
    )
    assert _error(writer.get("/orgs/octo-org/repos"), 403)
    assert sandbox.secrets("octo-org", app)["S"].selected == {"web"}


@pytest.mark.parametrize("version", [None, "2022-11-28", "2026-03-10"])
def test_supported_api_versions(api: Api, web: int, version: str | None) -> None:
    headers = {"X-GitHub-Api-Version": version} if version else {}
    response = api.get(ORG, headers=headers)
    assert response.status_code == 200
    assert response.headers["X-GitHub-Api-Version-Selected"] == (version or "2022-11-28")
    assert api.sb.requests[-1].api_version == version


def test_unsupported_api_version(api: Api, web: int) -> None:
    body = _error(api.get(ORG, headers={"X-GitHub-Api-Version": "v3"}), 400)
    assert '"v3", is not a supported version' in body["message"]
    assert '"2026-03-10" (most recent), "2022-11-28"' in body["message"]


def test_not_found(api: Api, web: int) -> None:
    _error(api.get("/orgs/nope/dependabot/secrets"), 404)
    _error(api.get("/repos/octo-org/nope/dependabot/secrets"), 404)
    _error(api.get(f"{ORG}/MISSING"), 404)
    _error(api.get(f"{ORG}/MISSING/repositories"), 404)
    _error(api.get("/orgs/octo-org/unknown-app/secrets"), 404)
    _error(api.session.post(api.root + ORG), 404)  # unsupported method: 404, as on GitHub
    _error(api.get("/definitely/not/an/endpoint"), 404)


@pytest.mark.parametrize("app", APPS)
def test_selection_needs_selected_visibility(
    api: Api, sandbox: Sandbox, web: int, app: str
) -> None:
    sandbox.put_secret("octo-org", app, "ALL", b"v", visibility="all")
    base = f"/orgs/octo-org/{app}/secrets/ALL/repositories"
    _error(api.put(f"{base}/{web}"), 409)
    _error(api.delete(f"{base}/{web}"), 409)
    _error(api.put(base, {"selected_repository_ids": [web]}), 409)


def _put(
    api: Api, body: dict[str, object], name: str = "NEW", app: str = "actions"
) -> dict[str, str]:
    return _error(api.put(f"/orgs/octo-org/{app}/secrets/{name}", body), 422)


def test_invalid_bodies(api: Api, sandbox: Sandbox, web: int) -> None:
    sealed = api.seal("/orgs/octo-org", "actions", b"value")
    other = sandbox.add_repo("other-org/x")
    _put(api, {"visibility": "all"})  # actions requires encrypted_value and key_id
    _put(api, {**sealed})  # ... and visibility
    _put(api, {**sealed, "visibility": "public"})
    _put(api, {**sealed, "visibility": "all", "selected_repository_ids": [web]})
    _put(api, {**sealed, "visibility": "selected", "selected_repository_ids": [other]})
    _put(api, {**sealed, "visibility": "selected", "selected_repository_ids": [str(web)]})
    _put(api, {**sealed, "key_id": "123456789012345678", "visibility": "all"})
    _put(api, {**sealed, "encrypted_value": "not base64!", "visibility": "all"})
    garbage = base64.b64encode(b"x" * 64).decode()
    _put(api, {**sealed, "encrypted_value": garbage, "visibility": "all"})
    _put(api, {**sealed, "encrypted_value": 5, "visibility": "all"})
    for name in ("1STARTS_WITH_DIGIT", "GITHUB_TOKEN", "github_lower", "HAS-DASH", "SP%20ACE"):
        _put(api, {**sealed, "visibility": "all"}, name=name)
    # Dependabot org secrets need only a visibility, but a new secret still needs a value.
    _put(api, {"visibility": "all"}, app="dependabot")
    not_json = api.session.put(api.root + "/orgs/octo-org/actions/secrets/X", data=b"{nope")
    assert _error(not_json, 400)["message"] == "Problems parsing JSON"
    set_path = "/orgs/octo-org/actions/secrets/SEL/repositories"
    sandbox.put_secret("octo-org", "actions", "SEL", b"v", visibility="selected")
    _error(api.put(set_path, {}), 422)
    _error(api.put(set_path, {"selected_repository_ids": [other]}), 422)
    _error(api.put(f"{set_path}/{other}"), 422)
    assert sandbox.secrets("octo-org", "actions") == {
        "SEL": sandbox.secrets("octo-org", "actions")["SEL"]
    }


def test_rotated_key_makes_old_key_id_unknown(api: Api, sandbox: Sandbox, web: int) -> None:
    sealed = api.seal("/repos/octo-org/web", "dependabot", b"value")
    sandbox.rotate_key("octo-org/web", "dependabot")
    body = _error(api.put("/repos/octo-org/web/dependabot/secrets/X", sealed), 422)
    assert sealed["key_id"] in body["message"]
    fresh = api.seal("/repos/octo-org/web", "dependabot", b"value")
    assert api.put("/repos/octo-org/web/dependabot/secrets/X", fresh).status_code == 201


def test_string_repository_ids(api: Api, sandbox: Sandbox, web: int) -> None:
    """Only the Dependabot org PUT takes numeric strings, and only before 2026-03-10."""
    sealed = api.seal("/orgs/octo-org", "dependabot", b"v")
    body = {**sealed, "visibility": "selected", "selected_repository_ids": [str(web)]}
    assert api.put(f"{ORG}/STRINGS", body).status_code == 201
    assert sandbox.secrets("octo-org", "dependabot")["STRINGS"].selected == {"web"}
    newer = api.put(f"{ORG}/STRINGS", body, headers={"X-GitHub-Api-Version": "2026-03-10"})
    _error(newer, 422)
    _error(api.put(f"{ORG}/STRINGS", {**body, "selected_repository_ids": ["web"]}), 422)


def test_dependabot_visibility_only_update_keeps_value(
    api: Api, sandbox: Sandbox, web: int
) -> None:
    sandbox.put_secret("octo-org", "dependabot", "KEEP", b"kept", visibility="all")
    assert api.put(f"{ORG}/KEEP", {"visibility": "private"}).status_code == 204
    record = sandbox.secrets("octo-org", "dependabot")["KEEP"]
    assert (record.value, record.visibility) == (b"kept", "private")
