"""Where a manifest entry was written (`Location`) and where its value comes from: the value
sources, frozen and value-free (an inline variable's text and sealed ciphertext stay out of
reprs). Re-exported by `reconciler.model`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: 1-based line and column in a manifest file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


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


@dataclass(frozen=True, slots=True)
class InlineSource:
    """A variable's value written in the manifest itself (variables only: they are plain
    text on GitHub too). Kept out of reprs for teams that treat configuration as sensitive."""

    text: str = field(repr=False)
    location: Location

    def describe(self) -> str:
        return "inline"


@dataclass(frozen=True, slots=True)
class AgeSource:
    """One value in an age value file committed beside the manifest (see values/age_files):
    a YAML mapping of names to values each encrypted to the file's recipients."""

    path: str  # as written, relative to `base_dir`
    key: str  # the value's name inside the file
    base_dir: str  # the manifest file's directory: the tree the path is confined to
    location: Location

    def describe(self) -> str:
        return f"age:{self.path}#{self.key}"


@dataclass(frozen=True, slots=True)
class AwsSource:
    """A secret in AWS Secrets Manager, by name or ARN; optionally one key of its JSON value,
    and a version stage or id (default: AWSCURRENT)."""

    secret_id: str
    location: Location
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None
    region: str | None = None

    def describe(self) -> str:
        text = f"aws:{self.secret_id}"
        if self.json_key is not None:
            text += f"#{self.json_key}"
        version = self.version_id or self.version_stage
        return f"{text}@{version}" if version else text


@dataclass(frozen=True, slots=True)
class CommandSource:
    """A program whose standard output is the value (`vault kv get -field=…`, `op read …`):
    an argument list run without a shell, only where the operator allows commands."""

    argv: tuple[str, ...]
    location: Location
    timeout: float = 30.0

    def describe(self) -> str:
        return "command:" + " ".join(self.argv)


Source = (
    EnvSource | FileSource | SealedSource | InlineSource | AgeSource | AwsSource | CommandSource
)
