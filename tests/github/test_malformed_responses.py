"""A broken or hostile server gets a clear error naming the request, in bounded time.

Each case puts one wrong answer between the real CLI and the sandbox (HTML where JSON belongs,
truncated JSON, wrong shapes and types, missing fields, endless pagination, huge and dripping
bodies) and asserts: exit 1, the message names the request (method and path), no traceback,
no token or value in any output, and the run ends within a few seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.github.bodies import MAX_BODY_BYTES
from reconciler.github.pagination import MAX_PAGES
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest
from tests.support.hostile_server import Forward, Hostile, Reply, Seen, json_reply

TOKEN = "canary_MalformedToken0123456789abcdefQRS"
VALUE = "malformed-value-LeakCanary-9a7b3c"
ENV = {"ORG_ENV_TOKEN": VALUE, "REPO_ENV_TOKEN": VALUE}
LISTING = "/orgs/octo-org/dependabot/secrets"
SELECTION = f"{LISTING}/ORG_TOKEN/repositories"
REPO = "/repos/octo-org/web"
KEY = f"{REPO}/actions/secrets/public-key"
LEDGER = "/repos/octo-org/platform/contents/ledger.json"
COMMENTS = "/repos/octo-org/web/issues/7/comments"
MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      secrets:
        ORG_TOKEN: {value: {env: ORG_ENV_TOKEN}, visibility: selected, repositories: [web]}
repos:
  octo-org/web:
    actions:
      secrets:
        REPO_TOKEN: {value: {env: REPO_ENV_TOKEN}}
"""
HTML = Reply(
    200,
    b"<!DOCTYPE html><html><body>Sign in to the hotel Wi-Fi</body></html>",
    (("Content-Type", "text/html"),),
)

Respond = Callable[[Seen, Forward], Reply]


def _body(data: object) -> Respond:
    return lambda s, fwd: json_reply(data)


def _raw(body: bytes, length: int | None = None) -> Respond:
    return lambda s, fwd: Reply(200, body, (("Content-Type", "application/json"),), length=length)


