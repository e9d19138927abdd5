"""Deployment environments and their secrets: create, read, list, delete; names that are
case-insensitive and URL-encoded; each environment's own key pair; the 100-secret limit."""

from __future__ import annotations

import pytest

from reconciler.sandbox import ApiError, Sandbox
from tests.support.sandbox_client import Api, error_of

REPO = "/repos/octo-org/web"
ENVS = f"{REPO}/environments"


@pytest.fixture
def web(sandbox: Sandbox) -> int:
    return sandbox.add_repo("octo-org/web")


def test_put_creates_then_updates_and_get_list_delete(api: Api, sandbox: Sandbox, web: int) -> None:
    assert api.get(ENVS).json() == {"total_count": 0, "environments": []}
    created = api.put(f"{ENVS}/production")
    assert created.status_code == 200
    body = created.json()
    assert body["name"] == "production" and body["protection_rules"] == []
    assert body["url"] == f"{sandbox.url}{ENVS}/production"
    assert body["deployment_branch_policy"] is None
    again = api.put(f"{ENVS}/production", json={})
    assert again.json()["id"] == body["id"]
    assert again.json()["updated_at"] > body["updated_at"]  # a PUT is a write
    assert again.json()["created_at"] == body["created_at"]
    assert api.get(f"{ENVS}/production").json() == again.json()
    listed = api.get(ENVS).json()
    assert listed["total_count"] == 1 and listed["environments"] == [again.json()]
    assert api.delete(f"{ENVS}/production").status_code == 204
    assert error_of(api.get(f"{ENVS}/production"), 404) == "Not Found"
    assert error_of(api.delete(f"{ENVS}/production"), 404) == "Not Found"
    assert sandbox.environments("octo-org/web") == []


def test_names_are_case_insensitive_and_keep_the_first_spelling(
    api: Api, sandbox: Sandbox, web: int
) -> None:
    first = api.put(f"{ENVS}/Production").json()
    second = api.put(f"{ENVS}/PRODUCTION").json()
    assert second["id"] == first["id"] and second["name"] == "Production"
    assert api.get(f"{ENVS}/production").json()["name"] == "Production"
    assert api.get(ENVS).json()["total_count"] == 1
    assert sandbox.environments("octo-org/web") == ["Production"]
    # Sub-resources resolve the environment case-insensitively too.
    assert api.get(f"{ENVS}/pRoDuCtIoN/secrets").status_code == 200


def test_an_encoded_slash_stays_in_the_name(api: Api, sandbox: Sandbox, web: int) -> None:
    created = api.put(f"{ENVS}/deploy%2Feu")
    assert created.status_code == 200 and created.json()["name"] == "deploy/eu"
    assert created.json()["url"] == f"{sandbox.url}{ENVS}/deploy%2Feu"
    assert api.get(f"{ENVS}/DEPLOY%2FEU").json()["id"] == created.json()["id"]
    # A literal slash is two path segments: another (unknown) route.
    assert error_of(api.get(f"{ENVS}/deploy/eu"), 404) == "Not Found"
    sealed = api.seal_for(f"{ENVS}/deploy%2Feu/secrets", b"v")
    assert api.put(f"{ENVS}/deploy%2Feu/secrets/TOKEN", sealed).status_code == 201
    assert sandbox.environment_secrets("octo-org/web", "deploy/eu")["TOKEN"].value == b"v"
    assert sandbox.environments("octo-org/web") == ["deploy/eu"]


def test_invalid_names_and_bodies_are_422(api: Api, web: int) -> None:
    long = "e" * 256
    assert "1 to 255 characters" in error_of(api.put(f"{ENVS}/{long}"), 422)
    assert api.put(f"{ENVS}/{'e' * 255}").status_code == 200
    assert "not allowed" in error_of(api.put(f"{ENVS}/a%09b"), 422)
    assert "not a permitted key" in error_of(api.put(f"{ENVS}/x", json={"colour": 1}), 422)
    # The sandbox has no protection rules: asking for one is refused, not silently dropped.
    refused = api.put(f"{ENVS}/x", json={"wait_timer": 30})
    assert "without protection rules" in error_of(refused, 422)
    unprotected = {"wait_timer": 0, "reviewers": [], "deployment_branch_policy": None,
                   "prevent_self_review": False}  # fmt: skip
    assert api.put(f"{ENVS}/x", json=unprotected).status_code == 200
    assert api.get(ENVS).json()["total_count"] == 2


def test_unknown_environment_is_404_on_its_sub_resources(api: Api, web: int) -> None:
    for path in ("/secrets", "/secrets/public-key", "/secrets/X", "/variables", "/variables/X"):
        assert error_of(api.get(f"{ENVS}/nowhere{path}"), 404) == "Not Found"
    refused = api.put(f"{ENVS}/nowhere/secrets/X", {"encrypted_value": "eA==", "key_id": "1"})
    assert error_of(refused, 404) == "Not Found"
    assert error_of(api.post(f"{ENVS}/nowhere/variables", {"name": "X", "value": "1"}), 404)
    assert error_of(api.get("/repos/octo-org/nope/environments"), 404)


