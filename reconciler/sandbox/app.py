"""The request pipeline, free of sockets: ApiRequest -> Reply (or a dropped connection).

Order, as GitHub applies it: injected fault, API version (400), credentials (401),
primary rate limit (403), route (404), permissions (403), the endpoint itself, then the
conditional-request check (304, which gives the spent request back).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.sandbox import jwts
from reconciler.sandbox.auth import Authenticator, Principal
from reconciler.sandbox.errors import DOCS, ApiError
from reconciler.sandbox.faults import Fault, Faults
from reconciler.sandbox.handlers import Context
from reconciler.sandbox.messages import API_VERSIONS, GHES_PREFIX, V2022, ApiRequest, Reply
from reconciler.sandbox.permissions import PERMISSION_KEYS, grants
from reconciler.sandbox.ratelimit import Quota, RateLimiter
from reconciler.sandbox.routes import RATE_LIMIT_PATH, Route, match
from reconciler.sandbox.state import World

NOT_ACCESSIBLE = "Resource not accessible by integration"
_RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
_VERSION_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"


@dataclass(frozen=True, slots=True)
class Dropped:
    """Close the connection without answering."""


class RequestIds:
    """`X-GitHub-Request-Id` values shaped like GitHub's (`C0DE:3B9F:1A2B3C:4D5E6F:65A1B2C3`)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._random = random.Random()
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            n = next(self._counter)
            a, b, c = (self._random.getrandbits(bits) for bits in (16, 16, 24))
        return f"{a:04X}:{b:04X}:{n:06X}:{c:06X}:{int(time.time()):08X}"


def _etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def encode(body: object) -> bytes:
    return b"" if body is None else json.dumps(body, separators=(",", ":")).encode()


class SandboxApp:
    def __init__(self, world: World, limiter: RateLimiter, admin_token: str) -> None:
        self.world = world
        self.limiter = limiter
        self.faults = Faults()
        self.auth = Authenticator(world.apps, world.clock)
        self.admin_token = admin_token
        self.add_token(admin_token, dict.fromkeys(PERMISSION_KEYS.values(), "write"))

    def add_token(
        self,
        token: str,
        permissions: Mapping[str, str],
        *,
        login: str | None = None,
        integration: bool = False,
    ) -> None:
        self.auth.add_token(token, permissions, login=login, integration=integration)

    def tokens(self) -> dict[str, dict[str, str]]:
        return self.auth.tokens()

    def handle(self, req: ApiRequest, request_id: str) -> tuple[Reply, str | None] | Dropped:
        """The reply and the API version it was answered under."""
        path, prefix = req.path, ""
        if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
            path, prefix = path[len(GHES_PREFIX) :] or "/", GHES_PREFIX
        fault = self.faults.match(req.method, path)
        if fault is not None and fault.kind == "drop":
            return Dropped()
        version = req.header("x-github-api-version")
        if fault is not None:
            return self._fault_reply(fault, request_id), version
        if version is not None and version not in API_VERSIONS:
            return _error(ApiError(400, _version_message(version), _VERSION_DOCS)), version
        try:
            principal = self.auth.authenticate(req.header("authorization"))
        except ApiError as e:
            return _error(e), version
        return self._authorised(req, path, prefix, version, principal, request_id)

    def _authorised(
        self,
        req: ApiRequest,
        path: str,
        prefix: str,
        version: str | None,
        principal: Principal,
        request_id: str,
    ) -> tuple[Reply, str | None]:
        found = match(req.method, path)
        # GET /rate_limit does not count against the limit on GitHub.
        free = req.method == "GET" and path == RATE_LIMIT_PATH
        bucket = principal.key
        quota = self.limiter.peek(bucket) if free else self.limiter.take(bucket)
        if quota is None:
            exhausted = self.limiter.peek(bucket)
            return _with_quota(_primary_limit(request_id, exhausted), exhausted), version
        if found is None:
            return _with_quota(_error(ApiError(404, "Not Found", DOCS)), quota), version
        route, params = found
        refusal = _refusal(route, principal)
        if refusal is not None:
            return _with_quota(refusal, quota), version
        ctx = Context(
            request=req,
            world=self.world,
            params=params,
            app=route.app,
            doc=route.doc,
            api=f"http://{req.host}{prefix}",
            web=f"http://{req.host}",
            version=version or V2022,
            quota=quota,
            principal=principal,
        )
        try:
            with self.world.lock:
                _check_reach(ctx, route)
                reply = route.handler(ctx)
        except ApiError as e:
            reply = _error(e)
        if req.method == "GET" and reply.status == 200:
            tag = _etag(encode(reply.body))
            if tag in _if_none_match(req.header("if-none-match")):
                quota = quota if free else self.limiter.refund(bucket)
                reply = Reply(304, None, (*reply.headers, ("ETag", tag)))
            else:
                reply = Reply(200, reply.body, (*reply.headers, ("ETag", tag)))
        return _with_quota(reply, quota), version

    def _fault_reply(self, fault: Fault, request_id: str) -> Reply:
        if fault.kind == "status":
            return _error(ApiError(fault.status, _STATUS_TEXT.get(fault.status, "Server Error")))
        if fault.kind == "secondary_rate_limit":
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {request_id}."
            )
            doc = f"{_RATE_DOCS}#about-secondary-rate-limits"
            return _error(ApiError(403, message, doc, (("Retry-After", str(fault.retry_after)),)))
        limit = self.limiter.limit
        reset = int(time.time()) + fault.retry_after
        exhausted = Quota(limit, 0, limit, reset)
        return _with_quota(_primary_limit(request_id, exhausted), exhausted)


