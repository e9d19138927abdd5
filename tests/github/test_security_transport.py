"""The token never leaves the API host; plain http only on loopback; Ctrl-C ends a hung read.

A hostile server sits between the real CLI and the sandbox and points pagination links,
redirects and `*_url` fields at a second loopback listener, the attacker, which records every
request it gets. The promise is not "no Authorization header reached it" but the stronger
"nothing reached it": a refused URL is never contacted at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import UsageError
from reconciler.github.transport import ClientConfig, Transport
from reconciler.github.urls import is_loopback, origin_of
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest
from tests.support.hostile_server import Attacker, Forward, Hostile, Reply, Seen
from tests.support.paths import REPO_ROOT

TOKEN = "canary_TransportToken0123456789abcdefXYZ"
VALUE = "transport-value-LeakCanary-5e8d1c"
ENV = {"ORG_ENV_TOKEN": VALUE, "REPO_ENV_TOKEN": VALUE}
LISTING = "/orgs/octo-org/dependabot/secrets"
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


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    sandbox = make_sandbox(admin_token=TOKEN)
    sandbox.add_repo("octo-org/web")
    sandbox.put_secret("octo-org", "dependabot", "ORG_TOKEN", b"old", visibility="private")
    return sandbox


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    server = Attacker()
    yield server
    server.stop()


@pytest.fixture
def hostile(sb: Sandbox) -> Iterator[Hostile]:
    server = Hostile(sb.url)
    yield server
    server.stop()


def _cli(capsys: pytest.CaptureFixture[str], hostile: Hostile, tmp_path: Path, *args: str) -> Run:
    write_manifest(tmp_path, MANIFEST)
    env = {**ENV, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": hostile.url}
    result = run(capsys, [*args, str(tmp_path / "secrets.yaml"), "--timeout", "2"], env)
    for text in (result.out, result.err):
        assert TOKEN not in text and VALUE not in text
        assert "Traceback" not in text
    return result


def _listing(seen: Seen) -> bool:
    return seen.method == "GET" and seen.route == LISTING


def _link_forms(hostile: Hostile, attacker: Attacker) -> list[str]:
    a, h = attacker.port, hostile.port
    tail = f"{LISTING}?per_page=100&page=2"
    return [
        f"http://127.0.0.1:{a}{tail}",  # another port
        f"http://localhost:{a}{tail}",  # another host name for the same machine
        f"https://127.0.0.1:{h}{tail}",  # another scheme
        f"http://127.0.0.1:{h}@127.0.0.1:{a}{tail}",  # userinfo that looks like our host
        f"http://127.0.0.1:{a}\\@127.0.0.1:{h}{tail}",  # parsers disagree on backslashes
        f"//127.0.0.1:{a}{tail}",  # scheme-relative
    ]


@pytest.mark.parametrize("form", range(6))
def test_a_pagination_link_to_another_origin_is_refused_and_never_contacted(
    form: int,
    hostile: Hostile,
    attacker: Attacker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    link = _link_forms(hostile, attacker)[form]
    hostile.on(_listing, lambda s, fwd: fwd().with_header("Link", f'<{link}>; rel="next"'))
    result = _cli(capsys, hostile, tmp_path, "plan", "--no-ledger")
    assert result.code == 1, result.err
    assert f"GET {LISTING}" in result.err and "refused" in result.err
    assert "page=2" not in result.err  # the origin is named, never the URL's path or query
    assert attacker.seen == []


def test_a_same_origin_link_spelled_differently_is_followed(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = f"HTTP://127.0.0.1:{hostile.port}{LISTING}?per_page=100&page=2"
    hostile.on(_listing, lambda s, fwd: fwd().with_header("Link", f'<{link}>; rel="next"'), 1)
    result = _cli(capsys, hostile, tmp_path, "plan", "--no-ledger")
    assert result.code == 0, result.err
    pages = [s.path for s in hostile.seen if _listing(s)]
    assert len(pages) == 2 and pages[1].endswith("page=2")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_is_refused_and_never_contacted(
    status: int,
    hostile: Hostile,
    attacker: Attacker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    to = f"{attacker.url}{LISTING}?per_page=100"
    hostile.on(_listing, lambda s, fwd: Reply(status, b"", (("Location", to),)))
    result = _cli(capsys, hostile, tmp_path, "plan", "--no-ledger")
    assert result.code == 1, result.err
    assert f"GET {LISTING}" in result.err and f"127.0.0.1:{attacker.port}" in result.err
    assert attacker.seen == []


def test_a_same_origin_redirect_of_a_write_repeats_its_method_and_body(
    sb: Sandbox, hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub's 307: repeat the request verbatim at the new URL (here the GHES layout)."""
    put = "/repos/octo-org/web/actions/secrets/REPO_TOKEN"
    hostile.on(
        lambda s: s.method == "PUT" and s.route == put,
        lambda s, fwd: Reply(307, b"", (("Location", f"/api/v3{put}"),)),
    )
    hostile.on(_listing, lambda s, fwd: Reply(301, b"", (("Location", f"/api/v3{s.path}"),)))
    result = _cli(capsys, hostile, tmp_path, "apply", "--no-ledger")
    assert result.code == 0, result.err
    assert sb.secrets("octo-org/web", "actions")["REPO_TOKEN"].value == VALUE.encode()
    followed = [s for s in hostile.seen if s.route == f"/api/v3{put}"]
    assert [s.method for s in followed] == ["PUT"] and b"encrypted_value" in followed[0].body


