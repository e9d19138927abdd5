"""The referee itself: the OpenAPI checker must catch what GitHub's description forbids."""

from __future__ import annotations

import json

import pytest
from openapi_check import check_exchanges, spec_available, versioned_spec

from reconciler.sandbox import Exchange, Sandbox

pytestmark = pytest.mark.skipif(not spec_available(), reason="GitHub's OpenAPI file is absent")

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
