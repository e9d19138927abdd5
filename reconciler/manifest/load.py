"""Manifests in, one DesiredState out: find the files, read each, merge, check values.

Every problem in every file is collected and raised once as a ManifestError, so a
user fixes everything in one pass. Reading one file (YAML → schema → semantic rules)
lives in `read`; this module finds files and merges what they declare.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.errors import LocalFileError, ManifestError, Problem, SourceError
from reconciler.local_files import read_regular_file
from reconciler.manifest.build import build_yaml
from reconciler.manifest.discovery import MAX_FILE_BYTES, Skipped, not_a_manifest, walk
from reconciler.manifest.dump import dump_manifest
from reconciler.manifest.limits import count_problems, run_size_warnings, scope_text
from reconciler.manifest.located import format_path, item_path
from reconciler.manifest.parse import decode, parse_yaml, paused_gc, second_document_problem
from reconciler.manifest.read import FileManifest, read_manifest
from reconciler.manifest.redact import describe
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    DriftPolicy,
    EnvSource,
    FileSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    Settings,
)
from reconciler.values.env_policy import EnvRefusal, env_refusal
from reconciler.values.resolver import Resolver

# The manifest key each source kind is written under, for a problem's path.
_SOURCE_FIELD = {
    "EnvSource": "env",
    "FileSource": "file",
    "AgeSource": "age",
    "AwsSource": "aws",
    "CommandSource": "command",
}

__all__ = ["LoadResult", "Skipped", "check_values", "dump_manifest", "load_manifests"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    desired: DesiredState
    # Paths found in directories and not read as manifests, each with its reason.
    skipped: tuple[Skipped, ...]
    # Findings that do not stop a plan (Actions variables past GitHub's 256 KB per run).
    warnings: tuple[Problem, ...] = ()


def load_manifests(
    paths: Sequence[str], *, extra_allow_env: Sequence[str] = (), libyaml: bool = True
) -> LoadResult:
    """Read, validate and merge the manifests at `paths` (files or directories).

    Which files in a directory are manifests is decided by `discovery`.
    Raises ManifestError carrying every problem found in every file.
    `libyaml=False` parses with the pure-Python parser (see `parse`), for comparisons.
    """
    problems: list[Problem] = []
    skipped: list[Skipped] = []
    manifests: list[FileManifest] = []
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            walked = walk(given)
            found, named = list(walked.files), False
            skipped.extend(walked.skipped)
            if not found:
                problems.append(Problem(None, "", f"no YAML files in directory {_arg(given)}"))
        elif os.path.exists(given):
            found, named = [given], True
        else:
            problems.append(Problem(None, "", f"{_arg(given)}: no such file or directory"))
            continue
        taken = 0
        for file in found:
            real = os.path.realpath(file)
            if real in seen:  # `dir/` and `dir/x.yaml` both given: read it once
                continue
            with paused_gc():
                manifest = _read(file, named=named, problems=problems, libyaml=libyaml)
            if isinstance(manifest, Skipped):
                skipped.append(manifest)
                continue
            seen.add(real)
            manifests.append(manifest)
            taken += 1
        if found and not taken and not named:
            problems.append(Problem(None, "", f"no manifests in directory {_arg(given)}"))
    desired = _merge(manifests, problems)
    allow = desired.settings.allow_env + tuple(extra_allow_env)
    problems.extend(_env_problems(desired.items(), manifests, allow))
    if problems:
        raise ManifestError(list(dict.fromkeys(problems)))
    skipped_paths = tuple(sorted(dict.fromkeys(skipped), key=lambda s: s.path))
    return LoadResult(desired, skipped_paths, run_size_warnings(desired))


def _arg(text: str) -> str:
    # A path from the command line could be a value pasted in the wrong place.
    return describe(text, "the path given")


_LIMIT_TEXT = f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (no manifest is that large)"


def _read_bytes(file: str) -> bytes | str:
    """The file's bytes, or why it cannot be a manifest (see `read_regular_file`)."""
    try:
        return read_regular_file(file, MAX_FILE_BYTES, limit_text=_LIMIT_TEXT)
    except LocalFileError as e:
        return e.problem


def _read(
    file: str, *, named: bool, problems: list[Problem], libyaml: bool
) -> FileManifest | Skipped:
    """One file's manifest, or why a file found in a directory is not one.

    Anything broken is a problem whether the file was named or found (see
    `discovery`): skipping a broken manifest would let prune delete its secrets.
    """
    data = _read_bytes(file)
    if isinstance(data, str):
        problems.append(Problem(Location(file, 1, 1), "", f"this file {data}"))
        return FileManifest.empty(file)
    text, found = decode(file, data)
    if text is None:
        problems.extend(found)
        return FileManifest.empty(file)
    documents, found = parse_yaml(file, text, libyaml=libyaml)
    if found:
        problems.extend(found)
        return FileManifest.empty(file)
    if not named:
        reason = not_a_manifest(documents)
        if reason:
            return Skipped(file, reason)
    if len(documents) > 1:
        problems.append(second_document_problem(file, documents[1]))
        return FileManifest.empty(file)
    doc, found = build_yaml(file, documents[0]) if documents else (None, [])
    problems.extend(found)
    if doc is None and found:
        return FileManifest.empty(file)
    manifest = read_manifest(file, doc)
    # A YAML value that could not be read is None now; its schema errors would be noise.
    unreadable = {(p.location, p.path) for p in found}
    problems.extend(p for p in manifest.problems if (p.location, p.path) not in unreadable)
    return manifest


