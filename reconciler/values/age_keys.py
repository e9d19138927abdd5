"""Age keys: the identities a run decrypts with (from the environment only, see `age_files`),
decrypting one value, encrypting one. The one module that touches pyrage, imported when a value
is read: validate and plans that read no value never load it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from reconciler.errors import LocalFileError, SourceError
from reconciler.local_files import read_regular_file
from reconciler.model import AgeSource, Location
from reconciler.safe_text import printable
from reconciler.values.age_format import normalise, recipient_problem

_AGE_IDENTITY_ENV = "RECONCILER_AGE_IDENTITY"
_AGE_IDENTITY_FILE_ENV = "RECONCILER_AGE_IDENTITY_FILE"
_SOPS_AGE_KEY_ENV = "SOPS_AGE_KEY"
_SOPS_AGE_KEY_FILE_ENV = "SOPS_AGE_KEY_FILE"
IDENTITY_ENV = (_AGE_IDENTITY_ENV, _SOPS_AGE_KEY_ENV)
IDENTITY_FILE_ENV = (_AGE_IDENTITY_FILE_ENV, _SOPS_AGE_KEY_FILE_ENV)

MAX_IDENTITY_FILE_BYTES = 64 * 1024
_SECRET_KEY_PREFIX = "AGE-SECRET-KEY-1"


def _pyrage(location: Location | None) -> ModuleType:
    try:
        import pyrage  # an optional dependency: the `age` extra
    except ImportError:
        raise SourceError(
            location,
            "age value files need the pyrage package, which is not installed",
            hint="install the age extra: pip install 'github-secrets-reconciler[age]'",
        ) from None
    module: ModuleType = pyrage
    return module


# -- identities -------------------------------------------------------------------------------


class Identities:
    """The age identities a run decrypts with. Never shown: the repr says how many, and where
    they came from."""

    __slots__ = ("_keys", "origin", "recipients")

    def __init__(self, keys: tuple[Any, ...], origin: str, recipients: tuple[str, ...]) -> None:
        self._keys = keys
        self.origin = origin  # the variable (and file) they were read from
        self.recipients = recipients  # their public keys, for hints

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Identities({len(self._keys)} from {self.origin})"

    __str__ = __repr__


def load_identities(environ: Mapping[str, str]) -> Identities:
    """The identities from the first variable set (see the module docstring), or SourceError."""
    empty: list[str] = []
    for text_var, file_var in zip(IDENTITY_ENV, IDENTITY_FILE_ENV, strict=True):
        text = environ.get(text_var)
        if text and text.strip():
            return _identities(text, text_var)
        file = environ.get(file_var)
        if file:
            origin = f'the key file "{printable(file)}" ({file_var})'
            return _identities(_read_key_file(file, origin), origin)
        empty += [name for name, got in ((text_var, text), (file_var, file)) if got is not None]
    said = f" ({', '.join(empty)} set but empty: is the secret it comes from missing?)"
    raise SourceError(
        None,
        f"no age identity: set {_AGE_IDENTITY_ENV} to the key (AGE-SECRET-KEY-1…) or "
        f"{_AGE_IDENTITY_FILE_ENV} to a file holding it{said if empty else ''}",
        hint=f"{_SOPS_AGE_KEY_ENV} and {_SOPS_AGE_KEY_FILE_ENV} are read too; in GitHub Actions: "
        f"`env: {{{_AGE_IDENTITY_ENV}: ${{{{ secrets.AGE_KEY }}}}}}`",
    )


def _read_key_file(name: str, origin: str) -> str:
    try:
        data = read_regular_file(
            os.path.expanduser(name), MAX_IDENTITY_FILE_BYTES, limit_text="64 KiB"
        )
        return data.decode("utf-8-sig")
    except LocalFileError as e:
        raise SourceError(None, f"{origin} {e.problem}", hint="point it at a key file") from None
    except UnicodeDecodeError:
        raise SourceError(None, f"{origin} is not UTF-8 text") from None


def _identities(text: str, origin: str) -> Identities:
    pyrage = _pyrage(None)
    keys: list[Any] = []
    for number, written in enumerate(text.splitlines(), 1):
        line = written.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {number} of {origin}"
        if line.upper().startswith("AGE-PLUGIN-"):
            raise SourceError(
                None,
                f"{where} is an age plugin identity; reconciler decrypts with X25519 keys only",
                hint="encrypt the file to an X25519 recipient too, and give its key",
            )
        try:
            if not line.startswith(_SECRET_KEY_PREFIX):
                raise ValueError
            keys.append(pyrage.x25519.Identity.from_str(line))
        except (ValueError, pyrage.IdentityError):
            raise SourceError(
                None,
                f"{where} is not an age secret key ({_SECRET_KEY_PREFIX}…, as age-keygen "
                "writes it)",
                hint="give the key itself, or its file with a *_FILE variable; comments start "
                "with #",
            ) from None
    if not keys:
        raise SourceError(None, f"{origin} holds no age secret key, only comments or blank lines")
    recipients = tuple(str(key.to_public()) for key in keys)
    return Identities(tuple(keys), origin, recipients)


# -- decrypting and encrypting ----------------------------------------------------------------


def decrypt(
    ciphertext: str,
    identities: Identities,
    source: AgeSource,
    *,
    recipients: Sequence[str] = (),
) -> bytes:
    """The plaintext of one armored value. `recipients`: the file's, for the hint when none of
    the identities is one of them."""
    pyrage = _pyrage(source.location)
    try:
        return bytes(
            pyrage.decrypt(normalise(ciphertext).encode("ascii") + b"\n", identities._keys)
        )
    except pyrage.DecryptError as e:
        reason = str(e)
    if "no matching keys" in reason.lower():
        count = len(identities)
        listed = f" ({', '.join(recipients)})" if recipients else ""
        which = f"none of the {count} age identities" if count > 1 else "the age identity"
        raise SourceError(
            source.location,
            f"{which} from {identities.origin} cannot decrypt {printable(source.describe())}",
            hint=f"the identities are for {', '.join(identities.recipients)}; the value was "
            f"encrypted to the file's recipients{listed}: someone who can decrypt it must add "
            "yours to `recipients` and re-encrypt, or give this job a listed key",
        )
    raise SourceError(
        source.location,
        f"{printable(source.describe())} cannot be decrypted: its ciphertext is damaged "
        f"({printable(reason[:100])})",
        hint=f"re-encrypt it: reconciler encrypt {source.path} {source.key}",
    )


def encrypt(plaintext: bytes, recipients: Sequence[str]) -> str:
    """ASCII-armored age ciphertext of `plaintext` for every recipient."""
    pyrage = _pyrage(None)
    keys: list[Any] = []
    for number, text in enumerate(recipients, 1):
        problem = recipient_problem(text)
        try:
            if problem:
                raise ValueError
            keys.append(pyrage.x25519.Recipient.from_str(text))
        except (ValueError, pyrage.RecipientError):
            why = problem or "is not a valid age recipient (its checksum is wrong)"
            raise SourceError(None, f"recipient {number} {why}") from None
    if not keys:
        raise SourceError(None, "no recipients to encrypt to")
    return bytes(pyrage.encrypt(plaintext, keys, armored=True)).decode("ascii")
