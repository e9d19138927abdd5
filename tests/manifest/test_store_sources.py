"""Values from stores in the manifest: `{age: FILE, key: NAME}`, `{aws: SECRET, ...}` and
`{command: [PROGRAM, ARG, ...]}`. Every shape loads to its exact model object; every mistake
is one located problem (fixtures under fixtures/store-sources, messages asserted exactly);
the published schema agrees; nothing is read, fetched or run while validating."""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.errors import ManifestError
from reconciler.manifest import rules, stores
from reconciler.manifest.load import check_values, dump_manifest, load_manifests
from reconciler.manifest.located import format_path
from reconciler.model import (
    AgeSource,
    App,
    AwsSource,
    CommandSource,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    Kind,
    Location,
    Scope,
    ScopeKind,
    Visibility,
)
from tests.support.e2e import run
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

FIXTURES = MANIFEST_FIXTURES / "store-sources"
D = str(FIXTURES.relative_to(REPO_ROOT))
ROOT = str(FIXTURES)
HIGH = "Zq8Lw3Rv9" + "Xk2Pm7Tn4Bc6Hy1"  # credential-shaped: mixed case and digits, no separators
SOURCE_HINT = '    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}'
VARIABLE_HINT = '    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}'
TIMEOUT_HINT = "    hint: leave it out for the default (30 seconds)"
AWS_NAME = "not an AWS Secrets Manager secret name (1 to 512 letters, digits and /_+=.@-) or ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
QUOTE_HINT = "    hint: quote it, YAML reads unquoted yes/no/on/off/numbers as other types"
ESCAPES_HINT = "    hint: keep value files inside the directory tree of the manifest that names them (no `..` escapes, no symlinks pointing outside)"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def problems_of(*paths: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(list(paths))
    return [str(p) for p in info.value.problems]


S = "orgs.octo-org.actions.secrets"
E = "repos.octo-org/web.environments.production"
EXPECTED: dict[str, list[str]] = {
    "shape-mistakes.yaml": [
        f"{{d}}/shape-mistakes.yaml:6:18  {S}.NO_KEY.value: age needs key: the name of the value in the file\n    hint: write value: {{age: FILE, key: NAME}}",
        f"{{d}}/shape-mistakes.yaml:7:21  {S}.KEY_ALONE.value: value names no source\n{SOURCE_HINT}",
        f"{{d}}/shape-mistakes.yaml:7:29  {S}.KEY_ALONE.value.key: key applies to age values only\n    hint: write value: {{age: FILE, key: NAME}}, or remove key",
        f"{{d}}/shape-mistakes.yaml:8:48  {S}.KEY_WITH_ENV.value.key: key applies to age values only\n    hint: write value: {{age: FILE, key: NAME}}, or remove key",
        f'{{d}}/shape-mistakes.yaml:9:59  {S}.BAD_KEY.value.key: key must name a value in the age file: 1-200 letters, digits, "_", "." or "-", not starting with "." or "-"',
        f"{{d}}/shape-mistakes.yaml:10:63  {S}.NUMERIC_KEY.value.key: expected a string, got a number\n{QUOTE_HINT}",
        f"{{d}}/shape-mistakes.yaml:11:34  {S}.EMPTY_AGE.value.age: must not be empty",
        f"{{d}}/shape-mistakes.yaml:12:37  {S}.BAD_AWS_NAME.value.aws: {AWS_NAME}",
        f"{{d}}/shape-mistakes.yaml:13:44  {S}.NOT_SECRETS_MANAGER.value.aws: {AWS_NAME}",
        f"{{d}}/shape-mistakes.yaml:15:61  {S}.TWO_VERSIONS.value.version_id: version_stage and version_id exclude each other\n    hint: name the version by its stage (like AWSCURRENT) or by its id, not both",
        f"{{d}}/shape-mistakes.yaml:16:63  {S}.SHORT_VERSION_ID.value.version_id: not a Secrets Manager version id (32 to 64 letters, digits and -)",
        f"{{d}}/shape-mistakes.yaml:17:53  {S}.BAD_REGION.value.region: not an AWS region name\n    hint: write a region like eu-west-1 or us-gov-west-1",
        f"{{d}}/shape-mistakes.yaml:18:59  {S}.EMPTY_JSON_KEY.value.json_key: must not be empty",
        f"{{d}}/shape-mistakes.yaml:19:61  {S}.OPTIONS_WITHOUT_AWS.value.json_key: json_key applies to aws values only\n    hint: write value: {{aws: SECRET, json_key: KEY}}, or remove json_key",
        f"{{d}}/shape-mistakes.yaml:19:78  {S}.OPTIONS_WITHOUT_AWS.value.region: region applies to aws values only\n    hint: write value: {{aws: SECRET, region: eu-west-1}}, or remove region",
        f"{{d}}/shape-mistakes.yaml:20:43  {S}.COMMAND_STRING.value.command: expected a list, got a string\n    hint: no shell: write the arguments as a list, like command: [vault, kv, get, -field=token, secret/npm]",
        f"{{d}}/shape-mistakes.yaml:21:33  {S}.COMMAND_EMPTY.value.command: must not be empty",
        f"{{d}}/shape-mistakes.yaml:22:59  {S}.COMMAND_EMPTY_ARGUMENT.value.command[1]: must not be empty",
        f"{{d}}/shape-mistakes.yaml:23:60  {S}.COMMAND_NUMBER_ARGUMENT.value.command[1]: expected a string, got a number\n{QUOTE_HINT}",
        f"{{d}}/shape-mistakes.yaml:24:59  {S}.ZERO_TIMEOUT.value.timeout: timeout must be more than 0 and at most 600 seconds\n{TIMEOUT_HINT}",
        f"{{d}}/shape-mistakes.yaml:25:59  {S}.LONG_TIMEOUT.value.timeout: timeout must be more than 0 and at most 600 seconds\n{TIMEOUT_HINT}",
        f"{{d}}/shape-mistakes.yaml:26:59  {S}.TEXT_TIMEOUT.value.timeout: expected a number, got a string\n    hint: write seconds: timeout: 20",
        f"{{d}}/shape-mistakes.yaml:27:59  {S}.TIMEOUT_WITHOUT_COMMAND.value.timeout: timeout applies to command values only\n    hint: write value: {{command: [PROGRAM, ARG, ...], timeout: 20}}, or remove timeout",
        f"{{d}}/shape-mistakes.yaml:28:22  {S}.TWO_STORES.value: a value has exactly one source, not aws and command\n{SOURCE_HINT}",
        f"{{d}}/shape-mistakes.yaml:29:20  {S}.MISSPELT.value: value names no source\n{SOURCE_HINT}",
        f'{{d}}/shape-mistakes.yaml:29:28  {S}.MISSPELT.value.comand: unknown value source "comand" (did you mean "command"?)\n{SOURCE_HINT}',
        f"{{d}}/shape-mistakes.yaml:31:21  orgs.octo-org.actions.variables.KEY_ALONE.value: value names no source\n{VARIABLE_HINT}",
        "{d}/shape-mistakes.yaml:31:29  orgs.octo-org.actions.variables.KEY_ALONE.value.key: key applies to age values only\n    hint: write value: {age: FILE, key: NAME}, or remove key",
        f"{{d}}/shape-mistakes.yaml:32:22  orgs.octo-org.actions.variables.TWO_STORES.value: a value has exactly one source, not age and aws\n{VARIABLE_HINT}",
        '{d}/shape-mistakes.yaml:33:54  orgs.octo-org.actions.variables.SEALED_BESIDE_AWS.value.sealed: a variable\'s value cannot be sealed\n    hint: a variable is plain text on GitHub: write the text inline (value: "...") or read it with {env: VAR} / {file: path}; a value that must stay secret belongs under secrets',
    ],
    "refused.yaml": [
        f'{{d}}/refused.yaml:7:34  {E}.secrets.ESCAPES.value.age: age file "../../../../outside.age.yaml" leaves the manifest\'s directory {{root}}\n{ESCAPES_HINT}',
        f'{{d}}/refused.yaml:8:35  {E}.secrets.ABSOLUTE.value.age: age file "/etc/values.age.yaml" is an absolute path\n    hint: write the path relative to the manifest file',
        f'{{d}}/refused.yaml:9:33  {E}.secrets.IN_GIT.value.age: age file ".git/values.age.yaml" is inside a .git directory, which can never be a value source (after actions/checkout, .git/config holds the job\'s token)\n    hint: keep value files in the working tree, outside .git',
        f'{{d}}/refused.yaml:11:106  {E}.secrets.REGIONS_DIFFER.value.region: region "us-east-1" differs from the ARN\'s region "eu-west-1"\n    hint: leave region out (the ARN names it), or make the two agree',
        f"{{d}}/refused.yaml:12:60  {E}.secrets.NAN_TIMEOUT.value.timeout: timeout must be more than 0 and at most 600 seconds\n{TIMEOUT_HINT}",
        f"{{d}}/refused.yaml:13:51  {E}.secrets.NUL_ARGUMENT.value.command[1]: a command argument holds a NUL byte",
        f'{{d}}/refused.yaml:15:34  {E}.variables.ESCAPES.value.age: age file "../../../../outside.age.yaml" leaves the manifest\'s directory {{root}}\n{ESCAPES_HINT}',
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_problems(name: str) -> None:
    expected = [e.replace("{d}", D).replace("{root}", ROOT) for e in EXPECTED[name]]
    assert problems_of(f"{D}/{name}") == expected


def test_every_fixture_is_asserted() -> None:
    assert {p.name for p in FIXTURES.iterdir()} == set(EXPECTED)


# --- valid manifests: the sources they map to ----------------------------------------------

EVERY_SHAPE = """\
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {age: values/prod.age.yaml, key: NPM_TOKEN}, visibility: all}
        PYPI_TOKEN:
          value: {aws: prod/npm, json_key: token, version_stage: AWSCURRENT, region: eu-west-1}
        VAULT_TOKEN:
          value: {command: [vault, kv, get, -field=token, secret/npm], timeout: 20}
      variables:
        REGION: {value: {aws: cfg/region}}
repos:
  octo-org/web:
    agents:
      variables:
        MODEL: {value: {command: [op, read, "op://vault/agent/model"]}}
    environments:
      production:
        secrets:
          DB_PASSWORD:
            value:
              aws: arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db-AbCdEf
              version_id: a1b2c3d4-5678-90ab-cdef-EXAMPLE11111
              region: us-gov-west-1
          PAGER: {value: {aws: "on", version_stage: "yes"}}
        variables:
          URL: {value: {age: values/prod.age.yaml, key: URL}}
          SLOW: {value: {command: [./scripts/url, "--env=prod"], timeout: 0.5}}
"""


def _loaded(tmp_path: Path, text: str = EVERY_SHAPE) -> dict[tuple[Kind, str], DesiredItem]:
    (tmp_path / "m.yaml").write_text(text)
    desired = load_manifests([str(tmp_path / "m.yaml")]).desired
    return {(i.kind, i.name): i for i in desired.items()}


def test_every_shape_loads_to_its_source(tmp_path: Path) -> None:
    items = _loaded(tmp_path)
    file, base = str(tmp_path / "m.yaml"), str(tmp_path)

    def at(line: int, col: int) -> Location:
        return Location(file, line, col)

    assert {key: item.source for key, item in items.items()} == {
        (Kind.SECRET, "NPM_TOKEN"): AgeSource("values/prod.age.yaml", "NPM_TOKEN", base, at(6, 34)),
        (Kind.SECRET, "PYPI_TOKEN"): AwsSource(
            "prod/npm", at(8, 24), "token", version_stage="AWSCURRENT", region="eu-west-1"
        ),
        (Kind.SECRET, "VAULT_TOKEN"): CommandSource(
            ("vault", "kv", "get", "-field=token", "secret/npm"), at(10, 28), 20.0
        ),
        (Kind.VARIABLE, "REGION"): AwsSource("cfg/region", at(12, 31)),
        (Kind.VARIABLE, "MODEL"): CommandSource(
            ("op", "read", "op://vault/agent/model"), at(17, 34)
        ),
        (Kind.SECRET, "DB_PASSWORD"): AwsSource(
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db-AbCdEf",
            at(23, 20),
            version_id="a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
            region="us-gov-west-1",
        ),
        (Kind.SECRET, "PAGER"): AwsSource("on", at(26, 32), version_stage="yes"),
        (Kind.VARIABLE, "URL"): AgeSource("values/prod.age.yaml", "URL", base, at(28, 30)),
        (Kind.VARIABLE, "SLOW"): CommandSource(("./scripts/url", "--env=prod"), at(29, 35), 0.5),
    }
    assert items[(Kind.SECRET, "NPM_TOKEN")].visibility is Visibility.ALL
    assert items[(Kind.SECRET, "DB_PASSWORD")].scope == Scope.of_environment(
        "octo-org/web", "production"
    )


def test_a_timeout_may_be_any_number_up_to_600_seconds(tmp_path: Path) -> None:
    for written, expected in (("600", 600.0), ("0.001", 0.001), ("1.0e+2", 100.0)):
        items = _loaded(
            tmp_path,
            f"version: 1\norgs:\n  o:\n    actions:\n      secrets:\n"
            f"        X: {{value: {{command: [vault], timeout: {written}}}}}\n",
        )
        source = items[(Kind.SECRET, "X")].source
        assert isinstance(source, CommandSource)
        assert source.timeout == expected


def test_validating_reads_no_age_file_calls_no_aws_and_runs_no_command(tmp_path: Path) -> None:
    # The age file does not exist and the command would leave a mark: loading and
    # `validate --resolve-values` (check_values) accept both and touch neither.
    marker = tmp_path / "ran"
    text = EVERY_SHAPE.replace("[vault, kv, get, -field=token, secret/npm]", f"[touch, {marker}]")
    (tmp_path / "m.yaml").write_text(text)
    desired = load_manifests([str(tmp_path / "m.yaml")]).desired
    assert check_values(desired, {}) == []
    assert not marker.exists()
    assert not (tmp_path / "values").exists()


def test_validate_on_the_command_line_accepts_every_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(EVERY_SHAPE)
    result = run(capsys, ["validate", "m.yaml"])
    assert result.code == 0, result.err


def test_dump_writes_every_shape_and_reads_back_the_same(tmp_path: Path) -> None:
    items = _loaded(tmp_path)
    scope = Scope(ScopeKind.REPO, "octo-org/web")
    here = Location("generated.yaml", 1, 1)
    again = [
        DesiredItem(scope, App.ACTIONS, name, item.source, here, kind=kind)
        for (kind, name), item in sorted(items.items())
    ]
    state = DesiredState((DesiredGroup(scope, App.ACTIONS, False, tuple(again), here),))
    text = dump_manifest(state)
    assert "timeout: 20}" in text  # a whole number as a person writes it
    assert "timeout: 30" not in text  # the default is left out
    assert "{aws: 'on', version_stage: 'yes'}" in text  # quoted where YAML would misread
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.yaml").write_text(text)
    back = load_manifests([str(out / "m.yaml")]).desired.items()

    def comparable(source: object) -> object:
        return (type(source), *[getattr(source, f) for f in _FIELDS[type(source)]])

    assert [(i.kind, i.name, comparable(i.source)) for i in back] == [
        (i.kind, i.name, comparable(i.source)) for i in again
    ]


_FIELDS = {
    AgeSource: ("path", "key"),
    AwsSource: ("secret_id", "json_key", "version_stage", "version_id", "region"),
    CommandSource: ("argv", "timeout"),
}


# --- nothing pasted into a store key is echoed -------------------------------------------


@pytest.mark.parametrize(
    ("value", "where", "noun"),
    [
        (f"{{age: values/{HIGH}.age.yaml, key: K}}", "age", "a file path"),
        (f"{{age: v.age.yaml, key: {HIGH}}}", "key", "a value name"),
        (f"{{aws: prod/{HIGH}}}", "aws", "an AWS secret name"),
        (f"{{aws: prod/npm, json_key: {HIGH}}}", "json_key", "a JSON key"),
        (f"{{aws: prod/npm, version_stage: {HIGH}}}", "version_stage", "a version stage"),
        (f'{{command: [vault, "-token={HIGH}"]}}', "command[1]", "a command argument"),
    ],
)
def test_a_credential_in_a_store_key_is_refused_without_echo(
    tmp_path: Path, value: str, where: str, noun: str
) -> None:
    (tmp_path / "m.yaml").write_text(
        f"version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n        X: {{value: {value}}}\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([str(tmp_path / "m.yaml")])
    (problem,) = info.value.problems
    assert problem.path == f"repos.octo-org/web.actions.secrets.X.value.{where}"
    assert problem.message.startswith(f"this looks like a credential, not {noun} (")
    assert problem.hint and "rotate it" in problem.hint
    assert HIGH[:12] not in f"{problem}\n{problem.hint}"


def test_messages_never_quote_a_malformed_store_value(tmp_path: Path) -> None:
    # A value pasted by mistake into a key that refuses it (a name with a space, a number
    # of the wrong type) is described, never shown.
    pasted = "hunter2 correct horse"
    (tmp_path / "m.yaml").write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n"
        f'        A: {{value: {{aws: "{pasted}", region: "{pasted}"}}}}\n'
        f'        B: {{value: {{aws: x, version_id: "{pasted}"}}}}\n'
        f'        C: {{value: {{age: v.age.yaml, key: "{pasted}"}}}}\n'
        f'        D: {{value: {{command: [vault], timeout: "{pasted}"}}}}\n'
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([str(tmp_path / "m.yaml")])
    assert len(info.value.problems) == 5
    assert all("hunter2" not in f"{p}\n{p.hint}" for p in info.value.problems)


# --- the schema agrees with the rules -----------------------------------------------------


def test_every_shape_passes_the_published_schema() -> None:
    validator = Draft202012Validator(rules.schema())
    assert list(validator.iter_errors(yaml.safe_load(EVERY_SHAPE))) == []


def test_shape_mistakes_are_refused_by_the_published_schema_too() -> None:
    # Editors show these as the user types: the schema alone refuses each, at (or above)
    # the path of every problem reconciler reports. (refused.yaml holds what only reading
    # can tell: paths leaving the tree, an ARN's region, a NaN.)
    validator = Draft202012Validator(rules.schema())
    doc = yaml.safe_load((FIXTURES / "shape-mistakes.yaml").read_text())
    flagged = {format_path(list(e.absolute_path)) for e in validator.iter_errors(doc)}
    with pytest.raises(ManifestError) as info:
        load_manifests([f"{D}/shape-mistakes.yaml"])
    for problem in info.value.problems:
        assert any(problem.path.startswith(f) for f in flagged), problem.path
    reported = {p.path for p in info.value.problems}
    for path in flagged:  # and every schema error is reported (nothing dropped on the way)
        assert any(r.startswith(path) for r in reported), path


def test_the_source_keys_are_the_schema_s() -> None:
    defs = rules.schema()["$defs"]
    secret, variable = defs["source"], defs["variableValue"]
    assert [b["required"][0] for b in secret["oneOf"]] == list(rules.SOURCE_KEYS)
    assert [b["required"][0] for b in variable["then"]["oneOf"]] == list(rules.VARIABLE_SOURCE_KEYS)
    for source in (secret, variable):
        options = {
            k: v for k, v in source["dependentRequired"].items() if k not in rules.SOURCE_KEYS
        }
        assert options == {
            k: [s] for k, s in rules.OPTION_SOURCE.items() if k in source["properties"]
        }
    assert set(variable["properties"]) == set(secret["properties"]) - {"sealed", "key_id"}


_defs = rules.schema()["$defs"]


def _ecma(pattern: str) -> re.Pattern[str]:
    # The schema's patterns are ECMA-262, where `$` ends the text; Python's `$` also matches
    # before a final newline.
    return re.compile(pattern.replace("$", r"\Z"))


TEXT_RULES = [
    ("ageKey", stores.AGE_KEY_RE),
    ("awsRegion", stores.AWS_REGION_RE),
    ("awsVersionId", stores.AWS_VERSION_ID_RE),
]
store_text = st.one_of(
    st.text(max_size=70),
    st.from_regex(r"[A-Za-z0-9/_+=.@:-]{0,70}", fullmatch=True),
    st.from_regex(r"[a-z]{1,3}(-gov)?-[a-z]{0,6}-[0-9]{1,2}", fullmatch=True),
    st.from_regex(
        r"arn:aws(-[a-z]{1,4})?:secretsmanager:[a-z]{2}-[a-z]{1,5}-[0-9]:[0-9]{11,13}:secret:[A-Za-z0-9/_+=.@-]{0,12}",
        fullmatch=True,
    ),
    st.sampled_from(["", "a\n", "9x", "_x", "x" * 32, "x" * 64, "x" * 65, "x" * 512, "x" * 513]),
)


@settings(max_examples=400, deadline=None)
@given(store_text)
def test_schema_store_patterns_agree_with_the_rules(text: str) -> None:
    for name, rule in TEXT_RULES:
        assert bool(_ecma(_defs[name]["pattern"]).search(text)) == bool(rule.fullmatch(text)), name
    by_rule = bool(stores.AWS_NAME_RE.fullmatch(text) or stores.AWS_ARN_RE.fullmatch(text))
    assert bool(_ecma(_defs["awsSecretId"]["pattern"]).search(text)) == by_rule


_timeout = Draft202012Validator({"$defs": _defs, "$ref": "#/$defs/commandTimeout"})


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False) | st.integers(-5, 700) | st.sampled_from([0, 600, 600.0001]))
def test_schema_timeout_bounds_agree_with_the_rule(timeout: float) -> None:
    assert _timeout.is_valid(timeout) == (0 < timeout <= stores.MAX_TIMEOUT)