def test_environment_secret_lifecycle(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.create_environment("octo-org/web", "production")
    root = f"{ENVS}/production/secrets"
    key = api.get(f"{root}/public-key").json()
    assert (key["key_id"], key["key"]) == sandbox.environment_public_key(
        "octo-org/web", "production"
    )
    created = api.put(f"{root}/deploy_key", api.seal_for(root, b"first"))
    assert created.status_code == 201 and created.json() == {}
    assert api.put(f"{root}/DEPLOY_KEY", api.seal_for(root, b"second")).status_code == 204
    record = sandbox.environment_secrets("octo-org/web", "production")["DEPLOY_KEY"]
    assert record.value == b"second" and record.visibility is None
    got = api.get(f"{root}/Deploy_Key").json()
    assert got == {"name": "DEPLOY_KEY", "created_at": record.created_at,
                   "updated_at": record.updated_at}  # fmt: skip
    assert api.get(root).json() == {"total_count": 1, "secrets": [got]}
    # Environment secrets are their own namespace: the repository has none.
    assert sandbox.secrets("octo-org/web", "actions") == {}
    assert api.delete(f"{root}/DEPLOY_KEY").status_code == 204
    assert error_of(api.get(f"{root}/DEPLOY_KEY"), 404) == "Not Found"


def test_each_environment_has_its_own_key_pair(api: Api, sandbox: Sandbox, web: int) -> None:
    for name in ("production", "staging"):
        sandbox.create_environment("octo-org/web", name)
    prod = f"{ENVS}/production/secrets"
    staging_sealed = api.seal_for(f"{ENVS}/staging/secrets", b"v")
    repo_sealed = api.seal(REPO, "actions", b"v")
    # A value sealed for another key is refused by key_id ...
    assert "does not match" in error_of(api.put(f"{prod}/X", staging_sealed), 422)
    assert "does not match" in error_of(api.put(f"{prod}/X", repo_sealed), 422)
    # ... and a matching key_id with a box sealed for another key fails to decrypt.
    forged = {**staging_sealed, "key_id": api.get(f"{prod}/public-key").json()["key_id"]}
    assert "could not be decrypted" in error_of(api.put(f"{prod}/X", forged), 422)
    old = sandbox.environment_public_key("octo-org/web", "production")
    assert sandbox.rotate_environment_key("octo-org/web", "production") != old
    assert sandbox.environment_secrets("octo-org/web", "production") == {}


def test_at_most_100_secrets_per_environment(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.create_environment("octo-org/web", "production")
    for i in range(100):
        sandbox.put_environment_secret("octo-org/web", "production", f"S{i:03d}", b"v")
    root = f"{ENVS}/production/secrets"
    refused = api.put(f"{root}/ONE_MORE", api.seal_for(root, b"v"))
    assert "at most 100 secrets" in error_of(refused, 422)
    # Updating one of the hundred is still allowed.
    assert api.put(f"{root}/S000", api.seal_for(root, b"w")).status_code == 204
    with pytest.raises(ApiError) as raised:
        sandbox.put_environment_secret("octo-org/web", "production", "ONE_MORE", b"v")
    assert raised.value.status == 422
    listed = api.get(root, params={"per_page": 100}).json()
    assert listed["total_count"] == 100 and len(listed["secrets"]) == 100


def test_environments_page_like_other_listings(api: Api, sandbox: Sandbox, web: int) -> None:
    names = [f"env-{i:02d}" for i in range(35)]
    for name in names:
        sandbox.create_environment("octo-org/web", name)
    first = api.get(ENVS)
    assert len(first.json()["environments"]) == 30 and first.json()["total_count"] == 35
    url = f"{sandbox.url}{ENVS}"
    assert first.headers["Link"] == f'<{url}?page=2>; rel="next", <{url}?page=2>; rel="last"'
    second = api.get(ENVS, params={"page": 2}).json()["environments"]
    assert [e["name"] for e in first.json()["environments"] + second] == names


def test_deleting_an_environment_deletes_its_secrets_and_variables(
    api: Api, sandbox: Sandbox, web: int
) -> None:
    sandbox.create_environment("octo-org/web", "production")
    sandbox.put_environment_secret("octo-org/web", "production", "S", b"v")
    sandbox.put_environment_variable("octo-org/web", "production", "V", "v")
    assert api.delete(f"{ENVS}/PRODUCTION").status_code == 204
    api.put(f"{ENVS}/production")
    assert api.get(f"{ENVS}/production/secrets").json()["total_count"] == 0
    assert api.get(f"{ENVS}/production/variables").json()["total_count"] == 0
    with pytest.raises(ApiError) as raised:
        sandbox.environment_secrets("octo-org/web", "staging")
    assert raised.value.status == 404
