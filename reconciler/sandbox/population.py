"""The Python API for GitHub Apps, files on branches, and issue comments.

`Sandbox` inherits these methods; they work on `self.world` under its lock, and raise
`ApiError` (e.g. 404 for an unknown repository) the way the HTTP side would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.sandbox.rules.errors import ApiError, not_found
from reconciler.sandbox.rules.permissions import DEFAULT_APP_PERMISSIONS
from reconciler.sandbox.world.git import DEFAULT_BRANCH, SANDBOX_SIGNATURE, Signature, blob_sha
from reconciler.sandbox.world.issues import Issue
from reconciler.sandbox.world.scopes import Repo
from reconciler.sandbox.world.state import World


class Population:
    world: World

    def _repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return self.world.repo(owner, name)

    # -- GitHub Apps ----------------------------------------------------------------------

    def add_app(
        self,
        app_id: int,
        installations: Mapping[str, Sequence[str] | None],
        *,
        permissions: Mapping[str, str] | None = None,
        slug: str | None = None,
    ) -> bytes:
        """Register an app and install it; returns its private key (PEM, PKCS#1).

        `installations` maps an organisation login to the repository names the
        installation may reach, or None for all of them. Missing organisations and
        repositories are created. `permissions` default to `DEFAULT_APP_PERMISSIONS`.
        """
        granted = DEFAULT_APP_PERMISSIONS if permissions is None else permissions
        pem = self.world.apps.register(app_id, granted, slug or f"sandbox-app-{app_id}")
        with self.world.lock:
            for login, names in installations.items():
                org = self.world.add_org(login)
                ids = None
                if names is not None:
                    ids = frozenset(self.world.add_repo(f"{org.login}/{n}").id for n in names)
                self.world.apps.install(app_id, org.login, ids, self.world.clock.peek())
        return pem

    def installation_id(self, app_id: int, account: str) -> int:
        found = self.world.apps.for_account(app_id, account)
        if found is None:
            raise not_found()
        return found.id

    def set_installation_token_ttl(self, seconds: int) -> None:
        """How long installation tokens minted from now on live (default one hour)."""
        if seconds < 1:
            raise ValueError("an installation token must live at least one second")
        self.world.apps.token_ttl = seconds

    # -- branches and files ---------------------------------------------------------------

    def add_branch(self, repo: str, name: str, *, from_branch: str = DEFAULT_BRANCH) -> str:
        """Create a branch at the head of `from_branch`; returns its commit sha."""
        with self.world.lock:
            git = self._repo(repo).git
            head = git.head(from_branch)
            if head is None:
                raise ApiError(404, "Branch not found")
            if name in git.branches:
                raise ApiError(422, "Reference already exists")
            git.branch(name, head.sha)
            return head.sha

    def branch_sha(self, repo: str, branch: str = DEFAULT_BRANCH) -> str | None:
        with self.world.lock:
            head = self._repo(repo).git.head(branch)
            return None if head is None else head.sha

    def put_file(
        self,
        repo: str,
        path: str,
        data: bytes,
        *,
        branch: str = DEFAULT_BRANCH,
        message: str = "Update from the sandbox",
    ) -> str:
        """Commit `data` at `path` on an existing branch; returns the blob sha."""
        with self.world.lock:
            git = self._repo(repo).git
            if git.head(branch) is None:
                raise ApiError(404, f"Branch {branch} not found")
            author = Signature(*SANDBOX_SIGNATURE, self.world.clock.tick())
            git.commit(branch, path.strip("/"), data, message, author)
            return blob_sha(data)

    def file(self, repo: str, path: str, branch: str = DEFAULT_BRANCH) -> bytes | None:
        """The file's bytes at the head of `branch`; None when the branch or file is absent."""
        with self.world.lock:
            head = self._repo(repo).git.head(branch)
            return None if head is None else head.files.get(path.strip("/"))

    def files(self, repo: str, branch: str = DEFAULT_BRANCH) -> dict[str, bytes]:
        with self.world.lock:
            head = self._repo(repo).git.head(branch)
            return {} if head is None else dict(head.files)

    # -- issues, pull requests, comments ---------------------------------------------------

    def add_issue(self, repo: str, number: int, *, pull_request: bool = False) -> None:
        """Make issue (or pull request) `number` exist, so comments can be posted on it."""
        if number < 1:
            raise ValueError("issue numbers start at 1")
        with self.world.lock:
            issues = self._repo(repo).issues
            existing = issues.get(number)
            if existing is not None and existing.pull_request != pull_request:
                raise ValueError(f"#{number} already exists as another kind")
            issues.setdefault(number, Issue(number, pull_request))

    def add_pull_request(self, repo: str, number: int) -> None:
        self.add_issue(repo, number, pull_request=True)

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments on an issue or pull request, oldest first."""
        with self.world.lock:
            issue = self._repo(repo).issues.get(number)
            if issue is None:
                raise not_found()
            return [
                {
                    "id": c.id,
                    "body": c.body,
                    "user": c.author.login,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                }
                for c in issue.comments
            ]
