"""Age value files: secrets committed beside the manifest, each value encrypted on its own.

A manifest names one value as `value: {age: values/prod.age.yaml, key: NPM_TOKEN}`; the file::

    # reconciler age value file: values encrypted one by one, so a diff shows which one changed
    reconciler-age: 1
    recipients:          # who can decrypt; `reconciler encrypt` encrypts to all of them
      - age1...          # X25519 public keys (age-keygen -y KEYFILE); at least one
    values:
      NPM_TOKEN: |       # a name: letters, digits, `_`, `.`, `-`
        -----BEGIN AGE ENCRYPTED FILE-----
        ...              # ASCII-armored age ciphertext, as `age -r RECIPIENT -a` prints it
        -----END AGE ENCRYPTED FILE-----

Each value is its own age ciphertext, so rotating one (`reconciler encrypt FILE NAME`) changes
only its lines. A value's version identity, known without any key, is `age:` and the sha256 hex
of its armored ciphertext with CRLF as LF and surrounding whitespace stripped: it changes
exactly when that value is re-encrypted. Reading checks everything a key is not needed for
(layout, names, recipients' shape, armor, the age header); the path is confined to the
manifest's tree like a file source and read size-limited without following a swapped-in link.

The identity that decrypts comes from the environment only, first found wins:
RECONCILER_AGE_IDENTITY (the key text: AGE-SECRET-KEY-1… lines, `#` comments and several keys
allowed), RECONCILER_AGE_IDENTITY_FILE (a file of the same, as `age-keygen -o` writes it), then
SOPS's SOPS_AGE_KEY and SOPS_AGE_KEY_FILE. An empty variable (a missing Actions secret) counts
as unset. SOPS's default ~/.config/sops/age/keys.txt is never read unless a variable names it:
a run decrypts with the key its job was given, not one that happens to lie in a home directory.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import LocalFileError, SourceError
from reconciler.local_files import read_regular_file
from reconciler.model import AgeSource, FileSource, Location
from reconciler.safe_text import printable
from reconciler.values.age_edit import render, with_value
from reconciler.values.age_format import AgeValueFile, name_problem, parse
from reconciler.values.age_keys import (
    IDENTITY_ENV,
    IDENTITY_FILE_ENV,
    Identities,
    decrypt,
    encrypt,
    load_identities,
)
from reconciler.values.sources import confined_path

__all__ = [
    "IDENTITY_ENV",
    "IDENTITY_FILE_ENV",
    "AgeValueFile",
    "Identities",
    "Written",
    "decrypt",
    "encrypt",
    "load_identities",
    "read_value_file",
    "recipients_for",
    "set_value",
]

MAX_FILE_BYTES = 1024 * 1024


# -- reading ----------------------------------------------------------------------------------


def read_value_file(source: AgeSource) -> AgeValueFile:
    """The checked file `source` names; a SourceError at `source.location` for any problem."""
    try:
        path = confined_path(FileSource(source.path, source.base_dir, source.location))
    except SourceError as e:
        raise SourceError(
            e.location, e.detail.replace("file source", "age value file", 1), hint=e.hint
        ) from None
    try:
        data = read_regular_file(path, MAX_FILE_BYTES, limit_text="1 MiB", no_follow=True)
    except LocalFileError as e:
        raise SourceError(
            source.location,
            f'age value file "{printable(source.path)}" {e.problem}',
            hint="keep value files small: one per environment or team"
            if e.too_large
            else "create it with `reconciler encrypt FILE NAME --recipient age1…`, or fix the path",
        ) from None
    return parse(_decoded(data, source.path, source.location), source.path, source.location).file


def _decoded(data: bytes, shown: str, location: Location | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(
            location, f'age value file "{printable(shown)}" is not UTF-8 text'
        ) from None


# -- writing (`reconciler encrypt`) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    created: bool  # the file did not exist
    rotated: bool  # the name had a value, now replaced
    recipients: int  # encrypted to this many
    kept_layout: bool  # every other line as it was (False: the file was rewritten whole)


def recipients_for(path: Path, recipients: Sequence[str] | None) -> tuple[str, ...]:
    """Whom a value written to `path` is encrypted to: the file's recipients, or `recipients`
    for a new file. Checked before a value is asked for, so no one types a secret in vain."""
    return _target(path, recipients)[1]


def set_value(path: Path, name: str, plaintext: bytes, recipients: Sequence[str] | None) -> Written:
    """Add `name` to the value file at `path`, or rotate it, keeping every other value's
    ciphertext byte for byte (and the file's comments where its layout allows); create the
    file, encrypted to `recipients`, if it does not exist. Written atomically."""
    problem = name_problem(name)
    if problem:
        raise SourceError(None, f"the value's name {problem}")
    text, to = _target(path, recipients)
    armored = encrypt(plaintext, to)
    shown = str(path)
    if text is None:
        _write(path, render(to, {name: armored}), shown)
        return Written(created=True, rotated=False, recipients=len(to), kept_layout=True)
    parsed = parse(text, shown, None)
    edited = with_value(text, parsed, name, armored)
    if edited is None:
        values = dict(parsed.file.entries)
        values[name] = armored
        _write(path, render(to, values, "\r\n" if "\r\n" in text else "\n"), shown)
    else:
        _write(path, edited, shown)
    rotated = name in parsed.file.names()
    return Written(False, rotated, len(to), kept_layout=edited is not None)


def _target(path: Path, recipients: Sequence[str] | None) -> tuple[str | None, tuple[str, ...]]:
    """The file's text (None: it does not exist) and the recipients to encrypt to."""
    shown = str(path)
    if not os.path.lexists(path):
        if not recipients:
            raise SourceError(
                None,
                f'"{printable(shown)}" does not exist, and a new value file needs its recipients',
                hint="give each with --recipient age1… (`age-keygen -y KEYFILE` prints yours)",
            )
        if not path.parent.is_dir():
            raise SourceError(
                None,
                f'"{printable(shown)}" cannot be created: its directory does not exist',
                hint="create the directory first, or fix the path",
            )
        return None, tuple(dict.fromkeys(recipients))
    try:
        data = read_regular_file(path, MAX_FILE_BYTES, limit_text="1 MiB")
    except LocalFileError as e:
        raise SourceError(None, f'age value file "{printable(shown)}" {e.problem}') from None
    text = _decoded(data, shown, None)
    listed = parse(text, shown, None).file.recipients
    if recipients and set(recipients) != set(listed):
        raise SourceError(
            None,
            f'"{printable(shown)}" already lists its recipients, and --recipient differs from them',
            hint="leave out --recipient to encrypt to the file's recipients; to change them, "
            "edit `recipients:` and re-encrypt every value",
        )
    return text, listed


def _write(path: Path, text: str, shown: str) -> None:
    """Replace the file at once (a temporary file renamed over it): a reader, or a crash,
    never sees half a file. Through a symbolic link, the file it points at is replaced."""
    target = path.resolve()
    mode = 0o644  # ciphertext and public keys only
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(os.stat(target).st_mode)
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except OSError as e:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise SourceError(
            None, f'"{printable(shown)}" cannot be written: {e.strerror or type(e).__name__}'
        ) from None