def _truncated(s: Seen, fwd: Forward) -> Reply:
    reply = fwd()
    return Reply(200, reply.body[: len(reply.body) // 2], reply.headers)


def _self_link(s: Seen, fwd: Forward) -> Reply:
    return fwd().with_header("Link", f'<http://{s.headers["Host"]}{s.path}>; rel="next"')


def _growing(s: Seen, fwd: Forward) -> Reply:
    page = int(s.path.rsplit("page=", 1)[1]) if "page=" in s.path else 1
    link = f'<http://{s.headers["Host"]}{LISTING}?per_page=100&page={page + 1}>; rel="next"'
    return json_reply({"total_count": 10**9, "secrets": []}).with_header("Link", link)


def _item(**fields: object) -> dict[str, object]:
    stamps = {"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
    return {"name": "ORG_TOKEN", **stamps, **fields}


@dataclass(frozen=True)
class Case:
    route: str
    respond: Respond
    says: str  # what the message must contain beside the request
    command: str = "plan"


CASES: dict[str, Case] = {
    "html": Case(LISTING, lambda s, fwd: HTML, "HTML, not JSON"),
    "truncated": Case(LISTING, _truncated, "not valid JSON"),
    "empty": Case(LISTING, _raw(b""), "not valid JSON"),
    "not-utf8": Case(LISTING, _raw(b"\xff\xfe\xfa{}"), "not valid JSON"),
    "deeply-nested": Case(LISTING, _raw(b"[" * 200_000), "not valid JSON"),
    "list-not-object": Case(LISTING, _body([]), "expected an object, got a list"),
    "secrets-not-list": Case(
        LISTING, _body({"secrets": {"name": "X"}}), "secrets: expected a list"
    ),
    "secrets-missing": Case(LISTING, _body({"total_count": 1}), "secrets: missing"),
    "item-not-object": Case(LISTING, _body({"secrets": ["X"]}), "secrets[0]: expected an object"),
    "no-name": Case(LISTING, _body({"secrets": [{"updated_at": "x"}]}), "secrets[0].name: missing"),
    "name-number": Case(LISTING, _body({"secrets": [_item(name=5)]}), "expected a string"),
    "name-escape": Case(LISTING, _body({"secrets": [_item(name="A\x1b[2J")]}), "expected a name"),
    "visibility": Case(
        LISTING, _body({"secrets": [_item(visibility="public")]}), "secrets[0].visibility"
    ),
    "updated-at-number": Case(
        LISTING, _body({"secrets": [_item(updated_at=7)]}), "secrets[0].updated_at"
    ),
    # The ledger records updated_at and refuses an empty or odd one: so must the reader.
    "updated-at-missing": Case(
        LISTING,
        _body({"secrets": [{"name": "ORG_TOKEN", "created_at": "2024-01-01T00:00:00Z"}]}),
        "secrets[0].updated_at: missing",
    ),
    "updated-at-not-a-date": Case(
        LISTING,
        _body({"secrets": [_item(updated_at="yesterday")]}),
        "secrets[0].updated_at: expected an ISO 8601 date-time",
    ),
    "updated-at-empty": Case(
        LISTING, _body({"secrets": [_item(updated_at="")]}), "secrets[0].updated_at: expected"
    ),
    "selection-id-string": Case(
        SELECTION,
        _body({"total_count": 1, "repositories": [{"id": "12", "name": "web"}]}),
        "repositories[0].id: expected a positive integer id",
    ),
    "selection-id-bool": Case(
        SELECTION,
        _body({"total_count": 1, "repositories": [{"id": True, "name": "web"}]}),
        "repositories[0].id",
    ),
    "repository-no-id": Case(REPO, _body({"name": "web"}), "id: missing"),
    "repository-list": Case(REPO, _body([{"id": 1}]), "expected an object, got a list"),
    "key-without-key-id": Case(KEY, _body({"key": "A" * 43 + "="}), "key_id: missing", "apply"),
    "key-not-base64": Case(
        KEY, _body({"key_id": "1", "key": "not base64!"}), "key: not valid base64", "apply"
    ),
    "key-wrong-length": Case(
        KEY, _body({"key_id": "1", "key": "AAAA"}), "key: expected 32 bytes", "apply"
    ),
    "key-id-list": Case(KEY, _body({"key_id": [1], "key": "A" * 43 + "="}), "key_id", "apply"),
    "next-is-itself": Case(LISTING, _self_link, "points back at an earlier page"),
    "pages-forever": Case(LISTING, _growing, f"more than {MAX_PAGES} pages"),
    "declared-huge": Case(LISTING, _raw(b"{}", length=MAX_BODY_BYTES + 1), "larger than 32 MB"),
    "streamed-huge": Case(
        LISTING, _raw(b'{"secrets": [' + b" " * (MAX_BODY_BYTES + 1), length=-1), "32 MB"
    ),
    "dripping": Case(LISTING, lambda s, fwd: Reply(drip=0.05), "took longer than 2s"),
    "import-html": Case(LISTING, lambda s, fwd: HTML, "HTML, not JSON", "import"),
    "ledger-html": Case(LEDGER, lambda s, fwd: HTML, "", "ledger"),
    "user-html": Case("/user", lambda s, fwd: HTML, "HTML, not JSON", "comment"),
    "user-no-login": Case("/user", _body({"id": 1}), "login: missing", "comment"),
    "comments-not-list": Case(COMMENTS, _body({"id": 1}), "expected a list", "comment"),
    "comment-body-number": Case(
        COMMENTS,
        _body([{"id": 1, "body": 5, "user": {"login": "octocat"}}]),
        "[0].body: expected a string",
        "comment",
    ),
}


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    sandbox = make_sandbox(admin_token=TOKEN)
    sandbox.add_repo("octo-org/web")
    sandbox.add_repo("octo-org/platform")
    # Selected for no repository yet, so the plan must resolve "web" itself (REPO).
    sandbox.put_secret(
        "octo-org", "dependabot", "ORG_TOKEN", b"old", visibility="selected", selected=[]
    )
    return sandbox


@pytest.fixture
def hostile(sb: Sandbox) -> Iterator[Hostile]:
    server = Hostile(sb.url)
    yield server
    server.stop()


def _run(capsys: pytest.CaptureFixture[str], hostile: Hostile, tmp: Path, command: str) -> Run:
    write_manifest(tmp, MANIFEST)
    env = {**ENV, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": hostile.url}
    manifest = str(tmp / "secrets.yaml")
    argv = {
        "plan": ["plan", "--no-ledger", manifest],
        "apply": ["apply", "--no-ledger", manifest],
        "import": ["import", "--org", "octo-org", "--app", "dependabot"],
        "ledger": ["plan", "--ledger", "github:octo-org/platform:ledger.json", manifest],
        "comment": ["plan", "--no-ledger", manifest, "--comment", "--pr", "octo-org/web#7"],
    }[command]
    # No secondary-limit pacing: a server paging forever must be stopped by the page bound,
    # not slowed to 900 requests a minute first.
    return run(capsys, [*argv, "--timeout", "0.5", "--points-per-minute", "0"], env)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_malformed_answer_is_a_clear_error_naming_the_request(
    name: str, hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    hostile.on(lambda s: s.route == case.route, case.respond)
    start = time.monotonic()
    result = _run(capsys, hostile, tmp_path, case.command)
    elapsed = time.monotonic() - start
    assert result.code == 1, result.err
    assert f"GET {case.route}" in result.err and case.says in result.err, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    for text in (result.out, result.err):
        assert TOKEN not in text and VALUE not in text
    assert len(result.err) < 2000  # one paragraph, not a dump of the body
    assert elapsed < 8, f"{name} took {elapsed:.1f}s"


def test_a_total_count_that_lies_changes_nothing(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The count is never trusted: items come from the pages themselves."""
    honest = _run(capsys, hostile, tmp_path, "plan")

    def lie(s: Seen, fwd: Forward) -> Reply:
        reply = fwd()
        return reply.with_json({**reply.json(), "total_count": 10**6})

    hostile.on(lambda s: s.route in (LISTING, SELECTION), lie)
    lying = _run(capsys, hostile, tmp_path, "plan")
    assert honest.code == lying.code == 0, lying.err

    def plan_of(out: str) -> list[str]:  # the remaining rate limit goes down between runs
        return [line for line in out.splitlines() if not line.startswith("Rate limit:")]

    assert plan_of(lying.out) == plan_of(honest.out)


def test_the_message_never_echoes_the_body(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = "BodyMarker-3f9e"
    hostile.on(
        lambda s: s.route == LISTING,
        _body({"secrets": [{"name": 1, "note": marker}], "message": marker}),
    )
    result = _run(capsys, hostile, tmp_path, "plan")
    assert result.code == 1 and marker not in result.err + result.out
    assert json.dumps(marker) not in result.err
