"""One exception base class, typed subclasses that carry their context, and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from reconciler.model import Location
from reconciler.safe_text import printable, printable_block


class ExitStatus(IntEnum):
    """The exit-code contract of every command (documented in the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # plan/apply --detailed-exitcode: changes present
    UNSAFE = 3  # apply refused an unsafe plan without --force
    USAGE = 64  # argparse would use 2, which means "changes present" here
    BUG = 70  # EX_SOFTWARE: an unexpected exception, i.e. a bug in reconciler
    INTERRUPTED = 130
    OUTPUT_CLOSED = 141  # stdout closed early (`| head`), as a shell reports SIGPIPE


class ReconcilerError(Exception):
    """Base of every error the CLI reports as a message rather than a traceback."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        # Messages carry names from the API, the ledger and manifests: whatever escaped
        # field-level escaping, no control character or workflow command reaches the terminal.
        text = f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
        return printable_block(text)


class UsageError(ReconcilerError):
    exit_status = ExitStatus.USAGE


@dataclass(frozen=True, slots=True)
class Problem:
    """One located finding in a manifest: `file:line:col  json.path: message`."""

    location: Location | None
    path: str
    message: str
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.col, self.path) if loc else ("", 0, 0, self.path)

    def __str__(self) -> str:
        where = f"{self.location}  " if self.location else ""
        path = f"{self.path}: " if self.path else ""
        text = f"{where}{path}{self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class ManifestError(ReconcilerError):
    """Every problem found in the manifests, reported together, sorted by place."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(sorted(problems, key=Problem.sort_key))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{count} {noun} in the manifest:\n" + "\n".join(f"  {p}" for p in self.problems)
        )


class UnknownRepositoriesError(ManifestError):
    """Repositories named in the manifest that GitHub does not know (or the token cannot see)."""


