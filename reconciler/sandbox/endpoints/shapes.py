"""JSON bodies several endpoint families share, in the shapes GitHub's OpenAPI description
gives them: node ids, accounts, owners, repositories.

`api` is the API root the client used (`http://host:port` or `.../api/v3`), so every URL
in a body points back at the sandbox through the same layout.
"""

from __future__ import annotations

import base64
from typing import Any

from reconciler.sandbox.world.scopes import Org, Repo


def node_id(kind: str, ident: int | str) -> str:
    # GitHub's legacy global ids: base64 of "<len>:<Type><id>" (MDEwOlJlcG9zaXRvcnkxMjk2MjY5).
    text = f"{kind}{ident}"
    return base64.b64encode(f"{len(kind):03d}:{text}".encode()).decode()


def account_body(api: str, web: str, login: str, account_id: int, kind: str) -> dict[str, Any]:
    """A user or organisation as GitHub nests it (`owner`, `user`): the simple-user shape."""
    url = f"{api}/users/{login}"
    return {
        "login": login,
        "id": account_id,
        "node_id": node_id(kind, account_id),
        "avatar_url": f"{web}/avatars/{login}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{web}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "site_admin": False,
    }


def owner_body(api: str, web: str, org: Org) -> dict[str, Any]:
    return account_body(api, web, org.login, org.id, "Organization")


_TEMPLATED = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def minimal_repo_body(api: str, web: str, repo: Repo) -> dict[str, Any]:
    url = f"{api}/repos/{repo.full_name}"
    body: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": owner_body(api, web, repo.org),
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "html_url": f"{web}/{repo.full_name}",
        "description": None,
        "fork": False,
        "url": url,
    }
    body.update({key: url + suffix for key, suffix in _TEMPLATED.items()})
    return body


def full_repo_body(api: str, web: str, repo: Repo) -> dict[str, Any]:
    host = web.split("://", 1)[-1]
    body = minimal_repo_body(api, web, repo)
    body.update(
        {
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{web}/{repo.full_name}.git",
            "svn_url": f"{web}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": "main",
            "open_issues": 0,
            "open_issues_count": 0,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "license": None,
            "pushed_at": repo.created_at,
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
            "network_count": 0,
            "subscribers_count": 0,
            "organization": owner_body(api, web, repo.org),
        }
    )
    return body
