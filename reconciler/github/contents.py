"""One file on a branch of a repository, through the contents API (and the git blobs API for
files over 1 MB): the requests the GitHub ledger store makes, and the checks on their answers.

What the file means (merging, conflicts, retries) is the ledger's; this module knows the URLs,
the permissions they need and the shape of GitHub's answers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from reconciler.errors import LedgerError
from reconciler.github.permissions import CONTENTS_READ, CONTENTS_WRITE
from reconciler.github.transport import Transport


@dataclass(frozen=True, slots=True)
class ContentsAnswer:
    """What `GET …/contents/PATH` said about the path; each field is checked where it is read."""

    request: str  # "GET /repos/OWNER/REPO/contents/PATH", for messages
    data: Mapping[str, Any]

    @property
    def is_file(self) -> bool:
        return self.data.get("type") == "file"

    def sha(self) -> str:
        sha = self.data.get("sha")
        if not isinstance(sha, str) or not sha:
            raise LedgerError(f"{self.request}: GitHub's answer has no file sha")
        return sha

    def content(self) -> bytes | None:
        """The file's bytes when the answer carries them; None over 1 MB, where the contents
        API answers `"encoding": "none"` and no content (read the blob by its sha)."""
        if self.data.get("encoding") != "base64":
            return None
        return _decode(self.data.get("content"), self.request)


class Contents:
    """`/repos/{owner}/{repo}/contents/{path}`, `…/git/blobs/{sha}`, the repository and its
    branches, each request naming the Contents permission it needs."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self, repo: str, path: str, ref: str | None) -> ContentsAnswer | None:
        """What is at `path` on `ref` (the default branch when None); None when nothing is."""
        url = _contents_path(repo, path)
        params = {"ref": ref} if ref else None
        resp = self._transport.request(
            "GET", url, params=params, ok=(200, 404), permission=CONTENTS_READ
        )
        if resp.status_code == 404:
            return None
        return ContentsAnswer(f"GET {url}", _json_object(resp, f"GET {url}"))

    def blob(self, repo: str, sha: str) -> bytes:
        """A blob by its sha (up to 100 MB), decoded."""
        path = f"{_repo_path(repo)}/git/blobs/{quote(sha)}"
        resp = self._transport.request("GET", path, permission=CONTENTS_READ)
        data = _json_object(resp, f"GET {path}")
        if data.get("encoding") != "base64":
            raise LedgerError(
                f"GET {path}: unexpected blob encoding {str(data.get('encoding'))[:40]!r}"
            )
        return _decode(data.get("content"), f"GET {path}")

    def exists(self, repo: str, branch: str | None) -> bool:
        """Whether the repository (and `branch` of it, when given) exists for this token."""
        path = _repo_path(repo)
        if branch:
            path += f"/branches/{quote(branch)}"
        found = self._transport.request("GET", path, ok=(200, 404), permission=CONTENTS_READ)
        return found.status_code != 404

    def may_push(self, repo: str) -> bool:
        """False when GitHub says the token may not push (`permissions.push` is false). User
        tokens get `permissions`; an app's installation token gets none, which is not a no."""
        path = _repo_path(repo)
        resp = self._transport.request("GET", path, permission=CONTENTS_READ)
        permissions = _json_object(resp, f"GET {path}").get("permissions")
        return not (isinstance(permissions, dict) and permissions.get("push") is False)

    def put(
        self,
        repo: str,
        path: str,
        content: bytes,
        message: str,
        *,
        sha: str | None,
        branch: str | None,
    ) -> None:
        """Create the file (no `sha`), or replace the version `sha` names: GitHub answers 409
        (or 422 on a create) when the file changed since, raised as an ApiError."""
        body: dict[str, str] = {
            "message": message,
            "content": base64.b64encode(content).decode("ascii"),
        }
        if sha:
            body["sha"] = sha
        if branch:
            body["branch"] = branch
        self._transport.request(
            "PUT", _contents_path(repo, path), body=body, ok=(200, 201), permission=CONTENTS_WRITE
        )


def _repo_path(repo: str) -> str:
    owner, name = repo.split("/", 1)
    return f"/repos/{quote(owner)}/{quote(name)}"


def _contents_path(repo: str, path: str) -> str:
    return f"{_repo_path(repo)}/contents/{quote(path)}"


def _json_object(resp: requests.Response, request: str) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise LedgerError(f"{request}: GitHub's answer is not a JSON object")
    return data


def _decode(content: object, request: str) -> bytes:
    try:
        return base64.b64decode(str(content or ""))
    except (binascii.Error, ValueError):
        raise LedgerError(f"{request}: the ledger's content is not valid base64") from None
