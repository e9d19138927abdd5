"""What the token needs for each endpoint family, and the error that says so when GitHub refuses.

The names are the ones GitHub's docs use for fine-grained permissions (and classic scopes), so
a refusal tells the user exactly what to grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.errors import ApiError, RequestInfo
from reconciler.github.responses import github_message
from reconciler.github.urls import REDIRECTS
from reconciler.model import App, Kind, ScopeKind

if TYPE_CHECKING:  # annotations only: the ledger reads the hints without loading requests
    import requests

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
    (ScopeKind.ENVIRONMENT, App.ACTIONS): "Repository permissions: Environments and Secrets",
}
_FINE_GRAINED_VARIABLES = {
    (ScopeKind.ORG, App.ACTIONS): "Organization permissions: Variables",
    (ScopeKind.ORG, App.AGENTS): "Organization permissions: Agent variables",
    (ScopeKind.REPO, App.ACTIONS): "Repository permissions: Variables",
    (ScopeKind.REPO, App.AGENTS): "Repository permissions: Agent variables",
    (ScopeKind.ENVIRONMENT, App.ACTIONS): "Repository permissions: Environments",
}
_CLASSIC = {
    ScopeKind.ORG: "admin:org (and repo for private repositories)",
    ScopeKind.REPO: "repo",
    ScopeKind.ENVIRONMENT: "repo",
}
_METADATA = "Repository permissions: Metadata (read); classic tokens: repo for private repositories"

# The ledger's file on a branch: the contents and git blobs API.
_CONTENTS = (
    "fine-grained tokens and GitHub Apps need Repository permissions: Contents ({}) on the "
    "ledger's repository; classic tokens need repo"
)
CONTENTS_READ, CONTENTS_WRITE = _CONTENTS.format("read"), _CONTENTS.format("write")

# The pull-request comment: the issue comments API.
_COMMENTS = (
    "the comment token (RECONCILER_COMMENT_TOKEN, else the main one) needs Repository "
    "permissions: Pull requests or Issues ({}); in a workflow: permissions: pull-requests: write"
)
COMMENTS_READ, COMMENTS_WRITE = _COMMENTS.format("read"), _COMMENTS.format("write")


# Deployment environments themselves: listing them, and creating one (a repository setting).
ENVIRONMENTS_READ = (
    "fine-grained tokens and GitHub Apps need Repository permissions: Actions (read); classic "
    "tokens need repo for private repositories"
)
ENVIRONMENTS_WRITE = (
    "creating an environment needs Repository permissions: Administration (write) for "
    "fine-grained tokens and GitHub Apps; classic tokens need repo"
)


def permission_hint(
    scope_kind: ScopeKind | None, app: App | None, write: bool, kind: Kind = Kind.SECRET
) -> str:
    """The permission the secrets or variables API needs for (scope kind, app); repository
    metadata without one."""
    if scope_kind is None or app is None:
        return _METADATA
    level = "write" if write else "read"
    table = _FINE_GRAINED_VARIABLES if kind is Kind.VARIABLE else _FINE_GRAINED
    return (
        f"fine-grained tokens and GitHub Apps need {table[(scope_kind, app)]} "
        f"({level}); classic tokens need {_CLASSIC[scope_kind]}"
    )


def refusal(info: RequestInfo, resp: requests.Response, perm: str) -> ApiError:
    """The error for an answer that is not one the request accepts; `perm` is the hint that
    names what the token needs, for 403 and 404 (GitHub hides what a token may not see)."""
    status = resp.status_code
    if status == 401:
        return ApiError(
            info,
            "authentication failed",
            github_message=github_message(resp),
            hint="set GITHUB_TOKEN (or GH_TOKEN) to a valid, unexpired token",
        )
    if status == 403:
        return ApiError(info, "permission denied", github_message=github_message(resp), hint=perm)
    if status == 404:
        return ApiError(
            info,
            "not found",
            github_message=github_message(resp),
            hint="check the organization/repository name; GitHub also answers 404 when the "
            f"token may not see it: {perm}",
        )
    if status in REDIRECTS:
        return ApiError(info, f"unexpected redirect (HTTP {status})")
    return ApiError(info, f"unexpected HTTP {status}", github_message=github_message(resp))
