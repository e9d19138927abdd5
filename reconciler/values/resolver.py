"""One run's value reader: every source kind behind one object, read late, never shown.

`Resolver` reads values the way apply writes them: env, file and inline sources directly;
age value files read and decrypted once per file; AWS secrets fetched in batches (`prefetch`);
commands run only when the operator allows them outside the manifest (`--allow-commands` or
RECONCILER_ALLOW_COMMANDS=1). Values are cached for the run so plan and apply read each
source once; the cache is never in a repr.

`versions` gives values' identities without their plaintext, for plans that read no value
(`--values none`): the ciphertext's hash for sealed and age values, the AWS version id from
metadata; none where only the value itself can tell (env, file, command).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reconciler.errors import SourceError
from reconciler.model import (
    AgeSource,
    App,
    AwsSource,
    CommandSource,
    DesiredState,
    EnvSource,
    FileSource,
    InlineSource,
    Kind,
    Scope,
    SealedSource,
    Source,
)
from reconciler.values.sources import MAX_VALUE_BYTES, SecretValue, resolve

if TYPE_CHECKING:
    from reconciler.values.age_files import AgeValueFile, Identities
    from reconciler.values.aws_secrets import AwsSecretsReader

ALLOW_COMMANDS_ENV = "RECONCILER_ALLOW_COMMANDS"
_COMMANDS_HINT = (
    "commands run only where the operator allows them: pass --allow-commands, or set "
    f"{ALLOW_COMMANDS_ENV}=1 in the job (a manifest can never allow them itself)"
)


class Resolver:
    """`Resolver(environ, allow_env, commands_allowed=...)`; `value(source)` or `text(source)`
    for the plaintext, `versions(sources)` for identities without it, `problem(source)` for
    why it cannot be read. Errors name the source, never the value."""

    __slots__ = ("_age_files", "_allow", "_aws", "_commands", "_environ", "_identities", "_values")

    def __init__(
        self,
        environ: Mapping[str, str],
        allow_env: tuple[str, ...],
        *,
        commands_allowed: bool = False,
    ) -> None:
        self._environ = environ
        self._allow = allow_env
        self._commands = commands_allowed
        self._values: dict[Source, SecretValue | SourceError] = {}
        self._age_files: dict[tuple[str, str], AgeValueFile | SourceError] = {}
        self._identities: Identities | SourceError | None = None
        self._aws: AwsSecretsReader | None = None

    def __repr__(self) -> str:
        return f"Resolver({len(self._values)} values read)"

    # -- plaintext -----------------------------------------------------------------------

    def prefetch(self, sources: Iterable[Source]) -> None:
        """Read what is cheaper read together: every AWS secret not read yet, in batches."""
        wanted = [s for s in dict.fromkeys(sources) if isinstance(s, AwsSource)]
        missing = [s for s in wanted if s not in self._values]
        if missing:
            for source, got in self._aws_reader().values(missing).items():
                try:
                    self._values[source] = (
                        got if isinstance(got, SourceError) else _checked(source, got)
                    )
                except SourceError as e:
                    self._values[source] = e

    def value(self, source: Source) -> SecretValue:
        if isinstance(source, SealedSource):
            raise TypeError("a sealed value is written as its ciphertext, never read")
        if source not in self._values:
            try:
                self._values[source] = self._read(source)
            except SourceError as e:
                self._values[source] = e
        got = self._values[source]
        if isinstance(got, SourceError):
            raise got
        return got

    def text(self, source: Source) -> str:
        """A variable's value: like `value`, and it must be UTF-8 text."""
        try:
            return self.value(source).reveal().decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(
                source.location,
                f"{source.describe()} is not UTF-8 text; a variable's value must be text",
                hint="store binary values as secrets, or encode them (base64) first",
            ) from None

    def problem(self, source: Source, *, text: bool = False) -> SourceError | None:
        """Why the source cannot be read (as `text` for a variable), or None; the value is
        read and kept for the run, never returned."""
        if isinstance(source, SealedSource):
            return None
        try:
            self.text(source) if text else self.value(source)
        except SourceError as e:
            return e
        return None

    def _read(self, source: Source) -> SecretValue:
        if isinstance(source, EnvSource | FileSource | InlineSource):
            return resolve(source, self._environ, self._allow)
        if isinstance(source, AgeSource):
            return _checked(source, self._decrypt(source))
        if isinstance(source, AwsSource):
            self.prefetch([source])
            got = self._values[source]
            if isinstance(got, SourceError):
                raise got
            return got
        if isinstance(source, CommandSource):
            if not self._commands:
                raise SourceError(
                    source.location,
                    f"{source.describe()} was not run: commands are not allowed in this run",
                    hint=_COMMANDS_HINT,
                )
            from reconciler.values.commands import run_command

            return _checked(source, run_command(source, self._environ))
        raise TypeError(f"not a readable source: {type(source).__name__}")

    # -- age -------------------------------------------------------------------------------

    def _age_file(self, source: AgeSource) -> AgeValueFile:
        from reconciler.values.age_files import read_value_file

        key = (source.base_dir, source.path)
        if key not in self._age_files:
            try:
                self._age_files[key] = read_value_file(source)
            except SourceError as e:
                self._age_files[key] = e
        got = self._age_files[key]
        if isinstance(got, SourceError):
            raise got
        return got

    def _decrypt(self, source: AgeSource) -> bytes:
        from reconciler.values.age_files import decrypt, load_identities

        ciphertext = self._age_file(source).ciphertext(source)
        if self._identities is None:
            try:
                self._identities = load_identities(self._environ)
            except SourceError as e:
                self._identities = e
        if isinstance(self._identities, SourceError):
            raise SourceError(
                source.location,
                f"{source.describe()} cannot be decrypted: {self._identities.detail}",
                hint=self._identities.hint,
            )
        return decrypt(ciphertext, self._identities, source)

    # -- identity without plaintext ------------------------------------------------------------

    def versions(self, sources: Iterable[Source]) -> dict[Source, str | SourceError]:
        """Each source's version identity where it is knowable without the value (see the
        module docstring); sources without one are left out. No value is read."""
        found: dict[Source, str | SourceError] = {}
        aws: list[AwsSource] = []
        for source in dict.fromkeys(sources):
            if isinstance(source, SealedSource):
                found[source] = "sealed:" + _sha256(source.ciphertext.strip())
            elif isinstance(source, AgeSource):
                try:
                    found[source] = self._age_file(source).version(source)
                except SourceError as e:
                    found[source] = e
            elif isinstance(source, AwsSource):
                aws.append(source)
        if aws:
            for source, version in self._aws_reader().versions(aws).items():
                found[source] = version
        return found

    def _aws_reader(self) -> AwsSecretsReader:
        if self._aws is None:
            from reconciler.values.aws_secrets import AwsSecretsReader

            self._aws = AwsSecretsReader(self._environ)
        return self._aws


