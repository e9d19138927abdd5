"""Manifest loading: one fixture per failure, messages asserted exactly; examples; the schema."""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from reconciler.errors import ManifestError
from reconciler.manifest import rules
from reconciler.manifest.load import LoadResult, dump_manifest, load_manifests
from reconciler.model import (
    App,
    EnvSource,
    FileSource,
    Kind,
    Location,
    Scope,
    ScopeKind,
    SealedSource,
    Visibility,
)
from tests.support.paths import MANIFEST_FIXTURES, REPO_ROOT

D = str(MANIFEST_FIXTURES.relative_to(REPO_ROOT))  # as a user would name it, from the root
ROOT = str(REPO_ROOT / D)


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Locations are printed as the user passed the paths: relative to the repo root here.
    monkeypatch.chdir(REPO_ROOT)


def problems_of(*paths: str, extra_allow_env: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(list(paths), extra_allow_env=extra_allow_env)
    return [str(p) for p in info.value.problems]


EXPECTED: dict[str, list[str]] = {
    "duplicate-key.yaml": [
        '{d}/duplicate-key.yaml:8:9  orgs.octo-org.dependabot.secrets.NPM_TOKEN: duplicate key "NPM_TOKEN" (first written at {d}/duplicate-key.yaml:6:9); YAML would keep only the last one\n    hint: remove or rename one of them',
    ],
    "duplicate-name-different-case.yaml": [
        '{d}/duplicate-name-different-case.yaml:8:9  orgs.octo-org.dependabot.secrets.npm_token: secret "npm_token" collides with "NPM_TOKEN" at {d}/duplicate-name-different-case.yaml:6:9: GitHub secret names are case-insensitive\n    hint: remove or rename one of them',
    ],
    "duplicate-repository-different-case.yaml": [
        '{d}/duplicate-repository-different-case.yaml:9:36  orgs.octo-org.dependabot.secrets.NPM_TOKEN.repositories[2]: repository "Web" is listed twice (first at {d}/duplicate-repository-different-case.yaml:9:26)\n    hint: names are case-insensitive; remove one',
    ],
    "empty.yaml": [
        "{d}/empty.yaml:1:1  a manifest is a mapping that starts with version: 1, not nothing (null)",
    ],
    "env-name-invalid.yaml": [
        "{d}/env-name-invalid.yaml:7:24  orgs.octo-org.actions.secrets.DEPLOY_TOKEN.value.env: not a valid environment variable name (letters, digits, _; no leading digit)",
    ],
    "env-not-allowed.yaml": [
        '{d}/env-not-allowed.yaml:7:24  orgs.octo-org.actions.secrets.AWS_ACCESS_KEY_ID.value.env: environment variable "AWS_ACCESS_KEY_ID" can never be a value source: it matches "AWS_ACCESS_KEY_ID", reserved for credentials of the tool and the CI runner',
        '{d}/env-not-allowed.yaml:9:24  orgs.octo-org.actions.secrets.DEPLOY_TOKEN.value.env: environment variable "GITHUB_TOKEN" can never be a value source: it matches "GITHUB_*", reserved for credentials of the tool and the CI runner',
        '{d}/env-not-allowed.yaml:11:24  orgs.octo-org.actions.secrets.DEPLOY_KEY.value.env: environment variable "AWS_DEPLOY_KEY" is a well-known cloud/runner credential (AWS credentials, "AWS_*"): no allow-list pattern admits it\n    hint: if this job really must copy it into a secret, add the exact name "AWS_DEPLOY_KEY" to `settings.allow_env` (or pass --allow-env with it); every plan will say so',
    ],
    "file-source-escapes.yaml": [
        '{d}/file-source-escapes.yaml:7:25  orgs.octo-org.actions.secrets.SSH_KEY.value.file: file source "../../../../etc/passwd" leaves the manifest\'s directory {root}\n    hint: keep value files inside the directory tree of the manifest that names them (no `..` escapes, no symlinks pointing outside)',
        '{d}/file-source-escapes.yaml:9:25  orgs.octo-org.actions.secrets.HOST_KEY.value.file: file source "/etc/ssh/ssh_host_rsa_key" is an absolute path\n    hint: write the path relative to the manifest file',
    ],
    "invalid-org-name.yaml": [
        '{d}/invalid-org-name.yaml:3:3  orgs.-octo-org: "-octo-org" is not a GitHub organisation name (letters, digits and single hyphens, not starting or ending with a hyphen)',
        '{d}/invalid-org-name.yaml:5:3  orgs.octo--org: "octo--org" is not a GitHub organisation name (letters, digits and single hyphens, not starting or ending with a hyphen)',
        '{d}/invalid-org-name.yaml:7:3  orgs.an-organisation-name-that-is-far-too-long: organisation name "an-organisation-name-that-is-far-too-long" is longer than 39 characters',
    ],
    "invalid-repository-name.yaml": [
        '{d}/invalid-repository-name.yaml:9:31  orgs.octo-org.actions.secrets.DEPLOY_KEY.repositories[1]: the repository name (7 characters, not shown) is not a GitHub repository name (letters, digits, ".", "_", "-")',
        '{d}/invalid-repository-name.yaml:9:42  orgs.octo-org.actions.secrets.DEPLOY_KEY.repositories[2]: ".." is not a repository name',
        '{d}/invalid-repository-name.yaml:9:48  orgs.octo-org.actions.secrets.DEPLOY_KEY.repositories[3]: "octo-org/api" is not a GitHub repository name (letters, digits, ".", "_", "-")',
        "{d}/invalid-repository-name.yaml:9:62  orgs.octo-org.actions.secrets.DEPLOY_KEY.repositories[4]: expected a string, got a number\n    hint: quote it, YAML reads unquoted yes/no/on/off/numbers as other types",
    ],
    "missing-version.yaml": [
        '{d}/missing-version.yaml:1:1  missing required key "version"',
    ],
    "not-a-mapping.yaml": [
        "{d}/not-a-mapping.yaml:1:1  a manifest is a mapping that starts with version: 1, not a list",
    ],
    "plaintext-value.yaml": [
        '{d}/plaintext-value.yaml:7:18  orgs.octo-org.actions.secrets.DB_PASSWORD.value: plaintext values are not allowed\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/plaintext-value.yaml:9:18  orgs.octo-org.actions.secrets.PIN_SECRET.value: plaintext values are not allowed\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/plaintext-value.yaml:11:17  orgs.octo-org.actions.secrets.EMPTY_SECRET.value: expected a value source, got nothing (null)\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
    ],
    "repo-scope-not-owner-repo.yaml": [
        '{d}/repo-scope-not-owner-repo.yaml:3:3  repos.web: "web" is not owner/repo',
        '{d}/repo-scope-not-owner-repo.yaml:5:3  repos.octo-org/..: ".." is not a repository name',
    ],
    "repo-secret-with-visibility.yaml": [
        "{d}/repo-secret-with-visibility.yaml:8:11  repos.octo-org/web.dependabot.secrets.NPM_TOKEN.visibility: visibility applies to organisation secrets only\n    hint: a repository secret is available to its own repository; remove this key",
        "{d}/repo-secret-with-visibility.yaml:9:11  repos.octo-org/web.dependabot.secrets.NPM_TOKEN.repositories: repositories applies to organisation secrets only\n    hint: a repository secret is available to its own repository; remove this key",
    ],
    "repositories-without-selected.yaml": [
        "{d}/repositories-without-selected.yaml:8:11  orgs.octo-org.dependabot.secrets.NPM_TOKEN.repositories: repositories applies only to visibility: selected, not private\n    hint: add visibility: selected (omitted visibility means private)",
        "{d}/repositories-without-selected.yaml:12:11  orgs.octo-org.dependabot.secrets.PYPI_TOKEN.repositories: repositories applies only to visibility: selected, not all\n    hint: set visibility: selected, or remove repositories",
    ],
    "same-org-different-case.yaml": [
        '{d}/same-org-different-case.yaml:7:3  orgs.Octo-Org: "Octo-Org" is the same organisation as "octo-org" at {d}/same-org-different-case.yaml:3:3 (GitHub names are case-insensitive)\n    hint: merge them into one entry',
    ],
    "sealed-invalid.yaml": [
        "{d}/sealed-invalid.yaml:7:27  orgs.octo-org.actions.secrets.NOT_BASE64_TOKEN.value.sealed: sealed value is not valid base64\n    hint: paste the output of sealing again",
        "{d}/sealed-invalid.yaml:9:27  orgs.octo-org.actions.secrets.SHORT_TOKEN.value.sealed: sealed value is too short to be a libsodium sealed box (5 bytes)\n    hint: paste the output of sealing again",
        '{d}/sealed-invalid.yaml:11:11  orgs.octo-org.actions.secrets.NO_KEY_TOKEN.value: sealed and key_id go together\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/sealed-invalid.yaml:13:47  orgs.octo-org.actions.secrets.NUMERIC_KEY_TOKEN.value.key_id: expected a string, got a number\n    hint: quote it: key_id: "0123..."',
    ],
    "secret-name-invalid.yaml": [
        '{d}/secret-name-invalid.yaml:6:9  repos.octo-org/web.actions.secrets.NPM-TOKEN: secret name "NPM-TOKEN" may contain only letters, digits and "_"',
        '{d}/secret-name-invalid.yaml:7:9  repos.octo-org/web.actions.secrets.1PASSWORD_TOKEN: secret name "1PASSWORD_TOKEN" must not start with a digit',
        '{d}/secret-name-invalid.yaml:8:9  repos.octo-org/web.actions.secrets.github_token: secret name "github_token" must not start with GITHUB_ (reserved by GitHub)',
        "{d}/secret-name-invalid.yaml:9:9  repos.octo-org/web.actions.secrets.: secret name is empty",
    ],
    "selected-without-repositories.yaml": [
        "{d}/selected-without-repositories.yaml:8:23  orgs.octo-org.dependabot.secrets.NPM_TOKEN.visibility: visibility: selected needs a repositories list\n    hint: list the repositories that may use the secret; write repositories: [] to select none",
    ],
    "too-many-repo-secrets.yaml": [
        "{d}/too-many-repo-secrets.yaml:4:5  repos.octo-org/web.actions: 101 actions secrets for octo-org/web; GitHub allows at most 100 per repository",
    ],
    "unknown-app.yaml": [
        '{d}/unknown-app.yaml:4:5  orgs.octo-org.dependabott: unknown app "dependabott" (did you mean "dependabot"?)\n    hint: apps are actions, agents, codespaces, dependabot',
        '{d}/unknown-app.yaml:6:5  orgs.octo-org.copilot: unknown app "copilot"\n    hint: apps are actions, agents, codespaces, dependabot',
    ],
    "unknown-key-typo.yaml": [
        '{d}/unknown-key-typo.yaml:5:7  orgs.octo-org.dependabot.prnue: unknown key "prnue" (did you mean "prune"?)',
        '{d}/unknown-key-typo.yaml:9:11  orgs.octo-org.dependabot.secrets.NPM_TOKEN.vsibility: unknown key "vsibility" (did you mean "visibility"?)',
    ],
    "unknown-top-level-key.yaml": [
        '{d}/unknown-top-level-key.yaml:2:1  org: unknown key "org" (did you mean "orgs"?)',
    ],
    "unknown-visibility.yaml": [
        '{d}/unknown-visibility.yaml:8:23  orgs.octo-org.actions.secrets.NPM_TOKEN.visibility: "privat" is not one of all, private, selected (did you mean "private"?)',
    ],
    "unsupported-version.yaml": [
        "{d}/unsupported-version.yaml:1:10  version: unsupported manifest version 2\n    hint: this reconciler reads version: 1",
    ],
    "value-two-sources.yaml": [
        '{d}/value-two-sources.yaml:7:11  orgs.octo-org.actions.secrets.NPM_TOKEN.value: a value has exactly one source, not env and file\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/value-two-sources.yaml:9:11  orgs.octo-org.actions.secrets.PYPI_TOKEN.value: value names no source\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/value-two-sources.yaml:11:11  orgs.octo-org.actions.secrets.CARGO_TOKEN.value: value names no source\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/value-two-sources.yaml:11:19  orgs.octo-org.actions.secrets.CARGO_TOKEN.value.enc: unknown value source "enc" (did you mean "env"?)\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
        '{d}/value-two-sources.yaml:12:9  orgs.octo-org.actions.secrets.RUBYGEMS_TOKEN: missing required key "value"\n    hint: write value: {env: VAR}, {file: path}, {sealed: BASE64, key_id: "..."}, {age: FILE, key: NAME}, {aws: SECRET} or {command: [PROGRAM, ARG, ...]}',
    ],
    "wrong-types.yaml": [
        "{d}/wrong-types.yaml:3:14  settings.allow_env: expected a list, got a string",
        "{d}/wrong-types.yaml:7:14  orgs.octo-org.actions.prune: expected true or false, got a string",
        "{d}/wrong-types.yaml:8:7  orgs.octo-org.actions.secrets: expected a mapping, got a list",
        "{d}/wrong-types.yaml:9:5  orgs.octo-org.dependabot: expected a mapping, got a list",
        "{d}/wrong-types.yaml:13:1  repos: expected a mapping, got a list",
    ],
    "yaml-syntax-error.yaml": [
        "{d}/yaml-syntax-error.yaml:7:1  YAML syntax error: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping at 6:20)",
    ],
    "defined-twice": [
        "{d}/defined-twice/a.yaml:6:9  orgs.octo-org.dependabot.secrets.NPM_TOKEN: secret NPM_TOKEN of dependabot in octo-org is also defined at {d}/defined-twice/b.yaml:6:9\n    hint: define each secret once; names are case-insensitive",
        "{d}/defined-twice/b.yaml:6:9  orgs.OCTO-ORG.dependabot.secrets.Npm_Token: secret NPM_TOKEN of dependabot in OCTO-ORG is already defined at {d}/defined-twice/a.yaml:6:9\n    hint: define each secret once; names are case-insensitive",
    ],
    "prune-disagrees": [
        "{d}/prune-disagrees/b.yaml:4:5  orgs.octo-org.dependabot: prune is false here but true for the same group at {d}/prune-disagrees/a.yaml:4:5 (omitted means false)\n    hint: every file that lists this group must agree on prune",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_problems(name: str) -> None:
    expected = [e.replace("{d}", D).replace("{root}", ROOT) for e in EXPECTED[name]]
    assert problems_of(f"{D}/{name}") == expected


def test_every_fixture_is_asserted() -> None:
    fixtures = {p.name for p in (REPO_ROOT / D).glob("*.yaml")}
    assert fixtures | {"defined-twice", "prune-disagrees"} == set(EXPECTED)


# --- examples and the model they map to -------------------------------------------------


def test_examples_validate_cleanly() -> None:
    result = load_manifests(["examples/"])
    # Workflows beside the manifests (examples/workflows/) are skipped, not errors.
    assert all(s.path.startswith("examples/workflows/") for s in result.skipped)
    assert result.desired.files == (
        "examples/environments.reconciler.yaml",
        "examples/octo-org.reconciler.yaml",
        "examples/repos.reconciler.yaml",
    )
    assert result.desired.settings.allow_env == ("AZ_*",)


def test_examples_map_to_the_model() -> None:
    desired = load_manifests(["examples"]).desired
    order = [(str(g.scope), g.app.value) for g in desired.groups]
    assert order == [
        ("octo-org", "actions"),
        ("octo-org", "agents"),
        ("octo-org", "codespaces"),
        ("octo-org", "dependabot"),
        ("octo-org/api", "actions"),
        ("octo-org/api", "codespaces"),
        ("octo-org/docs", "actions"),
        ("octo-org/infra", "agents"),
        ("octo-org/web", "actions"),
        ("octo-org/web", "dependabot"),
        ("octo-org/web/production", "actions"),
        ("octo-org/web/staging", "actions"),
    ]
    # Two files name octo-org's actions group: one with secrets, one with variables.
    assert desired.groups[0].kinds == frozenset({Kind.SECRET, Kind.VARIABLE})
    assert desired.groups[-1].kinds == frozenset({Kind.VARIABLE})
    dependabot = desired.groups[3]
    assert dependabot.scope == Scope(ScopeKind.ORG, "octo-org")
    assert dependabot.prune is True
    assert dependabot.location == Location("examples/octo-org.reconciler.yaml", 8, 5)
    artifactory, npm = dependabot.items
    assert npm.name == "NPM_TOKEN"
    assert npm.app is App.DEPENDABOT
    assert npm.location == Location("examples/octo-org.reconciler.yaml", 11, 9)
    assert npm.source == EnvSource(
        "NPM_TOKEN", Location("examples/octo-org.reconciler.yaml", 12, 24)
    )
    assert npm.visibility is Visibility.SELECTED
    assert npm.repositories == ("web", "api")
    assert npm.repository_locations == (
        Location("examples/octo-org.reconciler.yaml", 14, 26),
        Location("examples/octo-org.reconciler.yaml", 14, 31),
    )
    assert artifactory.visibility is Visibility.PRIVATE
    assert artifactory.repositories is None
    assert isinstance(artifactory.source, FileSource)
    assert artifactory.source.path == "values/artifactory-password.txt"
    assert artifactory.source.base_dir == "examples"
    by_name = {s.name: s for s in desired.items()}
    assert by_name["DOCS_PUBLISH_TOKEN"].repositories == ()
    assert by_name["AZ_ARTIFACTS_PAT"].visibility is Visibility.PRIVATE  # omitted
    repo_secret = by_name["AZURE_DEVOPS_PAT"]
    assert repo_secret.scope == Scope(ScopeKind.REPO, "octo-org/web")
    assert (repo_secret.visibility, repo_secret.repositories) == (None, None)


def test_dump_of_examples_reads_back_the_same(tmp_path: Path) -> None:
    desired = load_manifests(["examples/"]).desired
    out = tmp_path / "all.yaml"
    out.write_text(dump_manifest(desired))
    again = load_manifests([str(out)]).desired
    assert dump_manifest(again) == dump_manifest(desired)


# --- several files ----------------------------------------------------------------------


def test_directory_walk_skips_files_that_are_not_manifests() -> None:
    result = load_manifests([f"{D}/directory-walk/"])
    assert result.desired.files == (
        f"{D}/directory-walk/org.yaml",
        f"{D}/directory-walk/sub/repo.yml",
    )
    assert [s.path for s in result.skipped] == [f"{D}/directory-walk/workflow.yml"]


def test_a_named_file_is_always_a_manifest() -> None:
    assert problems_of(f"{D}/directory-walk/workflow.yml") == [
        f'{D}/directory-walk/workflow.yml:1:1  missing required key "version"',
        f'{D}/directory-walk/workflow.yml:1:1  name: unknown key "name"',
        f'{D}/directory-walk/workflow.yml:2:1  on: unknown key "on"',
        f'{D}/directory-walk/workflow.yml:3:1  jobs: unknown key "jobs"',
    ]


def test_a_file_given_twice_is_read_once() -> None:
    result = load_manifests([f"{D}/directory-walk", f"{D}/directory-walk/org.yaml"])
    assert len(result.desired.files) == 2


def test_groups_merge_across_files_when_prune_agrees(tmp_path: Path) -> None:
    body = "version: 1\norgs:\n  {org}:\n    actions:\n      prune: true\n      secrets:\n"
    (tmp_path / "a.yaml").write_text(
        body.format(org="octo-org") + "        A_TOKEN: {value: {env: A_TOKEN}}\n"
    )
    (tmp_path / "b.yml").write_text(
        body.format(org="Octo-Org") + "        B_TOKEN: {value: {env: B_TOKEN}}\n"
    )
    (groups,) = load_manifests([str(tmp_path)]).desired.groups
    assert groups.prune is True
    assert str(groups.scope) == "octo-org"
    assert [s.name for s in groups.items] == ["A_TOKEN", "B_TOKEN"]


def test_allow_env_of_one_file_applies_to_all(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nsettings: {allow_env: [DB_*]}\n")
    (tmp_path / "b.yaml").write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n"
        "        DB_URL: {value: {env: DB_URL}}\n"
    )
    assert load_manifests([str(tmp_path)]).desired.settings.allow_env == ("DB_*",)


def test_extra_allow_env_widens_the_allow_list() -> None:
    # A well-known credential is admitted by its exact name only, never by a pattern.
    assert len(problems_of(f"{D}/env-not-allowed.yaml", extra_allow_env=("AWS_*",))) == 3
    exact = ("AWS_DEPLOY_KEY", "AWS_ACCESS_KEY_ID")
    problems = problems_of(f"{D}/env-not-allowed.yaml", extra_allow_env=exact)
    # Forbidden names stay forbidden, however exactly they are allowed: the tool's own AWS
    # key is what it reads Secrets Manager with.
    assert [p.split(": ")[0].rsplit(".", 3)[-3] for p in problems] == [
        "AWS_ACCESS_KEY_ID",
        "DEPLOY_TOKEN",
    ]


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("just: notes\n")
    assert problems_of("nope.yaml", str(tmp_path)) == [
        '"nope.yaml": no such file or directory',
        f'no manifests in directory "{tmp_path}"',
    ]


def test_broken_files_in_a_directory(tmp_path: Path) -> None:
    # Every YAML file that does not parse is reported, whatever it was meant to be:
    # skipping a broken manifest could let prune delete what it declares.
    (tmp_path / "chart.yaml").write_text("name: {{ .Values.name }\n")
    (tmp_path / "secrets.yaml").write_text("version: 1\norgs: [\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([str(tmp_path)])
    files = [p.location.file for p in info.value.problems if p.location]
    assert files == [str(tmp_path / "chart.yaml"), str(tmp_path / "secrets.yaml")]


# --- YAML details -----------------------------------------------------------------------


def test_file_source_symlink_leaving_the_tree_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    tree = tmp_path / "tree"
    (tree / "values").mkdir(parents=True)
    (tree / "values" / "link.txt").symlink_to(outside)
    (tree / "m.yaml").write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n"
        "        LINK_TOKEN: {value: {file: values/link.txt}}\n"
    )
    (problem,) = problems_of(str(tree / "m.yaml"))
    assert problem.startswith(
        f"{tree}/m.yaml:6:36  repos.octo-org/web.actions.secrets.LINK_TOKEN.value.file: "
    )
    assert "leaves the manifest's directory" in problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\n# caf\xe9\n")
    assert problems_of(str(path)) == [f"{path}:2:6  file is not UTF-8 text"]


def test_too_many_org_secrets(tmp_path: Path) -> None:
    lines = ["version: 1", "orgs:", "  octo-org:", "    codespaces:", "      secrets:"]
    lines += [f"        S{i}_TOKEN: {{value: {{env: S{i}_TOKEN}}}}" for i in range(1001)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines))
    assert problems_of(str(path)) == [
        f"{path}:4:5  orgs.octo-org.codespaces: 1001 codespaces secrets for octo-org; GitHub allows at most 1000 per organisation"
    ]


def test_anchors_merge_keys_and_names_yaml_would_misread(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\n"
        "orgs:\n"
        "  octo-org:\n"
        "    actions:\n"
        "      secrets:\n"
        "        ON: &base {value: {env: ON_TOKEN}, visibility: selected, repositories: &r [web, 123x]}\n"
        "        NO:\n"
        "          <<: *base\n"
        "          repositories: *r\n"
        "          visibility: all\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([str(path)])
    assert [str(p) for p in info.value.problems] == [
        f"{path}:9:11  orgs.octo-org.actions.secrets.NO.repositories: repositories applies only to visibility: selected, not all\n    hint: set visibility: selected, or remove repositories"
    ]
    path.write_text(path.read_text().replace("visibility: all", "visibility: selected"))
    secrets = load_manifests([str(path)]).desired.items()
    assert [(s.name, s.repositories) for s in secrets] == [
        ("NO", ("web", "123x")),
        ("ON", ("web", "123x")),
    ]


def test_loadresult_is_frozen() -> None:
    result = load_manifests(["examples"])
    assert isinstance(result, LoadResult)
    with pytest.raises(AttributeError):
        result.skipped = ()  # type: ignore[misc]  # the runtime check of what mypy refuses


def test_sealed_source_round_trips(tmp_path: Path) -> None:
    ciphertext = "A" * 80
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n"
        f'        SEALED_TOKEN: {{value: {{sealed: "{ciphertext}", key_id: "0123"}}}}\n'
    )
    (secret,) = load_manifests([str(path)]).desired.items()
    assert secret.source == SealedSource(ciphertext, "0123", Location(str(path), 6, 40))


# --- the schema -------------------------------------------------------------------------


def test_the_package_reads_the_one_published_schema() -> None:
    """One source of truth: the package's schemas are a link to schemas/ (an sdist, which
    cannot hold links, carries a copy the build made of it)."""
    packaged = REPO_ROOT / "reconciler" / "schemas"
    if (REPO_ROOT / ".git").exists():
        assert packaged.is_symlink()
        assert packaged.resolve() == (REPO_ROOT / "schemas").resolve()
    for published in (REPO_ROOT / "schemas").glob("*.json"):
        assert (packaged / published.name).read_bytes() == published.read_bytes()


def test_packaged_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(rules.schema())
    assert rules.schema() == json.loads(
        (REPO_ROOT / "schemas" / "manifest.schema.json").read_text()
    )


def test_examples_name_the_schema() -> None:
    for example in (REPO_ROOT / "examples").glob("*.yaml"):
        first = example.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/manifest.schema.json"
        assert os.path.exists(example.parent / "../schemas/manifest.schema.json")
