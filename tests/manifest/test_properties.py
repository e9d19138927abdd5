"""Properties of manifest loading: dump/load round-trips; mangled input fails cleanly."""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.errors import ManifestError
from reconciler.manifest import rules
from reconciler.manifest.load import dump_manifest, load_manifests
from reconciler.manifest.redact import looks_like_credential
from reconciler.model import (
    VARIABLE_APPS,
    AgeSource,
    App,
    AwsSource,
    CommandSource,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    EnvSource,
    FileSource,
    InlineSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    SealedSource,
    Settings,
    Source,
    Visibility,
)
from reconciler.values.env_policy import env_name_allowed

HERE = Location("generated.yaml", 1, 1)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

org_names = st.from_regex(r"[A-Za-z0-9]{1,6}(-[A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
# Includes names YAML 1.1 would misread unquoted: on, no, true, 123, 1e5, null, ...
repo_names = st.one_of(
    st.from_regex(r"[A-Za-z0-9._-]{1,10}", fullmatch=True).filter(lambda n: n not in (".", "..")),
    st.sampled_from(["on", "no", "True", "null", "123", "1e5", "0x1F", "1_000", ".nan", "-"]),
)
secret_names = st.one_of(
    st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True),
    st.sampled_from(["ON", "NO", "Y", "TRUE", "NULL", "_"]),
).filter(lambda n: not n.startswith("GITHUB_"))
env_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}_(TOKEN|PAT|KEY|PASSWORD|SECRET)", fullmatch=True)
env_names = env_names.filter(lambda n: env_name_allowed(n, ()) is None)
file_paths = st.from_regex(r"(values/)?[a-z0-9][a-z0-9_.-]{0,10}\.txt", fullmatch=True)
sealed = st.binary(min_size=49, max_size=120).map(lambda b: base64.b64encode(b).decode())
key_ids = st.from_regex(r"[0-9]{1,20}", fullmatch=True)
# Any text GitHub stores (no lone surrogates), including what YAML would misread unquoted.
inline_texts = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20),
    st.sampled_from(
        ["3", "yes", "no", "null", "~", "0x1F", "1e5", " lead", "trail ", "a: b", "#c", "\x85a"]
    ),
)
environment_names = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
        lambda n: not looks_like_credential(n)
    ),
    st.sampled_from(["production", "Staging / EU", "on", "123", "a:b", "#x", "*a", "&b", " x "]),
)


def _not_credential(text: str) -> bool:
    return not looks_like_credential(text)


age_files = st.from_regex(r"(values/)?[a-z0-9][a-z0-9_.-]{0,10}\.age\.yaml", fullmatch=True)
age_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(_not_credential)
# Names YAML would misread unquoted too: a secret called `on`, `123` or `null`.
aws_names = st.one_of(
    st.from_regex(r"[A-Za-z0-9/_+=.@-]{1,24}", fullmatch=True).filter(_not_credential),
    st.sampled_from(["on", "123", "null", "1e5", "@x", "-", "prod/npm"]),
)
aws_regions = st.from_regex(r"[a-z]{2}(-gov)?-[a-z]{1,9}-[0-9]", fullmatch=True)
# Free text where the manifest takes any: not credential-shaped, no NUL (no argv holds one).
any_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), min_size=1, max_size=16
).filter(_not_credential)


@st.composite
def aws_sources(draw: st.DrawFn) -> AwsSource:
    region = draw(st.none() | aws_regions)
    secret_id = draw(aws_names)
    if draw(st.booleans()):
        arn_region = region or draw(aws_regions)
        account = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
        secret_id = f"arn:aws:secretsmanager:{arn_region}:{account}:secret:{secret_id}"
    stage = draw(st.none() | st.sampled_from(["AWSCURRENT", "AWSPREVIOUS", "on"]) | any_text)
    version_id = None
    if stage is None:
        version_id = draw(st.none() | st.from_regex(r"[A-Za-z0-9-]{32,64}", fullmatch=True))
    json_key = draw(st.none() | any_text)
    return AwsSource(secret_id, HERE, json_key, stage, version_id, region)


store_sources = st.one_of(
    st.builds(AgeSource, age_files, age_keys, st.just("."), st.just(HERE)),
    aws_sources(),
    st.builds(
        CommandSource,
        st.lists(any_text, min_size=1, max_size=4).map(tuple),
        st.just(HERE),
        st.floats(min_value=0, max_value=600, exclude_min=True) | st.integers(1, 600).map(float),
    ),
)


