"""Contents, branches and git refs: just what a JSON ledger kept on a branch needs.

Statuses and messages as GitHub answers them: a missing file or unknown `ref` is a 404
("Not Found" / "No commit found for the ref X"), a PUT to a missing branch is a 404
("Branch X not found"), updating an existing file without `sha` is a 422 ("sha" wasn't
supplied), and a `sha` that is not the file's current blob sha is a 409
("<path> does not match <sha>"). A new branch comes from `POST .../git/refs`.

A file over 1 MB comes back from the contents API as GitHub sends it with the default media
type: `"encoding": "none"` and an empty `content`; `GET .../git/blobs/{sha}` serves it (up to
100 MB) as base64, like any blob.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from reconciler.sandbox.endpoints.request_context import Context
from reconciler.sandbox.endpoints.shapes import node_id
from reconciler.sandbox.rules.errors import ApiError, invalid, not_found
from reconciler.sandbox.rules.limits import BLOB_LIMIT, CONTENTS_LIMIT
from reconciler.sandbox.rules.messages import Reply
from reconciler.sandbox.rules.request_bodies import json_object
from reconciler.sandbox.world.git import DEFAULT_BRANCH, Commit, Signature, blob_sha
from reconciler.sandbox.world.scopes import Repo

_ENCODED_LINE = 60  # GitHub wraps base64 content at 60 characters, as Ruby's encode64 does


def _encode(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    lines = [text[i : i + _ENCODED_LINE] for i in range(0, len(text), _ENCODED_LINE)]
    return "".join(line + "\n" for line in lines)


def _path(ctx: Context) -> str:
    return ctx.param("path").strip("/") if ctx.params.get("path") else ""


def _file_links(
    ctx: Context, repo: Repo, path: str, ref: str, sha: str, kind: str
) -> dict[str, Any]:
    api = f"{ctx.api}/repos/{repo.full_name}"
    quoted = quote(path)
    self_url = f"{api}/contents/{quoted}?ref={quote(ref, safe='')}"
    html = f"{ctx.web}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{quoted}"
    git = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    download = f"{ctx.web}/raw/{repo.full_name}/{ref}/{quoted}" if kind == "file" else None
    return {
        "url": self_url,
        "html_url": html,
        "git_url": git,
        "download_url": download,
        "_links": {"self": self_url, "git": git, "html": html},
    }


def _entry(ctx: Context, repo: Repo, ref: str, path: str, data: bytes | None) -> dict[str, Any]:
    """A directory listing entry, or a file without its content (`data` None: a dir)."""
    kind = "file" if data is not None else "dir"
    sha = blob_sha(data) if data is not None else blob_sha(path.encode())
    return {
        "type": kind,
        "size": len(data) if data is not None else 0,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        **_file_links(ctx, repo, path, ref, sha, kind),
    }


def _ref(ctx: Context, repo: Repo) -> tuple[str, Commit]:
    ref = dict(ctx.request.query).get("ref") or DEFAULT_BRANCH
    commit = repo.git.resolve(ref)
    if commit is None:
        raise ApiError(404, f"No commit found for the ref {ref}", ctx.doc)
    return ref, commit


def get_contents(ctx: Context) -> Reply:
    repo = ctx.repo()
    ref, commit = _ref(ctx, repo)
    path = _path(ctx)
    data = commit.files.get(path)
    if data is not None:
        body = _entry(ctx, repo, ref, path, data)
        if len(data) > CONTENTS_LIMIT:
            body.update({"encoding": "none", "content": ""})
        else:
            body.update({"encoding": "base64", "content": _encode(data)})
        return Reply(200, body)
    prefix = f"{path}/" if path else ""
    children: dict[str, bytes | None] = {}
    for name, content in commit.files.items():
        if name.startswith(prefix):
            head, sep, _rest = name[len(prefix) :].partition("/")
            children[prefix + head] = None if sep else content
    if not children:
        raise ApiError(404, "Not Found", ctx.doc)
    listing = [_entry(ctx, repo, ref, p, d) for p, d in sorted(children.items())]
    return Reply(200, listing)


def get_blob(ctx: Context) -> Reply:
    repo = ctx.repo()
    sha = ctx.param("sha").lower()
    data = repo.git.blob(sha)
    if data is None:
        raise not_found(ctx.doc)
    if len(data) > BLOB_LIMIT:
        raise ApiError(403, "This API returns blobs up to 100 MB in size.", ctx.doc)
    body = {
        "sha": sha,
        "node_id": node_id("Blob", sha),
        "size": len(data),
        "url": f"{ctx.api}/repos/{repo.full_name}/git/blobs/{sha}",
        "content": _encode(data),
        "encoding": "base64",
    }
    return Reply(200, body)


def _signature(ctx: Context, data: dict[str, Any], key: str, date: str) -> Signature | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k), str) for k in ("name", "email")
    ):
        raise invalid(f'"{key}" must have a "name" and an "email".', ctx.doc)
    return Signature(value["name"], value["email"], date)


def put_contents(ctx: Context) -> Reply:
    repo = ctx.repo()
    path = _path(ctx)
    data = json_object(ctx.request.body, ctx.doc)
    for key in ("message", "content"):
        if not isinstance(data.get(key), str):
            raise invalid(f'"{key}" wasn\'t supplied.', ctx.doc)
    try:
        content = base64.b64decode(data["content"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise invalid("content is not valid Base64", ctx.doc) from e
    branch = data.get("branch") or DEFAULT_BRANCH
    head = repo.git.head(str(branch))
    if head is None:
        raise ApiError(404, f"Branch {branch} not found", ctx.doc)
    existing = head.files.get(path)
    if existing is not None:
        sha = data.get("sha")
        if sha is None:
            raise invalid('"sha" wasn\'t supplied.', ctx.doc)
        if sha != blob_sha(existing):
            raise ApiError(409, f"{path} does not match {sha}", ctx.doc)
    date = ctx.world.clock.tick()
    committer = _signature(ctx, data, "committer", date) or _principal_signature(ctx, date)
    author = _signature(ctx, data, "author", date) or committer
    message = str(data["message"])
    commit = repo.git.commit(str(branch), path, content, message, author, committer)
    file_body = _entry(ctx, repo, str(branch), path, content)
    body = {"content": file_body, "commit": _git_commit_body(ctx, repo, commit)}
    return Reply(201 if existing is None else 200, body)


def _principal_signature(ctx: Context, date: str) -> Signature:
    who = ctx.principal.author
    return Signature(who.login, f"{who.id}+{who.login}@users.noreply.github.com", date)


def _person(signature: Signature) -> dict[str, str]:
    return {"name": signature.name, "email": signature.email, "date": signature.date}


_UNSIGNED = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def _git_commit_body(ctx: Context, repo: Repo, commit: Commit) -> dict[str, Any]:
    """A commit as the contents PUT answers it (the git-commit shape)."""
    api = f"{ctx.api}/repos/{repo.full_name}"
    parents = [commit.parent] if commit.parent else []
    return {
        "sha": commit.sha,
        "node_id": node_id("Commit", commit.sha),
        "url": f"{api}/git/commits/{commit.sha}",
        "html_url": f"{ctx.web}/{repo.full_name}/commit/{commit.sha}",
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "message": commit.message,
        "tree": {"sha": commit.tree, "url": f"{api}/git/trees/{commit.tree}"},
        "parents": [
            {
                "sha": p,
                "url": f"{api}/git/commits/{p}",
                "html_url": f"{ctx.web}/{repo.full_name}/commit/{p}",
            }
            for p in parents
        ],
        "verification": dict(_UNSIGNED),
    }


def _commit_body(ctx: Context, repo: Repo, commit: Commit) -> dict[str, Any]:
    """A commit as `GET .../branches/{branch}` embeds it (the commit shape)."""
    api = f"{ctx.api}/repos/{repo.full_name}"
    git = _git_commit_body(ctx, repo, commit)
    return {
        "sha": commit.sha,
        "node_id": git["node_id"],
        "commit": {
            "author": git["author"],
            "committer": git["committer"],
            "message": commit.message,
            "tree": git["tree"],
            "url": git["url"],
            "comment_count": 0,
            "verification": git["verification"],
        },
        "url": f"{api}/commits/{commit.sha}",
        "html_url": git["html_url"],
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "author": None,
        "committer": None,
        "parents": [
            {"sha": p["sha"], "url": f"{api}/commits/{p['sha']}", "html_url": p["html_url"]}
            for p in git["parents"]
        ],
    }


def get_branch(ctx: Context) -> Reply:
    repo = ctx.repo()
    name = ctx.param("branch")
    head = repo.git.head(name)
    if head is None:
        raise ApiError(404, "Branch not found", ctx.doc)
    api = f"{ctx.api}/repos/{repo.full_name}/branches/{quote(name, safe='')}"
    body = {
        "name": name,
        "commit": _commit_body(ctx, repo, head),
        "_links": {"self": api, "html": f"{ctx.web}/{repo.full_name}/tree/{name}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/protection",
    }
    return Reply(200, body)


def _ref_body(ctx: Context, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    api = f"{ctx.api}/repos/{repo.full_name}/git"
    return {
        "ref": ref,
        "node_id": node_id("Ref", f"{repo.id}:{ref}"),
        "url": f"{api}/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{api}/commits/{sha}"},
    }


def create_ref(ctx: Context) -> Reply:
    repo = ctx.repo()
    data = json_object(ctx.request.body, ctx.doc)
    for key in ("ref", "sha"):
        if not isinstance(data.get(key), str):
            raise invalid(f'"{key}" wasn\'t supplied.', ctx.doc)
    ref, sha = str(data["ref"]), str(data["sha"]).lower()
    # GitHub wants "refs/" and at least two slashes; the sandbox keeps branches only.
    name = ref.removeprefix("refs/heads/")
    if not ref.startswith("refs/heads/") or not name or name.endswith("/") or ".." in name:
        raise ApiError(422, "Reference name is invalid", ctx.doc)
    if sha not in repo.git.commits:
        raise ApiError(422, "Object does not exist", ctx.doc)
    if name in repo.git.branches:
        raise ApiError(422, "Reference already exists", ctx.doc)
    repo.git.branch(name, sha)
    body = _ref_body(ctx, repo, ref, sha)
    return Reply(201, body, (("Location", body["url"]),))


def get_ref(ctx: Context) -> Reply:
    repo = ctx.repo()
    ref = ctx.param("ref")
    name = ref.removeprefix("heads/")
    head = repo.git.head(name) if ref.startswith("heads/") else None
    if head is None:
        raise not_found(ctx.doc)
    return Reply(200, _ref_body(ctx, repo, f"refs/{ref}", head.sha))
