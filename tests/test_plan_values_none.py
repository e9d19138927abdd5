"""The pure diff under `--values none`: values compared by version identity, never read."""

from __future__ import annotations

from types import MappingProxyType

from reconciler.diff import ValueFacts, diff
from reconciler.ledger.format import Entry, Ledger, entry_key
from reconciler.model import App, DriftPolicy, LiveState
from reconciler.plan import Action, Plan, ValuePolicy, ValueReason
from reconciler.render import render_text
from tests.support.builders import ORG, group, live, live_group, secret

UPDATED = "2026-01-01T00:00:00Z"
KEY = entry_key(ORG, App.DEPENDABOT, "A")


def _plan(
    entry: Entry | None, version: str | None, *, drift: DriftPolicy = DriftPolicy.OVERWRITE
) -> Plan:
    """`version`: the source's identity now (None: it has none)."""
    ledger = Ledger(MappingProxyType({KEY: entry} if entry else {}))
    facts = ValueFacts(ledger, {}, drift, {KEY: version} if version else {})
    held = LiveState((live_group(live("A", updated_at=UPDATED)),))
    return diff((group(secret("A")),), held, ValuePolicy.NONE, facts=facts)


def test_the_same_version_is_known_equal_without_the_value() -> None:
    entry = Entry(UPDATED, "hmac-sha256:x", "env:X_TOKEN", "aws:v1")
    assert _plan(entry, "aws:v1").changes == ()


def test_a_new_version_is_a_rotation_naming_it_and_bound_by_the_checksum() -> None:
    entry = Entry(UPDATED, "hmac-sha256:x", "env:X_TOKEN", "aws:v1")
    plan = _plan(entry, "aws:v2")
    (change,) = plan.changes
    assert (change.action, change.value, change.version) == (
        Action.UPDATE,
        ValueReason.ROTATED,
        "aws:v2",
    )
    assert change.canonical()["version"] == "aws:v2"
    assert "value: rotated in env:X_TOKEN (version aws:v2)" in render_text(plan)
    assert plan.checksum() != _plan(entry, "aws:v3").checksum()


def test_without_an_identity_the_value_is_checked_at_apply_never_no_change() -> None:
    entry = Entry(UPDATED, "hmac-sha256:x", "env:X_TOKEN")
    plan = _plan(entry, None)
    (change,) = plan.changes
    assert change.value is ValueReason.CHECKED_AT_APPLY
    assert plan.has_changes
    assert "checked at apply" in render_text(plan)


def test_no_entry_is_written_and_a_changed_source_says_so() -> None:
    (change,) = _plan(None, "aws:v1").changes
    assert change.value is ValueReason.NOT_COMPARABLE
    moved = Entry(UPDATED, None, "env:OTHER_TOKEN", "aws:v1")
    (change,) = _plan(moved, "aws:v1").changes
    assert change.value is ValueReason.SOURCE_CHANGED


def test_drift_is_seen_without_values() -> None:
    entry = Entry("2025-06-01T00:00:00Z", None, "env:X_TOKEN", "aws:v1")
    (change,) = _plan(entry, "aws:v1").changes
    assert change.value is ValueReason.DRIFT
    (change,) = _plan(entry, "aws:v1", drift=DriftPolicy.FAIL).changes
    assert change.value is ValueReason.DRIFT
