"""The referee itself: the OpenAPI checker must catch what GitHub's description forbids."""

from __future__ import annotations

import json

from reconciler.sandbox import Exchange, Sandbox
from tests.support.openapi_check import check_exchanges, versioned_spec

URL = "http://127.0.0.1:1/orgs/octo-org/dependabot/secrets"
JSON = (("Content-Type", "application/json; charset=utf-8"),)


def _exchange(method: str, url: str, status: int, body: object = None, request: object = None,
              version: str | None = None) -> Exchange:  # fmt: skip
    headers = [("Authorization", "Bearer x")]
    if version:
        headers.append(("X-GitHub-Api-Version", version))
    return Exchange(
        method=method,
        url=url,
        request_headers=tuple(headers) + (JSON if request is not None else ()),
        request_body=b"" if request is None else json.dumps(request).encode(),
        status=status,
        response_headers=JSON if body is not None else (),
        response_body=b"" if body is None else json.dumps(body).encode(),
    )


def test_a_conforming_list_passes() -> None:
    body = {"total_count": 0, "secrets": []}
    assert check_exchanges([_exchange("GET", URL, 200, body)]) == []


def test_wrong_response_shapes_are_caught() -> None:
    missing = {"total_count": 1, "secrets": [{"name": "X"}]}
    problems = check_exchanges([_exchange("GET", URL, 200, missing)])
    assert problems and "created_at" in "\n".join(problems)
    assert check_exchanges([_exchange("PUT", URL + "/X", 201, {"extra": 1}, {"visibility": "all"})])
    assert check_exchanges(
        [_exchange("GET", URL + "/public-key", 201, {"key_id": "1", "key": "k"})]
    )


def test_error_bodies_follow_githubs_error_schema() -> None:
    good = {"message": "Not Found", "documentation_url": "https://docs", "status": "404"}
    assert check_exchanges([_exchange("GET", URL + "/X", 404, good)]) == []
    assert check_exchanges([_exchange("GET", URL + "/X", 404, {**good, "status": 404})])
    assert check_exchanges([_exchange("GET", URL + "/X", 422, {"message": "x", "status": "422"})])


def test_invalid_accepted_requests_are_caught() -> None:
    bad = {"encrypted_value": "***", "key_id": "1", "visibility": "everyone"}
    assert check_exchanges([_exchange("PUT", URL + "/X", 201, {}, bad)])


def test_api_version_2026_applies_githubs_breaking_changes() -> None:
    body = {"encrypted_value": "c2VjcmV0", "key_id": "1", "visibility": "selected",
            "selected_repository_ids": ["1296269"]}  # fmt: skip
    assert check_exchanges([_exchange("PUT", URL + "/X", 201, {}, body)]) == []
    assert check_exchanges([_exchange("PUT", URL + "/X", 201, {}, body, "2026-03-10")])
    spec = versioned_spec("2026-03-10")["components"]["schemas"]["rate-limit-overview"]
    assert spec["required"] == ["resources"]


def test_every_sandbox_exchange_is_recorded(sandbox: Sandbox) -> None:
    import requests

    requests.get(sandbox.url + "/rate_limit", headers={"Authorization": f"Bearer {sandbox.token}"})
    (exchange,) = sandbox.exchanges
    assert exchange.status == 200 and exchange.url == sandbox.url + "/rate_limit"
    assert json.loads(exchange.response_body)["resources"]["core"]["limit"] == 5000


def test_contents_listings_are_checked_as_arrays_and_objects_by_type() -> None:
    # GitHub maps the pseudo-type `array` to the directory listing; the checker reads it so.
    contents = "http://127.0.0.1:1/repos/octo-org/web/contents/"
    links = {"self": contents + "d/a", "git": None, "html": None}
    item = {"type": "file", "size": 1, "name": "a", "path": "d/a", "sha": "0" * 40,
            "url": contents + "d/a", "git_url": None, "html_url": None, "download_url": None,
            "_links": links}  # fmt: skip
    file = {**item, "content": "eA==", "encoding": "base64"}
    # A file path's slashes are matched as one `{path}`: nested files are checked too.
    assert check_exchanges([_exchange("GET", contents + "d", 200, [item])]) == []
    assert check_exchanges([_exchange("GET", contents + "d/a", 200, file)]) == []
    assert check_exchanges([_exchange("GET", contents + "d/e", 200, [{"type": "file"}])])
    assert check_exchanges([_exchange("GET", contents + "d/a", 200, {**item, "type": "array"})])
    assert check_exchanges([_exchange("GET", contents + "d/a", 200, {**item, "type": "bogus"})])
    assert check_exchanges([_exchange("GET", contents + "d/a", 200, {"type": "file"})])


def test_a_contents_conflict_is_checked_against_either_error_shape() -> None:
    # GitHub's 409 is a `oneOf` of two objects that every error body matches; read as `anyOf`.
    url = "http://127.0.0.1:1/repos/octo-org/web/contents/d/a"
    put = {"message": "m", "content": "eA==", "sha": "0" * 40}
    conflict = {"message": "no match", "documentation_url": "https://d", "status": "409"}
    assert check_exchanges([_exchange("PUT", url, 409, conflict, put)]) == []
    assert check_exchanges([_exchange("PUT", url, 409, {**conflict, "status": 409}, put)])
    assert check_exchanges([_exchange("PUT", url, 409, {**conflict, "message": 1}, put)])


def test_variable_and_environment_shapes_are_checked() -> None:
    root = "http://127.0.0.1:1"
    org = f"{root}/orgs/octo-org/actions/variables"
    variable = {"name": "A", "value": "v", "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z", "visibility": "all"}  # fmt: skip
    assert check_exchanges([_exchange("GET", org + "/A", 200, variable)]) == []
    no_visibility = {k: v for k, v in variable.items() if k != "visibility"}
    assert check_exchanges([_exchange("GET", org + "/A", 200, no_visibility)])
    repo = f"{root}/repos/octo-org/web/agents/variables"
    assert check_exchanges([_exchange("GET", repo + "/A", 200, no_visibility)]) == []
    no_value = {k: v for k, v in no_visibility.items() if k != "value"}
    assert check_exchanges([_exchange("GET", repo + "/A", 200, no_value)])
    created = {"name": "A", "value": "v"}
    assert check_exchanges([_exchange("POST", repo, 201, {}, created)]) == []
    assert check_exchanges([_exchange("POST", repo, 201, {"extra": 1}, created)])
    assert check_exchanges([_exchange("POST", repo, 201, {}, {"name": "A"})])
    env = f"{root}/repos/octo-org/web/environments/a%2Fb"
    stamp = "2024-01-01T00:00:00Z"
    environment = {"id": 1, "node_id": "n", "name": "a/b", "url": env, "html_url": env,
                   "created_at": stamp, "updated_at": stamp}  # fmt: skip
    assert check_exchanges([_exchange("PUT", env, 200, environment)]) == []
    assert check_exchanges([_exchange("PUT", env, 200, {**environment, "id": "1"})])
    assert check_exchanges([_exchange("PUT", env, 200, environment, {"colour": 1})])
