"""HTTP to GitHub's REST API: base URL, auth, API versions, pagination, retries, rate limits,
and errors that name the request and the permission it needs.

The token lives only in the Authorization header of each request: it is never logged, never
part of an error, never in a repr.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from reconciler import __version__
from reconciler.errors import (
    ApiError,
    MalformedResponseError,
    RateLimitError,
    RequestInfo,
    UsageError,
)
from reconciler.github.auth import AppAuth, Auth, TokenAuth
from reconciler.github.responses import Json, parse_json
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
    timeout: float = 30.0  # per socket read, as requests counts it
    max_retries: int = 4
    backoff_base: float = 0.5
    max_wait: float = 120.0  # longest rate-limit wait we accept before giving up
    pool_size: int = 16

    @property
    def deadline(self) -> float:
        """Longest one response may take, first byte to last: a server that drips a byte per
        read timeout would otherwise hold a read forever."""
        return self.timeout * DEADLINE_READS


@dataclass(slots=True)
class Counters:
    reads: int = 0
    writes: int = 0


_WRITE_METHODS = frozenset({"PUT", "DELETE", "POST", "PATCH"})
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
# GitHub documents 301 (moved), 302 and 307 (repeat the request verbatim at the new URL); 308
# is 301 that keeps the method. All four are followed with the same method and body.
_REDIRECTS = frozenset({301, 302, 307, 308})
MAX_REDIRECTS = 5
# 1,000 pages of 100 = 100,000 items: far beyond any real organisation's secrets, repositories
# or PR comments, and small enough that a server paging forever is stopped in minutes.
MAX_PAGES = 1000
# The largest body read legitimately is the ledger's git blob, base64 (4/3 of its size):
# 32 MB is a 24 MB ledger, ~100,000 entries. A list page of 100 items is tens of KB.
MAX_BODY_BYTES = 32 * 1024 * 1024
DEADLINE_READS = 4
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port, normalised: lowercase host, default port made explicit."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def origin_of(url: str) -> Origin | None:
    """The URL's origin, or None when it has none we can trust to mean one thing: no scheme
    or host, userinfo (`https://api.github.com@evil.example/`), a backslash or whitespace,
    which URL parsers disagree about."""
    if any(c in url for c in "\\ \t\r\n") or any(ord(c) < 32 for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return Origin(parts.scheme, parts.hostname.lower(), port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_api_url(url: str) -> str:
    """Accept github.com, GHES (`https://HOST/api/v3`) and GHE.com (`https://api.SUB.ghe.com`)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if origin_of(url) is None or parts.query or parts.fragment:
        raise UsageError(
            f'--api-url "{origin_of(url) or parts.scheme or url[:40]}" is not an http(s) base URL',
            hint="use https://api.github.com, https://HOST/api/v3 (GHES) "
            "or https://api.SUBDOMAIN.ghe.com (GHE.com)",
        )
    return url


