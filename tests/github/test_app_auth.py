"""GitHub App auth end to end: installations per organisation, token refresh, clear errors.

The CLI runs with only `RECONCILER_APP_ID` and a private key (no token at all) against a
sandbox where the app is installed; the sandbox only accepts an installation token on the
organisation it was minted for, so a plan that succeeds across two organisations proves
each got its own token. Refresh is driven by a clock shared between the sandbox and
`AppAuth`, moved by hand: no sleeps.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reconciler.errors import UsageError
from reconciler.github.auth import AppAuth, AuthError, TokenAuth, auth_from_environ
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.model import App, Scope, ScopeKind
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

APP_ID = 4242
VALUES = {"ALPHA_TOKEN": "alpha-value-9f2c", "BETA_TOKEN": "beta-value-71d0"}
TWO_ORGS = """
version: 1
orgs:
  alpha:
    actions:
      secrets:
        DEPLOY_TOKEN: {value: {env: ALPHA_TOKEN}, visibility: selected, repositories: [web, api]}
  beta:
    dependabot:
      secrets:
        NPM_TOKEN: {value: {env: BETA_TOKEN}, visibility: private}
repos:
  beta/web:
    actions:
      secrets:
        WEB_TOKEN: {value: {env: BETA_TOKEN}}
"""
MINIMAL = """
version: 1
orgs:
  alpha:
    actions:
      secrets:
        A_TOKEN: {value: {env: ALPHA_TOKEN}, visibility: all}
"""
_MINT = re.compile(r"^/app/installations/(\d+)/access_tokens$")


def mints(sb: Sandbox) -> Counter[int]:
    """Installation-token mints the sandbox answered, by installation id."""
    return Counter(
        int(m.group(1))
        for r in sb.requests
        if r.method == "POST" and r.status == 201 and (m := _MINT.match(r.path))
    )


def app_env(sb: Sandbox, pem: bytes, **extra: str) -> dict[str, str]:
    return {
        "RECONCILER_APP_ID": str(APP_ID),
        "RECONCILER_APP_PRIVATE_KEY": pem.decode(),
        "GITHUB_API_URL": sb.url,
        **VALUES,
        **extra,
    }


@pytest.fixture
def two_orgs(sandbox: Sandbox) -> tuple[Sandbox, bytes]:
    for repo in ("alpha/web", "alpha/api", "beta/web"):
        sandbox.add_repo(repo)
    pem = sandbox.add_app(APP_ID, {"alpha": None, "beta": None})
    return sandbox, pem


def test_plan_and_apply_across_two_orgs_use_each_orgs_installation(
    two_orgs: tuple[Sandbox, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb, pem = two_orgs
    manifest = str(write_manifest(tmp_path, TWO_ORGS))
    alpha, beta = sb.installation_id(APP_ID, "alpha"), sb.installation_id(APP_ID, "beta")
    env = app_env(sb, pem)

    plan = run(capsys, ["plan", manifest, "--detailed-exitcode", "--format", "json"], env)
    assert plan.code == 2, plan.err
    assert sorted((c["target"], c["action"]) for c in plan.json()["changes"]) == [
        ("alpha", "create"),
        ("beta", "create"),
        ("beta/web", "create"),
    ]
    # Concurrent live reads share one token per installation instead of racing to mint.
    assert mints(sb) == {alpha: 1, beta: 1}

    sb.clear_requests()
    applied = run(capsys, ["apply", manifest, "--write-delay", "0"], env)
    assert applied.code == 0, applied.err
    assert mints(sb) == {alpha: 1, beta: 1}
    assert sb.secrets("alpha", "actions")["DEPLOY_TOKEN"].value == b"alpha-value-9f2c"
    assert sb.secrets("alpha", "actions")["DEPLOY_TOKEN"].selected == frozenset({"web", "api"})
    assert sb.secrets("beta", "dependabot")["NPM_TOKEN"].value == b"beta-value-71d0"
    assert sb.secrets("beta/web", "actions")["WEB_TOKEN"].value == b"beta-value-71d0"

    sb.clear_requests()
    again = run(capsys, ["plan", manifest, "--values", "skip-unknown", "--detailed-exitcode"], env)
    assert again.code == 0, again.out + again.err


def test_repo_only_manifest_finds_the_installation_through_the_repository(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("alpha/other")
    pem = sandbox.add_app(APP_ID, {"alpha": ["web"]})  # installed on one repository only
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        repos:
          alpha/web:
            actions:
              secrets:
                WEB_TOKEN: {value: {env: ALPHA_TOKEN}}
        """,
    )
    result = run(capsys, ["apply", str(manifest), "--write-delay", "0"], app_env(sandbox, pem))
    assert result.code == 0, result.err
    lookups = [r.path for r in sandbox.requests if r.path.endswith("/installation")]
    assert lookups == ["/repos/alpha/web/installation"]
    assert sandbox.secrets("alpha/web", "actions")["WEB_TOKEN"].value == b"alpha-value-9f2c"


