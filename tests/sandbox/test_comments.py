"""Issue and pull-request comments: create, list with pagination, edit, limits, permissions."""

from __future__ import annotations

import pytest
import requests

from reconciler.sandbox import Sandbox
from tests.support.sandbox_client import Api, error_of

REPO = "/repos/octo-org/web"
PR = f"{REPO}/issues/7/comments"
TOO_LONG = "Body is too long (maximum is 65536 characters)"


@pytest.fixture
def web(sandbox: Sandbox) -> str:
    sandbox.add_repo("octo-org/web")
    sandbox.add_pull_request("octo-org/web", 7)
    sandbox.add_issue("octo-org/web", 3)
    return "octo-org/web"


def _post(api: Api, path: str, body: object) -> requests.Response:
    return api.session.post(api.root + path, json=body)


def _patch(api: Api, comment_id: int, body: object) -> requests.Response:
    return api.session.patch(api.root + f"{REPO}/issues/comments/{comment_id}", json=body)


def test_create_get_and_edit(api: Api, sandbox: Sandbox, web: str) -> None:
    created = _post(api, PR, {"body": "## Plan\n\n2 to create"})
    assert created.status_code == 201, created.text
    comment = created.json()
    assert created.headers["Location"] == comment["url"]
    assert comment["body"] == "## Plan\n\n2 to create"
    assert comment["user"]["login"] == "sandbox-user"
    assert comment["issue_url"] == f"{sandbox.url}{REPO}/issues/7"
    assert comment["html_url"].endswith(f"/octo-org/web/pull/7#issuecomment-{comment['id']}")
    assert comment["author_association"] == "OWNER"
    assert comment["created_at"] == comment["updated_at"]
    assert api.get(f"{REPO}/issues/comments/{comment['id']}").json() == comment

    edited = _patch(api, comment["id"], {"body": "## Plan\n\nnothing to do"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] == "## Plan\n\nnothing to do"
    assert edited.json()["updated_at"] > comment["updated_at"]
    assert edited.json()["created_at"] == comment["created_at"]
    assert [c["body"] for c in sandbox.comments(web, 7)] == ["## Plan\n\nnothing to do"]
    assert sandbox.comments(web, 3) == []


def test_unknown_issues_and_comments_are_404(api: Api, web: str) -> None:
    assert error_of(api.get(f"{REPO}/issues/8/comments"), 404) == "Not Found"
    assert error_of(_post(api, f"{REPO}/issues/8/comments", {"body": "x"}), 404) == "Not Found"
    assert error_of(_post(api, f"{REPO}/issues/x/comments", {"body": "x"}), 404) == "Not Found"
    assert error_of(_patch(api, 999, {"body": "x"}), 404) == "Not Found"
    assert error_of(api.get(f"{REPO}/issues/comments/999"), 404) == "Not Found"
    assert error_of(api.get("/repos/octo-org/nope/issues/7/comments"), 404) == "Not Found"


def test_comment_ids_belong_to_their_repository(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.add_repo("octo-org/api")
    sandbox.add_issue("octo-org/api", 1)
    elsewhere = _post(api, "/repos/octo-org/api/issues/1/comments", {"body": "x"}).json()
    assert error_of(_patch(api, elsewhere["id"], {"body": "y"}), 404) == "Not Found"


def test_body_limits(api: Api, sandbox: Sandbox, web: str) -> None:
    assert _post(api, PR, {"body": "x" * 65536}).status_code == 201
    refused = _post(api, PR, {"body": "x" * 65537})
    assert error_of(refused, 422) == "Validation Failed"
    assert refused.json()["errors"] == [
        {"resource": "IssueComment", "code": "unprocessable", "field": "data", "message": TOO_LONG}
    ]
    comment_id = sandbox.comments(web, 7)[0]["id"]
    assert error_of(_patch(api, comment_id, {"body": "é" * 65537}), 422) == "Validation Failed"
    missing = _post(api, PR, {})
    assert error_of(missing, 422) == 'Invalid request.\n\n"body" wasn\'t supplied.'
    assert len(sandbox.comments(web, 7)) == 1


def test_listing_is_paginated(api: Api, sandbox: Sandbox, web: str) -> None:
    for n in range(35):
        assert _post(api, f"{REPO}/issues/3/comments", {"body": f"c{n}"}).status_code == 201
    url = f"{sandbox.url}{REPO}/issues/3/comments"
    first = api.get(f"{REPO}/issues/3/comments")
    assert [c["body"] for c in first.json()] == [f"c{n}" for n in range(30)]
    assert first.headers["Link"] == f'<{url}?page=2>; rel="next", <{url}?page=2>; rel="last"'
    page = api.get(f"{REPO}/issues/3/comments", params={"per_page": 10, "page": 4})
    assert [c["body"] for c in page.json()] == [f"c{n}" for n in range(30, 35)]
    assert page.headers["Link"] == (
        f'<{url}?per_page=10&page=3>; rel="prev", <{url}?per_page=10&page=1>; rel="first"'
    )
    since = sandbox.comments(web, 3)[-1]["updated_at"]
    latest = api.get(f"{REPO}/issues/3/comments", params={"since": since}).json()
    assert [c["body"] for c in latest] == ["c34"]


def test_issues_or_pull_requests_permission(sandbox: Sandbox, web: str) -> None:
    sandbox.add_token("t-issues-read", {"issues": "read"})
    sandbox.add_token("t-prs", {"pull_requests": "write"})
    reader = Api(sandbox, token="t-issues-read")
    assert reader.get(PR).status_code == 200
    refused = _post(reader, PR, {"body": "x"})
    assert error_of(refused, 403) == "Resource not accessible by integration"
    assert refused.headers["X-Accepted-GitHub-Permissions"] == "issues=write; pull_requests=write"
    assert _post(Api(sandbox, token="t-prs"), PR, {"body": "x"}).status_code == 201
    assert error_of(Api(sandbox, token="").get(PR), 401) == "Requires authentication"


def test_requests_log_faults_and_etags(api: Api, sandbox: Sandbox, web: str) -> None:
    from reconciler.sandbox import Fault

    sandbox.add_fault(
        Fault("status", status=503, method="POST", path_pattern="/comments$", count=1)
    )
    assert _post(api, PR, {"body": "x"}).status_code == 503
    assert _post(api, PR, {"body": "x"}).status_code == 201
    listed = api.get(PR)
    assert api.get(PR, headers={"If-None-Match": listed.headers["ETag"]}).status_code == 304
    assert [(r.method, r.status) for r in sandbox.requests][-4:] == [
        ("POST", 503),
        ("POST", 201),
        ("GET", 200),
        ("GET", 304),
    ]
    assert len(sandbox.comments(web, 7)) == 1


def test_seed_and_dump_keep_comments(api: Api, sandbox: Sandbox, web: str) -> None:
    first = _post(api, PR, {"body": "plan"}).json()
    dumped = sandbox.dump_state()
    issues = dumped["repos"][web]["issues"]
    assert issues["3"] == {"pull_request": False, "comments": []}
    assert issues["7"]["comments"][0]["id"] == first["id"]
    with Sandbox() as copy:
        copy.load_seed(dumped)
        assert copy.comments(web, 7) == sandbox.comments(web, 7)
        assert copy.dump_state() == dumped
        client = Api(copy)
        again = _post(client, PR, {"body": "next"}).json()
        client.close()
        assert again["id"] > first["id"]
    with Sandbox() as seeded:
        seeded.load_seed({"repos": {web: {"issues": {5: {"comments": [{"body": "hi"}]}}}}})
        assert [c["body"] for c in seeded.comments(web, 5)] == ["hi"]
