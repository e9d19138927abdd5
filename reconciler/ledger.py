"""The value ledger: what we last wrote, so plans can be exact across runs.

GitHub never returns a value. After each write we record, per secret, a keyed fingerprint
of the value (HMAC-SHA256 with a key only the user holds; never the value, never an unkeyed
hash, which would let anyone holding the ledger confirm a guessed value) and the
`updated_at` GitHub reported after that write. A later plan compares:

- fingerprint of the source's value now != recorded  -> the value changed;
- live `updated_at` != recorded                       -> someone changed it outside reconciler.

Without a key the ledger records no value-derived data at all, and values stay
"not comparable". Pure: parsing, merging and fingerprinting; storage is in ledger_store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model import App, Scope, ScopeKind
from reconciler.sources import SecretValue

LEDGER_FORMAT = "reconciler-ledger"
LEDGER_VERSION = 1
LEDGER_KEY_ENV = "RECONCILER_LEDGER_KEY"
_MIN_KEY_BYTES = 16


class LedgerError(ReconcilerError):
    """The ledger cannot be read, parsed or written."""


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
        message = f"{scope.kind}\0{scope.name.lower()}\0{app}\0{name.upper()}\0".encode()
        digest = hmac.new(self.secret, message + value.reveal(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def key_id(self) -> str:
        """Tells which key made the fingerprints, without revealing it."""
        return hmac.new(self.secret, b"reconciler-ledger-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Entry:
    updated_at: str
    fingerprint: str | None = None  # None: written without a key
    source: str | None = None  # e.g. "env:NPM_TOKEN": a changed source means a changed value


EntryKey = tuple[str, str, str, str]  # (scope kind, lower-cased scope name, app, NAME)


def entry_key(scope: Scope, app: App, name: str) -> EntryKey:
    return (scope.kind.value, scope.name.lower(), app.value, name.upper())


@dataclass(frozen=True, slots=True)
class Ledger:
    entries: Mapping[EntryKey, Entry] = field(default_factory=lambda: MappingProxyType({}))
    key_id: str | None = None

    def get(self, scope: Scope, app: App, name: str) -> Entry | None:
        return self.entries.get(entry_key(scope, app, name))

    def updated(self, changes: Mapping[EntryKey, Entry | None], key_id: str | None) -> Ledger:
        """A new ledger with `changes` applied (None removes an entry)."""
        merged = dict(self.entries)
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
    if doc.get("version") != LEDGER_VERSION:
        raise LedgerError(
            f"{where}: ledger format version {doc.get('version')!r} is not supported "
            f"(this reconciler reads version {LEDGER_VERSION})",
            hint="upgrade reconciler",
        )
    entries: dict[EntryKey, Entry] = {}
    try:
        for item in doc.get("secrets", []):
            kind = ScopeKind(item["scope"]).value
            app = App(item["app"]).value
            key = (kind, str(item["target"]).lower(), app, str(item["name"]).upper())
            fp, source = item.get("fingerprint"), item.get("source")
            entries[key] = Entry(
                str(item["updated_at"]), str(fp) if fp else None, str(source) if source else None
            )
    except (KeyError, TypeError, ValueError) as e:
        raise LedgerError(f"{where}: malformed ledger entry ({type(e).__name__}: {e})") from None
    key_id = doc.get("key_id")
    return Ledger(MappingProxyType(entries), str(key_id) if key_id else None)
