"""The contents API on branches: create, read, update with sha checks, branches, git refs."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import requests

from reconciler.sandbox import Sandbox
from tests.support.sandbox_client import Api, error_of

REPO = "/repos/octo-org/web"
LEDGER = f"{REPO}/contents/ledger/values.json"


@pytest.fixture
def web(sandbox: Sandbox) -> str:
    sandbox.add_repo("octo-org/web")
    return "octo-org/web"


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _put(api: Api, data: bytes, **fields: Any) -> requests.Response:
    body = {"message": "ledger", "content": base64.b64encode(data).decode(), **fields}
    return api.put(LEDGER, body)


def test_create_read_update(api: Api, sandbox: Sandbox, web: str) -> None:
    assert error_of(api.get(LEDGER), 404) == "Not Found"
    created = _put(api, b'{"a": 1}\n')
    assert created.status_code == 201, created.text
    content, commit = created.json()["content"], created.json()["commit"]
    assert content["sha"] == git_blob_sha(b'{"a": 1}\n')
    assert (content["name"], content["path"], content["type"]) == (
        "values.json",
        "ledger/values.json",
        "file",
    )
    assert commit["message"] == "ledger" and commit["sha"] == sandbox.branch_sha(web)
    assert commit["parents"][0]["sha"] != commit["sha"]

    read = api.get(LEDGER).json()
    assert read["encoding"] == "base64" and read["size"] == 9
    assert base64.b64decode(read["content"]) == b'{"a": 1}\n'
    assert read["sha"] == content["sha"]
    assert sandbox.file(web, "ledger/values.json") == b'{"a": 1}\n'

    updated = _put(api, b'{"a": 2}\n', sha=read["sha"])
    assert updated.status_code == 200, updated.text
    assert updated.json()["commit"]["parents"][0]["sha"] == commit["sha"]
    assert sandbox.file(web, "ledger/values.json") == b'{"a": 2}\n'


def test_long_content_is_wrapped_like_github(api: Api, sandbox: Sandbox, web: str) -> None:
    data = bytes(range(256)) * 2
    sandbox.put_file(web, "blob.bin", data)
    content = api.get(f"{REPO}/contents/blob.bin").json()["content"]
    lines = content.split("\n")
    assert all(len(line) == 60 for line in lines[:-2]) and lines[-1] == ""
    assert base64.b64decode(content) == data


def test_sha_rules(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.put_file(web, "ledger/values.json", b"{}")
    missing = _put(api, b"[]")
    assert error_of(missing, 422) == 'Invalid request.\n\n"sha" wasn\'t supplied.'
    stale = git_blob_sha(b"older")
    assert (
        error_of(_put(api, b"[]", sha=stale), 409) == f"ledger/values.json does not match {stale}"
    )
    assert sandbox.file(web, "ledger/values.json") == b"{}"
    # A new path ignores any sha.
    other = api.put(f"{REPO}/contents/new.json", {"message": "m", "content": "", "sha": stale})
    assert other.status_code == 201


def test_concurrent_writers_one_wins(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.put_file(web, "ledger/values.json", b"{}")
    sha = api.get(LEDGER).json()["sha"]
    assert _put(api, b'{"first": 1}', sha=sha).status_code == 200
    assert _put(api, b'{"second": 1}', sha=sha).status_code == 409
    assert sandbox.file(web, "ledger/values.json") == b'{"first": 1}'


def test_request_body_errors(api: Api, web: str) -> None:
    missing = api.put(LEDGER, {"content": ""})
    assert error_of(missing, 422) == 'Invalid request.\n\n"message" wasn\'t supplied.'
    assert error_of(api.put(LEDGER, {"message": "m", "content": "@@"}), 422).endswith("Base64")
    broken = api.session.put(api.root + LEDGER, data=b"{nope")
    assert error_of(broken, 400) == "Problems parsing JSON"


def test_branches_and_refs(api: Api, sandbox: Sandbox, web: str) -> None:
    main = api.get(f"{REPO}/branches/main").json()
    assert main["name"] == "main" and main["protected"] is False
    sha = main["commit"]["sha"]
    assert sha == sandbox.branch_sha(web)
    assert error_of(api.get(f"{REPO}/branches/ledger"), 404) == "Branch not found"

    created = api.session.post(
        api.root + f"{REPO}/git/refs", json={"ref": "refs/heads/ledger", "sha": sha}
    )
    assert created.status_code == 201, created.text
    assert created.json()["object"] == {
        "type": "commit",
        "sha": sha,
        "url": f"{sandbox.url}{REPO}/git/commits/{sha}",
    }
    assert created.headers["Location"] == created.json()["url"]
    assert api.get(f"{REPO}/git/ref/heads/ledger").json()["object"]["sha"] == sha
    assert error_of(api.get(f"{REPO}/git/ref/heads/nope"), 404) == "Not Found"

    def refs(body: dict[str, str]) -> str:
        return error_of(api.session.post(api.root + f"{REPO}/git/refs", json=body), 422)

    assert refs({"ref": "refs/heads/ledger", "sha": sha}) == "Reference already exists"
    assert refs({"ref": "refs/heads/x", "sha": "0" * 40}) == "Object does not exist"
    assert refs({"ref": "ledger2", "sha": sha}) == "Reference name is invalid"
    assert refs({"ref": "refs/heads/x"}) == 'Invalid request.\n\n"sha" wasn\'t supplied.'


def test_files_live_on_their_branch(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.add_branch(web, "reconciler/ledger")
    assert _put(api, b"{}", branch="reconciler/ledger").status_code == 201
    assert sandbox.file(web, "ledger/values.json", branch="reconciler/ledger") == b"{}"
    assert sandbox.file(web, "ledger/values.json") is None
    assert error_of(api.get(LEDGER), 404) == "Not Found"
    on_branch = api.get(LEDGER, params={"ref": "reconciler/ledger"})
    assert on_branch.status_code == 200
    head = sandbox.branch_sha(web, "reconciler/ledger")
    assert api.get(LEDGER, params={"ref": head}).status_code == 200
    nope = api.get(LEDGER, params={"ref": "nope"})
    assert error_of(nope, 404) == "No commit found for the ref nope"
    missing_branch = _put(api, b"{}", branch="nope", sha="f" * 40)
    assert error_of(missing_branch, 404) == "Branch nope not found"
    branch = api.get(f"{REPO}/branches/reconciler/ledger").json()
    assert branch["commit"]["sha"] == head


def test_directory_listing(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.put_file(web, "ledger/values.json", b"{}")
    sandbox.put_file(web, "README.md", b"# web\n")
    root = api.get(f"{REPO}/contents").json()
    assert [(e["name"], e["type"]) for e in root] == [("README.md", "file"), ("ledger", "dir")]
    assert [e["path"] for e in api.get(f"{REPO}/contents/ledger").json()] == ["ledger/values.json"]


def test_contents_permissions(sandbox: Sandbox, web: str) -> None:
    sandbox.put_file(web, "ledger/values.json", b"{}")
    sandbox.add_token("t-read", {"contents": "read"})
    sandbox.add_token("t-meta", {"metadata": "read"})
    reader = Api(sandbox, token="t-read")
    assert reader.get(LEDGER).status_code == 200
    refused = _put(reader, b"[]", sha=git_blob_sha(b"{}"))
    assert error_of(refused, 403) == "Resource not accessible by integration"
    assert refused.headers["X-Accepted-GitHub-Permissions"] == "contents=write"
    meta = Api(sandbox, token="t-meta")
    assert meta.get(f"{REPO}/branches/main").status_code == 200
    assert error_of(meta.get(LEDGER), 403)
    assert error_of(Api(sandbox, token="").get(LEDGER), 401) == "Requires authentication"
    assert error_of(Api(sandbox).get("/repos/octo-org/nope/contents/x"), 404) == "Not Found"


def test_etags_prefix_versions_and_log(api: Api, sandbox: Sandbox, web: str) -> None:
    sandbox.put_file(web, "ledger/values.json", b"{}")
    first = api.get(LEDGER, headers={"X-GitHub-Api-Version": "2026-03-10"})
    assert first.status_code == 200
    assert api.get(LEDGER, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    ghes = Api(sandbox, prefix="/api/v3")
    assert ghes.get(LEDGER).json()["url"].startswith(f"{sandbox.url}/api/v3{REPO}/contents/")
    assert [(r.method, r.path, r.status) for r in sandbox.requests][-3:] == [
        ("GET", LEDGER, 200),
        ("GET", LEDGER, 304),
        ("GET", f"/api/v3{LEDGER}", 200),
    ]


def test_seed_and_dump_keep_files(sandbox: Sandbox, web: str) -> None:
    sandbox.add_branch(web, "empty")
    sandbox.put_file(web, "ledger/values.json", b'{"k": 1}')
    sandbox.put_file(web, "bin", b"\xff\x00")
    dumped = sandbox.dump_state()
    assert dumped["repos"][web]["files"] == {
        "empty": {},
        "main": {"bin": {"content_base64": "/wA="}, "ledger/values.json": {"content": '{"k": 1}'}},
    }
    with Sandbox() as copy:
        copy.load_seed(dumped)
        assert copy.file(web, "bin") == b"\xff\x00"
        assert copy.files(web, "empty") == {}
        assert copy.dump_state() == dumped
