"""HTTP to GitHub's REST API: base URL, auth, API versions, pagination, retries, rate limits,
and errors that name the request and the permission it needs.

The token lives only in the Authorization header of each request: it is never logged, never
part of an error, never in a repr.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from reconciler import __version__
from reconciler.auth import AppAuth, Auth, TokenAuth
from reconciler.errors import ApiError, RateLimitError, RequestInfo, UsageError
from reconciler.model import App, ScopeKind

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_API_VERSION = "2022-11-28"
# Agent secrets exist only from this REST API version on.
APP_API_VERSIONS: Mapping[App, str] = {App.AGENTS: "2026-03-10"}

# Fine-grained permission (and classic scope) each endpoint family needs, as the docs name them.
_FINE_GRAINED = {
    (ScopeKind.ORG, App.DEPENDABOT): "Organization permissions: Dependabot secrets",
    (ScopeKind.ORG, App.AGENTS): "Organization permissions: Agent secrets",
    (ScopeKind.ORG, App.ACTIONS): "Organization permissions: Secrets",
    (ScopeKind.ORG, App.CODESPACES): "Organization permissions: Codespaces secrets",
    (ScopeKind.REPO, App.DEPENDABOT): "Repository permissions: Dependabot secrets",
    (ScopeKind.REPO, App.AGENTS): "Repository permissions: Agent secrets",
    (ScopeKind.REPO, App.ACTIONS): "Repository permissions: Secrets",
    (ScopeKind.REPO, App.CODESPACES): "Repository permissions: Codespaces secrets",
}
_CLASSIC = {ScopeKind.ORG: "admin:org (and repo for private repositories)", ScopeKind.REPO: "repo"}
_METADATA = "Repository permissions: Metadata (read); classic tokens: repo for private repositories"


def permission_hint(scope_kind: ScopeKind | None, app: App | None, write: bool) -> str:
    if scope_kind is None or app is None:
        return _METADATA
    level = "write" if write else "read"
    return (
        f"fine-grained tokens and GitHub Apps need {_FINE_GRAINED[(scope_kind, app)]} "
        f"({level}); classic tokens need {_CLASSIC[scope_kind]}"
    )


@dataclass(frozen=True, slots=True)
class ClientConfig:
    api_url: str = DEFAULT_API_URL
    token: str = field(default="", repr=False)
    api_version: str | None = None  # overrides the per-app default for every request
    timeout: float = 30.0
    max_retries: int = 4
    backoff_base: float = 0.5
    max_wait: float = 120.0  # longest rate-limit wait we accept before giving up
    pool_size: int = 16


@dataclass(slots=True)
class Counters:
    reads: int = 0
    writes: int = 0


_WRITE_METHODS = frozenset({"PUT", "DELETE", "POST", "PATCH"})
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def normalise_api_url(url: str) -> str:
    """Accept github.com, GHES (`https://HOST/api/v3`) and GHE.com (`https://api.SUB.ghe.com`)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f'--api-url "{url}" is not an http(s) URL',
            hint="use https://api.github.com, https://HOST/api/v3 (GHES) "
            "or https://api.SUBDOMAIN.ghe.com (GHE.com)",
        )
    return url


