"""Variables and Actions environments in the manifest: every new shape loads to the expected
items; every mistake is one located problem (fixtures under fixtures/variables-and-environments,
messages asserted exactly); groups merge across files; schema and rules agree."""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from reconciler.errors import ManifestError
from reconciler.manifest import rules
from reconciler.manifest.load import dump_manifest, load_manifests
from reconciler.manifest.located import format_path
from reconciler.model import (
    App,
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
    Visibility,
)
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

FIXTURES = MANIFEST_FIXTURES / "variables-and-environments"
D = str(FIXTURES.relative_to(REPO_ROOT))
ROOT = str(FIXTURES)
HERE = Location("generated.yaml", 1, 1)
HIGH = "Zq8Lw3Rv9" + "Xk2Pm7Tn4Bc6Hy1"  # credential-shaped: mixed case and digits, no separators
CREDENTIAL_HINT = "    hint: a value never goes where a name belongs; if a real credential was written here, remove it and rotate it (it may already be in git history)"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def problems_of(*paths: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(list(paths))
    return [str(p) for p in info.value.problems]


EXPECTED: dict[str, list[str]] = {
    "defined-twice": [
        '{d}/defined-twice/a.yaml:7:11  repos.octo-org/web.environments.production.variables.URL: variable URL in environment "production" of octo-org/web is also defined at {d}/defined-twice/b.yaml:7:11\n    hint: define each variable once; names are case-insensitive',
        '{d}/defined-twice/b.yaml:7:11  repos.Octo-Org/Web.environments.PRODUCTION.variables.url: variable URL in environment "PRODUCTION" of Octo-Org/Web is already defined at {d}/defined-twice/a.yaml:7:11\n    hint: define each variable once; names are case-insensitive',
    ],
    "environment-name-invalid.yaml": [
        '{d}/environment-name-invalid.yaml:7:7  repos.octo-org/web.environments.Production: "Production" is the same environment as "production" at {d}/environment-name-invalid.yaml:5:7 (GitHub environment names are case-insensitive)\n    hint: merge them into one entry',
        "{d}/environment-name-invalid.yaml:9:7  repos.octo-org/web.environments.: environment name is empty",
        "{d}/environment-name-invalid.yaml:11:7  repos.octo-org/web.environments.<12 characters, not shown>: environment name (12 characters, not shown) contains a control character (a tab, a newline, ...)",
        "{d}/environment-name-invalid.yaml:13:7  repos.octo-org/web.environments.<256 characters, not shown>: environment name (256 characters, not shown) is longer than 255 characters",
    ],
    "environment-shape.yaml": [
        "{d}/environment-shape.yaml:4:5  orgs.octo-org.environments: an organisation has no deployment environments\n    hint: environments belong to a repository: write repos.OWNER/REPO.environments",
        '{d}/environment-shape.yaml:8:5  repos.octo-org/web.enviroments: unknown key "enviroments" (did you mean "environments"?)',
        '{d}/environment-shape.yaml:10:7  repos.octo-org/web.environments.production: missing required key "secrets" or "variables"\n    hint: write secrets: {} (or variables: {}) for a group without any',
        "{d}/environment-shape.yaml:11:9  repos.octo-org/web.environments.production.actions: an environment holds Actions secrets and variables directly, not per app\n    hint: write environments.NAME.secrets and environments.NAME.variables",
        '{d}/environment-shape.yaml:13:7  repos.octo-org/web.environments.staging: missing required key "secrets" or "variables"\n    hint: write secrets: {} (or variables: {}) for a group without any',
        "{d}/environment-shape.yaml:17:52  repos.octo-org/web.environments.canary.secrets.DB_PASSWORD.visibility: visibility applies to organisation secrets only\n    hint: an environment secret is available to the jobs that use its environment; remove this key",
        "{d}/environment-shape.yaml:19:52  repos.octo-org/web.environments.canary.variables.URL.repositories: repositories applies to organisation variables only\n    hint: an environment variable is available to the jobs that use its environment; remove this key",
        "{d}/environment-shape.yaml:20:7  repos.octo-org/web.environments.qa: expected a mapping, got a list",
    ],
    "prune-disagrees": [
        "{d}/prune-disagrees/b.yaml:5:7  repos.octo-org/web.environments.Production: prune is false here but true for the same group at {d}/prune-disagrees/a.yaml:5:7 (omitted means false)\n    hint: every file that lists this group must agree on prune",
    ],
    "variable-name-invalid.yaml": [
        '{d}/variable-name-invalid.yaml:9:9  repos.octo-org/web.actions.variables.DEPLOY-REGION: variable name "DEPLOY-REGION" may contain only letters, digits and "_"',
        '{d}/variable-name-invalid.yaml:10:9  repos.octo-org/web.actions.variables.1ZONE: variable name "1ZONE" must not start with a digit',
        '{d}/variable-name-invalid.yaml:11:9  repos.octo-org/web.actions.variables.github_sha: variable name "github_sha" must not start with GITHUB_ (reserved by GitHub)',
        '{d}/variable-name-invalid.yaml:13:9  repos.octo-org/web.actions.variables.ZONE: variable "ZONE" collides with "zone" at {d}/variable-name-invalid.yaml:12:9: GitHub variable names are case-insensitive\n    hint: remove or rename one of them',
    ],
    "variable-sources-refused.yaml": [
        '{d}/variable-sources-refused.yaml:7:37  repos.octo-org/web.environments.production.variables.TOKEN_COPY.value.env: environment variable "GITHUB_TOKEN" can never be a value source: it matches "GITHUB_*", reserved for credentials of the tool and the CI runner',
        '{d}/variable-sources-refused.yaml:8:34  repos.octo-org/web.environments.production.variables.PASSWD.value.file: file source "../../../../etc/passwd" leaves the manifest\'s directory {root}\n    hint: keep value files inside the directory tree of the manifest that names them (no `..` escapes, no symlinks pointing outside)',
    ],
    "variable-value-not-text.yaml": [
        '{d}/variable-value-not-text.yaml:6:27  orgs.octo-org.actions.variables.REPLICAS.value: a variable\'s value is text, not a number\n    hint: quote it (value: "3", value: "yes"): YAML reads unquoted numbers, yes/no, on/off as other types',
        '{d}/variable-value-not-text.yaml:7:26  orgs.octo-org.actions.variables.ENABLED.value: a variable\'s value is text, not true/false\n    hint: quote it (value: "3", value: "yes"): YAML reads unquoted numbers, yes/no, on/off as other types',
        '{d}/variable-value-not-text.yaml:8:24  orgs.octo-org.actions.variables.RATIO.value: a variable\'s value is text, not a number\n    hint: quote it (value: "3", value: "yes"): YAML reads unquoted numbers, yes/no, on/off as other types',
        '{d}/variable-value-not-text.yaml:9:25  orgs.octo-org.actions.variables.NOTHING.value: expected text or a value source, got nothing (null)\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/variable-value-not-text.yaml:10:16  orgs.octo-org.actions.variables.LIST.value: expected text or a value source, got a list\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        "{d}/variable-value-not-text.yaml:11:24  orgs.octo-org.actions.variables.EMPTY.value: must not be empty",
    ],
    "variable-value-sealed.yaml": [
        '{d}/variable-value-sealed.yaml:6:26  repos.octo-org/web.actions.variables.REGION.value.sealed: a variable\'s value cannot be sealed\n    hint: a variable is plain text on GitHub: write the text inline (value: "...") or read it with {env: VAR} / {file: path}; a value that must stay secret belongs under secrets',
        '{d}/variable-value-sealed.yaml:7:24  repos.octo-org/web.actions.variables.ZONE.value.key_id: a variable\'s value cannot be sealed\n    hint: a variable is plain text on GitHub: write the text inline (value: "...") or read it with {env: VAR} / {file: path}; a value that must stay secret belongs under secrets',
    ],
    "variable-value-sources.yaml": [
        '{d}/variable-value-sources.yaml:6:17  repos.octo-org/web.agents.variables.MODEL.value: a value has exactly one source, not env and file\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/variable-value-sources.yaml:7:18  repos.octo-org/web.agents.variables.PROMPT.value: value names no source\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/variable-value-sources.yaml:8:26  repos.octo-org/web.agents.variables.REGION.value.enc: unknown value source "enc" (did you mean "env"?)\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/variable-value-sources.yaml:9:9  repos.octo-org/web.agents.variables.ZONE: missing required key "value"\n    hint: write value: "text", {env: VAR}, {file: path}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        "{d}/variable-value-sources.yaml:9:16  repos.octo-org/web.agents.variables.ZONE.visibility: visibility applies to organisation variables only\n    hint: a repository variable is available to its own repository; remove this key",
    ],
    "variable-visibility.yaml": [
        "{d}/variable-visibility.yaml:8:23  orgs.octo-org.actions.variables.REGION.visibility: visibility: selected needs a repositories list\n    hint: list the repositories that may use the variable; write repositories: [] to select none",
        "{d}/variable-visibility.yaml:11:11  orgs.octo-org.actions.variables.ZONE.repositories: repositories applies only to visibility: selected, not private\n    hint: add visibility: selected (omitted visibility means private)",
        '{d}/variable-visibility.yaml:15:31  orgs.octo-org.actions.variables.TIER.repositories[1]: repository "Web" is listed twice (first at {d}/variable-visibility.yaml:15:26)\n    hint: names are case-insensitive; remove one',
        '{d}/variable-visibility.yaml:15:36  orgs.octo-org.actions.variables.TIER.repositories[2]: "octo-org/api" is not a GitHub repository name (letters, digits, ".", "_", "-")',
        "{d}/variable-visibility.yaml:20:36  repos.octo-org/web.actions.variables.REGION.visibility: visibility applies to organisation variables only\n    hint: a repository variable is available to its own repository; remove this key",
    ],
    "variables-under-dependabot.yaml": [
        "{d}/variables-under-dependabot.yaml:6:7  orgs.octo-org.dependabot.variables: dependabot has no variables (only actions and agents have them)\n    hint: keep the value as a secret, or declare the variable under actions or agents",
        "{d}/variables-under-dependabot.yaml:12:7  repos.octo-org/web.codespaces.variables: codespaces has no variables (only actions and agents have them)\n    hint: keep the value as a secret, or declare the variable under actions or agents",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_problems(name: str) -> None:
    expected = [e.replace("{d}", D).replace("{root}", ROOT) for e in EXPECTED[name]]
    assert problems_of(f"{D}/{name}") == expected


def test_every_fixture_is_asserted() -> None:
    assert {p.name for p in FIXTURES.iterdir()} == set(EXPECTED)


# --- valid manifests: the items they map to ------------------------------------------------

EVERY_SHAPE = """\
version: 1
orgs:
  octo-org:
    actions:
      prune: true
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}}
      variables:
        deploy_region: {value: eu-west-1, visibility: selected, repositories: [web]}
        LOG_LEVEL: {value: {env: LOG_LEVEL_TOKEN}}
        PLAIN: {value: "3"}
        NPM_TOKEN: {value: {file: values/npm.txt}, visibility: all}
    agents:
      variables: {}
repos:
  octo-org/web:
    agents:
      variables: {MODEL: {value: fast}}
    environments:
      production:
        prune: true
        secrets: {DB_PASSWORD: {value: {env: PROD_DB_PASSWORD}}}
        variables: {URL: {value: https://example.com}}
      Staging / EU:
        variables: {URL: {value: "multi\\nline"}}
"""


def test_every_new_shape_loads_to_the_expected_items(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EVERY_SHAPE)
    f = str(path)
    desired = load_manifests([f]).desired
    org = Scope(ScopeKind.ORG, "octo-org")
    web = Scope(ScopeKind.REPO, "octo-org/web")
    production = Scope.of_environment("octo-org/web", "production")
    staging = Scope.of_environment("octo-org/web", "Staging / EU")
    assert [(g.scope, g.app, g.prune, g.location) for g in desired.groups] == [
        (org, App.ACTIONS, True, Location(f, 4, 5)),
        (org, App.AGENTS, False, Location(f, 13, 5)),
        (web, App.AGENTS, False, Location(f, 17, 5)),
        (production, App.ACTIONS, True, Location(f, 20, 7)),
        (staging, App.ACTIONS, False, Location(f, 24, 7)),
    ]
    assert desired.groups[3].scope.environment == "production"
    assert desired.environments() == (production, staging)
    var = Kind.VARIABLE
    assert desired.groups[0].items == (
        DesiredItem(
            org,
            App.ACTIONS,
            "NPM_TOKEN",
            EnvSource("NPM_TOKEN", Location(f, 7, 34)),
            Location(f, 7, 9),
            Visibility.PRIVATE,
        ),
        DesiredItem(
            org,
            App.ACTIONS,
            "DEPLOY_REGION",
            InlineSource("eu-west-1", Location(f, 9, 32)),
            Location(f, 9, 9),
            Visibility.SELECTED,
            ("web",),
            (Location(f, 9, 80),),
            var,
        ),
        DesiredItem(
            org,
            App.ACTIONS,
            "LOG_LEVEL",
            EnvSource("LOG_LEVEL_TOKEN", Location(f, 10, 34)),
            Location(f, 10, 9),
            Visibility.PRIVATE,
            kind=var,
        ),
        DesiredItem(
            org,
            App.ACTIONS,
            "NPM_TOKEN",
            FileSource("values/npm.txt", str(tmp_path), Location(f, 12, 35)),
            Location(f, 12, 9),
            Visibility.ALL,
            kind=var,
        ),
        DesiredItem(
            org,
            App.ACTIONS,
            "PLAIN",
            InlineSource("3", Location(f, 11, 24)),
            Location(f, 11, 9),
            Visibility.PRIVATE,
            kind=var,
        ),
    )
    assert desired.groups[1].items == ()
    assert desired.groups[2].items == (
        DesiredItem(
            web,
            App.AGENTS,
            "MODEL",
            InlineSource("fast", Location(f, 18, 34)),
            Location(f, 18, 19),
            kind=var,
        ),
    )
    assert desired.groups[3].items == (
        DesiredItem(
            production,
            App.ACTIONS,
            "DB_PASSWORD",
            EnvSource("PROD_DB_PASSWORD", Location(f, 22, 46)),
            Location(f, 22, 19),
        ),
        DesiredItem(
            production,
            App.ACTIONS,
            "URL",
            InlineSource("https://example.com", Location(f, 23, 34)),
            Location(f, 23, 21),
            kind=var,
        ),
    )
    (url,) = desired.groups[4].items
    assert isinstance(url.source, InlineSource)
    assert url.source.text == "multi\nline"
    assert (url.visibility, url.repositories) == (None, None)


def test_inline_values_are_kept_out_of_reprs(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EVERY_SHAPE)
    text = repr(load_manifests([str(path)]).desired)
    assert "eu-west-1" not in text
    assert "example.com" not in text


def test_a_secret_and_a_variable_may_share_a_name_in_every_scope(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n"
        "      secrets: {HOST: {value: {env: HOST_TOKEN}}}\n      variables: {host: {value: h}}\n"
        "    environments:\n      prod:\n"
        "        secrets: {HOST: {value: {env: HOST_TOKEN}}}\n        variables: {HOST: {value: h}}\n"
    )
    items = load_manifests([str(path)]).desired.items()
    assert [(str(i.scope), i.kind, i.name) for i in items] == [
        ("octo-org/web", Kind.SECRET, "HOST"),
        ("octo-org/web", Kind.VARIABLE, "HOST"),
        ("octo-org/web/prod", Kind.SECRET, "HOST"),
        ("octo-org/web/prod", Kind.VARIABLE, "HOST"),
    ]


def test_a_credential_shaped_environment_name_is_refused_without_echo(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        f"version: 1\nrepos:\n  octo-org/web:\n    environments:\n      {HIGH}:\n"
        "        variables: {URL: {value: a}}\n"
    )
    problems = problems_of(str(path))
    assert problems == [
        f"{path}:5:7  repos.octo-org/web.environments.<24 characters, not shown>: this looks like a credential, not an environment name (24 characters, not shown)\n{CREDENTIAL_HINT}"
    ]
    assert HIGH not in "".join(problems)


def test_the_longest_environment_name_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    name = "e" * 255
    path.write_text(
        f"version: 1\nrepos:\n  octo-org/web:\n    environments:\n      {name}:\n        secrets: {{}}\n"
    )
    (group,) = load_manifests([str(path)]).desired.groups
    assert group.scope.environment == name


# --- several files ------------------------------------------------------------------------


def test_environment_groups_merge_across_files_when_prune_agrees(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    environments:\n      production:\n"
        "        prune: true\n        variables: {URL: {value: a}}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "version: 1\nrepos:\n  Octo-Org/Web:\n    environments:\n      PRODUCTION:\n"
        "        prune: true\n        secrets: {URL: {value: {env: URL_TOKEN}}}\n"
        "        variables: {HOST: {value: h}}\n"
    )
    (group,) = load_manifests([str(tmp_path)]).desired.groups
    assert group.scope == Scope.of_environment("octo-org/web", "production")
    assert group.scope.environment == "production"  # spelled as first seen
    assert group.prune is True
    assert [(i.kind, i.name) for i in group.items] == [
        (Kind.SECRET, "URL"),
        (Kind.VARIABLE, "HOST"),
        (Kind.VARIABLE, "URL"),
    ]


def test_organisation_variables_merge_across_files(tmp_path: Path) -> None:
    body = "version: 1\norgs:\n  octo-org:\n    actions:\n      variables:\n"
    (tmp_path / "a.yaml").write_text(body + "        A: {value: a}\n")
    (tmp_path / "b.yaml").write_text(body + "        B: {value: b, visibility: all}\n")
    (tmp_path / "c.yaml").write_text(body + "        a: {value: again}\n")
    assert problems_of(str(tmp_path)) == [
        f"{tmp_path}/a.yaml:6:9  orgs.octo-org.actions.variables.A: variable A of actions in octo-org is also defined at {tmp_path}/c.yaml:6:9\n    hint: define each variable once; names are case-insensitive",
        f"{tmp_path}/c.yaml:6:9  orgs.octo-org.actions.variables.a: variable A of actions in octo-org is already defined at {tmp_path}/a.yaml:6:9\n    hint: define each variable once; names are case-insensitive",
    ]
    (tmp_path / "c.yaml").unlink()
    items = load_manifests([str(tmp_path)]).desired.items()
    assert [(i.name, i.visibility) for i in items] == [
        ("A", Visibility.PRIVATE),
        ("B", Visibility.ALL),
    ]


# --- dump ---------------------------------------------------------------------------------


def test_dump_writes_variables_and_environments_and_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EVERY_SHAPE)
    desired = load_manifests([str(path)]).desired
    text = dump_manifest(desired)
    doc = yaml.safe_load(text)
    web = doc["repos"]["octo-org/web"]
    assert web["environments"]["production"] == {
        "prune": True,
        "secrets": {"DB_PASSWORD": {"value": {"env": "PROD_DB_PASSWORD"}}},
        "variables": {"URL": {"value": "https://example.com"}},
    }
    assert web["environments"]["Staging / EU"] == {"variables": {"URL": {"value": "multi\nline"}}}
    assert doc["orgs"]["octo-org"]["actions"]["variables"]["PLAIN"] == {
        "value": "3",
        "visibility": "private",
    }
    assert doc["orgs"]["octo-org"]["agents"] == {"secrets": {}}
    again_path = tmp_path / "again.yaml"
    again_path.write_text(text)
    again = load_manifests([str(again_path)]).desired
    assert _without_locations(again) == _without_locations(desired)


@pytest.mark.parametrize(
    "text",
    [
        "3",
        "yes",
        "null",
        "~",
        " lead",
        "trail ",
        "a: b",
        "#c",
        "multi\nline\n",
        "\x85a",
        "a\u2028b",
        "\ufeffx",
        "a\x00b",
        "é\r\n",
    ],
)
def test_inline_text_yaml_would_misread_round_trips(tmp_path: Path, text: str) -> None:
    scope = Scope.of_environment("octo-org/web", "a\u2028b: #x")
    item = DesiredItem(scope, App.ACTIONS, "X", InlineSource(text, HERE), HERE, kind=Kind.VARIABLE)
    path = tmp_path / "m.yaml"
    path.write_text(
        dump_manifest(DesiredState((DesiredGroup(scope, App.ACTIONS, False, (item,), HERE),)))
    )
    (again,) = load_manifests([str(path)]).desired.items()
    assert isinstance(again.source, InlineSource)
    assert again.source.text == text
    assert again.scope.environment == scope.environment


def _without_locations(desired: DesiredState) -> list[object]:
    out: list[object] = []
    for g in desired.groups:
        items = []
        for i in g.items:
            s = i.source
            value = s.text if isinstance(s, InlineSource) else s.describe()
            items.append((i.kind, i.name, value, i.visibility, i.repositories))
        out.append((g.scope.key, g.app, g.prune, items))
    return out


# --- the schema agrees with the rules -----------------------------------------------------


def test_valid_manifests_pass_the_published_schema() -> None:
    validator = Draft202012Validator(rules.schema())
    assert list(validator.iter_errors(yaml.safe_load(EVERY_SHAPE))) == []


@pytest.mark.parametrize(
    "name",
    [
        "variables-under-dependabot.yaml",
        "variable-value-sealed.yaml",
        "variable-value-not-text.yaml",
        "variable-value-sources.yaml",
        "environment-shape.yaml",
    ],
)
def test_shape_mistakes_are_refused_by_the_published_schema_too(name: str) -> None:
    # Editors show these as the user types: the schema alone refuses each, at (or above)
    # the path of every problem reconciler reports.
    validator = Draft202012Validator(rules.schema())
    doc = yaml.safe_load((FIXTURES / name).read_text())
    flagged = {format_path(list(e.absolute_path)) for e in validator.iter_errors(doc)}
    with pytest.raises(ManifestError) as info:
        load_manifests([f"{D}/{name}"])
    for problem in info.value.problems:
        assert any(problem.path.startswith(f) for f in flagged), problem.path
