"""The plan's vocabulary: typed changes in a safe order, the canonical document and its
checksum that binds a reviewed plan to its apply, and what apply made of each change.

Pure: no I/O. Why a reviewed plan no longer matches is explained in `review`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model import NO_COST, ApiCost, App, Kind, Scope, ScopeKind, Visibility

PLAN_FORMAT = "reconciler-plan"
PLAN_VERSION = 2  # 2: the inputs (manifests, allow_env) are part of the checksum


class Action(StrEnum):
    # Declaration order is the order inside a scope: creates before updates before
    # selection changes before deletes, so a renamed secret is never missing mid-apply.
    CREATE = "create"
    UPDATE = "update"
    SELECTION = "selection"
    DELETE = "delete"
    UNMANAGED = "unmanaged"


_ACTION_ORDER = {a: i for i, a in enumerate(Action)}
_KIND_ORDER = {k: i for i, k in enumerate(Kind)}


class ValuePolicy(StrEnum):
    AUTO = "auto"  # write values that are new, changed or not comparable
    SKIP_UNKNOWN = "skip-unknown"  # leave values that cannot be compared alone
    ALWAYS = "always"  # rewrite every value
    # Read no value and no key while planning (a pull-request job holds no secret): compare
    # by version identity where there is one; apply checks the rest, writing only changes.
    NONE = "none"


class ValueReason(StrEnum):
    """Why a change writes the secret's value."""

    NEW = "new secret"
    NEW_VARIABLE = "new variable"
    SOURCE_CHANGED = "source changed"  # the manifest names another source than last time
    VALUE_CHANGED = "value changed"  # the source's value differs from what we last wrote
    DRIFT = "changed outside reconciler"  # GitHub's updated_at differs from our last write
    NOT_COMPARABLE = "not comparable"
    ALWAYS = "--values always"
    VISIBILITY = "required to change visibility"
    ROTATED = "value rotated"  # its version identity differs from the one last written
    CHECKED_AT_APPLY = "checked at apply"  # --values none: no identity; apply compares


@dataclass(frozen=True, slots=True)
class Change:
    scope: Scope
    app: App
    name: str
    action: Action
    value: ValueReason | None = None  # the value is written, and why
    value_skipped: bool = False  # not comparable, left alone by --values skip-unknown
    visibility_before: Visibility | None = None
    visibility_after: Visibility | None = None
    repos_added: tuple[str, ...] = ()
    repos_removed: tuple[str, ...] = ()
    source: str = ""  # where the value comes from, e.g. "env:NPM_TOKEN"; never the value
    live_updated_at: str = ""
    kind: Kind = Kind.SECRET
    # A variable's value before and after (GitHub shows variables' values, so the plan can);
    # None for secrets, and for variables when the plan hides their values.
    variable_before: str | None = field(default=None, repr=False)
    variable_after: str | None = field(default=None, repr=False)
    version: str = ""  # the source's new version identity, for a rotation seen without values

    @property
    def writes(self) -> int:
        """Requests the executor makes for this change."""
        return 0 if self.action is Action.UNMANAGED else 1

    @property
    def visibility_changed(self) -> bool:
        return self.visibility_before != self.visibility_after

    @property
    def ident(self) -> tuple[Scope, App, Kind, str]:
        """What the change is about: a secret and a variable may share a name."""
        return (self.scope, self.app, self.kind, self.name)

    def sort_key(self) -> tuple[tuple[int, str, str], bool, str, int, int, str]:
        # An environment's creation comes first in its scope; then per app, secrets before
        # variables, each in action order.
        return (
            self.scope.key,
            self.kind is not Kind.ENVIRONMENT,
            self.app.value,
            _KIND_ORDER[self.kind],
            _ACTION_ORDER[self.action],
            self.name,
        )

    def canonical(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "scope": self.scope.kind.value,
            "target": self.scope.name,
            "app": self.app.value,
            "name": self.name,
            "action": self.action.value,
        }
        # Only when not a secret / not an environment scope: secret plans keep their checksum.
        if self.kind is not Kind.SECRET:
            data["kind"] = self.kind.value
        if self.scope.kind is ScopeKind.ENVIRONMENT:
            data["environment"] = self.scope.environment
        if self.variable_before is not None or self.variable_after is not None:
            data["variable"] = {"before": self.variable_before, "after": self.variable_after}
        if self.value is not None:
            data["value"] = self.value.value
        if self.value_skipped:
            data["value"] = "not comparable, skipped"
        if self.scope.kind is ScopeKind.ORG and self.action is not Action.DELETE:
            data["visibility"] = {
                "before": _opt(self.visibility_before),
                "after": _opt(self.visibility_after),
            }
        if self.repos_added or self.repos_removed:
            data["repositories"] = {
                "added": list(self.repos_added),
                "removed": list(self.repos_removed),
            }
        if self.source:
            data["source"] = self.source
        if self.version:  # only for rotations: other plans keep their checksum
            data["version"] = self.version
        if self.live_updated_at:
            data["live_updated_at"] = self.live_updated_at
        return data


def _opt(v: Visibility | None) -> str | None:
    return v.value if v else None


