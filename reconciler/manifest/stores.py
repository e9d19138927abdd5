"""Reading the value sources that live in a store: an age value file beside the manifest
(`{age: FILE, key: NAME}`), AWS Secrets Manager (`{aws: SECRET, ...}`) and a command
(`{command: [PROGRAM, ARG, ...]}`).

Offline by design: validating a manifest never decrypts, calls AWS or runs a program; the
age file's path is only checked to stay inside the manifest's tree. The schema checks the
shapes (types, empty text, one source, options without their source); the rules here say
why a name, an id or a number is wrong, and are the ones that decide (a test keeps the
schema's patterns, kept for editors, in agreement).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TypeGuard

from reconciler.errors import Problem, SourceError
from reconciler.manifest.located import (
    LocList,
    LocMap,
    PathItem,
    format_path,
    value_location,
)
from reconciler.manifest.redact import CREDENTIAL_HINT
from reconciler.manifest.rules import credential_problem
from reconciler.model import AgeSource, AwsSource, CommandSource, FileSource, Location, Source
from reconciler.values.age_format import NAME_RE as AGE_NAME_RE
from reconciler.values.sources import confined_path

AGE_KEY_RE = AGE_NAME_RE  # what an age value file may hold: every name in it can be used
_AWS_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"
AWS_REGION_RE = re.compile(r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]")
AWS_NAME_RE = re.compile(_AWS_NAME)
AWS_ARN_RE = re.compile(
    rf"arn:aws(?:-[a-z]+)*:secretsmanager:(?P<region>{AWS_REGION_RE.pattern}):[0-9]{{12}}"
    rf":secret:{_AWS_NAME}"
)
AWS_VERSION_ID_RE = re.compile(r"[A-Za-z0-9-]{32,64}")
MAX_TIMEOUT = 600
NO_SHELL_HINT = (
    "no shell: write the arguments as a list, like command: [vault, kv, get, -field=token, "
    "secret/npm]"
)
_ARGUMENT_HINT = (
    "a credential in an argument is committed and visible to every process on the machine; "
    "let the program find its credential itself (its own login, configuration or environment). "
    "If a real credential was written here, remove it and rotate it (it may already be in "
    "git history)"
)


# Every key `store_problems` looks at.
_STORE_FIELDS = frozenset(
    {"age", "key", "aws", "json_key", "version_stage", "version_id", "region", "command"}
    | {"timeout"}
)


def store_problems(value: LocMap, path: list[PathItem], base_dir: str) -> list[Problem]:
    """Every problem of the store keys `value` holds, whatever else is wrong with it (the
    schema reports shapes: wrong types and empty text are skipped here)."""
    if _STORE_FIELDS.isdisjoint(value):
        return []  # an env, file or sealed value: most of a large manifest's
    problems = list(_problems(value, path, base_dir))
    problems.extend(_region_problems(value, path))
    return problems


def store_source(kind: str, value: LocMap, base_dir: str) -> Source | None:
    """The source `value` names, if `store_problems` found nothing and the shape is right."""
    where = value_location(value, kind)
    if kind == "age":
        file, key = value.get("age"), value.get("key")
        if _text(file) and _text(key):
            return AgeSource(file, key, base_dir, where)
        return None
    if kind == "aws":
        return _aws_source(value, where)
    argv = value.get("command")
    if not isinstance(argv, list) or not argv or not all(_text(a) for a in argv):
        return None
    if "timeout" not in value:
        return CommandSource(tuple(argv), where)
    timeout = value["timeout"]
    return CommandSource(tuple(argv), where, float(timeout)) if _is_number(timeout) else None


def _aws_source(value: LocMap, where: Location) -> AwsSource | None:
    secret_id = value.get("aws")
    options: dict[str, str | None] = {}
    for name in ("json_key", "version_stage", "version_id", "region"):
        given = value.get(name)
        if name in value and not _text(given):
            return None
        options[name] = given if _text(given) else None
    if not _text(secret_id) or (options["version_stage"] and options["version_id"]):
        return None
    return AwsSource(secret_id, where, **options)


def _text(raw: object) -> TypeGuard[str]:
    return isinstance(raw, str) and bool(raw)


def _is_number(raw: object) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _problems(value: LocMap, path: list[PathItem], base_dir: str) -> Iterator[Problem]:
    for field in ("age", "key", "aws", "json_key", "version_stage", "version_id", "region"):
        raw = value.get(field)
        if not _text(raw):
            continue  # absent, or a shape the schema reports
        where = value_location(value, field)
        found = _field_problem(field, raw, base_dir, where)
        if found:
            yield Problem(where, format_path([*path, field]), *found)
    if isinstance(value.get("command"), LocList):
        yield from _command_problems(value["command"], [*path, "command"])
    if "timeout" in value and _is_number(value["timeout"]):
        timeout = value["timeout"]
        if math.isnan(timeout) or not 0 < timeout <= MAX_TIMEOUT:
            yield Problem(
                value_location(value, "timeout"),
                format_path([*path, "timeout"]),
                f"timeout must be more than 0 and at most {MAX_TIMEOUT} seconds",
                hint="leave it out for the default (30 seconds)",
            )


_NOUNS = {
    "age": "a file path",
    "key": "a value name",
    "aws": "an AWS secret name",
    "json_key": "a JSON key",
    "version_stage": "a version stage",
}


def _field_problem(
    field: str, raw: str, base_dir: str, where: Location
) -> tuple[str, str | None] | None:
    """The message and hint for one store key's text, or None if it is fine."""
    # A version id is hex or a UUID: credential-shaped by nature, and never shown anyway.
    if field in _NOUNS and (credential := credential_problem(raw, _NOUNS[field])):
        return credential, CREDENTIAL_HINT
    if field == "age":
        try:
            confined_path(FileSource(raw, base_dir, where))
        except SourceError as e:
            # The file-source rules, said of the age file they are applied to.
            return e.detail.replace("file source", "age file", 1), e.hint
    elif field == "key" and not AGE_KEY_RE.fullmatch(raw):
        return (
            "key must name a value in the age file: 1-200 letters, digits, "
            '"_", "." or "-", not starting with "." or "-"',
            None,
        )
    elif field == "aws" and not (AWS_NAME_RE.fullmatch(raw) or AWS_ARN_RE.fullmatch(raw)):
        return (
            "not an AWS Secrets Manager secret name (1 to 512 letters, digits and /_+=.@-) "
            "or ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
            None,
        )
    elif field == "version_id" and not AWS_VERSION_ID_RE.fullmatch(raw):
        return "not a Secrets Manager version id (32 to 64 letters, digits and -)", None
    elif field == "region" and not AWS_REGION_RE.fullmatch(raw):
        return "not an AWS region name", "write a region like eu-west-1 or us-gov-west-1"
    return None


def _command_problems(argv: LocList, path: list[PathItem]) -> Iterator[Problem]:
    for i, (arg, where) in enumerate(zip(argv, argv.item_locs, strict=True)):
        if not _text(arg):
            continue  # reported by the schema
        if "\0" in arg:
            yield Problem(where, format_path([*path, i]), "a command argument holds a NUL byte")
        elif credential := credential_problem(arg, "a command argument"):
            yield Problem(where, format_path([*path, i]), credential, _ARGUMENT_HINT)


def _region_problems(value: LocMap, path: list[PathItem]) -> Iterator[Problem]:
    """An ARN names its region; a `region` beside it must be the same one."""
    arn, region = value.get("aws"), value.get("region")
    if not isinstance(arn, str) or not isinstance(region, str):
        return
    match = AWS_ARN_RE.fullmatch(arn)
    if match and AWS_REGION_RE.fullmatch(region) and match["region"] != region:
        yield Problem(
            value_location(value, "region"),
            format_path([*path, "region"]),
            f'region "{region}" differs from the ARN\'s region "{match["region"]}"',
            hint="leave region out (the ARN names it), or make the two agree",
        )
