"""What a route is: method, path pattern, handler, the permissions it needs, its docs page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.sandbox.endpoints.request_context import Handler
from reconciler.sandbox.rules.permissions import PERMISSION_KEYS

ORG = r"/orgs/(?P<org>[^/]+)"
# Each parameter is one path segment as sent: an encoded "/" (%2F) stays inside its segment,
# and `Context.param` decodes it.
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
NAME = r"/(?P<name>[^/]+)"
REPO_ID = r"/(?P<repository_id>[^/]+)"
ENVIRONMENT = REPO + r"/environments/(?P<environment_name>[^/]+)"


@dataclass(frozen=True, slots=True)
class Need:
    """A permission an endpoint requires: key, level, and the docs' wording for it."""

    key: str
    access: str
    kind: str
    app: str


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint.

    `needs` must all be held, unless one of the `alternatives` sets is held instead
    (GitHub's "issues=write; pull_requests=write"). `auth` is "token" (tokens and
    installation tokens), "jwt" (only a GitHub App's JWT) or "any".
    """

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    needs: tuple[Need, ...]
    app: str
    doc: str
    auth: str = "token"
    alternatives: tuple[tuple[Need, ...], ...] = ()

    def accepted(self) -> str:
        """The `X-Accepted-GitHub-Permissions` value: `,` joins a set, `; ` separates sets."""
        sets = (self.needs, *self.alternatives)
        return "; ".join(",".join(f"{n.key}={n.access}" for n in s) for s in sets)


def need(kind: str, app: str, access: str) -> Need:
    return Need(PERMISSION_KEYS[(kind, app)], access, kind, app)
