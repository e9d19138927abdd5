"""The value ledger: what we last wrote, so plans can be exact across runs.

GitHub never returns a value. After each write we record, per secret, a keyed fingerprint
of the value (HMAC-SHA256 with a key only the user holds; never the value, never an unkeyed
hash, which would let anyone holding the ledger confirm a guessed value) and the
`updated_at` GitHub reported after that write. A later plan compares:

- fingerprint of the source's value now != recorded  -> the value changed;
- live `updated_at` != recorded                       -> someone changed it outside reconciler.

Without a key the ledger records no value-derived data at all, and values stay
"not comparable". Pure: parsing, merging and fingerprinting; storage is in `stores`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from reconciler.errors import LedgerError
from reconciler.model import App, Scope, ScopeKind

if TYPE_CHECKING:
    from reconciler.values.sources import SecretValue

LEDGER_FORMAT = "reconciler-ledger"
LEDGER_VERSION = 1
LEDGER_KEY_ENV = "RECONCILER_LEDGER_KEY"
_MIN_KEY_BYTES = 16


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """The HMAC key; its repr never shows it."""

    secret: bytes = field(repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> LedgerKey | None:
        raw = environ.get(LEDGER_KEY_ENV)
        if not raw:
            return None
        data = raw.encode("utf-8")
        if len(data) < _MIN_KEY_BYTES:
            raise LedgerError(
                f"{LEDGER_KEY_ENV} is shorter than {_MIN_KEY_BYTES} bytes",
                hint="use a random key, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`, kept as a CI secret",
            )
        return cls(data)

    def fingerprint(self, scope: Scope, app: App, name: str, value: SecretValue) -> str:
        # The identity is part of the message so equal values in two secrets do not match.
        import hashlib  # here, not at the top: only a run that records values hashes them
        import hmac

        message = f"{scope.kind}\0{str(scope).lower()}\0{app}\0{name.upper()}\0".encode()
        digest = hmac.new(self.secret, message + value.reveal(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def key_id(self) -> str:
        """Tells which key made the fingerprints, without revealing it."""
        import hashlib
        import hmac

        return hmac.new(self.secret, b"reconciler-ledger-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Entry:
    updated_at: str
    fingerprint: str | None = None  # None: written without a key
    source: str | None = None  # e.g. "env:NPM_TOKEN": a changed source means a changed value
    # The value's identity knowable without its plaintext (sealed or age ciphertext hash, AWS
    # version id): what a plan that reads no value (`--values none`) compares.
    version: str | None = None
    # `selected` secrets: `selection_digest` of the repositories apply left it selected for.
    selection: str | None = None


# (scope kind, lower-cased scope name, app, NAME); an environment's scope name is
# `owner/repo/environment`. Secrets only: a variable's value is readable, so it needs none.
EntryKey = tuple[str, str, str, str]


def entry_key(scope: Scope, app: App, name: str) -> EntryKey:
    return (scope.kind.value, str(scope).lower(), app.value, name.upper())


@dataclass(frozen=True, slots=True)
class Ledger:
    entries: Mapping[EntryKey, Entry] = field(default_factory=lambda: MappingProxyType({}))
    key_id: str | None = None

    def get(self, scope: Scope, app: App, name: str) -> Entry | None:
        return self.entries.get(entry_key(scope, app, name))

    def without_fingerprints(self) -> Ledger:
        """The same entries, values not comparable: what a ledger of another key amounts to."""
        stripped = {k: replace(v, fingerprint=None) for k, v in self.entries.items()}
        return replace(self, entries=MappingProxyType(stripped))

    def updated(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        """A new ledger with `changes` applied (None removes an entry)."""
        base = self
        if key_id and self.key_id and key_id != self.key_id:
            # Fingerprints made with the old key can never match the new key's: keeping them
            # under the new key_id would later read as "value changed". Not comparable instead.
            base = self.without_fingerprints()
        merged = dict(base.entries)
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return replace(self, entries=MappingProxyType(merged), key_id=key_id or self.key_id)

    def forget(self, names: Iterable[str]) -> tuple[Ledger, int]:
        wanted = {n.upper() for n in names}
        kept = {k: v for k, v in self.entries.items() if k[3] not in wanted}
        return replace(self, entries=MappingProxyType(kept)), len(self.entries) - len(kept)


def dump_ledger(ledger: Ledger) -> str:
    secrets = [
        {
            "scope": kind,
            "target": target,
            "app": app,
            "name": name,
            "updated_at": entry.updated_at,
            **({"source": entry.source} if entry.source else {}),
            **({"fingerprint": entry.fingerprint} if entry.fingerprint else {}),
            **({"version": entry.version} if entry.version else {}),
            **({"selection": entry.selection} if entry.selection else {}),
        }
        for (kind, target, app, name), entry in sorted(ledger.entries.items())
    ]
    doc: dict[str, Any] = {"format": LEDGER_FORMAT, "version": LEDGER_VERSION}
    if ledger.key_id:
        doc["key_id"] = ledger.key_id
    doc["secrets"] = secrets
    return json.dumps(doc, indent=2) + "\n"


def parse_ledger(text: str, where: str) -> Ledger:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LedgerError(
            f"{where}: the ledger is not valid JSON ({e.msg} at line {e.lineno})"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != LEDGER_FORMAT:
        raise LedgerError(f"{where}: not a reconciler ledger (no `format: {LEDGER_FORMAT}`)")
    version = doc.get("version")
    if type(version) is not int or version != LEDGER_VERSION:  # `true == 1` in Python
        raise LedgerError(
            f"{where}: ledger format version {doc.get('version')!r} is not supported "
            f"(this reconciler reads version {LEDGER_VERSION})",
            hint="upgrade reconciler",
        )
    entries: dict[EntryKey, Entry] = {}
    items = doc.get("secrets", [])
    if not isinstance(items, list):
        raise LedgerError(f"{where}: malformed ledger (`secrets` is not a list)")
    for index, item in enumerate(items):
        try:
            entries.update([_parse_entry(item)])
        except (KeyError, TypeError, ValueError) as e:
            raise LedgerError(
                f"{where}: malformed ledger entry secrets[{index}] ({type(e).__name__}: {e})"
            ) from None
    try:
        key_id = _optional_str(doc, "key_id")
    except TypeError as e:
        raise LedgerError(f"{where}: malformed ledger ({e})") from None
    return Ledger(MappingProxyType(entries), key_id)


def _parse_entry(item: Any) -> tuple[EntryKey, Entry]:
    if not isinstance(item, dict):
        raise TypeError("an entry must be an object")
    kind = ScopeKind(item["scope"]).value
    app = App(item["app"]).value
    target, name, updated_at = (_required_str(item, k) for k in ("target", "name", "updated_at"))
    key = (kind, target.lower(), app, name.upper())
    entry = Entry(
        updated_at,
        _optional_str(item, "fingerprint"),
        _optional_str(item, "source"),
        _optional_str(item, "version"),
        _optional_str(item, "selection"),
    )
    return key, entry


def _required_str(item: Mapping[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} must be a non-empty string")
    return value


def _optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value or None
