"""The request pipeline, free of sockets: ApiRequest -> Reply (or a dropped connection).

Order, as GitHub applies it: injected fault, API version (400), credentials (401),
primary rate limit (403), route (404), permissions (403), the endpoint itself, then the
conditional-request check (304, which gives the spent request back).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.sandbox.endpoints.request_context import Context
from reconciler.sandbox.endpoints.routes import RATE_LIMIT_PATH, match
from reconciler.sandbox.pipeline.access import check_reach, refusal
from reconciler.sandbox.pipeline.auth import Authenticator
from reconciler.sandbox.pipeline.faults import Fault, Faults
from reconciler.sandbox.pipeline.rate_limiter import RateLimiter
from reconciler.sandbox.rules.errors import DOCS, ApiError
from reconciler.sandbox.rules.messages import ApiRequest, Reply, encode, error_reply
from reconciler.sandbox.rules.permissions import PERMISSION_KEYS
from reconciler.sandbox.rules.quota import Quota, primary_limit, secondary_limit
from reconciler.sandbox.rules.versions import API_VERSIONS, GHES_PREFIX, V2022, unsupported_version
from reconciler.sandbox.world.accounts import Principal
from reconciler.sandbox.world.state import World


@dataclass(frozen=True, slots=True)
class Dropped:
    """Close the connection without answering."""


def _etag(authorization: str, body: bytes) -> str:
    # As GitHub's: specific to the credential that asked (GitHub Support, quoted in
    # eclipse-csi/otterdog#201: "expected for ETags to be auth token specific").
    digest = hashlib.sha256(authorization.encode() + b"\0" + body).hexdigest()
    return f'W/"{digest}"'


class Pipeline:
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
            return error_reply(unsupported_version(version)), version
        try:
            principal = self.auth.authenticate(req.header("authorization"))
        except ApiError as e:
            return error_reply(e), version
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
            return _with_quota(error_reply(primary_limit(request_id)), exhausted), version
        if found is None:
            return _with_quota(error_reply(ApiError(404, "Not Found", DOCS)), quota), version
        route, params = found
        refused = refusal(route, principal)
        if refused is not None:
            return _with_quota(refused, quota), version
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
                check_reach(ctx, route)
                reply = route.handler(ctx)
        except ApiError as e:
            reply = error_reply(e)
        if req.method == "GET" and reply.status == 200:
            tag = _etag(req.header("authorization") or "", encode(reply.body))
            if tag in _if_none_match(req.header("if-none-match")):
                quota = quota if free else self.limiter.refund(bucket)
                reply = Reply(304, None, (*reply.headers, ("ETag", tag)))
            else:
                reply = Reply(200, reply.body, (*reply.headers, ("ETag", tag)))
        return _with_quota(reply, quota), version

    def _fault_reply(self, fault: Fault, request_id: str) -> Reply:
        if fault.kind == "status":
            text = _STATUS_TEXT.get(fault.status, "Server Error")
            return error_reply(ApiError(fault.status, text))
        if fault.kind == "secondary_rate_limit":
            return error_reply(secondary_limit(request_id, fault.retry_after))
        limit = self.limiter.limit
        reset = int(time.time()) + fault.retry_after
        exhausted = Quota(limit, 0, limit, reset)
        return _with_quota(error_reply(primary_limit(request_id)), exhausted)


_STATUS_TEXT = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}


def _if_none_match(header: str | None) -> set[str]:
    if not header:
        return set()
    tags = {t.strip() for t in header.split(",")}
    # Weak comparison, as GitHub does: W/"x" and "x" match each other.
    return tags | {t[2:] for t in tags if t.startswith("W/")} | {f"W/{t}" for t in tags}


def _with_quota(reply: Reply, quota: Quota) -> Reply:
    return Reply(reply.status, reply.body, (*reply.headers, *quota.headers()))
