"""The route table: method + path pattern -> handler, the permissions it needs, its docs page.

Variables and environments have their own table in `settings_routes`."""

from __future__ import annotations

import re

from reconciler.sandbox.endpoints import (
    caller,
    comments,
    contents,
    installations,
    repositories,
    secrets,
)
from reconciler.sandbox.endpoints.request_context import Handler
from reconciler.sandbox.endpoints.routing import NAME, ORG, REPO, REPO_ID, Need, Route, need
from reconciler.sandbox.endpoints.settings_routes import SETTINGS_ROUTES
from reconciler.sandbox.rules.names import APPS
from reconciler.sandbox.rules.permissions import (
    CONTENTS,
    ISSUES,
    METADATA,
    PULL_REQUESTS,
)

__all__ = ["RATE_LIMIT_PATH", "ROUTES", "Need", "Route", "match"]
# Apps with GET /repos/{owner}/{repo}/{app}/organization-secrets in GitHub's description.
ORG_SECRETS_FOR_REPO_APPS = ("actions", "agents")
RATE_LIMIT_PATH = "/rate_limit"


def _doc(app: str, kind: str, anchor: str) -> str:
    if app == "codespaces":
        page = "organization-secrets" if kind == "org" else "repository-secrets"
        return f"https://docs.github.com/rest/codespaces/{page}#{anchor}"
    return f"https://docs.github.com/rest/{app}/secrets#{anchor}"


# (method, path under the scope's secrets root, handler, scope kind, access, docs anchor)
_SECRET_TABLE: tuple[tuple[str, str, Handler, str, str, str], ...] = (
    ("GET", "", secrets.list_secrets, "org", "read", "list-organization-secrets"),
    ("GET", "/public-key", secrets.public_key, "org", "read", "get-an-organization-public-key"),
    ("GET", NAME, secrets.get_secret, "org", "read", "get-an-organization-secret"),
    ("PUT", NAME, secrets.put_secret, "org", "write", "create-or-update-an-organization-secret"),
    ("DELETE", NAME, secrets.delete_secret, "org", "write", "delete-an-organization-secret"),
    (
        "GET",
        NAME + "/repositories",
        secrets.list_selected,
        "org",
        "read",
        "list-selected-repositories-for-an-organization-secret",
    ),
    (
        "PUT",
        NAME + "/repositories",
        secrets.set_selected,
        "org",
        "write",
        "set-selected-repositories-for-an-organization-secret",
    ),
    (
        "PUT",
        NAME + "/repositories" + REPO_ID,
        secrets.add_selected,
        "org",
        "write",
        "add-selected-repository-to-an-organization-secret",
    ),
    (
        "DELETE",
        NAME + "/repositories" + REPO_ID,
        secrets.remove_selected,
        "org",
        "write",
        "remove-selected-repository-from-an-organization-secret",
    ),
    ("GET", "", secrets.list_secrets, "repo", "read", "list-repository-secrets"),
    ("GET", "/public-key", secrets.public_key, "repo", "read", "get-a-repository-public-key"),
    ("GET", NAME, secrets.get_secret, "repo", "read", "get-a-repository-secret"),
    ("PUT", NAME, secrets.put_secret, "repo", "write", "create-or-update-a-repository-secret"),
    ("DELETE", NAME, secrets.delete_secret, "repo", "write", "delete-a-repository-secret"),
)


def _secret_routes(app: str) -> list[Route]:
    routes: list[Route] = []
    # Adding or removing one repository also needs to see it: "Metadata" (read), per the docs.
    meta = need("repo", METADATA, "read")
    for method, tail, handler, kind, access, anchor in _SECRET_TABLE:
        root = f"{ORG if kind == 'org' else REPO}/{app}/secrets"
        needs: tuple[Need, ...] = (need(kind, app, access),)
        if handler in (secrets.add_selected, secrets.remove_selected):
            needs = (*needs, meta)
        pattern = re.compile(root + tail + r"\Z")
        routes.append(Route(method, pattern, handler, needs, app, _doc(app, kind, anchor)))
    if app in ORG_SECRETS_FOR_REPO_APPS:
        pattern = re.compile(f"{REPO}/{app}/organization-secrets" + r"\Z")
        doc = _doc(app, "repo", "list-repository-organization-secrets")
        needs = (need("repo", app, "read"),)
        routes.append(Route("GET", pattern, secrets.repo_org_secrets, needs, app, doc))
    return routes


