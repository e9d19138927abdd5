"""Value sources (env, file, sealed), resolved late, never shown.

A manifest names where each value comes from; the value itself is read only when a
write needs it (or `validate --resolve-values` checks it), and it travels wrapped in
`SecretValue`, whose repr and str never show the bytes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import LocalFileError, SourceError
from reconciler.local_files import read_regular_file
from reconciler.model import (
    DesiredState,
    EnvSource,
    FileSource,
    InlineSource,
    SealedSource,
)
from reconciler.values.env_policy import (
    credential_notices,
    env_refusal,
)

MAX_VALUE_BYTES = 48 * 1024  # GitHub: "Secrets can be up to 48 KB in size"
SEALED_BOX_OVERHEAD = 48  # crypto_box_SEALBYTES: ephemeral public key + MAC


class SecretValue:
    """Plaintext bytes of a secret. Never printed: repr/str are masked."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def reveal(self) -> bytes:
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return "SecretValue(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._data == self._data

    def __hash__(self) -> int:
        return hash(self._data)


def plan_notices(desired: DesiredState, cli_allow: tuple[str, ...]) -> tuple[str, ...]:
    """The notices a plan of `desired` carries: well-known credentials allowed by exact name."""
    env_vars = (s.source.var for s in desired.items() if isinstance(s.source, EnvSource))
    return credential_notices(env_vars, desired.settings, cli_allow)


def confined_path(source: FileSource) -> Path:
    """The real path of a file source, or SourceError if it leaves the manifest's tree."""
    written = Path(source.path)
    if written.is_absolute():
        raise SourceError(
            source.location,
            f'file source "{source.path}" is an absolute path',
            hint="write the path relative to the manifest file",
        )
    base = Path(source.base_dir).resolve()
    target = (base / written).resolve()
    if _in_git_dir(written) or _in_git_dir(target):
        raise SourceError(
            source.location,
            f'file source "{source.path}" is inside a .git directory, which can never be a '
            "value source (after actions/checkout, .git/config holds the job's token)",
            hint="keep value files in the working tree, outside .git",
        )
    if not target.is_relative_to(base):
        raise SourceError(
            source.location,
            f'file source "{source.path}" leaves the manifest\'s directory {base}',
            hint="keep value files inside the directory tree of the manifest that names them "
            "(no `..` escapes, no symlinks pointing outside)",
        )
    return target


def _in_git_dir(path: Path) -> bool:
    """Whether any component is `.git` (a repository, or a worktree's or submodule's `.git`
    file), however cased and with the trailing dots and spaces Windows ignores."""
    return any(part.rstrip(". ").lower() == ".git" for part in path.parts)


def check_sealed(source: SealedSource) -> str | None:
    """None if the ciphertext is plausible sealed-box output; otherwise why not."""
    try:
        raw = base64.b64decode(source.ciphertext, validate=True)
    except (binascii.Error, ValueError):
        return "sealed value is not valid base64"
    if len(raw) <= SEALED_BOX_OVERHEAD:
        return f"sealed value is too short to be a libsodium sealed box ({len(raw)} bytes)"
    if len(raw) - SEALED_BOX_OVERHEAD > MAX_VALUE_BYTES:
        return "sealed value is larger than GitHub's 48 KB limit"
    return None


def resolve(
    source: EnvSource | FileSource | InlineSource,
    environ: Mapping[str, str],
    allow: tuple[str, ...],
) -> SecretValue:
    """Read a value from its source. Errors name the source, never the value."""
    if isinstance(source, InlineSource):
        data = source.text.encode("utf-8")
    elif isinstance(source, EnvSource):
        data = _read_env(source, environ, allow)
    else:
        data = _read_file(source)
    if not data:
        raise SourceError(
            source.location,
            f"{source.describe()} is empty",
            hint="GitHub does not accept empty secret or variable values",
        )
    if len(data) > MAX_VALUE_BYTES:  # only an env value: a file's size is checked as it is read
        raise SourceError(
            source.location,
            f"{source.describe()} holds {len(data)} bytes, more than GitHub's 48 KB limit",
        )
    return SecretValue(data)


def _read_env(source: EnvSource, environ: Mapping[str, str], allow: tuple[str, ...]) -> bytes:
    refused = env_refusal(source.var, allow)
    if refused:
        raise SourceError(source.location, refused.message, hint=refused.hint)
    if source.var not in environ:
        raise SourceError(
            source.location,
            f'environment variable "{source.var}" is not set',
            hint="export it in the job that runs reconciler",
        )
    try:
        return environ[source.var].encode("utf-8")
    except UnicodeEncodeError:
        # os.environ holds undecodable bytes as lone surrogates; the position would hint at
        # the value, so only the name is said.
        raise SourceError(
            source.location,
            f'environment variable "{source.var}" is not valid UTF-8 text',
            hint="set it to UTF-8 text; put a binary value in a file source instead",
        ) from None


def _read_file(source: FileSource) -> bytes:
    """At most the limit and one byte of a regular file, checked before it is read."""
    try:
        return read_regular_file(
            confined_path(source),
            MAX_VALUE_BYTES,
            limit_text=f"GitHub's 48 KB limit ({MAX_VALUE_BYTES} bytes)",
            no_follow=True,  # confined_path resolved every link; one swapped in since is refused
        )
    except LocalFileError as e:
        raise SourceError(
            source.location,
            f'file source "{source.path}" {e.problem}',
            hint="GitHub secrets hold at most 48 KB; store a larger value elsewhere"
            if e.too_large
            else "create the file next to the manifest, or fix the path",
        ) from None