class _InUse:
    """Connections some thread is using, so an interrupt can shut their sockets under the
    threads blocked reading them (a read blocked in recv() ignores everything else)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: weakref.WeakSet[Any] = weakref.WeakSet()

    def claim(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)

    def release(self, conn: Any) -> None:
        with self._lock:
            self._conns.discard(conn)

    def shutdown(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _tracking(base: type[HTTPConnectionPool], in_use: _InUse) -> type[HTTPConnectionPool]:
    class Pool(base):  # type: ignore[valid-type,misc]
        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            in_use.claim(conn)
            return conn

        def _put_conn(self, conn: Any) -> None:
            if conn is not None:
                in_use.release(conn)
            super()._put_conn(conn)

    return Pool


class _Adapter(HTTPAdapter):
    def __init__(self, in_use: _InUse, pool_size: int) -> None:
        self._in_use = in_use
        super().__init__(pool_connections=4, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _tracking(HTTPConnectionPool, self._in_use),
            "https": _tracking(HTTPSConnectionPool, self._in_use),
        }


class _AbandonError(Exception):
    """A response we will not read further; carries the ApiError to raise (no retry)."""

    def __init__(self, error: ApiError) -> None:
        self.error = error


class Transport:
    """Thread-safe: live reads share one session from a bounded pool of threads.

    The token goes to the API base's origin only: URLs taken from responses (pagination,
    redirects) are followed only on that same scheme, host and port, and automatic redirects
    are off so nothing is followed behind our back. Plain http is for loopback only."""

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
        self._base = normalise_api_url(config.api_url)
        origin = origin_of(self._base)
        assert origin is not None  # normalise_api_url refused every URL without one
        self._origin = origin
        # The base without its path (`/api/v3` on GHES): links from responses carry full paths.
        self._root = self._base[: len(self._base) - len(urlsplit(self._base).path)]
        if origin.scheme == "http" and not is_loopback(origin.host) and self._auth is not None:
            raise UsageError(
                f"--api-url {origin} is plain http: the token would cross the network readable "
                "by anyone on the path",
                hint="use https://; plain http is accepted only for loopback addresses "
                "(127.0.0.1, ::1, localhost), where a local sandbox runs",
            )
        if isinstance(self._auth, AppAuth):
            self._auth.bind(self._send_as_app)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._aborted = threading.Event()
        self._in_use = _InUse()
        self.counters = Counters()
        self._session = requests.Session()
        # An https proxy from the environment only tunnels (it never sees the token); a plain
        # http request to loopback would hand the proxy the token in the clear.
        self._session.trust_env = origin.scheme == "https"
        adapter = _Adapter(self._in_use, config.pool_size)
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
        if resp.status_code in (200, 201):
            return resp.status_code, self.body(resp, method, path).value
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None

    def close(self) -> None:
        self._session.close()

    def abort(self) -> None:
        """Ctrl-C: every read in flight fails now, every later one at once, none is retried."""
        self._aborted.set()
        self._in_use.shutdown()

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
        `url` (a pagination link from a response) must be on the API base's origin.
        `permission` names what the token needs here, for endpoints beyond the secrets API.
        The body is read whole, within MAX_BODY_BYTES and the config's deadline."""
        version = self._config.api_version or APP_API_VERSIONS.get(app, DEFAULT_API_VERSION)  # type: ignore[arg-type]
        headers = {"X-GitHub-Api-Version": version}
        header = authorization or (self._auth.authorization(path) if self._auth else None)
        if header:
            headers["Authorization"] = header
        target = self._same_origin(RequestInfo(method, path), url) if url else self._base + path
        write = method in _WRITE_METHODS
        attempt = 0
        while True:
            info = RequestInfo(method, path)
            try:
                query = params if url is None else None
                resp = self._send(info, method, target, query, body, headers)
            except _AbandonError as e:
                self._count(write)
                raise e.error from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
                self._count(write)
                self._check_aborted(info)
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
                    self._check_aborted(info)
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
                self._check_aborted(info)
                continue
            raise self._error(info, resp, permission or permission_hint(scope_kind, app, write))

    def _same_origin(self, info: RequestInfo, url: str) -> str:
        """`url` rebuilt on the API base's own origin string, or refused: the token goes
        nowhere else. Only the origin is named, never the path or query, which may carry data."""
        origin = origin_of(url)
        if origin != self._origin:
            raise ApiError(
                info,
                f"the server pointed this request at {origin or 'a URL without a clear origin'}, "
                f"not the API's own {self._origin}; refused, so the token goes nowhere else",
                hint="a proxy or server at --api-url is sending clients elsewhere; check it",
            )
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self._root}{parts.path}{query}"

    def _send(
        self,
        info: RequestInfo,
        method: str,
        target: str,
        params: Mapping[str, str | int] | None,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> requests.Response:
        """One exchange, following same-origin redirects ourselves, body read and capped."""
        self._check_aborted(info)
        deadline = time.monotonic() + self._config.deadline
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._session.request(
                method,
                target,
                params=params,
                json=body,
                headers=headers,
                timeout=self._config.timeout,
                allow_redirects=False,
                stream=True,
            )
            try:
                resp._content = self._read_body(info, resp, deadline)
            finally:
                resp.close()
            if resp.status_code not in _REDIRECTS:
                return resp
            where = resp.headers.get("Location", "")
            target = self._redirect_target(info, target, where)
            params = None  # the Location carries the query it wants
        raise _AbandonError(
            ApiError(
                RequestInfo(info.method, info.path, resp.status_code),
                f"more than {MAX_REDIRECTS} redirects; stopped",
                hint="a proxy or server at --api-url is redirecting in a loop; check it",
            )
        )

    def _redirect_target(self, info: RequestInfo, current: str, location: str) -> str:
        try:
            return self._same_origin(info, urljoin(current, location))
        except ApiError as e:
            raise _AbandonError(e) from None

    def _read_body(self, info: RequestInfo, resp: requests.Response, deadline: float) -> bytes:
        declared = resp.headers.get("Content-Length", "")
        status = RequestInfo(info.method, info.path, resp.status_code)
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _AbandonError(self._too_large(status))
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise _AbandonError(
                    ApiError(
                        status,
                        f"the answer took longer than {self._config.deadline:.0f}s; stopped",
                        hint="the server is sending very slowly; check --api-url and the "
                        "network, or raise --timeout; re-running is safe",
                    )
                )
            # read1: at most one socket read, so the deadline is checked between reads.
            chunk = resp.raw.read1(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _AbandonError(self._too_large(status))
            chunks.append(chunk)

    def _too_large(self, info: RequestInfo) -> ApiError:
        return ApiError(
            info,
            f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB; stopped reading",
            hint="no GitHub answer the tool reads is this large; check --api-url",
        )

    def _check_aborted(self, info: RequestInfo) -> None:
        if self._aborted.is_set():
            raise ApiError(info, "interrupted")

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
        if status in _REDIRECTS:
            return ApiError(info, f"unexpected redirect (HTTP {status})")
        return ApiError(info, f"unexpected HTTP {status}", github_message=_message(resp))

    # -- helpers -----------------------------------------------------------------------------

    def get_json(self, path: str, **kw: Any) -> Json:
        resp = self.request("GET", path, **kw)
        return self.body(resp, "GET", path)

    @staticmethod
    def body(resp: requests.Response, method: str, path: str) -> Json:
        """A response's body, to read with checks that name this request."""
        return parse_json(_info(resp, method, path), resp.content)

    def paginate_json(
        self,
        path: str,
        key: str | None,
        *,
        app: App | None = None,
        scope_kind: ScopeKind | None = None,
        permission: str | None = None,
    ) -> Iterator[Json]:
        """Every item of a list endpoint, following `Link: rel="next"` at 100 per page, each
        a `Json` to read with checks. `key` names the list in the body; None when the body is
        the list itself. Stops with an error after MAX_PAGES pages or at a repeated link."""
        kw: dict[str, Any] = {"app": app, "scope_kind": scope_kind, "permission": permission}
        resp = self.request("GET", path, params={"per_page": 100}, **kw)
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = parse_json(_info(resp, "GET", path), resp.content)
            yield from (body if key is None else body.field(key)).items()
            match = _LINK_NEXT.search(resp.headers.get("Link", ""))
            if not match:
                return
            link = match.group(1)
            if link in seen:
                raise MalformedResponseError(
                    _info(resp, "GET", path),
                    "Link",
                    f'rel="next" of page {page} points back at an earlier page',
                )
            seen.add(link)
            resp = self.request("GET", path, url=link, **kw)
        raise MalformedResponseError(
            _info(resp, "GET", path),
            "Link",
            f"more than {MAX_PAGES} pages (100 items each); stopped",
        )


@contextmanager
def read_pool(transport: Transport, workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool for concurrent reads that an interrupt does not wait on: on Ctrl-C (or
    any error) queued reads are cancelled and reads in flight are cut off at the socket,
    instead of `with ThreadPoolExecutor()` waiting for every one of them to finish."""
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        yield pool
    except BaseException as e:
        if not isinstance(e, Exception):  # KeyboardInterrupt, SystemExit
            transport.abort()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _info(resp: requests.Response, method: str, path: str) -> RequestInfo:
    return RequestInfo(method, path, resp.status_code, resp.headers.get("X-GitHub-Request-Id"))


def _message(resp: requests.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""
