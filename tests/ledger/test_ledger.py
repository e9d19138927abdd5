"""The value ledger's pure parts: keyed fingerprints, the file format, merge laws, locations,
what apply records, and how plans read the ledger."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import ValueFacts, diff
from reconciler.errors import LedgerError, UsageError
from reconciler.ledger.format import (
    LEDGER_FORMAT,
    LEDGER_VERSION,
    Entry,
    EntryKey,
    Ledger,
    LedgerKey,
    dump_ledger,
    entry_key,
    parse_ledger,
)
from reconciler.ledger.recording import ledger_changes
from reconciler.ledger.stores import FileLedgerStore, parse_ledger_location
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    EnvSource,
    LiveGroup,
    LiveItem,
    LiveState,
    Location,
    Scope,
    ScopeKind,
    Visibility,
)
from reconciler.plan import Action, Change, Outcome, Result, ValuePolicy, ValueReason
from reconciler.values.sources import SecretValue

ORG = Scope(ScopeKind.ORG, "octo-org")
REPO = Scope(ScopeKind.REPO, "octo-org/web")
KEY = LedgerKey(b"k" * 32)
VALUE = SecretValue(b"the-value")


# -- fingerprints ------------------------------------------------------------------------------


def test_a_fingerprint_is_an_hmac_of_identity_and_value() -> None:
    fp = KEY.fingerprint(ORG, App.ACTIONS, "NPM_TOKEN", VALUE)
    assert fp.startswith("hmac-sha256:") and len(fp) == len("hmac-sha256:") + 64
    assert fp == KEY.fingerprint(ORG, App.ACTIONS, "NPM_TOKEN", VALUE)  # deterministic
    digest = fp.removeprefix("hmac-sha256:")
    assert digest != hashlib.sha256(b"the-value").hexdigest()  # never an unkeyed hash
    assert digest != hmac.new(b"k" * 32, b"the-value", hashlib.sha256).hexdigest()
    assert b"the-value".hex() not in fp


def test_another_key_gives_another_fingerprint() -> None:
    other = LedgerKey(b"j" * 32)
    assert KEY.fingerprint(ORG, App.ACTIONS, "A", VALUE) != other.fingerprint(
        ORG, App.ACTIONS, "A", VALUE
    )
    assert KEY.key_id() != other.key_id()
    assert len(KEY.key_id()) == 16 and "k" * 8 not in KEY.key_id()


@pytest.mark.parametrize(
    ("scope", "app", "name"),
    [
        (ORG, App.ACTIONS, "B"),  # another name
        (ORG, App.DEPENDABOT, "A"),  # another app
        (REPO, App.ACTIONS, "A"),  # another scope
        (Scope(ScopeKind.REPO, "octo-org"), App.ACTIONS, "A"),  # same name, another kind
    ],
)
def test_the_same_value_in_another_secret_has_another_fingerprint(
    scope: Scope, app: App, name: str
) -> None:
    assert KEY.fingerprint(ORG, App.ACTIONS, "A", VALUE) != KEY.fingerprint(scope, app, name, VALUE)


def test_identity_is_case_insensitive_like_github() -> None:
    assert KEY.fingerprint(Scope(ScopeKind.ORG, "Octo-Org"), App.ACTIONS, "npm_token", VALUE) == (
        KEY.fingerprint(ORG, App.ACTIONS, "NPM_TOKEN", VALUE)
    )


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_different_values_never_share_a_fingerprint(a: bytes, b: bytes) -> None:
    fa = KEY.fingerprint(ORG, App.ACTIONS, "A", SecretValue(a))
    fb = KEY.fingerprint(ORG, App.ACTIONS, "A", SecretValue(b))
    assert (fa == fb) == (a == b)


def test_the_key_comes_from_the_environment_and_never_shows() -> None:
    assert LedgerKey.from_environ({}) is None
    assert LedgerKey.from_environ({"RECONCILER_LEDGER_KEY": ""}) is None
    key = LedgerKey.from_environ({"RECONCILER_LEDGER_KEY": "a-long-enough-key-1234"})
    assert key is not None and key.secret == b"a-long-enough-key-1234"
    assert "a-long-enough" not in repr(key)
    with pytest.raises(LedgerError, match="shorter than 16 bytes"):
        LedgerKey.from_environ({"RECONCILER_LEDGER_KEY": "short"})


# -- the file format ---------------------------------------------------------------------------

_names = st.text("ABCZ_019", min_size=1, max_size=12).filter(lambda n: not n[0].isdigit())
_targets = st.sampled_from(["octo-org", "octo-org/web", "other", "other/api.v2", "o/x_y"])
_stamps = st.integers(0, 4_000_000_000).map(
    lambda t: datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
)
_hex = st.binary(min_size=8, max_size=32).map(bytes.hex)
_keys = st.tuples(
    st.sampled_from([k.value for k in ScopeKind]),
    _targets,
    st.sampled_from([a.value for a in App]),
    _names,
)
_entries = st.builds(
    Entry,
    _stamps,
    st.none() | _hex.map("hmac-sha256:".__add__),
    st.none() | st.sampled_from(["env:A_TOKEN", "file:values/x.txt", "sealed:k1", "env:é"]),
)
_ledgers = st.builds(
    Ledger,
    st.dictionaries(_keys, _entries, max_size=8).map(MappingProxyType),
    st.none() | _hex,
)
_changes = st.dictionaries(_keys, st.none() | _entries, max_size=6)


@given(_ledgers)
def test_dump_then_parse_is_the_identity(ledger: Ledger) -> None:
    text = dump_ledger(ledger)
    assert parse_ledger(text, "ledger.json") == ledger
    assert dump_ledger(parse_ledger(text, "ledger.json")) == text  # canonical
    doc = json.loads(text)
    assert (doc["format"], doc["version"]) == (LEDGER_FORMAT, LEDGER_VERSION)
    assert len(doc["secrets"]) == len(ledger.entries)


def test_the_dump_is_sorted_and_omits_what_is_unknown() -> None:
    ledger = Ledger(
        MappingProxyType(
            {
                entry_key(REPO, App.ACTIONS, "Z"): Entry("2030-01-01T00:00:00Z"),
                entry_key(ORG, App.ACTIONS, "A"): Entry("2030-01-01T00:00:01Z", "hmac-sha256:0"),
            }
        )
    )
    doc = json.loads(dump_ledger(ledger))
    assert "key_id" not in doc
    assert doc["secrets"] == [
        {
            "scope": "org",
            "target": "octo-org",
            "app": "actions",
            "name": "A",
            "updated_at": "2030-01-01T00:00:01Z",
            "fingerprint": "hmac-sha256:0",
        },
        {
            "scope": "repo",
            "target": "octo-org/web",
            "app": "actions",
            "name": "Z",
            "updated_at": "2030-01-01T00:00:00Z",
        },
    ]


def _doc(**fields: object) -> str:
    return json.dumps({"format": LEDGER_FORMAT, "version": LEDGER_VERSION, **fields})


_ENTRY = {"scope": "org", "target": "Octo-Org", "app": "actions", "name": "npm", "updated_at": "t"}


def test_parse_normalises_identity_case() -> None:
    ledger = parse_ledger(_doc(secrets=[_ENTRY]), "l.json")
    assert ledger.get(ORG, App.ACTIONS, "NPM") == Entry("t")
    assert ledger.key_id is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "l.json: the ledger is not valid JSON (Expecting"),
        ("[]", "l.json: not a reconciler ledger"),
        ('{"format": "something-else", "version": 1}', "not a reconciler ledger"),
        (json.dumps({"format": LEDGER_FORMAT}), "version None is not supported"),
        (json.dumps({"format": LEDGER_FORMAT, "version": 2}), "version 2 is not supported"),
        (json.dumps({"format": LEDGER_FORMAT, "version": "1"}), "version '1' is not supported"),
        (json.dumps({"format": LEDGER_FORMAT, "version": True}), "version True is not supported"),
        (_doc(secrets={}), "`secrets` is not a list"),
        (_doc(secrets=["x"]), "secrets[0] (TypeError"),
        (_doc(secrets=[_ENTRY, {**_ENTRY, "scope": "team"}]), "secrets[1] (ValueError"),
        (_doc(secrets=[{**_ENTRY, "app": "pages"}]), "secrets[0] (ValueError"),
        (_doc(secrets=[{k: v for k, v in _ENTRY.items() if k != "name"}]), "(KeyError"),
        (_doc(secrets=[{**_ENTRY, "updated_at": None}]), "updated_at must be a non-empty"),
        (_doc(secrets=[{**_ENTRY, "updated_at": 5}]), "updated_at must be a non-empty"),
        (_doc(secrets=[{**_ENTRY, "fingerprint": 7}]), "fingerprint must be a string"),
        (_doc(key_id=["x"]), "key_id must be a string"),
    ],
)
def test_parse_errors_name_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(LedgerError) as raised:
        parse_ledger(text, "l.json")
    assert raised.value.message.startswith("l.json: ")
    assert message in raised.value.message


def test_an_unsupported_version_hints_at_an_upgrade() -> None:
    with pytest.raises(LedgerError) as raised:
        parse_ledger(json.dumps({"format": LEDGER_FORMAT, "version": 2}), "l.json")
    assert raised.value.hint == "upgrade reconciler"


# -- merge laws ----------------------------------------------------------------------------------


@given(_ledgers)
def test_no_changes_change_nothing(ledger: Ledger) -> None:
    assert ledger.updated({}, None) == ledger
    assert ledger.updated({}, ledger.key_id) == ledger


@given(_ledgers, _changes, st.none() | st.sampled_from(["k1", "k2"]))
def test_updated_applies_every_change_and_keeps_the_rest(
    ledger: Ledger, changes: dict[EntryKey, Entry | None], key_id: str | None
) -> None:
    new = ledger.updated(changes, key_id)
    for k, v in changes.items():
        assert new.entries.get(k) == v
    rekeyed = bool(key_id and ledger.key_id and key_id != ledger.key_id)
    for k, v in ledger.entries.items():
        if k not in changes:
            kept = new.entries[k]
            assert kept.updated_at == v.updated_at and kept.source == v.source
            assert kept.fingerprint == (None if rekeyed else v.fingerprint)
    assert set(new.entries) == (set(ledger.entries) | set(changes)) - {
        k for k, v in changes.items() if v is None
    }
    assert new.key_id == (key_id or ledger.key_id)
    assert ledger.updated(changes, key_id).updated(changes, key_id) == new  # idempotent


@given(_ledgers, _changes, _changes)
def test_two_updates_are_one_merged_update(
    ledger: Ledger, a: dict[EntryKey, Entry | None], b: dict[EntryKey, Entry | None]
) -> None:
    assert ledger.updated(a, None).updated(b, None) == ledger.updated({**a, **b}, None)


def test_a_new_key_drops_fingerprints_made_with_the_old_one() -> None:
    a, b = entry_key(ORG, App.ACTIONS, "A"), entry_key(ORG, App.ACTIONS, "B")
    old = Ledger(
        MappingProxyType({a: Entry("t1", "hmac-sha256:old"), b: Entry("t2", "fp-b")}), "k1"
    )
    new = old.updated({b: Entry("t3", "hmac-sha256:new")}, "k2")
    assert new.key_id == "k2"
    assert new.entries[a] == Entry("t1", None)  # not comparable, rather than "changed"
    assert new.entries[b] == Entry("t3", "hmac-sha256:new")
    # Without a key, nothing value-derived is claimed, and the old key's prints stay valid.
    assert old.updated({b: Entry("t3")}, None).entries[a] == Entry("t1", "hmac-sha256:old")


@given(_ledgers, st.lists(_names, max_size=3))
def test_forget_drops_those_names_in_every_scope(ledger: Ledger, names: list[str]) -> None:
    forgotten, count = ledger.forget([n.lower() for n in names])
    assert count == len(ledger.entries) - len(forgotten.entries)
    assert all(k[3] not in names for k in forgotten.entries)
    assert {k: v for k, v in ledger.entries.items() if k[3] not in names} == dict(forgotten.entries)
    assert forgotten.key_id == ledger.key_id
    assert forgotten.forget(names) == (forgotten, 0)


# -- locations and the file store ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("github:octo-org/platform:ledger.json", ("octo-org/platform", "ledger.json", None)),
        ("github:o/r@ledger:a/b.json", ("o/r", "a/b.json", "ledger")),
        ("github:o/r@feature/x:l.json", ("o/r", "l.json", "feature/x")),
        ("github:o/r@:l.json", ("o/r", "l.json", None)),
    ],
)
def test_github_locations(spec: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_ledger_location(spec) == expected


@pytest.mark.parametrize("spec", [".reconciler-ledger.json", "/abs/l.json", "dir/github:x"])
def test_anything_else_is_a_file(spec: str) -> None:
    assert parse_ledger_location(spec) == Path(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "github:",
        "github:o/r",
        "github:o/r:",
        "github:octo-org:ledger.json",
        "github:/r:l.json",
        "github:o/:l.json",
        "github:o/r/x:l.json",
        "github:@b:l.json",
    ],
)
def test_bad_github_locations_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_ledger_location(spec)
    assert spec in raised.value.message
    assert raised.value.hint and "github:" in raised.value.hint


def test_the_file_store_merges_onto_what_is_there_now(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.json"
    a, b = entry_key(ORG, App.ACTIONS, "A"), entry_key(ORG, App.ACTIONS, "B")
    mine, theirs = FileLedgerStore(path), FileLedgerStore(path)
    assert mine.load() == Ledger()  # no file yet: empty
    theirs.save({b: Entry("t-b")}, None)  # another apply, after we loaded
    saved = mine.save({a: Entry("t-a", "fp")}, "k1")
    assert parse_ledger(path.read_text(encoding="utf-8"), "l") == saved
    assert set(saved.entries) == {a, b}
    assert [p.name for p in path.parent.iterdir()] == ["ledger.json"]  # no temp file left


def test_the_file_store_reports_an_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="cannot read the ledger"):
        FileLedgerStore(tmp_path).load()  # a directory


# -- what apply records --------------------------------------------------------------------------


def _change(name: str, action: Action, value: ValueReason | None = None) -> Change:
    return Change(ORG, App.ACTIONS, name, action, value=value, source=f"env:{name}_TOKEN")


def test_ledger_changes_record_what_was_done() -> None:
    old = Ledger(
        MappingProxyType(
            {
                entry_key(ORG, App.ACTIONS, "SEL"): Entry("t0", "fp-sel-old", "env:SEL_TOKEN"),
                entry_key(ORG, App.ACTIONS, "GONE"): Entry("t0", "fp-gone"),
                entry_key(ORG, App.ACTIONS, "FAIL"): Entry("t0", "fp-fail"),
            }
        )
    )
    results = [
        Result(_change("NEW", Action.CREATE, ValueReason.NEW), Outcome.DONE),
        Result(_change("SEL", Action.SELECTION), Outcome.DONE),
        Result(_change("GONE", Action.DELETE), Outcome.DONE),
        Result(_change("FAIL", Action.UPDATE, ValueReason.VALUE_CHANGED), Outcome.FAILED),
        Result(_change("LOST", Action.UPDATE, ValueReason.DRIFT), Outcome.DONE),
    ]
    after = {(ORG, App.ACTIONS): {"NEW": "t1", "SEL": "t2", "FAIL": "t0"}}
    prints = {entry_key(ORG, App.ACTIONS, n): f"fp-{n.lower()}-now" for n in ("NEW", "SEL")}
    changes = ledger_changes(results, after, prints, old)
    assert changes == {
        entry_key(ORG, App.ACTIONS, "NEW"): Entry("t1", "fp-new-now", "env:NEW_TOKEN"),
        # a selection write: the new updated_at, the fingerprint of the value written before
        entry_key(ORG, App.ACTIONS, "SEL"): Entry("t2", "fp-sel-old", "env:SEL_TOKEN"),
        entry_key(ORG, App.ACTIONS, "GONE"): None,
        # FAIL failed: unchanged; LOST is gone from the listing: nothing to record
    }


# -- how a plan reads the ledger -----------------------------------------------------------------

_LOC = Location("m.yaml", 1, 1)


def _plan_one(
    entry: Entry | None,
    live_updated_at: str,
    print_now: str | None,
    *,
    drift: DriftPolicy = DriftPolicy.OVERWRITE,
    values: ValuePolicy = ValuePolicy.AUTO,
    source: str = "A_TOKEN",
) -> Change | None:
    secret = DesiredItem(ORG, App.ACTIONS, "A", EnvSource(source, _LOC), _LOC, Visibility.PRIVATE)
    group = DesiredGroup(ORG, App.ACTIONS, False, (secret,), _LOC)
    live = LiveState(
        (LiveGroup(ORG, App.ACTIONS, (LiveItem("A", live_updated_at, Visibility.PRIVATE),)),)
    )
    key = entry_key(ORG, App.ACTIONS, "A")
    ledger = Ledger(MappingProxyType({key: entry} if entry else {}))
    facts = ValueFacts(ledger, {key: print_now} if print_now else {}, drift)
    (change,) = diff((group,), live, values, facts=facts).changes or (None,)
    return change


def _why(change: Change | None) -> ValueReason | None:
    return change.value if change else None


def test_plan_reasons_from_the_ledger() -> None:
    same = Entry("t1", "fp", "env:A_TOKEN")
    assert _plan_one(same, "t1", "fp") is None  # known equal
    assert _why(_plan_one(same, "t1", "fp2")) is ValueReason.VALUE_CHANGED
    assert _why(_plan_one(same, "t2", "fp")) is ValueReason.DRIFT
    assert _why(_plan_one(same, "t1", "fp", source="B_TOKEN")) is ValueReason.SOURCE_CHANGED
    assert _why(_plan_one(same, "t1", None)) is ValueReason.NOT_COMPARABLE  # source unreadable
    assert _why(_plan_one(Entry("t1"), "t1", "fp")) is ValueReason.NOT_COMPARABLE  # no key then
    assert _why(_plan_one(None, "t1", "fp")) is ValueReason.NOT_COMPARABLE  # never recorded
    assert _why(_plan_one(same, "t1", "fp", values=ValuePolicy.ALWAYS)) is ValueReason.ALWAYS


def test_skip_unknown_leaves_only_the_not_comparable_alone() -> None:
    same = Entry("t1", "fp", "env:A_TOKEN")
    skip = ValuePolicy.SKIP_UNKNOWN
    assert _plan_one(same, "t1", None, values=skip) is None
    assert _why(_plan_one(same, "t1", "fp2", values=skip)) is ValueReason.VALUE_CHANGED
    assert _why(_plan_one(same, "t2", "fp", values=skip)) is ValueReason.DRIFT


def test_drift_policies() -> None:
    same = Entry("t1", "fp", "env:A_TOKEN")
    assert _plan_one(same, "t2", "fp", drift=DriftPolicy.IGNORE) is None
    # ignore leaves a hand edit alone, but not a change of the manifest's own value
    changed = _plan_one(same, "t2", "fp2", drift=DriftPolicy.IGNORE)
    assert _why(changed) is ValueReason.VALUE_CHANGED
    # fail: a hand edit is reported as drift even when the value or source changed too
    for print_now, source in (("fp2", "A_TOKEN"), ("fp", "B_TOKEN")):
        failing = _plan_one(same, "t2", print_now, drift=DriftPolicy.FAIL, source=source)
        assert _why(failing) is ValueReason.DRIFT