def sources() -> st.SearchStrategy[Source]:
    return st.one_of(
        st.builds(EnvSource, env_names, st.just(HERE)),
        st.builds(FileSource, file_paths, st.just("."), st.just(HERE)),
        st.builds(SealedSource, sealed, key_ids, st.just(HERE)),
        store_sources,
    )


def variable_sources() -> st.SearchStrategy[Source]:
    return st.one_of(
        st.builds(EnvSource, env_names, st.just(HERE)),
        st.builds(FileSource, file_paths, st.just("."), st.just(HERE)),
        st.builds(InlineSource, inline_texts, st.just(HERE)),
        store_sources,
    )


@st.composite
def desired_states(draw: st.DrawFn) -> DesiredState:
    orgs = draw(st.lists(org_names, max_size=2, unique_by=str.lower))
    repos = draw(
        st.lists(
            st.tuples(st.sampled_from([*orgs, "octo-org"]), repo_names),
            max_size=3,
            unique_by=lambda t: f"{t[0]}/{t[1]}".lower(),
        )
    )
    scopes = [Scope(ScopeKind.ORG, o) for o in orgs]
    scopes += [Scope(ScopeKind.REPO, f"{o}/{r}") for o, r in repos]
    for o, r in repos:
        for env in draw(st.lists(environment_names, max_size=2, unique_by=str.lower)):
            scopes.append(Scope.of_environment(f"{o}/{r}", env))
    groups = []
    for scope in sorted(scopes):
        if scope.kind is ScopeKind.ENVIRONMENT:
            apps = [App.ACTIONS]  # an environment holds Actions secrets and variables
        else:
            apps = sorted(draw(st.sets(st.sampled_from(list(App)), max_size=4)))
        for app in apps:
            names = draw(st.lists(secret_names, max_size=3, unique_by=str.upper))
            items = [draw(_secret(scope, app, name)) for name in sorted(names)]
            if app in VARIABLE_APPS:
                names = draw(st.lists(secret_names, max_size=3, unique_by=str.upper))
                items += [draw(_secret(scope, app, n, Kind.VARIABLE)) for n in sorted(names)]
            groups.append(DesiredGroup(scope, app, draw(st.booleans()), tuple(items), HERE))
    allow = draw(st.lists(st.from_regex(r"[A-Z]{1,4}_\*", fullmatch=True), max_size=2, unique=True))
    return DesiredState(tuple(groups), Settings(tuple(allow)))


@st.composite
def _secret(
    draw: st.DrawFn, scope: Scope, app: App, name: str, kind: Kind = Kind.SECRET
) -> DesiredItem:
    source = draw(variable_sources() if kind is Kind.VARIABLE else sources())
    if scope.kind is not ScopeKind.ORG:
        return DesiredItem(scope, app, name, source, HERE, kind=kind)
    visibility = draw(st.sampled_from(list(Visibility)))
    repositories = None
    if visibility is Visibility.SELECTED:
        repositories = tuple(draw(st.lists(repo_names, max_size=3, unique_by=str.lower)))
    return DesiredItem(scope, app, name, source, HERE, visibility, repositories, kind=kind)


def normalise(desired: DesiredState) -> Any:
    """The desired state without locations or the directory file paths are relative to."""

    def source(s: Source) -> tuple[object, ...]:
        if isinstance(s, EnvSource):
            return ("env", s.var)
        if isinstance(s, FileSource | AgeSource):
            return (type(s).__name__, s.path, getattr(s, "key", None))
        if isinstance(s, InlineSource):
            return ("inline", s.text)
        if isinstance(s, AwsSource):
            return ("aws", s.secret_id, s.json_key, s.version_stage, s.version_id, s.region)
        if isinstance(s, CommandSource):
            return ("command", s.argv, s.timeout)
        return ("sealed", s.ciphertext, s.key_id)

    return (
        desired.settings.allow_env,
        [
            (
                g.scope.kind,
                g.scope.name.lower(),
                g.scope.environment.lower(),
                g.app,
                g.prune,
                [(s.kind, s.name, source(s.source), s.visibility, s.repositories) for s in g.items],
            )
            for g in desired.groups
        ],
    )