def _checked(source: Source, data: bytes) -> SecretValue:
    """The limits every value meets, whatever store it came from."""
    if not data:
        raise SourceError(
            source.location,
            f"{source.describe()} is empty",
            hint="GitHub does not accept empty secret or variable values",
        )
    if len(data) > MAX_VALUE_BYTES:
        raise SourceError(
            source.location,
            f"{source.describe()} holds {len(data)} bytes, more than GitHub's 48 KB limit",
        )
    return SecretValue(data)


def _sha256(text: str) -> str:
    import hashlib  # here, not at the top: the CLI's start-up imports this module

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_variables(
    desired: DesiredState, resolver: Resolver, *, inline_only: bool = False
) -> dict[tuple[Scope, App, str], str]:
    """Every variable's value as its source gives it now; an unreadable one is left out (the
    plan reports it as a problem, since apply would fail on it). `inline_only`: read none but
    those written in the manifest itself (`--values none`)."""
    values: dict[tuple[Scope, App, str], str] = {}
    variables = [
        i
        for i in desired.items()
        if i.kind is Kind.VARIABLE and (isinstance(i.source, InlineSource) or not inline_only)
    ]
    resolver.prefetch(i.source for i in variables)
    for item in variables:
        if isinstance(item.source, SealedSource):
            continue
        try:
            values[(item.scope, item.app, item.name)] = resolver.text(item.source)
        except SourceError:
            continue
    return values
