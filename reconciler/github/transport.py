"""The one shared requester every endpoint client is composed on: the session, auth headers and
API versions, retries, redirects, bounded bodies, request counters and the interruptible read
pool. Errors name the request and the permission it needs.

The token lives only in the Authorization header of each request: it is never logged, never
part of an error, never in a repr.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from reconciler import __version__
from reconciler.errors import ApiError, RateLimitError, RequestInfo
from reconciler.github.auth import AppAuth, Auth, TokenAuth
from reconciler.github.bodies import DEADLINE_READS, AbandonError, read_body
from reconciler.github.cache import ResponseCache
from reconciler.github.connections import InUse, TrackingAdapter
from reconciler.github.counting import Counters
from reconciler.github.limits import backoff_delay, rate_limit_wait
from reconciler.github.pacing import DEFAULT_POINTS_PER_MINUTE, READ_POINTS, WRITE_POINTS, Pacer
from reconciler.github.permissions import permission_hint, refusal
from reconciler.github.responses import Json, github_message, parse_json, request_info
from reconciler.github.urls import DEFAULT_API_URL, MAX_REDIRECTS, REDIRECTS, ApiBase
from reconciler.model import App, ScopeKind

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2022-11-28"
# Agent secrets exist only from this REST API version on.
APP_API_VERSIONS: Mapping[App, str] = {App.AGENTS: "2026-03-10"}
_WRITE_METHODS = frozenset({"PUT", "DELETE", "POST", "PATCH"})


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
    cache_dir: str | None = None  # the conditional-request cache; None: no cache
    points_per_minute: int = DEFAULT_POINTS_PER_MINUTE  # secondary-limit pacing; 0: none

    @property
    def deadline(self) -> float:
        """Longest one response may take, first byte to last: a server that drips a byte per
        read timeout would otherwise hold a read forever."""
        return self.timeout * DEADLINE_READS


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
        self._base = ApiBase.parse(config.api_url, with_token=self._auth is not None)
        if isinstance(self._auth, AppAuth):
            self._auth.bind(self._send_as_app)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._aborted = threading.Event()
        self._in_use = InUse()
        self.counters = Counters()
        self._pacer = Pacer(config.points_per_minute, sleep=sleep)
        self._cache = ResponseCache(Path(config.cache_dir)) if config.cache_dir else None
        self._session = requests.Session()
        # An https proxy from the environment only tunnels (it never sees the token); a plain
        # http request to loopback would hand the proxy the token in the clear. The proxy and
        # CA-bundle settings are read once here: with `trust_env` requests re-reads the whole
        # environment and ~/.netrc on every request (2.7 ms each with 600 variables).
        if self._base.origin.scheme == "https":
            found = self._session.merge_environment_settings(self._base.url, {}, None, None, None)
            self._session.proxies.update(found["proxies"])
            self._session.verify = found["verify"]
        self._session.trust_env = False
        adapter = TrackingAdapter(self._in_use, config.pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "User-Agent": f"reconciler/{__version__}",
            }
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base.url!r})"

    @property
    def base_url(self) -> str:
        return self._base.url

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

    # -- requests ----------------------------------------------------------------------------

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
        if url:
            target = self._base.same_origin(RequestInfo(method, path), url)
        else:
            target = self._base.url + path
        write = method in _WRITE_METHODS
        query = params if url is None else None
        cached, cache_key = (None, None)  # App-level calls (a JWT) are never cached:
        if self._cache is not None and method == "GET" and authorization is None:
            cached, cache_key = self._cache.conditional(target, query, headers)
        attempt = 0
        while True:
            info = RequestInfo(method, path)
            try:
                self._pacer.take(WRITE_POINTS if write else READ_POINTS)
                resp = self._send(info, method, target, query, body, headers)
            except AbandonError as e:
                self.counters.count(write)
                raise e.error from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
                self.counters.count(write)
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
            self.counters.count(write, resp)
            if self._cache is not None and cache_key is not None:
                self._cache.revalidated(resp, cached, cache_key)
            info = request_info(resp, method, path)
            if resp.status_code in ok:
                return resp
            if method == "DELETE" and resp.status_code == 404 and attempt > 0:
                # An earlier attempt deleted it and only the answer was lost.
                return resp
            wait = rate_limit_wait(resp)
            if wait is not None:
                if wait > self._config.max_wait:
                    raise RateLimitError(
                        info,
                        f"rate limited; GitHub asks to wait {wait:.0f}s, "
                        f"more than the {self._config.max_wait:.0f}s allowed",
                        github_message=github_message(resp),
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
                    github_message=github_message(resp),
                    hint="re-run later; re-running is safe",
                )
            elif resp.status_code >= 500 and attempt < self._config.max_retries:
                attempt += 1
                self._backoff(attempt, f"{method} {path}: HTTP {resp.status_code}")
                self._check_aborted(info)
                continue
            raise refusal(info, resp, permission or permission_hint(scope_kind, app, write))

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
                resp._content = read_body(info, resp, deadline, self._config.deadline)
            finally:
                resp.close()
            if resp.status_code not in REDIRECTS:
                return resp
            where = resp.headers.get("Location", "")
            try:
                target = self._base.same_origin(info, urljoin(target, where))
            except ApiError as e:
                raise AbandonError(e) from None
            params = None  # the Location carries the query it wants
        raise AbandonError(
            ApiError(
                RequestInfo(info.method, info.path, resp.status_code),
                f"more than {MAX_REDIRECTS} redirects; stopped",
                hint="a proxy or server at --api-url is redirecting in a loop; check it",
            )
        )

    def _check_aborted(self, info: RequestInfo) -> None:
        if self._aborted.is_set():
            raise ApiError(info, "interrupted")

    def _backoff(self, attempt: int, what: str) -> None:
        delay = backoff_delay(self._rng, self._config.backoff_base, attempt)
        log.info("retrying %s in %.2fs (attempt %d)", what, delay, attempt + 1)
        self._sleep(delay)

    # -- bodies ------------------------------------------------------------------------------

    def get_json(self, path: str, **kw: Any) -> Json:
        resp = self.request("GET", path, **kw)
        return self.body(resp, "GET", path)

    @staticmethod
    def body(resp: requests.Response, method: str, path: str) -> Json:
        """A response's body, to read with checks that name this request."""
        return parse_json(request_info(resp, method, path), resp.content)


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
