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

from reconciler.errors import ReconcilerError, UsageError

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


class AppAuth:
    """GitHub App: a short-lived JWT finds the installation and mints its access token."""

    def __init__(
        self, app_id: str, private_key: bytes, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._app_id = app_id
        self._key = private_key
        self._clock = clock
        self._lock = threading.Lock()
        self._installations: dict[str, int] = {}
        self._tokens: dict[int, _Minted] = {}
        self._send: Send | None = None
        try:
            self.jwt()
        except (ValueError, TypeError, jwt.PyJWTError) as e:
            raise AuthError(
                f"the GitHub App private key cannot sign a JWT ({type(e).__name__})",
                hint=f"set {APP_KEY_ENV} to the app's PEM private key (or {APP_KEY_FILE_ENV} "
                "to a file holding it)",
            ) from None

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self._app_id!r})"

    def bind(self, send: Send) -> None:
        self._send = send

    def jwt(self) -> str:
        now = int(self._clock())
        # iat in the past allows for clock drift; GitHub caps exp at 10 minutes ahead.
        claims = {"iat": now - 60, "exp": now + 540, "iss": self._app_id}
        return jwt.encode(claims, self._key, algorithm="RS256")

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
        lookup = f"/repos/{owner}/{repo}/installation" if kind == "repos" else None
        lookup = lookup or f"/orgs/{owner}/installation"
        status, data = self._call("GET", lookup, "")
        if status != 200 or not isinstance(data, Mapping) or "id" not in data:
            raise AuthError(
                f"the GitHub App {self._app_id} is not installed on {owner} "
                f"(GET {lookup} -> {status})",
                hint=f"install the app on {owner}, with the secrets permissions the manifest needs",
            )
        with self._lock:
            self._installations[cache_key] = int(data["id"])
            return self._installations[cache_key]

    def _token(self, installation: int) -> str:
        with self._lock:
            minted = self._tokens.get(installation)
            if minted and minted.expires - self._clock() > _REFRESH_MARGIN:
                return minted.token
        path = f"/app/installations/{installation}/access_tokens"
        status, data = self._call("POST", path, "{}")
        if status != 201 or not isinstance(data, Mapping) or "token" not in data:
            raise AuthError(
                f"could not mint an installation token (POST {path} -> {status})",
                hint="check the app id and private key, and that the installation is active",
            )
        expires = _parse_time(str(data.get("expires_at", "")), self._clock() + 3600)
        with self._lock:
            self._tokens[installation] = _Minted(str(data["token"]), expires)
        return str(data["token"])

    def _call(self, method: str, path: str, body: str) -> tuple[int, object]:
        if self._send is None:
            raise AuthError("AppAuth is not bound to a client")
        return self._send(method, path, body)


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


def _private_key(environ: Mapping[str, str]) -> bytes:
    if environ.get(APP_KEY_ENV):
        return environ[APP_KEY_ENV].encode("utf-8")
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
        return path.read_bytes()
    except OSError as e:
        raise UsageError(f"{APP_KEY_FILE_ENV}: cannot read the key file ({e.strerror})") from None
