"""Where the ledger lives: a local JSON file, or one file on a branch of a GitHub repository.

Both stores merge our changes onto what is there *now* when saving, so two applies that
touched different secrets both keep their entries. The file store holds an exclusive lock
(`flock` on the ledger's directory) around read-merge-write, so two runs on one machine
never interleave; the GitHub store makes the update conditional on the blob sha it read
(the contents API answers 409 otherwise); on a conflict it re-reads, merges again and
retries a few times before giving up with a clear message.

Both can say, before apply's first write, whether a save could succeed (`check_writable`):
a ledger that cannot be recorded is found before GitHub is changed, not after.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reconciler.errors import ApiError, LedgerError, UsageError
from reconciler.ledger.format import Entry, EntryKey, Ledger, dump_ledger, parse_ledger

if TYPE_CHECKING:  # the file store and `--help` never load the HTTP stack
    from reconciler.github.contents import Contents

DEFAULT_LEDGER_PATH = ".reconciler-ledger.json"
_SAVE_ATTEMPTS = 4
# Another run's read-merge-write takes milliseconds; a lock held this long is a stuck process.
LOCK_TIMEOUT = 60.0
_LOCK_POLL = 0.05


class LedgerStore(Protocol):
    def describe(self) -> str: ...

    def load(self) -> Ledger: ...

    def check_writable(self) -> None:
        """Raise LedgerError now if a later `save` could not write; changes nothing."""
        ...

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

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive across processes. The lock is on the directory, not on a lock file: the
        ledger itself is replaced by rename on every save (a lock on it would be on a file
        no longer there), and a lock file would be left in the user's checkout."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise self._unwritable(e) from None
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LedgerError(
                            f"{self.path}: another reconciler has held the ledger's lock "
                            f"for over {LOCK_TIMEOUT:.0f}s",
                            hint="wait for the other run to finish; if none is running, "
                            "the process holding the lock is stuck: end it",
                        ) from None
                    time.sleep(_LOCK_POLL)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _unwritable(self, e: OSError) -> LedgerError:
        return LedgerError(
            f"{self.path}: the ledger cannot be written there ({e.strerror or type(e).__name__})",
            hint="point --ledger (or RECONCILER_LEDGER) at a file in a writable directory, "
            "or pass --no-ledger",
        )

    def check_writable(self) -> None:
        if self.path.is_dir():
            raise LedgerError(
                f"{self.path}: the ledger location is a directory",
                hint="point --ledger at a file, e.g. .reconciler-ledger.json",
            )
        import tempfile  # here, not at the top: the CLI's start-up imports this module

        with self._locked():
            try:
                fd, probe = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-", suffix=".tmp")
            except OSError as e:
                raise self._unwritable(e) from None
            os.close(fd)
            os.unlink(probe)

    def save(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        import tempfile

        # Read-merge-write under the lock: two applies at once both keep their entries.
        with self._locked():
            ledger = self.load().updated(changes, key_id)
            # Write-then-rename: a crash mid-write never leaves a truncated ledger.
            try:
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-", suffix=".tmp")
            except OSError as e:
                raise self._unwritable(e) from None
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(dump_ledger(ledger))
                os.replace(tmp, self.path)
            except OSError as e:
                Path(tmp).unlink(missing_ok=True)
                raise self._unwritable(e) from None
        return ledger


@dataclass
class GitHubLedgerStore:
    """`github:OWNER/REPO[@BRANCH]:PATH` through the contents API."""

    contents: Contents
    repo: str
    path: str
    branch: str | None = None
    _sha: str | None = None

    def describe(self) -> str:
        at = f"@{self.branch}" if self.branch else ""
        return f"github:{self.repo}{at}:{self.path}"

    def load(self) -> Ledger:
        answer = self.contents.get(self.repo, self.path, self.branch)
        if answer is None:
            self._check_branch()
            self._sha = None
            return Ledger()
        if not answer.is_file:
            raise LedgerError(f"{self.describe()}: is not a file")
        self._sha = answer.sha()
        raw = answer.content()
        if raw is None:
            # Over 1 MB the contents API answers `"encoding": "none"` and no content; the git
            # blobs API serves the same blob, by sha, up to 100 MB.
            raw = self.contents.blob(self.repo, self._sha)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError(f"{self.describe()}: the ledger is not UTF-8 text") from None
        return parse_ledger(text, self.describe())

    def check_writable(self) -> None:
        """The branch exists (checked by `load`); the token may push to the repository.
        GitHub says so in `permissions.push` for user tokens; an app's installation token
        carries no `permissions` there, so only an explicit false refuses."""
        from reconciler.github.permissions import CONTENTS_WRITE

        if not self.contents.may_push(self.repo):
            raise LedgerError(
                f"{self.describe()}: the token cannot write to {self.repo} (GitHub says "
                "permissions.push is false)",
                hint=CONTENTS_WRITE,
            )

    def _check_branch(self) -> None:
        """No file yet is an empty ledger; no such repository or branch is a mistake, said
        now rather than by the save after apply has written every secret."""
        if not self.contents.exists(self.repo, self.branch):
            what = f"branch {self.branch} of {self.repo}" if self.branch else self.repo
            raise LedgerError(
                f"{self.describe()}: {what} does not exist, or the token cannot see it",
                hint="create the branch first (the ledger file itself is created on the "
                "first apply); the token needs Contents: read and write on the repository",
            )

    def save(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        for _ in range(_SAVE_ATTEMPTS):
            ledger = self.load().updated(changes, key_id)
            try:
                self.contents.put(
                    self.repo,
                    self.path,
                    dump_ledger(ledger).encode("utf-8"),
                    "reconciler: update the secrets ledger",
                    sha=self._sha,
                    branch=self.branch,
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