_STATUS_TEXT = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}


def _if_none_match(header: str | None) -> set[str]:
    if not header:
        return set()
    tags = {t.strip() for t in header.split(",")}
    # Weak comparison, as GitHub does: W/"x" and "x" match each other.
    return tags | {t[2:] for t in tags if t.startswith("W/")} | {f"W/{t}" for t in tags}


def _version_message(version: str) -> str:
    supported = ", ".join(
        f'"{v}"' + (" (most recent)" if i == 0 else "") for i, v in enumerate(API_VERSIONS)
    )
    return (
        f'The version you specified in the "X-GitHub-Api-Version" request header, "{version}", '
        f"is not a supported version. The following versions are currently supported: "
        f"{supported}."
    )


def _error(error: ApiError) -> Reply:
    return Reply(error.status, json.loads(error.body()), error.headers)


def _with_quota(reply: Reply, quota: Quota) -> Reply:
    return Reply(reply.status, reply.body, (*reply.headers, *quota.headers()))


def _primary_limit(request_id: str, quota: Quota) -> Reply:
    message = (
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
        f"please include the request ID {request_id}."
    )
    return _error(ApiError(403, message, f"{_RATE_DOCS}#about-primary-rate-limits"))


def _forbidden(route: Route) -> Reply:
    # GitHub names what would have been accepted in this header (`key=level`, comma = and).
    headers = (("X-Accepted-GitHub-Permissions", route.accepted()),)
    return _error(ApiError(403, NOT_ACCESSIBLE, route.doc, headers))


def _refusal(route: Route, principal: Principal) -> Reply | None:
    """GitHub's answer when this kind of credential, or these permissions, cannot call it."""
    if route.auth == "jwt":
        # An installation or personal token where a JWT is required (octokit/rest.js#218).
        return None if principal.kind == "app" else _error(jwts.undecodable())
    if principal.kind == "app":
        # A JWT only reaches the app endpoints.
        return None if route.auth == "any" else _error(ApiError(403, NOT_ACCESSIBLE, route.doc))
    held = principal.permissions
    sets = (route.needs, *route.alternatives)
    if any(all(grants(held, n.key, n.access) for n in needs) for needs in sets):
        return None
    return _forbidden(route)


def _check_reach(ctx: Context, route: Route) -> None:
    """An installation token only reaches its own organisation and repositories.

    Elsewhere, a private repository is a 404 (GitHub does not admit it exists) and
    anything else a 403.
    """
    principal = ctx.principal
    if principal.kind != "installation" or principal.account is None:
        return
    account = principal.account.lower()
    if "org" in ctx.params and ctx.param("org").lower() != account:
        raise ApiError(403, NOT_ACCESSIBLE, route.doc)
    if "owner" not in ctx.params:
        return
    org = ctx.world.orgs.get(ctx.param("owner").lower())
    repo = None if org is None else org.repos.get(ctx.param("repo").lower())
    if repo is None:
        return  # the endpoint answers its own 404
    reachable = principal.repo_ids is None or repo.id in principal.repo_ids
    if org is not None and org.login.lower() == account and reachable:
        return
    if repo.private:
        raise ApiError(404, "Not Found", route.doc)
    raise ApiError(403, NOT_ACCESSIBLE, route.doc)