class Transport:
    """Thread-safe: live reads share one session from a bounded pool of threads."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        auth: Auth | None = None,
    ) -> None:
        self._config = config
        self._auth = auth or (TokenAuth(config.token) if config.token else None)
        if isinstance(self._auth, AppAuth):
            self._auth.bind(self._send_as_app)
        self._base = normalise_api_url(config.api_url)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.counters = Counters()
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=config.pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "User-Agent": f"reconciler/{__version__}",
            }
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base!r})"

    def _send_as_app(self, method: str, path: str, body: str) -> tuple[int, object]:
        """App-level calls (installation lookup, token minting), signed with a fresh JWT."""
        assert isinstance(self._auth, AppAuth)
        resp = self.request(
            method,
            path,
            body=json.loads(body) if body else None,
            ok=(200, 201, 401, 403, 404, 422),
            authorization=f"Bearer {self._auth.jwt()}",
        )
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None

    def close(self) -> None:
        self._session.close()

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        app: App | None = None,
        scope_kind: ScopeKind | None = None,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
        url: str | None = None,
        authorization: str | None = None,
        permission: str | None = None,
    ) -> requests.Response:
        """Send one request, retrying transient failures; raise ApiError on anything not `ok`.
        `permission` names what the token needs here, for endpoints beyond the secrets API."""
        version = self._config.api_version or APP_API_VERSIONS.get(app, DEFAULT_API_VERSION)  # type: ignore[arg-type]
        headers = {"X-GitHub-Api-Version": version}
        header = authorization or (self._auth.authorization(path) if self._auth else None)
        if header:
            headers["Authorization"] = header
        target = url or f"{self._base}{path}"
        write = method in _WRITE_METHODS
        attempt = 0
        while True:
            info = RequestInfo(method, path)
            try:
                resp = self._session.request(
                    method,
                    target,
                    params=params if url is None else None,
                    json=body,
                    headers=headers,
                    timeout=self._config.timeout,
                )
            except requests.RequestException as e:
                self._count(write)
                if attempt < self._config.max_retries:
                    attempt += 1
                    self._backoff(attempt, f"{method} {path}: {type(e).__name__}")
                    continue
                raise ApiError(
                    info,
                    f"connection failed after {attempt + 1} attempts ({type(e).__name__})",
                    hint="check --api-url and the network; re-running is safe",
                ) from None
            self._count(write)
            info = RequestInfo(
                method, path, resp.status_code, resp.headers.get("X-GitHub-Request-Id")
            )
            if resp.status_code in ok:
                return resp
            if method == "DELETE" and resp.status_code == 404 and attempt > 0:
                # An earlier attempt deleted it and only the answer was lost.
                return resp
            wait = self._rate_limit_wait(resp)
            if wait is not None:
                if wait > self._config.max_wait:
                    raise RateLimitError(
                        info,
                        f"rate limited; GitHub asks to wait {wait:.0f}s, "
                        f"more than the {self._config.max_wait:.0f}s allowed",
                        github_message=_message(resp),
                        hint="re-run later, or raise --max-wait; re-running is safe",
                    )
                if attempt < self._config.max_retries:
                    attempt += 1
                    log.warning("rate limited on %s %s; waiting %.1fs", method, path, wait)
                    self._sleep(wait)
                    continue
                # Still limited after every retry: say so, not "permission denied" (a 403).
                raise RateLimitError(
                    info,
                    f"rate limited; still limited after {attempt + 1} attempts",
                    github_message=_message(resp),
                    hint="re-run later; re-running is safe",
                )
            elif resp.status_code >= 500 and attempt < self._config.max_retries:
                attempt += 1
                self._backoff(attempt, f"{method} {path}: HTTP {resp.status_code}")
                continue
            raise self._error(info, resp, permission or permission_hint(scope_kind, app, write))

    def _count(self, write: bool) -> None:
        with self._lock:
            if write:
                self.counters.writes += 1
            else:
                self.counters.reads += 1

    def _backoff(self, attempt: int, what: str) -> None:
        delay = self._rng.uniform(0, self._config.backoff_base * 2 ** (attempt - 1))
        log.info("retrying %s in %.2fs (attempt %d)", what, delay, attempt + 1)
        self._sleep(delay)

    def _rate_limit_wait(self, resp: requests.Response) -> float | None:
        """Seconds to wait if this response is a rate limit, else None."""
        if resp.status_code not in (403, 429):
            return None
        retry_after = resp.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        if resp.headers.get("X-RateLimit-Remaining") == "0":
            reset = resp.headers.get("X-RateLimit-Reset", "")
            if reset.isdigit():
                return max(0.0, int(reset) - time.time()) + 1.0
            return 60.0
        if "secondary rate limit" in _message(resp).lower():
            return 60.0  # GitHub: wait at least a minute when no header says otherwise
        return None

    def _error(self, info: RequestInfo, resp: requests.Response, perm: str) -> ApiError:
        status = resp.status_code
        if status == 401:
            return ApiError(
                info,
                "authentication failed",
                github_message=_message(resp),
                hint="set GITHUB_TOKEN (or GH_TOKEN) to a valid, unexpired token",
            )
        if status == 403:
            return ApiError(info, "permission denied", github_message=_message(resp), hint=perm)
        if status == 404:
            return ApiError(
                info,
                "not found",
                github_message=_message(resp),
                hint="check the organization/repository name; GitHub also answers 404 when the "
                f"token may not see it: {perm}",
            )
        return ApiError(info, f"unexpected HTTP {status}", github_message=_message(resp))

    # -- helpers -----------------------------------------------------------------------------

    def get_json(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).json()

    def paginate(
        self,
        path: str,
        key: str | None,
        *,
        app: App | None = None,
        scope_kind: ScopeKind | None = None,
        permission: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following `Link: rel="next"` at 100 per page.
        `key` names the list in the body; None when the body is the list itself."""
        kw: dict[str, Any] = {"app": app, "scope_kind": scope_kind, "permission": permission}
        resp = self.request("GET", path, params={"per_page": 100}, **kw)
        while True:
            body = resp.json()
            yield from body if key is None else body[key]
            match = _LINK_NEXT.search(resp.headers.get("Link", ""))
            if not match:
                return
            resp = self.request("GET", path, url=match.group(1), **kw)


def _message(resp: requests.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""