class ProblemKind(StrEnum):
    """What apply would refuse or fail on before its first write."""

    SOURCE = "unreadable source"  # a value the plan writes cannot be read: apply fails
    SEALED = "stale sealed value"  # GitHub would reject it: apply fails
    UNSAFE = "unsafe"  # a safety threshold: apply refuses without --force
    LEDGER_KEY = "no ledger key"  # every value rewritten, not comparable: refused without --force
    # prune would delete what a sibling manifest file not given declares: apply fails
    DECLARED_ELSEWHERE = "declared in another manifest"

    @property
    def needs_force(self) -> bool:
        """--force lets apply go ahead; the other kinds fail whatever the flags."""
        return self in (ProblemKind.UNSAFE, ProblemKind.LEDGER_KEY)


@dataclass(frozen=True, slots=True)
class ApplyProblem:
    """One reason the plan cannot be applied as is. Names a source, never a value."""

    kind: ProblemKind
    subject: str  # "octo-org actions NPM_TOKEN", a scope and app, or the ledger
    message: str
    hint: str = ""
    location: str = ""  # file:line:col of the manifest entry, when there is one

    def __str__(self) -> str:
        where = f"{self.location}  " if self.location else ""
        text = f"{where}{self.subject}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text

    def document(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "needs_force": self.kind.needs_force,
            "subject": self.subject,
            "location": self.location,
            "message": self.message,
            "hint": self.hint,
        }


def problems_headline(problems: Sequence[ApplyProblem], *, applying: bool) -> str:
    """The words plan (what apply would do) and apply (what it does) put above the problems."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    if all(p.kind.needs_force for p in problems):
        if applying:
            return (
                f"refusing an unsafe plan; nothing was written ({count} {noun}, --force overrides)"
            )
        return f"apply would refuse this plan without --force ({count} {noun})"
    if applying:
        return (
            f"refusing to apply ({count} {noun} found before the first write); nothing was written"
        )
    return f"apply would fail before its first write ({count} {noun})"


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    values: ValuePolicy
    cost: ApiCost = NO_COST  # requests made while planning
    # Well-known credentials the manifest admits by exact name (see env_policy); in the
    # checksum, since they change what apply writes.
    notices: tuple[str, ...] = ()
    # What the plan was made from; in the checksum, so a reviewed plan file cannot be pointed
    # at other manifests or widened to read other variables after review.
    manifests: tuple[str, ...] = ()
    allow_env: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # --target: only changes within these (see targets.py)
    variables_hidden: bool = False  # --hide-variable-values: no variable value in the plan
    # What apply would refuse or fail on here (see safety.apply_problems). Not in the checksum:
    # they depend on the job that runs (its variables, its ledger key, its thresholds), not on
    # what the plan writes, and a plan reviewed without them must still bind its apply.
    problems: tuple[ApplyProblem, ...] = ()

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.UNMANAGED)

    @property
    def writes(self) -> int:
        return sum(c.writes for c in self.changes)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def counts(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for c in self.changes:
            counts[c.action.value] += 1
        return counts

    def canonical(self) -> dict[str, Any]:
        """The versioned, value-free plan document; its checksum binds review to apply."""
        data: dict[str, Any] = {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "values": self.values.value,
            "changes": [c.canonical() for c in self.changes],
            "manifests": list(self.manifests),
            "allow_env": list(self.allow_env),
        }
        if self.notices:  # only when present: plans without any keep their checksum
            data["notices"] = list(self.notices)
        if self.targets:  # likewise: untargeted plans keep their checksum
            data["targets"] = list(self.targets)
        if self.variables_hidden:  # apply of a reviewed plan re-derives it the same way
            data["variable_values"] = "hidden"
        return data

    def checksum(self) -> str:
        return checksum(self.canonical())

    @property
    def applicable(self) -> bool:
        """Whether apply would run this plan as is (without --force)."""
        return not self.problems

    def document(self) -> dict[str, Any]:
        """Canonical data plus what is not part of the checksum: problems, summary, API cost."""
        doc = self.canonical()
        doc["checksum"] = self.checksum()
        doc["problems"] = [p.document() for p in self.problems]
        doc["summary"] = self.counts()
        doc["api"] = {**self.cost.document(), "writes_planned": self.writes}
        return doc


def checksum(canonical: dict[str, Any]) -> str:
    import hashlib  # here, not at the top: `--help` and `validate` never checksum a plan

    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


# The keys of `Plan.canonical()`: exactly what the checksum covers.
CANONICAL_KEYS = ("format", "version", "values", "changes", "manifests", "allow_env")
OPTIONAL_CANONICAL_KEYS = ("notices", "targets", "variable_values")  # covered when present


def document_checksum(doc: Mapping[str, Any]) -> str:
    """The checksum a saved plan document's own canonical part hashes to; a file whose
    `checksum` says otherwise was edited after `plan` wrote it."""
    canonical = {key: doc.get(key) for key in CANONICAL_KEYS}
    canonical.update({key: doc[key] for key in OPTIONAL_CANONICAL_KEYS if key in doc})
    return checksum(canonical)


# -- what apply made of a plan ------------------------------------------------------------
class Outcome(StrEnum):
    """What became of one change when apply carried it out."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCHANGED = "unchanged"  # --values none: read at apply, equal to the one last written


@dataclass(frozen=True, slots=True)
class Result:
    change: Change
    outcome: Outcome
    detail: str = ""  # the error (with request id) or why it was skipped; never a value
    requests: int = 0
