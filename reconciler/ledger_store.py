"""Where the ledger lives: a local JSON file, or one file on a branch of a GitHub repository.

Both stores merge our changes onto what is there *now* when saving, so two applies that
touched different secrets both keep their entries. The GitHub store makes the update
conditional on the blob sha it read (the contents API answers 409 otherwise); on a conflict it
re-reads, merges again and retries a few times before giving up with a clear message.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from reconciler.errors import ApiError, UsageError
from reconciler.github import GitHubClient
from reconciler.ledger import Entry, EntryKey, Ledger, LedgerError, dump_ledger, parse_ledger

DEFAULT_LEDGER_PATH = ".reconciler-ledger.json"
_SAVE_ATTEMPTS = 4
_CONTENTS = (
    "fine-grained tokens and GitHub Apps need Repository permissions: Contents ({}) on the "
    "ledger's repository; classic tokens need repo"
)
_CONTENTS_READ, _CONTENTS_WRITE = _CONTENTS.format("read"), _CONTENTS.format("write")


class LedgerStore(Protocol):
    def describe(self) -> str: ...

    def load(self) -> Ledger: ...

    def save(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger: ...


@dataclass
class FileLedgerStore:
    path: Path

    def describe(self) -> str:
        return str(self.path)

    def load(self) -> Ledger:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Ledger()
        except OSError as e:
            raise LedgerError(f"{self.path}: cannot read the ledger ({e.strerror})") from None
        return parse_ledger(text, str(self.path))

    def save(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        ledger = self.load().updated(changes, key_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename: a crash mid-write never leaves a truncated ledger.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(dump_ledger(ledger))
            os.replace(tmp, self.path)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise LedgerError(f"{self.path}: cannot write the ledger ({e.strerror})") from None
        return ledger


@dataclass
class GitHubLedgerStore:
    """`github:OWNER/REPO[@BRANCH]:PATH` through the contents API."""

    client: GitHubClient
    repo: str
    path: str
    branch: str | None = None
    _sha: str | None = None

    def describe(self) -> str:
        at = f"@{self.branch}" if self.branch else ""
        return f"github:{self.repo}{at}:{self.path}"

    def _url_path(self) -> str:
        owner, name = self.repo.split("/", 1)
        return f"/repos/{quote(owner)}/{quote(name)}/contents/{quote(self.path)}"

    def load(self) -> Ledger:
        params = {"ref": self.branch} if self.branch else None
        resp = self.client.request(
            "GET", self._url_path(), params=params, ok=(200, 404), permission=_CONTENTS_READ
        )
        if resp.status_code == 404:
            self._check_branch()
            self._sha = None
            return Ledger()
        data = resp.json()
        if not isinstance(data, dict) or data.get("type") != "file":
            raise LedgerError(f"{self.describe()}: is not a file")
        self._sha = str(data["sha"])
        try:
            text = base64.b64decode(str(data.get("content", ""))).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise LedgerError(f"{self.describe()}: the ledger is not UTF-8 text") from None
        return parse_ledger(text, self.describe())

    def _check_branch(self) -> None:
        """No file yet is an empty ledger; no such repository or branch is a mistake, said
        now rather than by the save after apply has written every secret."""
        owner, name = self.repo.split("/", 1)
        path = f"/repos/{quote(owner)}/{quote(name)}"
        if self.branch:
            path += f"/branches/{quote(self.branch)}"
        found = self.client.request("GET", path, ok=(200, 404), permission=_CONTENTS_READ)
        if found.status_code == 404:
            what = f"branch {self.branch} of {self.repo}" if self.branch else self.repo
            raise LedgerError(
                f"{self.describe()}: {what} does not exist, or the token cannot see it",
                hint="create the branch first (the ledger file itself is created on the "
                "first apply); the token needs Contents: read and write on the repository",
            )

    def save(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        for _ in range(_SAVE_ATTEMPTS):
            ledger = self.load().updated(changes, key_id)
            body: dict[str, str] = {
                "message": "reconciler: update the secrets ledger",
                "content": base64.b64encode(dump_ledger(ledger).encode("utf-8")).decode("ascii"),
            }
            if self._sha:
                body["sha"] = self._sha
            if self.branch:
                body["branch"] = self.branch
            try:
                self.client.request(
                    "PUT", self._url_path(), body=body, ok=(200, 201), permission=_CONTENTS_WRITE
                )
            except ApiError as e:
                if e.request.status in (409, 422):
                    continue  # someone else wrote it since we read it: re-read and merge
                raise
            return ledger
        raise LedgerError(
            f"{self.describe()}: another apply kept updating the ledger; gave up after "
            f"{_SAVE_ATTEMPTS} attempts. GitHub is already changed; re-run apply to record it",
            hint="run applies one at a time (a concurrency group in the workflow)",
        )


def parse_ledger_location(spec: str) -> tuple[str, str, str | None] | Path:
    """`github:OWNER/REPO[@BRANCH]:PATH` -> (repo, path, branch); anything else is a file path."""
    if not spec.startswith("github:"):
        return Path(spec)
    rest = spec[len("github:") :]
    target, sep, path = rest.partition(":")
    repo, _, branch = target.partition("@")
    if not sep or not path or repo.count("/") != 1 or not all(repo.split("/")):
        raise UsageError(
            f'--ledger "{spec}" is not github:OWNER/REPO[@BRANCH]:PATH',
            hint="e.g. github:octo-org/platform@reconciler-ledger:ledger.json",
        )
    return repo, path, branch or None
