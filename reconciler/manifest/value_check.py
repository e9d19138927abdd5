"""Schema errors inside a secret's or variable's `value`: how many sources it names, which
keys go together, and which errors `stores` reports itself. Nothing under `value` is ever
quoted: it could be a pasted secret."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from reconciler.errors import Problem
from reconciler.manifest.located import LocMap, PathItem, format_path, key_location
from reconciler.manifest.rules import (
    OPTION_SOURCE,
    SOURCE_HINT,
    SOURCE_KEYS,
    VARIABLE_SOURCE_HINT,
    VARIABLE_SOURCE_KEYS,
)
from reconciler.model import Location

# Store keys whose rules `stores` applies with messages saying why; the schema's patterns and
# bounds for them are kept for editors (and are blind to a trailing newline).
_RULED_KEYS = frozenset({"key", "aws", "version_id", "region", "timeout"})
_RULED_KEYWORDS = frozenset({"pattern", "exclusiveMinimum", "maximum"})
_OPTION_EXAMPLES = {
    "key": "{age: FILE, key: NAME}",
    "json_key": "{aws: SECRET, json_key: KEY}",
    "version_stage": "{aws: SECRET, version_stage: AWSPREVIOUS}",
    "version_id": '{aws: SECRET, version_id: "..."}',
    "region": "{aws: SECRET, region: eu-west-1}",
    "timeout": "{command: [PROGRAM, ARG, ...], timeout: 20}",
}
AGE_HINT = "write value: {age: FILE, key: NAME}"


def value_index(path: Sequence[PathItem]) -> int | None:
    """Index of `value` in `...secrets.NAME.value...` (or `variables.`), or None outside one.

    Looked up by position because a secret may itself be called `value`.
    """
    for i in range(len(path) - 2):
        if path[i] in ("secrets", "variables") and path[i + 2] == "value":
            return i + 2
    return None


def in_variable(path: Sequence[PathItem]) -> bool:
    i = value_index(path)
    return i is not None and path[i - 2] == "variables"


def ruled_by_stores(path: Sequence[PathItem], keyword: str) -> bool:
    """Whether `stores` reports this error on a store key, with a better message."""
    at = value_index(path)
    if at is None or keyword not in _RULED_KEYWORDS:
        return False
    if at == len(path) - 2:
        return path[-1] in _RULED_KEYS
    return at == len(path) - 3 and path[-2] == "command"


def source_count_problem(
    instance: Mapping[str, object], path: list[PathItem], where: Location, jpath: str
) -> Iterator[Problem]:
    """A value naming no source or several (for a variable, whose value may also be text, the
    schema counts the sources of a mapping only)."""
    variable = in_variable(path)
    known = VARIABLE_SOURCE_KEYS if variable else SOURCE_KEYS
    if variable and any(OPTION_SOURCE.get(k, k) not in known for k in instance):
        return  # an unknown (or sealed) source key says it better
    given = [k for k in known if k in instance]
    if len(given) > 1:
        message = f"a value has exactly one source, not {' and '.join(given)}"
    else:
        message = "value names no source"
    yield Problem(where, jpath, message, VARIABLE_SOURCE_HINT if variable else SOURCE_HINT)


def dependency_problems(
    instance: Mapping[str, object], path: list[PathItem], where: Location, jpath: str
) -> Iterator[Problem]:
    """A source without the key it needs, or a key without its source. jsonschema reports
    each missing key on its own; every one is said here, and `schema_problems` says each once."""
    if ("sealed" in instance) != ("key_id" in instance):
        hint = VARIABLE_SOURCE_HINT if in_variable(path) else SOURCE_HINT
        yield Problem(where, jpath, "sealed and key_id go together", hint)
    if "age" in instance and "key" not in instance:
        yield Problem(where, jpath, "age needs key: the name of the value in the file", AGE_HINT)
    for option, example in _OPTION_EXAMPLES.items():
        source = OPTION_SOURCE[option]
        if option in instance and source not in instance:
            yield Problem(
                _key_at(instance, option, where),
                format_path([*path, option]),
                f"{option} applies to {source} values only",
                f"write value: {example}, or remove {option}",
            )


def exclusive_version_problem(
    instance: Mapping[str, object], path: list[PathItem], where: Location
) -> Problem:
    """The schema's one `not`: an AWS version named by stage and by id."""
    return Problem(
        _key_at(instance, "version_id", where),
        format_path([*path, "version_id"]),
        "version_stage and version_id exclude each other",
        "name the version by its stage (like AWSCURRENT) or by its id, not both",
    )


def _key_at(instance: object, key: str, default: Location) -> Location:
    return key_location(instance, key) if isinstance(instance, LocMap) else default
