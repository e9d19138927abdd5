"""May this caller call this route, and reach this organisation or repository?

Per route: the kind of credential (JWT-only routes, JWTs only reaching app routes) and the
fine-grained permissions. Per request: an installation token reaches only its own
organisation and repositories.
"""

from __future__ import annotations

from reconciler.sandbox.endpoints.request_context import Context
from reconciler.sandbox.endpoints.routes import Route
from reconciler.sandbox.pipeline import jwts
from reconciler.sandbox.rules.errors import NOT_ACCESSIBLE_BY_INTEGRATION, ApiError
from reconciler.sandbox.rules.messages import Reply, error_reply
from reconciler.sandbox.rules.permissions import grants
from reconciler.sandbox.world.accounts import Principal


def _forbidden(route: Route) -> Reply:
    # GitHub names what would have been accepted in this header (`key=level`, comma = and).
    headers = (("X-Accepted-GitHub-Permissions", route.accepted()),)
    return error_reply(ApiError(403, NOT_ACCESSIBLE_BY_INTEGRATION, route.doc, headers))


def refusal(route: Route, principal: Principal) -> Reply | None:
    """GitHub's answer when this kind of credential, or these permissions, cannot call it."""
    if route.auth == "jwt":
        # An installation or personal token where a JWT is required (octokit/rest.js#218).
        return None if principal.kind == "app" else error_reply(jwts.undecodable())
    if principal.kind == "app":
        # A JWT only reaches the app endpoints.
        if route.auth == "any":
            return None
        return error_reply(ApiError(403, NOT_ACCESSIBLE_BY_INTEGRATION, route.doc))
    held = principal.permissions
    sets = (route.needs, *route.alternatives)
    if any(all(grants(held, n.key, n.access) for n in needs) for needs in sets):
        return None
    return _forbidden(route)


def check_reach(ctx: Context, route: Route) -> None:
    """An installation token only reaches its own organisation and repositories.

    Elsewhere, a private repository is a 404 (GitHub does not admit it exists) and
    anything else a 403.
    """
    principal = ctx.principal
    if principal.kind != "installation" or principal.account is None:
        return
    account = principal.account.lower()
    if "org" in ctx.params and ctx.param("org").lower() != account:
        raise ApiError(403, NOT_ACCESSIBLE_BY_INTEGRATION, route.doc)
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
    raise ApiError(403, NOT_ACCESSIBLE_BY_INTEGRATION, route.doc)
