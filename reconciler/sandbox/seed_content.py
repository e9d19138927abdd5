"""Files on branches and issue comments in seeds and dumps (see `seed.py` for the format).

    repos:
      octo-org/web:
        files:                      # branch -> path -> file; other branches start at main's
          main:                     # first commit, then get their own files
            ledger.json: {content: "{}"}          # or content_base64 for non-UTF-8 bytes
          reconciler-ledger: {}
        issues:
          7:
            pull_request: true
            comments:
              - {body: "plan ...", user: "sandbox-user"}   # id, created_at, updated_at kept
                                                            # when given (dumps give them)

Only the head of each branch is kept: commit history and commit shas do not survive
a round trip, blob shas (content) do.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from reconciler.sandbox.auth import SANDBOX_USER
from reconciler.sandbox.gitdata import DEFAULT_BRANCH, SANDBOX_SIGNATURE, Signature
from reconciler.sandbox.issues import Author, Comment, Issue
from reconciler.sandbox.state import Repo, World


class ContentSeedError(ValueError):
    """Raised for a malformed `files` or `issues` entry; `seed.py` reports it as SeedError."""


def _mapping(value: object, where: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ContentSeedError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _bytes(spec: Mapping[str, Any], where: str) -> bytes:
    if "content_base64" in spec:
        return base64.b64decode(str(spec["content_base64"]), validate=True)
    if "content" in spec:
        return str(spec["content"]).encode()
    raise ContentSeedError(f"{where}: a file needs `content` or `content_base64`")


def load_files(world: World, repo: Repo, data: object, where: str) -> None:
    branches = _mapping(data, where)
    git = repo.git
    start = git.branches[DEFAULT_BRANCH]
    for branch in branches:
        if str(branch) not in git.branches:
            git.branch(str(branch), start)
    for branch, files in branches.items():
        for path, raw in _mapping(files, f"{where}.{branch}").items():
            spec = _mapping(raw, f"{where}.{branch}.{path}")
            data_bytes = _bytes(spec, f"{where}.{branch}.{path}")
            author = Signature(*SANDBOX_SIGNATURE, world.clock.tick())
            git.commit(str(branch), str(path), data_bytes, "Seed", author)


def _author(raw: object) -> Author:
    if raw is None or raw == SANDBOX_USER.login:
        return SANDBOX_USER
    if isinstance(raw, str):
        return Author(raw, 0, "User", "NONE")
    spec = _mapping(raw, "user")
    return Author(
        str(spec["login"]),
        int(spec.get("id", 0)),
        str(spec.get("type", "User")),
        str(spec.get("author_association", "NONE")),
    )


def load_issues(world: World, repo: Repo, data: object, where: str) -> None:
    for key, raw in _mapping(data, where).items():
        spec = _mapping(raw, f"{where}.{key}")
        number = int(key)
        issue = repo.issues.setdefault(number, Issue(number, bool(spec.get("pull_request"))))
        for index, entry in enumerate(spec.get("comments") or []):
            comment = _mapping(entry, f"{where}.{key}.comments[{index}]")
            if "id" in comment:
                comment_id = int(comment["id"])
                world.observe_comment_id(comment_id)
            else:
                comment_id = world.next_comment_id()
            if "updated_at" in comment:
                updated = str(comment["updated_at"])
                created = str(comment.get("created_at", updated))
                world.clock.observe(updated)
            else:
                created = updated = world.clock.tick()
            body = str(comment.get("body", ""))
            author = _author(comment.get("user"))
            issue.comments.append(Comment(comment_id, body, author, created, updated))


def _file_dump(data: bytes) -> dict[str, str]:
    try:
        return {"content": data.decode()}
    except UnicodeDecodeError:
        return {"content_base64": base64.b64encode(data).decode()}


def dump_content(repo: Repo) -> dict[str, Any]:
    """`files` and `issues` for a repository's dump entry; empty when there are none."""
    out: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for branch in sorted(repo.git.branches):
        head = repo.git.head(branch)
        assert head is not None
        if branch != DEFAULT_BRANCH or head.files:
            files[branch] = {p: _file_dump(d) for p, d in sorted(head.files.items())}
    if files:
        out["files"] = files
    if repo.issues:
        out["issues"] = {
            str(number): {
                "pull_request": issue.pull_request,
                "comments": [
                    {
                        "id": c.id,
                        "body": c.body,
                        "user": {
                            "login": c.author.login,
                            "id": c.author.id,
                            "type": c.author.type,
                            "author_association": c.author.association,
                        },
                        "created_at": c.created_at,
                        "updated_at": c.updated_at,
                    }
                    for c in issue.comments
                ],
            }
            for number, issue in sorted(repo.issues.items())
        }
    return out