def test_a_redirect_loop_stops(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.on(_listing, lambda s, fwd: Reply(302, b"", (("Location", s.path),)))
    start = time.monotonic()
    result = _cli(capsys, hostile, tmp_path, "plan", "--no-ledger")
    assert result.code == 1 and "redirects" in result.err and f"GET {LISTING}" in result.err
    assert time.monotonic() - start < 10
    assert len([s for s in hostile.seen if _listing(s)]) == 6  # the request and 5 redirects


def test_a_github_ledger_redirected_elsewhere_is_refused(
    sb: Sandbox,
    hostile: Hostile,
    attacker: Attacker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sb.add_repo("octo-org/platform")
    contents = "/repos/octo-org/platform/contents/ledger.json"
    hostile.on(
        lambda s: s.route == contents,
        lambda s, fwd: Reply(302, b"", (("Location", f"{attacker.url}{contents}"),)),
    )
    result = _cli(
        capsys, hostile, tmp_path, "plan", "--ledger", "github:octo-org/platform:ledger.json"
    )
    assert result.code == 1, result.err
    assert f"GET {contents}" in result.err and "refused" in result.err
    assert attacker.seen == []


def test_an_app_installation_never_sends_the_client_to_its_access_tokens_url(
    sb: Sandbox,
    hostile: Hostile,
    attacker: Attacker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pem = sb.add_app(4242, {"octo-org": None})
    key = tmp_path / "app.pem"
    key.write_bytes(pem)

    def lure(seen: Seen, fwd: Forward) -> Reply:
        reply = fwd()
        data = reply.json()
        data["access_tokens_url"] = f"{attacker.url}/app/installations/{data['id']}/access_tokens"
        return reply.with_json(data)

    hostile.on(lambda s: s.route.endswith("/installation"), lure)
    write_manifest(tmp_path, MANIFEST)
    env = {**ENV, "GITHUB_API_URL": hostile.url, "RECONCILER_APP_ID": "4242"}
    env["RECONCILER_APP_PRIVATE_KEY_FILE"] = "app.pem"
    result = run(capsys, ["plan", "--no-ledger", str(tmp_path / "secrets.yaml")], env)
    assert result.code == 0, result.err
    assert attacker.seen == []
    assert any(s.route.endswith("/access_tokens") for s in hostile.seen)


# -- plain http only on loopback ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.github.com",
        "http://ghes.example.test/api/v3",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.attacker.example.test",
        "http://localhost.attacker.example.test",
        "http://[::ffff:10.0.0.1]",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_a_usage_error(
    url: str, attacker: Attacker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_manifest(tmp_path, MANIFEST)
    env = {**ENV, "GITHUB_TOKEN": TOKEN}
    result = run(capsys, ["plan", "--no-ledger", "--api-url", url, str(tmp_path)], env)
    assert result.code == 64, result.err
    assert "https://" in result.err and "loopback" in result.err
    assert TOKEN not in result.out + result.err


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1", "http://127.9.9.9:1", "http://localhost:1", "http://[::1]:1"]
)
def test_plain_http_to_loopback_is_accepted(url: str) -> None:
    Transport(ClientConfig(api_url=url, token=TOKEN)).close()


def test_https_anywhere_is_accepted_and_http_without_a_token_is_not_refused() -> None:
    Transport(ClientConfig(api_url="https://ghes.example.test/api/v3", token=TOKEN)).close()
    Transport(ClientConfig(api_url="http://ghes.example.test")).close()
    with pytest.raises(UsageError):
        Transport(ClientConfig(api_url="http://ghes.example.test", token=TOKEN))


_HOSTS = st.sampled_from(["api.github.com", "ghes.example.test", "127.0.0.1", "localhost"])


@given(scheme=st.sampled_from(["http", "https"]), host=_HOSTS, path=st.text("abc/?=&", max_size=8))
def test_an_origin_is_the_same_however_it_is_spelled(scheme: str, host: str, path: str) -> None:
    default = 443 if scheme == "https" else 80
    plain = origin_of(f"{scheme}://{host}/{path}")
    assert plain is not None
    assert origin_of(f"{scheme.upper()}://{host.upper()}:{default}/x") == plain
    assert origin_of(f"{scheme}://{host}:{default + 1}/{path}") != plain
    other = "https" if scheme == "http" else "http"
    assert origin_of(f"{other}://{host}/{path}") != plain
    assert origin_of(f"{scheme}://{host}@evil.example.test/{path}") is None


def test_loopback_means_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.255.0.9", "::1", "localhost"]))
    assert not any(map(is_loopback, ["10.0.0.1", "localhost.evil.test", "0.0.0.0", "::"]))


# -- Ctrl-C while a read hangs -----------------------------------------------------------


def test_ctrl_c_while_a_read_hangs_exits_130_at_once(hostile: Hostile, tmp_path: Path) -> None:
    """The server never answers the listing. With the default 30 s read timeout, SIGINT must
    end the run at once: not after the timeout, not after every queued read."""
    hostile.on(_listing, lambda s, fwd: Reply(hold=True))
    write_manifest(tmp_path, MANIFEST)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT),
        **ENV,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": hostile.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "plan", "--no-ledger", str(tmp_path)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert hostile.held.wait(60), "the listing request never arrived"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert elapsed < 5, f"took {elapsed:.1f}s after SIGINT"
    assert b"Traceback" not in err and b"interrupted" in err
    assert TOKEN.encode() not in out + err and VALUE.encode() not in out + err
