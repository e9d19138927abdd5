"""A repository's branches and files, just enough git for the contents API.

Each branch points at a commit; a commit holds a full snapshot of the files (path ->
bytes), its parent and its tree sha. Blob shas are real git blob shas; commit and tree
shas are stable sha1 digests of their inputs (unique, 40 hex, but not what git would
compute, since there are no real tree or commit objects).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_BRANCH = "main"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree


def blob_sha(data: bytes) -> str:
    """The git blob sha1: `sha1(b"blob <len>\\0" + data)`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _tree_sha(files: Mapping[str, bytes]) -> str:
    if not files:
        return EMPTY_TREE
    listing = "\n".join(f"{path} {blob_sha(data)}" for path, data in sorted(files.items()))
    return hashlib.sha1(f"tree\0{listing}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    email: str
    date: str


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    message: str
    tree: str
    parent: str | None
    author: Signature
    committer: Signature
    files: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))


SANDBOX_SIGNATURE = ("GitHub", "noreply@github.com")


@dataclass(slots=True)
class RepoGit:
    """Branches (name -> head commit sha) and every commit ever made, by sha."""

    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    @classmethod
    def initial(cls, seed: str, date: str) -> RepoGit:
        """A repository with one empty commit on `main`; `seed` makes its sha unique."""
        git = cls()
        author = Signature(*SANDBOX_SIGNATURE, date)
        sha = hashlib.sha1(f"commit\0{seed}\0{date}".encode()).hexdigest()
        git.commits[sha] = Commit(sha, "Initial commit", EMPTY_TREE, None, author, author)
        git.branches[DEFAULT_BRANCH] = sha
        return git

    def branch(self, name: str, sha: str) -> None:
        """Create branch `name` at commit `sha` (both checked by the caller)."""
        self.branches[name] = sha

    def blob(self, sha: str) -> bytes | None:
        """A file's content by its blob sha, from any commit (git keeps every blob)."""
        for commit in self.commits.values():
            for data in commit.files.values():
                if blob_sha(data) == sha:
                    return data
        return None

    def head(self, branch: str) -> Commit | None:
        sha = self.branches.get(branch)
        return None if sha is None else self.commits[sha]

    def resolve(self, ref: str) -> Commit | None:
        """A branch name, `heads/NAME`, `refs/heads/NAME` or a full commit sha."""
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix) and ref[len(prefix) :] in self.branches:
                return self.head(ref[len(prefix) :])
        return self.head(ref) or self.commits.get(ref.lower())

    def commit(
        self,
        branch: str,
        path: str,
        data: bytes,
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> Commit:
        """Write one file on a branch (which must exist) as a new commit; the new head."""
        parent = self.commits[self.branches[branch]]
        files = dict(parent.files)
        files[path] = data
        tree = _tree_sha(files)
        digest = f"commit\0{tree}\0{parent.sha}\0{author.date}\0{message}\0{len(self.commits)}"
        sha = hashlib.sha1(digest.encode()).hexdigest()
        new = Commit(
            sha, message, tree, parent.sha, author, committer or author, MappingProxyType(files)
        )
        self.commits[sha] = new
        self.branches[branch] = sha
        return new