def _other_routes() -> list[Route]:
    meta = (need("repo", METADATA, "read"),)
    repos_doc = "https://docs.github.com/rest/repos/repos"
    rate_doc = "https://docs.github.com/rest/rate-limit/rate-limit"
    return [
        Route(
            "GET",
            re.compile(ORG + r"/repos\Z"),
            repositories.list_org_repos,
            meta,
            "",
            f"{repos_doc}#list-organization-repositories",
        ),
        Route(
            "GET",
            re.compile(REPO + r"\Z"),
            repositories.get_repo,
            meta,
            "",
            f"{repos_doc}#get-a-repository",
        ),
        Route(
            "GET",
            re.compile(RATE_LIMIT_PATH + r"\Z"),
            caller.rate_limit,
            (),
            "",
            f"{rate_doc}#get-rate-limit-status-for-the-authenticated-user",
            auth="any",
        ),
    ]


def _app_routes() -> list[Route]:
    doc = "https://docs.github.com/rest/apps/apps"
    user_doc = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
    user = Route("GET", re.compile(r"/user\Z"), caller.authenticated_user, (), "", user_doc)
    table: tuple[tuple[str, str, Handler, str], ...] = (
        ("GET", r"/app/installations", installations.list_installations,
         "list-installations-for-the-authenticated-app"),
        ("POST", r"/app/installations/(?P<installation_id>[^/]+)/access_tokens",
         installations.create_access_token, "create-an-installation-access-token-for-an-app"),
        ("GET", ORG + r"/installation", installations.org_installation,
         "get-an-organization-installation-for-the-authenticated-app"),
        ("GET", REPO + r"/installation", installations.repo_installation,
         "get-a-repository-installation-for-the-authenticated-app"),
    )  # fmt: skip
    return [user] + [
        Route(method, re.compile(path + r"\Z"), handler, (), "", f"{doc}#{anchor}", auth="jwt")
        for method, path, handler, anchor in table
    ]


def _repo_need(key: str, access: str) -> Need:
    return need("repo", key, access)


def _content_routes() -> list[Route]:
    read, write = (_repo_need(CONTENTS, "read"),), (_repo_need(CONTENTS, "write"),)
    meta = (_repo_need(METADATA, "read"),)
    docs = "https://docs.github.com/rest"
    table: tuple[tuple[str, str, Handler, tuple[Need, ...], str], ...] = (
        ("GET", r"/contents(?:/(?P<path>.*))?", contents.get_contents, read,
         "repos/contents#get-repository-content"),
        ("PUT", r"/contents/(?P<path>.+)", contents.put_contents, write,
         "repos/contents#create-or-update-file-contents"),
        ("GET", r"/branches/(?P<branch>.+)", contents.get_branch, meta,
         "branches/branches#get-a-branch"),
        ("GET", r"/git/ref/(?P<ref>.+)", contents.get_ref, read, "git/refs#get-a-reference"),
        ("GET", r"/git/blobs/(?P<sha>[^/]+)", contents.get_blob, read, "git/blobs#get-a-blob"),
        ("POST", r"/git/refs", contents.create_ref, write, "git/refs#create-a-reference"),
    )  # fmt: skip
    return [
        Route(method, re.compile(REPO + path + r"\Z"), handler, needs, "", f"{docs}/{anchor}")
        for method, path, handler, needs, anchor in table
    ]


def _comment_routes() -> list[Route]:
    doc = "https://docs.github.com/rest/issues/comments"
    table: tuple[tuple[str, str, Handler, str, str], ...] = (
        ("GET", r"/issues/(?P<number>[^/]+)/comments", comments.list_comments, "read",
         "list-issue-comments"),
        ("POST", r"/issues/(?P<number>[^/]+)/comments", comments.create_comment, "write",
         "create-an-issue-comment"),
        ("GET", r"/issues/comments/(?P<comment_id>[^/]+)", comments.get_comment, "read",
         "get-an-issue-comment"),
        ("PATCH", r"/issues/comments/(?P<comment_id>[^/]+)", comments.edit_comment, "write",
         "update-an-issue-comment"),
    )  # fmt: skip
    return [
        Route(
            method,
            re.compile(REPO + path + r"\Z"),
            handler,
            (_repo_need(ISSUES, access),),
            "",
            f"{doc}#{anchor}",
            alternatives=((_repo_need(PULL_REQUESTS, access),),),
        )
        for method, path, handler, access, anchor in table
    ]


ROUTES: tuple[Route, ...] = tuple(
    [r for app in APPS for r in _secret_routes(app)]
    + _other_routes()
    + _app_routes()
    + _content_routes()
    + _comment_routes()
    + list(SETTINGS_ROUTES)
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request path (prefix already stripped); None means GitHub's 404.

    A known path with an unsupported method is a 404 on GitHub too, not a 405.
    """
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None