def test_app_not_installed_on_an_org_is_a_clear_error_naming_it(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("alpha/web")
    sandbox.add_org("gamma")
    pem = sandbox.add_app(APP_ID, {"alpha": None})
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          alpha:
            actions:
              secrets:
                A_TOKEN: {value: {env: ALPHA_TOKEN}, visibility: all}
          gamma:
            actions:
              secrets:
                G_TOKEN: {value: {env: BETA_TOKEN}, visibility: all}
        """,
    )
    for command in (["plan", str(manifest)], ["apply", str(manifest), "--write-delay", "0"]):
        result = run(capsys, command, app_env(sandbox, pem))
        assert result.code == 1, result.err
        assert "not installed on gamma" in result.err
        assert "install the app on gamma" in result.err
        assert "Traceback" not in result.err + result.out
    assert sandbox.secrets("alpha", "actions") == {}  # the apply wrote nothing


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _bad_keys(good: bytes) -> dict[str, str]:
    rsa_key = serialization.load_pem_private_key(good, None)
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "garbage": "this is not a key at all",
        "truncated": good.decode()[:300],
        "public key": public.decode(),
        "ec key": _pem(ec.generate_private_key(ec.SECP256R1())),
        "encrypted": _pem(rsa_key, b"passphrase"),
    }


def test_bad_private_keys_are_clear_errors_without_traceback_or_key_text(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = sandbox.add_app(APP_ID, {"alpha": None})
    manifest = write_manifest(tmp_path, MINIMAL)
    reasons = {
        "garbage": "not a PEM private key",
        "truncated": "not a PEM private key",
        "public key": "not a PEM private key",
        "ec key": "not an RSA key",
        "encrypted": "encrypted",
    }
    for kind, key in _bad_keys(pem).items():
        env = app_env(sandbox, pem, RECONCILER_APP_PRIVATE_KEY=key)
        result = run(capsys, ["plan", str(manifest)], env)
        assert result.code == 1, (kind, result.err)
        assert "GitHub App private key is unusable" in result.err, kind
        assert reasons[kind] in result.err, (kind, result.err)
        assert "Traceback" not in result.err and "internal error" not in result.err, kind
        body = [line for line in key.splitlines() if len(line) > 40]
        assert not any(line in result.err + result.out for line in body), kind
    assert sandbox.requests == []  # refused before any request


def test_a_key_of_another_app_is_refused_by_github_with_a_clear_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_app(APP_ID, {"alpha": None})
    other = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    manifest = write_manifest(tmp_path, MINIMAL)
    env = app_env(sandbox, b"", RECONCILER_APP_PRIVATE_KEY=other)
    result = run(capsys, ["plan", str(manifest)], env)
    assert result.code == 1
    assert f"GitHub refused the GitHub App {APP_ID}'s JWT" in result.err
    assert "Traceback" not in result.err


def test_unknown_app_id_is_a_clear_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = sandbox.add_app(APP_ID, {"alpha": None})
    manifest = write_manifest(tmp_path, MINIMAL)
    result = run(capsys, ["plan", str(manifest)], app_env(sandbox, pem, RECONCILER_APP_ID="999"))
    assert result.code == 1
    assert "GitHub refused the GitHub App 999's JWT" in result.err
    assert "Integration not found" in result.err


def test_private_key_with_escaped_newlines_is_accepted(
    two_orgs: tuple[Sandbox, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PEM stored as one line with literal `\\n` (a common way to keep it in a CI secret)."""
    sb, pem = two_orgs
    one_line = pem.decode().strip().replace("\n", "\\n")
    assert "\n" not in one_line
    manifest = str(write_manifest(tmp_path, TWO_ORGS))
    env = app_env(sb, pem, RECONCILER_APP_PRIVATE_KEY=one_line)
    assert run(capsys, ["plan", manifest], env).code == 0


def test_credential_settings_are_checked_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="numeric id"):
        auth_from_environ({"RECONCILER_APP_ID": "my-app", "RECONCILER_APP_PRIVATE_KEY": "x"})
    with pytest.raises(UsageError, match="neither RECONCILER_APP_PRIVATE_KEY"):
        auth_from_environ({"RECONCILER_APP_ID": "1"})
    with pytest.raises(UsageError, match="no GitHub credentials"):
        auth_from_environ({})
    assert auth_from_environ({"GH_TOKEN": "gh"}) == TokenAuth("gh")
    assert auth_from_environ({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == TokenAuth("a")
    assert "gh" not in repr(TokenAuth("gh-secret-token"))


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> bytes:
    """The working directory is tmp_path/work; returns the app's PEM."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return sandbox.add_app(APP_ID, {"alpha": None})


def test_private_key_file_inside_the_working_directory(key_dir: bytes, sandbox: Sandbox) -> None:
    Path("keys").mkdir()
    Path("keys/app.pem").write_bytes(key_dir)
    auth = auth_from_environ(
        {"RECONCILER_APP_ID": str(APP_ID), "RECONCILER_APP_PRIVATE_KEY_FILE": "keys/app.pem"}
    )
    assert isinstance(auth, AppAuth)
    assert key_dir.decode().splitlines()[1] not in repr(auth)


def test_private_key_file_is_confined_to_the_working_directory(
    key_dir: bytes, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.pem"
    outside.write_bytes(key_dir)
    Path("link.pem").symlink_to(outside)
    for where in (str(outside), "../outside.pem", "link.pem"):
        env = {"RECONCILER_APP_ID": str(APP_ID), "RECONCILER_APP_PRIVATE_KEY_FILE": where}
        with pytest.raises(UsageError, match="outside the working directory"):
            auth_from_environ(env)
    env = {"RECONCILER_APP_ID": str(APP_ID), "RECONCILER_APP_PRIVATE_KEY_FILE": "missing.pem"}
    with pytest.raises(UsageError, match="the key file cannot be read: No such file"):
        auth_from_environ(env)
    os.mkfifo("key.pem")  # nobody writes: reading it as a file would block forever
    env["RECONCILER_APP_PRIVATE_KEY_FILE"] = "key.pem"
    with pytest.raises(UsageError, match=r"the key file is a named pipe \(FIFO\)"):
        auth_from_environ(env)


# -- refresh: a clock shared by the sandbox and AppAuth, moved by hand ---------------------


class Timed:
    def __init__(self, make_sandbox: Callable[..., Sandbox]) -> None:
        self.now = 1_900_000_000.0
        self.sb = make_sandbox(now=self.clock)

    def clock(self) -> float:
        return self.now


@pytest.fixture
def timed(make_sandbox: Callable[..., Sandbox]) -> Timed:
    return Timed(make_sandbox)


def _app_client(timed: Timed, pem: bytes) -> GitHubClient:
    auth = AppAuth(str(APP_ID), pem, clock=timed.clock)
    return GitHubClient(ClientConfig(api_url=timed.sb.url, max_retries=0), auth=auth)


def test_installation_token_is_refreshed_before_it_expires(timed: Timed) -> None:
    sb = timed.sb
    sb.add_repo("alpha/web")
    pem = sb.add_app(APP_ID, {"alpha": None})
    iid = sb.installation_id(APP_ID, "alpha")
    scope = Scope(ScopeKind.ORG, "alpha")
    client = _app_client(timed, pem)
    try:
        for _ in range(3):
            assert client.secrets.list(scope, App.ACTIONS) == []
        assert mints(sb) == {iid: 1}
        timed.now += 3600 - 301  # 301 s left: more than the 5-minute margin, keep it
        client.secrets.list(scope, App.ACTIONS)
        assert mints(sb) == {iid: 1}
        timed.now += 2  # 299 s left: refreshed while the old token is still valid
        client.secrets.list(scope, App.ACTIONS)
        assert mints(sb) == {iid: 2}
        timed.now += 3000  # the first token has long expired; the new one is in use
        client.secrets.list(scope, App.ACTIONS)
        assert mints(sb) == {iid: 2}
        assert all(r.status in (200, 201) for r in sb.requests), sb.requests
    finally:
        client.close()


def test_short_lived_tokens_are_refreshed_once_a_quarter_of_their_life_is_left(
    timed: Timed,
) -> None:
    sb = timed.sb
    sb.add_repo("alpha/web")
    pem = sb.add_app(APP_ID, {"alpha": None})
    sb.set_installation_token_ttl(120)
    iid = sb.installation_id(APP_ID, "alpha")
    scope = Scope(ScopeKind.ORG, "alpha")
    client = _app_client(timed, pem)
    try:
        for _ in range(3):  # not one mint per request although the TTL is under the margin
            client.secrets.list(scope, App.DEPENDABOT)
        assert mints(sb) == {iid: 1}
        timed.now += 89  # 31 s of 120 left
        client.secrets.list(scope, App.DEPENDABOT)
        assert mints(sb) == {iid: 1}
        timed.now += 2  # 29 s left: under a quarter
        client.secrets.list(scope, App.DEPENDABOT)
        assert mints(sb) == {iid: 2}
        for _ in range(5):  # a long run: each step outlives the previous token
            timed.now += 100
            client.secrets.list(scope, App.DEPENDABOT)
        assert mints(sb)[iid] == 7
        assert all(r.status in (200, 201) for r in sb.requests), sb.requests
    finally:
        client.close()


def test_app_auth_without_a_client_is_an_error() -> None:
    key = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)).encode()
    auth = AppAuth("1", key)
    assert (auth.authorization("/app/installations") or "").startswith("Bearer eyJ")
    assert auth.authorization("/rate_limit") is None
    with pytest.raises(AuthError, match="not bound"):
        auth.authorization("/orgs/alpha/actions/secrets")


# -- nothing secret in any output --------------------------------------------------------------


def _credentials(sb: Sandbox, pem: bytes) -> list[str]:
    """The key's body lines, every installation token and every JWT the sandbox saw."""
    needles = [line for line in pem.decode().splitlines() if "-----" not in line]
    for ex in sb.exchanges:
        for name, value in ex.request_headers:
            if name.lower() == "authorization":
                needles.append(value.split(" ", 1)[1])
        if _MINT.match(urlsplit(ex.url).path) and ex.status == 201:
            needles.append(json.loads(ex.response_body)["token"])
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    needles.append(der.hex()[:64])
    needles.append(base64.b64encode(der[100:160]).decode())
    return needles


def _cli(args: list[str], env: dict[str, str]) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.slow
def test_private_key_and_tokens_never_appear_in_any_output(
    two_orgs: tuple[Sandbox, bytes], tmp_path: Path
) -> None:
    sb, pem = two_orgs
    manifest = str(write_manifest(tmp_path, TWO_ORGS))
    gamma = (
        "  gamma/web:\n    actions:\n      secrets:\n        G_TOKEN: {value: {env: BETA_TOKEN}}\n"
    )
    broken = str(write_manifest(tmp_path, TWO_ORGS + gamma, name="broken.yaml"))
    sb.add_repo("gamma/web")  # the app is not installed on gamma: an error path
    summary = tmp_path / "summary.md"
    env = app_env(sb, pem, GITHUB_STEP_SUMMARY=str(summary))
    outputs: list[str] = []
    codes: list[int] = []
    for verbosity in ([], ["-v"], ["--debug"]):
        for args in (
            ["plan", manifest, "--out", "plan.json", "--format", "markdown"],
            ["apply", manifest, "--write-delay", "0", "--results", "results.json"],
            ["plan", broken],
        ):
            result = _cli([*verbosity, *args], env)
            codes.append(result.code)
            outputs += [result.out, result.err]
    assert codes == [0, 0, 1] * 3, outputs
    assert "Traceback" in outputs[-1]  # --debug lets the error's traceback through
    for name in ("plan.json", "results.json", ".reconciler-ledger.json"):
        outputs.append((tmp_path / name).read_text(encoding="utf-8"))
    outputs.append(summary.read_text(encoding="utf-8"))
    needles = _credentials(sb, pem)
    assert len([n for n in needles if n.startswith("ghs_")]) >= 6  # 2 per run that got a token
    assert len([n for n in needles if n.startswith("eyJ")]) >= 6
    text = "\n".join(outputs)
    assert "DEPLOY_TOKEN" in text  # the scan looks at real output
    leaked = [n for n in needles if n in text]
    assert leaked == []