def load_text(data: str | bytes) -> DesiredState:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return load_manifests([str(path)]).desired


@pytest.mark.slow
@PROPERTY
@given(desired_states())
def test_dump_then_load_gives_the_same_desired_state(desired: DesiredState) -> None:
    text = dump_manifest(desired)
    assert normalise(load_text(text)) == normalise(desired)


YAML_SNIPPETS = [b":", b"-", b"{", b"[", b"\t", b"&a", b"*a", b"\n  ", b"!!int ", b"<<: ", b"\xff"]


def _loads_or_manifest_error(data: str | bytes) -> None:
    try:
        load_text(data)
    except ManifestError as e:
        assert e.problems
        for problem in e.problems:
            assert problem.message
            assert str(problem)


@pytest.mark.slow
@PROPERTY
@given(desired_states(), st.data())
def test_mangled_bytes_fail_only_with_manifest_error(
    desired: DesiredState, data: st.DataObject
) -> None:
    raw = bytearray(dump_manifest(desired).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        if not raw:
            break
        i = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            raw[i] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[i]
        elif action == "insert":
            raw[i:i] = data.draw(
                st.sampled_from(
                    [b":", b"-", b"{", b"[", b"\t", b"&a", b"*a", b"\n  ", b"!!int ", b"<<: "]
                )
            )
        else:
            del raw[i:]
    _loads_or_manifest_error(bytes(raw))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*path, i))
    return found


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=6), st.text(max_size=4), max_size=2),
)


@pytest.mark.slow
@PROPERTY
@given(desired_states(), st.data())
def test_structural_edits_fail_only_with_manifest_error(
    desired: DesiredState, data: st.DataObject
) -> None:
    doc = yaml.safe_load(dump_manifest(desired))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = data.draw(junk)
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = data.draw(st.sampled_from(["delete", "rename", "retype"]))
        if action == "delete":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12))] = parent.pop(last)
        else:
            parent[last] = data.draw(junk)
        if not isinstance(doc, dict | list):
            break
    _loads_or_manifest_error(yaml.safe_dump(doc, allow_unicode=True))


# The schema's name patterns (for editors) and the rule functions (for messages) must agree.
_defs = rules.schema()["$defs"]
NAME_RULES = [
    (_defs["orgName"]["pattern"], rules.org_name_problem),
    (_defs["repoName"]["pattern"], rules.repo_name_problem),
    (_defs["repoFullName"]["pattern"], rules.repo_full_name_problem),
    (_defs["secretName"]["pattern"], rules.secret_name_problem),
    (_defs["secretName"]["pattern"], rules.variable_name_problem),
]
name_like = st.one_of(
    st.text(max_size=45),
    st.from_regex(r"[A-Za-z0-9._/-]{0,45}", fullmatch=True),
    st.from_regex(
        r"[A-Za-z0-9]{1,40}(-[A-Za-z0-9]{1,3})*(/[A-Za-z0-9._-]{0,102})?", fullmatch=True
    ),
    st.from_regex(r"([Gg][Ii][Tt][Hh][Uu][Bb]_)?[A-Za-z0-9_]{0,8}", fullmatch=True),
    st.sampled_from([".", "..", "a/.", "a/..", "a/...", "-a", "a-", "a--b", "_x", "9x", "0\n"]),
)


@settings(max_examples=500, deadline=None)
@given(name_like)
def test_schema_name_patterns_agree_with_the_rules(name: str) -> None:
    for pattern, rule in NAME_RULES:
        # The schema's patterns are ECMA-262 (what editors run), where `$` ends the text;
        # Python's `$` also matches before a final newline ("0\n").
        ecma = pattern.replace("$", r"\Z")
        assert (re.search(ecma, name) is not None) == (rule(name) is None), (pattern, name)


_environment_name = Draft202012Validator({"$defs": _defs, "$ref": "#/$defs/environmentName"})


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=12),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=250, max_size=260),
        st.sampled_from(["", "a\n", "\n", "a\x85", "\x7f", "x" * 255, "x" * 256, "prod / eu"]),
    )
)
def test_schema_environment_names_agree_with_the_rules(name: str) -> None:
    # The whole definition (lengths and pattern), as an editor applies it.
    assert _environment_name.is_valid(name) == (rules.environment_name_problem(name) is None)
