"""Credentials: a token, or a GitHub App whose installation tokens are minted per owner.

An App manifest may span several organisations; each request is authorised with the
installation token of the organisation (or repository owner) its path names. Tokens are
minted on first use and refreshed before they expire. Neither the private key nor a token
ever appears in a repr, a log line or an error.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.errors import LocalFileError, ReconcilerError, RequestInfo, UsageError
from reconciler.github.responses import Json
from reconciler.local_files import read_regular_file

APP_ID_ENV = "RECONCILER_APP_ID"
APP_KEY_ENV = "RECONCILER_APP_PRIVATE_KEY"
APP_KEY_FILE_ENV = "RECONCILER_APP_PRIVATE_KEY_FILE"
# Refresh this long before expiry, so a token never expires in the middle of a run's request.
_REFRESH_MARGIN = 300.0
_OWNER = re.compile(r"^/(?:api/v3/)?(orgs|repos)/([^/]+)(?:/([^/]+))?")


class Auth(Protocol):
    def authorization(self, path: str) -> str | None:
        """The Authorization header for a request to `path`, or None for none."""
        ...


@dataclass(frozen=True, slots=True)
class TokenAuth:
    token: str = field(repr=False)

    def authorization(self, path: str) -> str | None:
        return f"Bearer {self.token}"


class AuthError(ReconcilerError):
    """App credentials are missing, malformed, or the app is not installed where needed."""


# (method, path, body) -> (status, json) ; provided by the client so auth does no I/O of its own.
Send = Callable[[str, str, str], tuple[int, object]]


@dataclass(slots=True)
class _Minted:
    token: str = field(repr=False)
    expires: float
    margin: float


class AppAuth:
    """GitHub App: a short-lived JWT finds the installation and mints its access token."""

    def __init__(
        self, app_id: str, private_key: bytes, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._app_id = app_id
        self._clock = clock
        self._lock = threading.Lock()
        # Held across a lookup or a mint, so concurrent first requests (live reads run in a
        # thread pool) share one installation lookup and one token instead of racing.
        self._fetch = threading.Lock()
        self._installations: dict[str, int] = {}
        self._tokens: dict[int, _Minted] = {}
        self._send: Send | None = None
        self._signer = _signing_key(private_key)
        try:
            self.jwt()
        except (ValueError, TypeError, jwt.PyJWTError) as e:
            raise _key_error(f"it cannot sign a JWT ({type(e).__name__})") from None

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self._app_id!r})"

    def bind(self, send: Send) -> None:
        self._send = send

    def jwt(self) -> str:
        now = int(self._clock())
        # iat in the past allows for clock drift; GitHub caps exp at 10 minutes ahead.
        claims = {"iat": now - 60, "exp": now + 540, "iss": self._app_id}
        return jwt.encode(claims, self._signer, algorithm="RS256")

    def authorization(self, path: str) -> str | None:
        if path.startswith(("/app/", "/api/v3/app/")) or path in ("/app", "/api/v3/app"):
            return f"Bearer {self.jwt()}"
        match = _OWNER.match(path)
        if not match:
            return None
        kind, owner, repo = match.groups()
        installation = self._installation(kind, owner, repo)
        return f"Bearer {self._token(installation)}"

    def _installation(self, kind: str, owner: str, repo: str | None) -> int:
        cache_key = owner.lower()
        with self._lock:
            if cache_key in self._installations:
                return self._installations[cache_key]
        with self._fetch:
            with self._lock:
                if cache_key in self._installations:
                    return self._installations[cache_key]
            return self._lookup(kind, owner, repo)

    def _lookup(self, kind: str, owner: str, repo: str | None) -> int:
        cache_key = owner.lower()
        lookup = f"/repos/{owner}/{repo}/installation" if kind == "repos" else None
        lookup = lookup or f"/orgs/{owner}/installation"
        status, data = self._call("GET", lookup, "")
        said = str(data.get("message", "")) if isinstance(data, Mapping) else ""
        if status == 401 or said == "Integration not found":
            raise AuthError(
                f"GitHub refused the GitHub App {self._app_id}'s JWT "
                f"(GET {lookup} -> {status}: {said or 'no message'})",
                hint=f"check {APP_ID_ENV} and the private key belong to the same app, and "
                "that this machine's clock is right",
            )
        if status != 200 or not isinstance(data, Mapping) or "id" not in data:
            raise AuthError(
                f"the GitHub App {self._app_id} is not installed on {owner} "
                f"(GET {lookup} -> {status})",
                hint=f"install the app on {owner}, with the secrets permissions the manifest needs",
            )
        # Only the id is used: the token URL is built from it on the API base, never taken
        # from the answer's `access_tokens_url`, which could name another host.
        installation = Json(RequestInfo("GET", lookup, status), data, "").field("id").id()
        with self._lock:
            self._installations[cache_key] = installation
            return installation

    def _fresh(self, installation: int) -> str | None:
        with self._lock:
            minted = self._tokens.get(installation)
            if minted and minted.expires - self._clock() > minted.margin:
                return minted.token
            return None

    def _token(self, installation: int) -> str:
        token = self._fresh(installation)
        if token is not None:
            return token
        with self._fetch:
            return self._fresh(installation) or self._mint(installation)

    def _mint(self, installation: int) -> str:
        path = f"/app/installations/{installation}/access_tokens"
        status, data = self._call("POST", path, "{}")
        if status != 201 or not isinstance(data, Mapping) or "token" not in data:
            raise AuthError(
                f"could not mint an installation token (POST {path} -> {status})",
                hint="check the app id and private key, and that the installation is active",
            )
        body = Json(RequestInfo("POST", path, status), data, "")
        token = body.field("token").name()
        expires_at = body.optional("expires_at")
        now = self._clock()
        expires = _parse_time(expires_at.string() if expires_at else "", now + 3600)
        # A token living under 20 minutes (a test server, or a GHES configured so) is refreshed
        # when a quarter of its life is left, not before every request.
        margin = min(_REFRESH_MARGIN, max(0.0, expires - now) / 4)
        with self._lock:
            self._tokens[installation] = _Minted(token, expires, margin)
        return token

    def _call(self, method: str, path: str, body: str) -> tuple[int, object]:
        if self._send is None:
            raise AuthError("AppAuth is not bound to a client")
        return self._send(method, path, body)


def _key_error(why: str) -> AuthError:
    return AuthError(
        f"the GitHub App private key is unusable: {why}",
        hint=f"set {APP_KEY_ENV} to the app's PEM private key as GitHub issued it (or "
        f"{APP_KEY_FILE_ENV} to a file holding it)",
    )


def _signing_key(pem: bytes) -> rsa.RSAPrivateKey:
    """The app's RSA private key; never echoes a byte of it in an error."""
    text = pem.strip()
    if b"-----BEGIN" in text and b"\\n" in text and b"\n" not in text:
        text = text.replace(b"\\n", b"\n")  # stored with escaped newlines (a one-line secret)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except TypeError:
        raise _key_error(
            "it is encrypted with a passphrase; GitHub issues it unencrypted"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise _key_error("it is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _key_error(f"it is not an RSA key ({type(key).__name__})")
    return key


def _parse_time(text: str, default: float) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def auth_from_environ(environ: Mapping[str, str]) -> Auth:
    """Token auth from GITHUB_TOKEN/GH_TOKEN, or App auth from RECONCILER_APP_*."""
    app_id = environ.get(APP_ID_ENV, "").strip()
    if app_id:
        if not app_id.isdigit():
            raise UsageError(f"{APP_ID_ENV} must be the app's numeric id")
        return AppAuth(app_id, _private_key(environ))
    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or ""
    if not token:
        raise UsageError(
            "no GitHub credentials: set GITHUB_TOKEN or GH_TOKEN, or "
            f"{APP_ID_ENV} with {APP_KEY_ENV} (or {APP_KEY_FILE_ENV}) for a GitHub App",
            hint="in Actions: env: GITHUB_TOKEN: ${{ secrets.RECONCILER_TOKEN }}",
        )
    return TokenAuth(token)


_MAX_KEY_BYTES = 64 * 1024  # a 4096-bit RSA key in PEM is about 3.3 KB


def _private_key(environ: Mapping[str, str]) -> bytes:
    if environ.get(APP_KEY_ENV):
        try:
            return environ[APP_KEY_ENV].encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"{APP_KEY_ENV} is not valid UTF-8 text (a PEM key is)") from None
    path_text = environ.get(APP_KEY_FILE_ENV, "")
    if not path_text:
        raise UsageError(f"{APP_ID_ENV} is set but neither {APP_KEY_ENV} nor {APP_KEY_FILE_ENV}")
    # Confined like value files: inside the working directory, no escapes through symlinks.
    base = Path.cwd().resolve()
    path = (base / path_text).resolve()
    if not path.is_relative_to(base):
        raise UsageError(
            f"{APP_KEY_FILE_ENV} points outside the working directory",
            hint="keep the key file inside the checkout's working directory",
        )
    try:
        return read_regular_file(path, _MAX_KEY_BYTES, limit_text="any PEM private key (64 KB)")
    except LocalFileError as e:
        raise UsageError(f"{APP_KEY_FILE_ENV}: the key file {e.problem}") from None