def _merge(manifests: list[FileManifest], problems: list[Problem]) -> DesiredState:
    firsts: dict[tuple[Scope, App], DesiredGroup] = {}
    declared: dict[tuple[Scope, App], list[DesiredGroup]] = {}  # every file's, for its kinds
    members: dict[tuple[Scope, App], dict[tuple[Kind, str], DesiredItem]] = {}
    allow_env: list[str] = []
    allow_env_at: list[tuple[str, Location]] = []
    drift: tuple[DriftPolicy, Location] | None = None
    for manifest in manifests:
        allow_env.extend(manifest.allow_env)
        allow_env_at.extend(manifest.allow_env_at)
        if manifest.drift and drift and manifest.drift[0] != drift[0]:
            problems.append(
                Problem(
                    manifest.drift[1],
                    "settings.drift",
                    f"drift is {manifest.drift[0]} here but {drift[0]} at {drift[1]}",
                    hint="set the drift policy once, or to the same value in every file",
                )
            )
        drift = drift or manifest.drift
        for group in manifest.groups:
            key = (group.scope, group.app)
            first = firsts.setdefault(key, group)
            declared.setdefault(key, []).append(group)
            if first.prune != group.prune:
                problems.append(
                    Problem(
                        manifest.prune_locations.get(key, group.location),
                        manifest.group_paths[key],
                        f"prune is {_bool(group.prune)} here but {_bool(first.prune)} for the "
                        f"same group at {first.location} (omitted means false)",
                        hint="every file that lists this group must agree on prune",
                    )
                )
            items = members.setdefault(key, {})
            for item in group.items:
                earlier = items.setdefault((item.kind, item.name), item)
                if earlier is not item:
                    problems.extend(_defined_twice(earlier, item, manifests))
    merged: list[DesiredGroup] = []
    for key in sorted(firsts):
        first = firsts[key]
        ordered = tuple(sorted(members[key].values(), key=lambda s: (s.kind, s.name)))
        kinds = frozenset().union(*(g.kinds for g in declared[key]))
        merged.append(
            DesiredGroup(first.scope, first.app, first.prune, ordered, first.location, kinds)
        )
        problems.extend(count_problems(merged[-1]))
    settings = Settings(
        allow_env=tuple(dict.fromkeys(allow_env)),
        drift=drift[0] if drift else None,
        allow_env_at=tuple(allow_env_at),
    )
    return DesiredState(tuple(merged), settings, tuple(m.file for m in manifests))


def _item_path(manifests: Sequence[FileManifest], location: Location) -> str | None:
    """Where the item written at `location` is, as its file spells it (asked for a message)."""
    for manifest in manifests:
        found = manifest.item_paths.get(location)
        if found is not None:
            return format_path(found)
    return None


def _defined_twice(
    first: DesiredItem, again: DesiredItem, manifests: Sequence[FileManifest]
) -> Iterable[Problem]:
    """The same secret (or variable) in two files: an error at both places, each pointing at
    the other, so whichever file a reader opens says where the other definition is."""
    hint = f"define each {first.kind} once; names are case-insensitive"
    for here, there, verb in ((again, first, "already"), (first, again, "also")):
        app = "" if here.scope.kind is ScopeKind.ENVIRONMENT else f" of {here.app}"
        what = f"{here.kind} {here.name}{app} in {scope_text(here.scope)}"
        path = _item_path(manifests, here.location) or format_path(item_path(here))
        yield Problem(here.location, path, f"{what} is {verb} defined at {there.location}", hint)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _env_problems(
    secrets: Iterable[DesiredItem], manifests: list[FileManifest], allow: tuple[str, ...]
) -> Iterable[Problem]:
    refusals: dict[str, EnvRefusal | None] = {}  # many secrets often read one variable
    for secret in secrets:
        source = secret.source
        if not isinstance(source, EnvSource):
            continue
        if source.var not in refusals:
            refusals[source.var] = env_refusal(source.var, allow)
        refused = refusals[source.var]
        if refused:
            yield Problem(
                source.location,
                f"{_item_path(manifests, secret.location) or ''}.value.env",
                refused.message,
                refused.hint,
            )


def check_values(
    desired: DesiredState,
    environ: Mapping[str, str],
    extra_allow_env: Sequence[str] = (),
    *,
    resolver: Resolver | None = None,
) -> list[Problem]:
    """Resolve every env and file value once, to prove it is there, readable and in limits
    (a variable's value must also be UTF-8 text); with `resolver`, the age, AWS and command
    values too, the way apply reads them.

    Used by `validate --resolve-values`. Problems name sources, never values.
    """
    allow = desired.settings.allow_env + tuple(extra_allow_env)
    reader = resolver or Resolver(environ, allow)
    problems: list[Problem] = []
    for item in desired.items():
        if resolver is None and not isinstance(item.source, EnvSource | FileSource):
            # Sealed and inline values were checked when the manifest was read. Age, AWS and
            # command values are read only with the caller's resolver: they need keys, the
            # network or the operator's leave to run a program.
            continue
        error = reader.problem(item.source, text=item.kind is Kind.VARIABLE)
        if error is not None:
            problems.append(_source_problem(item, error))
    return sorted(problems, key=Problem.sort_key)


def _source_problem(item: DesiredItem, error: SourceError) -> Problem:
    field = _SOURCE_FIELD.get(type(item.source).__name__, "file")
    path = format_path([*item_path(item), "value", field])
    location: Location | None = error.location or item.location
    return Problem(location, path, error.detail, error.hint)
