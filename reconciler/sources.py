"""Value sources (env, file, sealed), resolved late, never shown.

A manifest names where each value comes from; the value itself is read only when a
write needs it (or `validate --resolve-values` checks it), and it travels wrapped in
`SecretValue`, whose repr and str never show the bytes.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import SourceError
from reconciler.model import Location

MAX_VALUE_BYTES = 48 * 1024  # GitHub: "Secrets can be up to 48 KB in size"
SEALED_BOX_OVERHEAD = 48  # crypto_box_SEALBYTES: ephemeral public key + MAC

# Never a value source: the tool's own credentials, the runner's, and anything GitHub sets.
# Otherwise a merged manifest could copy the deploy token into a secret that a repository it
# names can read.
FORBIDDEN_ENV = (
    "GITHUB_*",
    "GH_*",
    "ACTIONS_*",
    "RUNNER_*",
    "INPUT_*",
    "RECONCILER_APP_*",
    "RECONCILER_LEDGER_KEY",
    "RECONCILER_TOKEN",
)
# Allowed unless the manifest (`settings.allow_env`) or `--allow-env` add more patterns.
DEFAULT_ALLOW_ENV = ("*_TOKEN", "*_PAT", "*_PASSWORD", "*_KEY", "*_SECRET", "SECRET_*")


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


@dataclass(frozen=True, slots=True)
class EnvSource:
    var: str
    location: Location

    def describe(self) -> str:
        return f"env:{self.var}"


@dataclass(frozen=True, slots=True)
class FileSource:
    path: str  # as written, relative to `base_dir`
    base_dir: str  # the manifest file's directory: the tree the path is confined to
    location: Location

    def describe(self) -> str:
        return f"file:{self.path}"


@dataclass(frozen=True, slots=True)
class SealedSource:
    """Ciphertext already sealed to the scope's public key; safe to commit."""

    ciphertext: str = field(repr=False)
    key_id: str
    location: Location

    def describe(self) -> str:
        return f"sealed:{self.key_id}"


Source = EnvSource | FileSource | SealedSource


def env_name_allowed(name: str, allow: tuple[str, ...]) -> str | None:
    """None if `name` may be an env source; otherwise why not."""
    for pattern in FORBIDDEN_ENV:
        if fnmatch.fnmatchcase(name, pattern):
            return (
                f'environment variable "{name}" can never be a value source: it matches '
                f'"{pattern}", reserved for credentials of the tool and the CI runner'
            )
    patterns = DEFAULT_ALLOW_ENV + allow
    if any(fnmatch.fnmatchcase(name, p) for p in patterns):
        return None
    return f'environment variable "{name}" is not in the env allow-list ({", ".join(patterns)})'


ALLOW_ENV_HINT = "add a pattern to `settings.allow_env` in the manifest or pass --allow-env PATTERN"


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
    if not target.is_relative_to(base):
        raise SourceError(
            source.location,
            f'file source "{source.path}" leaves the manifest\'s directory {base}',
            hint="keep value files inside the directory tree of the manifest that names them "
            "(no `..` escapes, no symlinks pointing outside)",
        )
    return target


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
    source: EnvSource | FileSource, environ: Mapping[str, str], allow: tuple[str, ...]
) -> SecretValue:
    """Read a value from its source. Errors name the source, never the value."""
    if isinstance(source, EnvSource):
        refused = env_name_allowed(source.var, allow)
        if refused:
            raise SourceError(source.location, refused, hint=ALLOW_ENV_HINT)
        if source.var not in environ:
            raise SourceError(
                source.location,
                f'environment variable "{source.var}" is not set',
                hint="export it in the job that runs reconciler",
            )
        data = environ[source.var].encode("utf-8")
    else:
        path = confined_path(source)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise SourceError(
                source.location,
                f'file source "{source.path}" cannot be read: {e.strerror or type(e).__name__}',
                hint="create the file next to the manifest, or fix the path",
            ) from None
    if not data:
        raise SourceError(
            source.location,
            f"{source.describe()} is empty",
            hint="GitHub does not accept empty secret values",
        )
    if len(data) > MAX_VALUE_BYTES:
        raise SourceError(
            source.location,
            f"{source.describe()} holds {len(data)} bytes, more than GitHub's 48 KB limit",
        )
    return SecretValue(data)
