"""Split manifests: prune never deletes what a sibling manifest file declares.

When manifest FILES are named (not their directory), the other manifests in each named
file's directory tree (found by the discovery rule, `manifest.discovery.walk`) are read
too, only to learn what they declare. A planned deletion of a secret one of them declares
is a problem (`ProblemKind.DECLARED_ELSEWHERE`): plan reports it and apply refuses
identically, before any write and whatever --force says. Applying one file of a split
manifest must not delete everything the other files declare; plan the directory instead.

A sibling that cannot be read as a manifest (broken, or not a manifest at all) is passed
over with a warning: what it declares cannot be known.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from reconciler.errors import ReconcilerError
from reconciler.manifest.discovery import walk
from reconciler.manifest.load import load_manifests
from reconciler.model import App, DesiredState, Kind, Location, Scope
from reconciler.plan import Action, ApplyProblem, Change, ProblemKind
from reconciler.safe_text import printable

log = logging.getLogger(__name__)

ItemKey = tuple[Scope, App, Kind, str]


def sibling_declarations(
    paths: Sequence[str], desired: DesiredState, allow_env: Sequence[str]
) -> dict[ItemKey, Location]:
    """Where the manifests beside the named files (and not loaded) declare each secret."""
    loaded = {os.path.realpath(f) for f in desired.files}
    loaded |= {os.path.realpath(p) for p in paths if os.path.isfile(p)}
    directories = {os.path.dirname(p) or "." for p in paths if os.path.isfile(p)}
    allow = (*allow_env, *desired.settings.allow_env)
    declared: dict[ItemKey, Location] = {}
    seen: set[str] = set()
    for directory in sorted(directories):
        for file in walk(directory).files:
            real = os.path.realpath(file)
            if real in loaded or real in seen:
                continue
            seen.add(real)
            try:
                sibling = load_manifests([file], extra_allow_env=allow).desired
            except ReconcilerError:
                log.warning(
                    "%s: cannot tell which secrets it declares (not a readable manifest); "
                    "prune is not checked against it",
                    printable(file),
                )
                continue
            for secret in sibling.items():
                declared.setdefault(
                    (secret.scope, secret.app, secret.kind, secret.name), secret.location
                )
    return declared


def declared_elsewhere(
    changes: Sequence[Change], declared: dict[ItemKey, Location]
) -> list[ApplyProblem]:
    """A problem for each planned deletion of a secret a sibling manifest declares."""
    problems = []
    for c in changes:
        where = declared.get((c.scope, c.app, c.kind, c.name.upper()))
        if c.action is not Action.DELETE or where is None:
            continue
        problems.append(
            ApplyProblem(
                ProblemKind.DECLARED_ELSEWHERE,
                f"{c.scope} {c.app} {c.name}",
                f"prune would delete it, but {where.file} declares it and was not given",
                "plan the manifests together: name their directory (or every file of it), "
                "or remove the secret from that file first if it is meant to go",
                str(where),
            )
        )
    return problems
