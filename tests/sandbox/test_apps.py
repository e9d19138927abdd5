"""GitHub App auth: JWTs, installations, installation tokens, their expiry and their reach."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from reconciler.sandbox import Fault, Sandbox, SandboxConfig
from tests.support.sandbox_client import Api, error_of

T0 = 1_700_000_000
APP = 4242
EXP_INVALID = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
IAT_INVALID = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
UNDECODABLE = "A JSON web token could not be decoded"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(pem: bytes, claims: dict[str, Any], alg: str = "RS256") -> str:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signing_input = f"{head}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


class Timed:
    """A sandbox on a clock the test moves by hand."""

    def __init__(self, make_sandbox: Callable[..., Sandbox]) -> None:
        self.now = float(T0)
        self.sb = make_sandbox(now=lambda: self.now)

    def jwt(self, pem: bytes, **claims: Any) -> str:
        base: dict[str, Any] = {"iat": int(self.now) - 60, "exp": int(self.now) + 540, "iss": APP}
        return make_jwt(pem, base | claims)

    def as_app(self, pem: bytes, **claims: Any) -> Api:
        return Api(self.sb, token=self.jwt(pem, **claims))


@pytest.fixture
def timed(make_sandbox: Callable[..., Sandbox]) -> Timed:
    return Timed(make_sandbox)


@pytest.fixture
def pem(timed: Timed) -> bytes:
    timed.sb.add_repo("octo-org/web")
    timed.sb.add_repo("octo-org/vault", private=True)
    timed.sb.add_repo("other-org/public")
    timed.sb.add_repo("other-org/secret", private=True)
    return timed.sb.add_app(APP, {"octo-org": None, "other-org": ["public"]})


def _mint(timed: Timed, pem: bytes, account: str = "octo-org", **body: Any) -> dict[str, Any]:
    iid = timed.sb.installation_id(APP, account)
    response = timed.as_app(pem).session.post(
        f"{timed.sb.url}/app/installations/{iid}/access_tokens", json=body or None
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_add_app_returns_an_rsa_private_key(timed: Timed, pem: bytes) -> None:
    # PKCS#1 ("traditional OpenSSL"), as GitHub hands out app keys; the label is checked
    # without spelling the whole header, which secret scanners would flag in the repository.
    assert pem.splitlines()[0] == b"-----BEGIN" + b" RSA PRIVATE KEY-----"
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048


def test_list_installations_with_pagination(timed: Timed, pem: bytes) -> None:
    app = timed.as_app(pem)
    listed = app.get("/app/installations").json()
    assert [(i["account"]["login"], i["repository_selection"]) for i in listed] == [
        ("octo-org", "all"),
        ("other-org", "selected"),
    ]
    first = listed[0]
    assert first["app_id"] == APP and first["target_type"] == "Organization"
    assert first["permissions"]["contents"] == "write"
    assert first["access_tokens_url"].endswith(f"/app/installations/{first['id']}/access_tokens")
    page = app.get("/app/installations", params={"per_page": 1})
    assert len(page.json()) == 1 and 'rel="next"' in page.headers["Link"]


def test_org_and_repo_installation(timed: Timed, pem: bytes) -> None:
    app = timed.as_app(pem)
    octo = timed.sb.installation_id(APP, "octo-org")
    other = timed.sb.installation_id(APP, "other-org")
    assert app.get("/orgs/octo-org/installation").json()["id"] == octo
    assert app.get("/repos/octo-org/vault/installation").json()["id"] == octo
    assert app.get("/repos/other-org/public/installation").json()["id"] == other
    # Not installed there, or outside the installation's repositories: 404.
    timed.sb.add_org("stranger")
    assert error_of(app.get("/orgs/stranger/installation"), 404) == "Not Found"
    assert error_of(app.get("/orgs/nobody/installation"), 404) == "Not Found"
    assert error_of(app.get("/repos/other-org/secret/installation"), 404) == "Not Found"


def test_issuer_may_be_a_string_or_the_client_id(timed: Timed, pem: bytes) -> None:
    client_id = timed.as_app(pem).get("/app/installations").json()[0]["client_id"]
    for iss in (str(APP), client_id):
        assert timed.as_app(pem, iss=iss).get("/app/installations").status_code == 200


@pytest.mark.parametrize(
    ("claims", "status", "message"),
    [
        ({"exp": T0}, 401, EXP_INVALID),
        ({"exp": T0 - 1}, 401, EXP_INVALID),
        ({"exp": "soon"}, 401, EXP_INVALID),
        ({"exp": T0 + 601}, 401, "'Expiration time' claim ('exp') is too far in the future"),
        ({"iat": T0 + 61}, 401, IAT_INVALID),
        ({"iat": None}, 401, IAT_INVALID),
        ({"iss": 999}, 404, "Integration not found"),
        ({"iss": None}, 401, UNDECODABLE),
    ],
)
def test_jwt_claims_are_checked(
    timed: Timed, pem: bytes, claims: dict[str, Any], status: int, message: str
) -> None:
    assert error_of(timed.as_app(pem, **claims).get("/app/installations"), status) == message


def test_jwt_within_the_drift_allowance_is_accepted(timed: Timed, pem: bytes) -> None:
    # iat up to 60 s ahead of the server (clock drift), exp exactly ten minutes out.
    ok = timed.as_app(pem, iat=T0 + 60, exp=T0 + 600)
    assert ok.get("/app/installations").status_code == 200
    # The same JWT expires with the server's clock.
    timed.now += 600
    assert error_of(ok.get("/app/installations"), 401) == EXP_INVALID


def test_malformed_or_foreign_jwts_cannot_be_decoded(timed: Timed, pem: bytes) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    good = timed.jwt(pem)
    head, body, sig = good.split(".")
    hs256 = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    for token in (timed.jwt(foreign), f"{head}.{body}.{sig[:-4]}AAAA", f"{hs256}.{body}.{sig}",
                  "eyJub3QiOiJqc29uIn0.!!!.x"):  # fmt: skip
        assert error_of(Api(timed.sb, token=token).get("/app/installations"), 401) == UNDECODABLE


def test_jwt_endpoints_refuse_other_credentials(timed: Timed, pem: bytes) -> None:
    token = _mint(timed, pem)["token"]
    for api in (Api(timed.sb), Api(timed.sb, token=token)):
        assert error_of(api.get("/app/installations"), 401) == UNDECODABLE
    anonymous = Api(timed.sb, token="")
    assert error_of(anonymous.get("/app/installations"), 401) == "Requires authentication"
    # ... and a JWT reaches only the app endpoints.
    refused = timed.as_app(pem).get("/orgs/octo-org/actions/secrets")
    assert error_of(refused, 403) == "Resource not accessible by integration"


def test_access_token_for_unknown_installation_is_404(timed: Timed, pem: bytes) -> None:
    app = timed.as_app(pem)
    for iid in ("12345", "abc"):
        url = f"{timed.sb.url}/app/installations/{iid}/access_tokens"
        assert error_of(app.session.post(url), 404) == "Not Found"


def test_installation_token_works_then_expires(timed: Timed, pem: bytes) -> None:
    minted = _mint(timed, pem)
    assert minted["token"].startswith("ghs_") and len(minted["token"]) == 40
    assert minted["expires_at"] == "2023-11-14T23:13:20Z"  # T0 + one hour
    assert minted["repository_selection"] == "all"
    assert minted["permissions"]["organization_secrets"] == "write"
    api = Api(timed.sb, token=minted["token"])
    assert api.get("/orgs/octo-org/actions/secrets").status_code == 200
    timed.now += 3599
    assert api.get("/repos/octo-org/vault/actions/secrets").status_code == 200
    timed.now += 1
    assert error_of(api.get("/orgs/octo-org/actions/secrets"), 401) == "Bad credentials"


def test_token_lifetime_is_configurable(timed: Timed, pem: bytes) -> None:
    timed.sb.set_installation_token_ttl(90)
    minted = _mint(timed, pem)
    assert minted["expires_at"] == "2023-11-14T22:14:50Z"
    timed.now += 90
    api = Api(timed.sb, token=minted["token"])
    assert error_of(api.get("/orgs/octo-org/actions/secrets"), 401) == "Bad credentials"
    with Sandbox(SandboxConfig(installation_token_ttl=5)) as short:
        assert short.world.apps.token_ttl == 5


def test_installation_token_reaches_only_its_installation(timed: Timed, pem: bytes) -> None:
    timed.sb.add_repo("other-org/also-public")
    octo = Api(timed.sb, token=_mint(timed, pem)["token"])
    assert error_of(octo.get("/orgs/other-org/actions/secrets"), 403) == (
        "Resource not accessible by integration"
    )
    assert error_of(octo.get("/repos/other-org/public/actions/secrets"), 403)
    assert error_of(octo.get("/repos/other-org/secret/actions/secrets"), 404) == "Not Found"
    other = Api(timed.sb, token=_mint(timed, pem, "other-org")["token"])
    assert other.get("/repos/other-org/public/actions/secrets").status_code == 200
    assert error_of(other.get("/repos/other-org/also-public/actions/secrets"), 403)
    assert error_of(other.get("/repos/other-org/secret/actions/secrets"), 404) == "Not Found"
    assert error_of(other.get("/repos/other-org/missing/actions/secrets"), 404) == "Not Found"


def test_token_narrowed_to_repositories_and_permissions(timed: Timed, pem: bytes) -> None:
    minted = _mint(timed, pem, repositories=["web"], permissions={"contents": "read"})
    assert minted["repository_selection"] == "selected"
    assert [r["full_name"] for r in minted["repositories"]] == ["octo-org/web"]
    assert minted["permissions"] == {"contents": "read", "metadata": "read"}
    api = Api(timed.sb, token=minted["token"])
    assert api.get("/repos/octo-org/web/contents/").status_code == 404  # empty repository
    refused = api.put("/repos/octo-org/web/contents/a.txt", {"message": "m", "content": ""})
    assert error_of(refused, 403) == "Resource not accessible by integration"
    assert refused.headers["X-Accepted-GitHub-Permissions"] == "contents=write"
    assert error_of(api.get("/repos/octo-org/vault/contents/"), 404) == "Not Found"
    by_id = _mint(timed, pem, repository_ids=[timed.sb.add_repo("octo-org/vault")])
    assert [r["name"] for r in by_id["repositories"]] == ["vault"]


def test_narrowing_beyond_the_installation_is_422(timed: Timed, pem: bytes) -> None:
    iid = timed.sb.installation_id(APP, "other-org")
    url = f"{timed.sb.url}/app/installations/{iid}/access_tokens"
    app = timed.as_app(pem)
    for body in ({"repositories": ["secret"]}, {"repositories": ["nope"]},
                 {"repository_ids": [timed.sb.add_repo("octo-org/web")]}):  # fmt: skip
        assert error_of(app.session.post(url, json=body), 422) == (
            "There is at least one repository that does not exist or is not accessible to "
            "the parent installation."
        )
    refused = app.session.post(url, json={"permissions": {"workflows": "write"}})
    assert (
        error_of(refused, 422) == "The permissions requested are not granted to this installation."
    )


def test_app_permissions_are_configurable(timed: Timed) -> None:
    timed.sb.add_repo("octo-org/web")
    pem = timed.sb.add_app(APP, {"octo-org": ["web"]}, permissions={"contents": "read"})
    minted = _mint(timed, pem)
    assert minted["permissions"] == {"contents": "read"}
    assert minted["repository_selection"] == "selected"
    api = Api(timed.sb, token=minted["token"])
    refused = api.get("/repos/octo-org/web/actions/secrets")
    assert refused.headers["X-Accepted-GitHub-Permissions"] == "secrets=read"
    with pytest.raises(ValueError, match="already registered"):
        timed.sb.add_app(APP, {})


def test_app_requests_are_logged_limited_and_faultable(timed: Timed, pem: bytes) -> None:
    app = timed.as_app(pem)
    timed.sb.clear_requests()
    response = app.get("/api/v3/app/installations", headers={"X-GitHub-Api-Version": "2026-03-10"})
    assert response.status_code == 200 and response.headers["X-GitHub-Request-Id"]
    assert response.headers["X-RateLimit-Used"] == "1"
    assert [(r.method, r.path, r.status) for r in timed.sb.requests] == [
        ("GET", "/api/v3/app/installations", 200),
    ]
    tag = response.headers["ETag"]
    again = app.get("/api/v3/app/installations", headers={"If-None-Match": tag})
    assert again.status_code == 304
    bad_version = app.get("/app/installations", headers={"X-GitHub-Api-Version": "1999-01-01"})
    assert bad_version.status_code == 400
    timed.sb.add_fault(Fault("status", status=502, path_pattern=r"^/app/", count=1))
    assert app.get("/app/installations").status_code == 502
    assert app.get("/app/installations").status_code == 200


def test_pygithub_app_flow(make_sandbox: Callable[..., Sandbox]) -> None:
    github = pytest.importorskip("github")
    sb = make_sandbox()
    sb.add_repo("octo-org/web")
    pem = sb.add_app(APP, {"octo-org": None})
    auth = github.Auth.AppAuth(APP, pem.decode())
    integration = github.GithubIntegration(auth=auth, base_url=sb.url)
    installation = integration.get_org_installation("octo-org")
    assert installation.id == sb.installation_id(APP, "octo-org")
    assert integration.get_repo_installation("octo-org", "web").id == installation.id
    token = integration.get_access_token(installation.id)
    assert token.token.startswith("ghs_")
    client = github.Github(auth=github.Auth.Token(token.token), base_url=sb.url)
    assert client.get_repo("octo-org/web").full_name == "octo-org/web"