class SourceError(ReconcilerError):
    """A value source cannot be resolved: missing variable, unreadable file, forbidden name."""

    def __init__(self, location: Location | None, message: str, *, hint: str | None = None):
        self.location = location
        self.detail = message  # without the location, for callers that place it themselves
        super().__init__(f"{location}  {message}" if location else message, hint=hint)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What identifies one API request in an error: never the token, never a body."""

    method: str
    path: str
    status: int | None = None
    request_id: str | None = None

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.method} {self.path}{status}{rid}"


class ApiError(ReconcilerError):
    """A GitHub API request failed; carries the request and GitHub's own message."""

    def __init__(
        self,
        request: RequestInfo,
        message: str,
        *,
        github_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.request = request
        self.github_message = github_message
        # GitHub's message is the server's text: one escaped line, never a new line of output.
        said = f': GitHub said "{printable(github_message)}"' if github_message else ""
        super().__init__(f"{request}: {message}{said}", hint=hint)


class RateLimitError(ApiError):
    """A rate limit whose reset is further away than we are allowed to wait."""


class PlanMismatchError(ReconcilerError):
    """The reviewed plan no longer matches what live state and manifest produce now."""


class UnsafePlanError(ReconcilerError):
    exit_status = ExitStatus.UNSAFE


class SandboxError(ReconcilerError):
    """The embedded sandbox could not start or load its seed."""


class OutputFileError(UsageError):
    """A file named by a flag (`--out`, `--results`) cannot be written."""

    def __init__(self, flag: str, path: str, reason: str) -> None:
        self.flag = flag
        self.path = path
        self.reason = reason
        super().__init__(
            f'{flag} "{path}" cannot be written: {reason}',
            hint=f"point {flag} at a writable file in an existing directory",
        )


class PlanFileError(ReconcilerError):
    """A saved plan that cannot be trusted: unreadable, an unknown format or version, or
    changes that do not hash to its checksum. Raised before any request."""

    def __init__(self, path: str, problem: str, *, hint: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"{path}: {problem}; nothing was read from or written to GitHub",
            hint=hint or "run `reconciler plan --out FILE` again and review the new plan",
        )


class NotRecordedError(ReconcilerError):
    """Apply wrote to GitHub, then could not record the writes in the ledger."""

    def __init__(self, ledger: str, cause: str, written: tuple[str, ...]) -> None:
        self.ledger = ledger
        self.cause = cause
        self.written = written
        shown = "\n".join(f"  {w}" for w in written[:50])
        more = f"\n  … and {len(written) - 50} more" if len(written) > 50 else ""
        super().__init__(
            f"GitHub was changed ({len(written)} writes, listed below and in the results), but "
            f"recording them in the ledger {ledger} failed: {cause}\n{shown}{more}",
            hint="fix the ledger's location, then re-run apply: it is safe, it writes these "
            "secrets again and records them (with `drift: fail`, first run `reconciler ledger "
            "forget NAME` for each name above)",
        )


class CommentIdentityError(ReconcilerError):
    """Who the PR comment would be posted as cannot be told; without it the tool cannot tell
    its own comment from someone else's carrying the same marker."""

    def __init__(self, request: str, problem: str) -> None:
        self.request = request
        self.problem = problem
        super().__init__(
            f"{request}: cannot tell which account posts the plan comment: {problem}",
            hint="give --comment a token that can read GET /user (RECONCILER_COMMENT_TOKEN, "
            "else GITHUB_TOKEN), or the workflow's GITHUB_TOKEN inside GitHub Actions",
        )


class LocalFileError(ReconcilerError):
    """A local file (value, manifest, plan, key) that is not a regular file within its size
    limit, or cannot be read. `problem` completes a sentence about the file, so callers that
    know where it was named (a manifest location) can place it themselves."""

    def __init__(self, path: str, problem: str, *, too_large: bool = False) -> None:
        self.path = path
        self.problem = problem
        self.too_large = too_large
        super().__init__(f"{path} {problem}")


class DriftError(ReconcilerError):
    """Secrets changed outside reconciler while the manifest's drift policy is `fail`."""


class LedgerError(ReconcilerError):
    """The ledger cannot be read, parsed or written."""


_MALFORMED_HINT = (
    "the server at --api-url did not answer like GitHub's REST API (a proxy, captive portal or "
    "wrong URL may be answering); check --api-url and re-run, which is safe"
)


class MalformedResponseError(ApiError):
    """A response whose body is not what GitHub's REST API answers for this request."""

    def __init__(self, request: RequestInfo, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        place = f"{where}: " if where else ""
        super().__init__(request, f"malformed response: {place}{problem}", hint=_MALFORMED_HINT)


class BaselineRefusedError(ReconcilerError):
    """`baseline` would record something it cannot stand behind; nothing was recorded.
    `reasons` are lines (`file:line:col  scope app NAME: why`), every one found."""

    def __init__(self, problem: str, reasons: tuple[str, ...], *, hint: str) -> None:
        self.problem = problem
        self.reasons = reasons
        listed = "\n".join(f"  {r}" for r in reasons)
        super().__init__(f"{problem}; nothing was recorded:\n{listed}", hint=hint)


class RepoPatternError(ReconcilerError):
    """`import --repo` selected nothing it can read: a pattern that matches no repository of
    the listed owners, or a glob whose owner is not an organization (found after listing)."""

    def __init__(self, owner: str, problem: str) -> None:
        self.owner = owner
        self.problem = problem
        super().__init__(
            f"{owner} {problem}; nothing was imported",
            hint="check the spelling (names and globs match case-insensitively), or list the "
            "repositories with --repo OWNER/NAME",
        )


class OutputExistsError(UsageError):
    """A file `import` would write is already there and `--force` was not given."""

    def __init__(self, flag: str, path: str) -> None:
        self.flag = flag
        self.path = path
        super().__init__(
            f'{flag} "{path}" already exists; nothing was read or written',
            hint="pass --force to overwrite it, or choose another file",
        )


class PlanProblemsError(ReconcilerError):
    """Apply found, before its first write, problems that make it fail (an unreadable source,
    a stale sealed value): the same ones `plan` reports. `message` is safety's wording."""

    def __init__(self, message: str, count: int) -> None:
        self.count = count
        super().__init__(message, hint="fix each problem above, then run `reconciler plan` again")


class ApplyCancelledError(ReconcilerError):
    """The person at the terminal did not answer `yes` to apply's question (another answer,
    end of input, or Ctrl-C — which exits 130, as an interrupt does anywhere)."""

    def __init__(self, reason: str, *, interrupted: bool = False) -> None:
        self.reason = reason
        if interrupted:
            self.exit_status = ExitStatus.INTERRUPTED
        super().__init__(
            f"apply cancelled ({reason}); nothing was written",
            hint="run apply again and answer `yes` to write the changes",
        )


class TargetMatchesNothingError(UsageError):
    """A `--target` selects nothing the manifests declare or GitHub holds in their scopes."""

    def __init__(self, targets: tuple[str, ...]) -> None:
        self.targets = targets
        which = ", ".join(f'"{t}"' for t in targets)
        noun = "target matches" if len(targets) == 1 else "targets match"
        super().__init__(
            f"--{noun} nothing the manifests declare or GitHub holds in their scopes: {which}; "
            "nothing was planned",
            hint="check the spelling (SCOPE[:APP[:NAME]]: an ORG alone selects organization "
            "secrets, OWNER/REPO or OWNER/* repository ones); `reconciler plan` without "
            "--target shows every change",
        )
