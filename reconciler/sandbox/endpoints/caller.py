"""What a caller asks about itself: `GET /user` (users only; integrations are refused) and
`GET /rate_limit`."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.endpoints.request_context import Context
from reconciler.sandbox.endpoints.shapes import account_body
from reconciler.sandbox.rules.errors import NOT_ACCESSIBLE_BY_INTEGRATION, ApiError
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.rules.versions import V2026


def authenticated_user(ctx: Context) -> Reply:
    """`GET /user`: the token's user, as the `public-user` view (no `user` scope here)."""
    if ctx.principal.integration:
        raise ApiError(403, NOT_ACCESSIBLE_BY_INTEGRATION, ctx.doc)
    author = ctx.principal.author
    since = ctx.world.clock.peek()
    body = {
        **account_body(ctx.api, ctx.web, author.login, author.id, author.type),
        "user_view_type": "public",
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": since,
        "updated_at": since,
    }
    return Reply(200, body)


def rate_limit(ctx: Context) -> Reply:
    quota = ctx.quota
    assert quota is not None  # /rate_limit is only routed for authenticated callers
    core = {"limit": quota.limit, "remaining": quota.remaining, "reset": quota.reset}
    core["used"] = quota.used
    idle = {"limit": 30, "remaining": 30, "reset": quota.reset, "used": 0}
    body: dict[str, Any] = {"resources": {"core": core, "search": idle}}
    if ctx.version != V2026:
        # API version 2026-03-10 dropped the deprecated top-level "rate".
        body["rate"] = core
    return Reply(200, body)
