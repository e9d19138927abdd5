"""A broken manifest is never skipped; unrelated YAML is never mistaken for a manifest.

Attacks the discovery rule (reconciler/manifest/discovery.py) the way a real checkout
does: manifests next to workflows, docker-compose, pre-commit, Helm, virtualenvs and
node_modules, plus broken and misspelt manifests that must fail the run, not vanish
from it (prune would then delete what they declare).
"""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.load import LoadResult, load_manifests
from reconciler.sandbox import Sandbox
from tests.support.e2e import run
from tests.support.repository_tree import BROKEN_YAML, ORG_MANIFEST, build_tree

# Every test runs in its own tmp_path (conftest), so "repo" is private to it.
REPO = "repo"


def _load(*paths: str) -> LoadResult:
    return load_manifests(list(paths))


def _problems(*paths: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(list(paths))
    return [str(p) for p in info.value.problems]


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


EXPECTED_SKIPPED = [
    "repo/.git/: hidden directory, not searched",
    "repo/.github/: hidden directory, not searched",
    "repo/.pre-commit-config.yaml: hidden file, not read",
    "repo/.readthedocs.yaml: hidden file, not read",
    "repo/.venv/: hidden directory, not searched",
    "repo/deploy/chart/: Helm chart, not searched",
    "repo/deploy/k8s.yaml: not a manifest (2 YAML documents, none with manifest keys)",
    "repo/deploy/values.yaml: not a manifest (no top-level version: 1, orgs or repos)",
    "repo/docker-compose.yml: not a manifest (no top-level version: 1, orgs or repos)",
    "repo/env/: virtualenv, not searched",
    "repo/mkdocs.yml: not a manifest (no top-level version: 1, orgs or repos)",
    "repo/node_modules/: dependency or cache directory, not searched",
    "repo/src/pkg/__pycache__/: dependency or cache directory, not searched",
]


def test_a_realistic_checkout_reads_exactly_the_manifests(tmp_path: Path) -> None:
    build_tree(tmp_path / REPO)
    result = _load(REPO)
    # `REPOS.YAML`: suffixes match in any letter case.
    assert result.desired.files == ("repo/manifests/org.yaml", "repo/manifests/team/REPOS.YAML")
    assert [str(s) for s in result.skipped] == EXPECTED_SKIPPED
    assert [s.name for s in result.desired.items()] == ["DEPLOY_TOKEN", "NPM_TOKEN"]


def test_a_broken_manifest_in_the_checkout_fails_the_load(tmp_path: Path) -> None:
    build_tree(tmp_path / REPO)
    _write("repo/manifests/broken.yaml", BROKEN_YAML)
    assert _problems(REPO) == [
        "repo/manifests/broken.yaml:3:1  YAML syntax error: expected the node content, but found '<stream end>' (while parsing a flow node)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Unparseable YAML is an error whatever it was meant to be (here a Helm template).
        (
            "name: {{ .Values.name }\n",
            "repo/x.yaml:2:1  YAML syntax error: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping at 1:7)",
        ),
        (
            "a: [1, 2\n",
            "repo/x.yaml:2:1  YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at 1:4)",
        ),
        (
            "a: \x07\n",
            "repo/x.yaml:1:4  YAML syntax error: special characters are not allowed (#x0007)",
        ),
    ],
)
def test_any_yaml_file_that_does_not_parse_is_an_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    Path(REPO).mkdir()
    Path("repo/x.yaml").write_text(text, encoding="utf-8")
    assert _problems(REPO) == [expected]


def test_not_utf8_and_non_regular_files_in_a_directory_are_errors(tmp_path: Path) -> None:
    Path(REPO).mkdir()
    Path("repo/latin1.yml").write_bytes(b"name: caf\xe9\n")
    os.mkfifo("repo/pipe.yaml")  # would block a plain read forever
    assert _problems(REPO) == [
        "repo/latin1.yml:1:10  file is not UTF-8 text",
        "repo/pipe.yaml:1:1  this file is a named pipe (FIFO), not a regular file",
    ]


@pytest.mark.parametrize(
    "key",
    [
        "Orgs",
        "ORGS",
        "org",
        "orgz",
        "organizations",
        "organisations",
        "repositories",
        "Repos",
        "repo",
        "repso",
    ],
)
def test_a_near_miss_of_a_scope_key_is_validated_not_skipped(tmp_path: Path, key: str) -> None:
    _write(f"repo/{key.lower()}.yaml", f"{key}:\n  octo-org:\n    actions: {{secrets: {{}}}}\n")
    problems = _problems(REPO)
    assert problems[0] == f'repo/{key.lower()}.yaml:1:1  missing required key "version"'
    assert problems[1].startswith(f'repo/{key.lower()}.yaml:1:1  {key}: unknown key "{key}"')


def test_version_1_with_every_other_key_misspelt_is_still_a_manifest(tmp_path: Path) -> None:
    _write("repo/m.yaml", "version: 1\nsecrets:\n  NPM_TOKEN: {value: {env: NPM_TOKEN}}\n")
    assert _problems(REPO) == ['repo/m.yaml:2:1  secrets: unknown key "secrets"']


@pytest.mark.parametrize(
    ("version", "read"),
    [('"3.8"', False), ("2", False), ("3.8", False), ('"2.4"', False), ("1", True), ('"1"', True)],
)
def test_only_version_one_marks_a_manifest(tmp_path: Path, version: str, read: bool) -> None:
    _write("repo/docker-compose.yml", f"version: {version}\nservices: {{web: {{image: nginx}}}}\n")
    if read:
        unsupported = 'repo/docker-compose.yml:1:10  version: unsupported manifest version "1"\n    hint: this reconciler reads version: 1'
        assert _problems(REPO) == [
            *([unsupported] if version == '"1"' else []),
            'repo/docker-compose.yml:2:1  services: unknown key "services"',
        ]
    else:
        with pytest.raises(ManifestError) as info:
            _load(REPO)
        assert [str(p) for p in info.value.problems] == ['no manifests in directory "repo"']


def test_settings_with_allow_env_marks_a_manifest(tmp_path: Path) -> None:
    _write("repo/settings.yaml", "settings: {allow_env: [DEPLOY_*]}\n")
    assert _problems(REPO) == ['repo/settings.yaml:1:1  missing required key "version"']


def test_a_second_document_with_manifest_keys_is_an_error(tmp_path: Path) -> None:
    _write("repo/m.yaml", "kind: ConfigMap\n---\nversion: 1\norgs: {}\n")
    assert _problems(REPO) == [
        "repo/m.yaml:3:1  a manifest is a single YAML document, but another one starts here\n    hint: split the documents into separate files",
    ]


def test_empty_files_and_lists_are_skipped_with_their_reason(tmp_path: Path) -> None:
    _write("repo/m.yaml", ORG_MANIFEST)
    _write("repo/empty.yaml", "# nothing yet\n")
    _write("repo/list.yml", "- a\n- b\n")
    assert [str(s) for s in _load(REPO).skipped] == [
        "repo/empty.yaml: not a manifest (empty)",
        "repo/list.yml: not a manifest (the top level is a list, not a mapping)",
    ]


def test_a_path_named_on_the_command_line_is_always_a_manifest(tmp_path: Path) -> None:
    build_tree(tmp_path / REPO)
    assert _problems("repo/.pre-commit-config.yaml") == [
        'repo/.pre-commit-config.yaml:1:1  missing required key "version"',
        "repo/.pre-commit-config.yaml:1:1  repos: expected a mapping, got a list",
    ]
    # A hidden directory named explicitly is searched; only what is below it is filtered.
    _write("repo/.secrets/org.yaml", ORG_MANIFEST)
    assert _load("repo/.secrets").desired.files == ("repo/.secrets/org.yaml",)


def test_a_symlinked_directory_is_listed_not_followed(tmp_path: Path) -> None:
    _write("elsewhere/org.yaml", ORG_MANIFEST)
    _write("repo/m.yaml", ORG_MANIFEST.replace("DEPLOY_TOKEN", "OTHER_TOKEN"))
    os.symlink(tmp_path / "elsewhere", "repo/linked")
    assert [str(s) for s in _load(REPO).skipped] == [
        "repo/linked/: symbolic link to a directory, not followed (name its target to read it)",
    ]


# -- what the CLI says -----------------------------------------------------------------------


def test_validate_lists_every_skipped_path_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_tree(tmp_path / REPO)
    result = run(capsys, ["validate", REPO])
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "OK: 2 manifest files, 2 scope/app groups, 2 secrets; skipped 13 non-manifest files.",
        *(f"  skipped {line}" for line in EXPECTED_SKIPPED),
    ]


def test_validate_of_a_broken_manifest_exits_1_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_tree(tmp_path / REPO)
    _write("repo/manifests/Orgs.yml", "Orgs:\n  octo-org: {}\n")
    result = run(capsys, ["validate", REPO])
    assert result.code == 1
    assert "Traceback" not in result.err
    assert result.err.startswith("error: 2 problems in the manifest:\n")
    assert (
        'repo/manifests/Orgs.yml:1:1  Orgs: unknown key "Orgs" (did you mean "orgs"?)' in result.err
    )


# -- end to end: prune never deletes what a broken manifest declares -------------------------


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_broken_manifest_in_a_pruned_directory_fails_and_deletes_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    sandbox.add_repo("octo-org/web")
    sandbox.put_secret("octo-org", "actions", "DEPLOY_TOKEN", b"deploy", visibility="private")
    sandbox.put_secret("octo-org", "actions", "NPM_TOKEN", b"npm", visibility="private")
    build_tree(tmp_path / REPO)
    # org.yaml prunes octo-org/actions down to DEPLOY_TOKEN; npm.yaml declares NPM_TOKEN
    # for the same group but is broken. Skipping it would delete NPM_TOKEN.
    _write(
        "repo/manifests/npm.yaml",
        "version: 1\norgs:\n  octo-org:\n    actions:\n      prune: true\n      secrets:\n"
        "        NPM_TOKEN: {value: {env: NPM_TOKEN}\n",
    )
    env = {"DEPLOY_TOKEN": "deploy", "NPM_TOKEN": "npm"}
    args = [command, REPO] + (["--write-delay", "0"] if command == "apply" else [])
    result = run(capsys, args, env, sb=sandbox)
    assert result.code == 1, result.out
    assert "repo/manifests/npm.yaml:8:1  YAML syntax error" in result.err
    assert "Traceback" not in result.err
    assert [r for r in sandbox.requests if r.method in ("PUT", "DELETE", "PATCH", "POST")] == []
    assert sorted(sandbox.secrets("octo-org", "actions")) == ["DEPLOY_TOKEN", "NPM_TOKEN"]


def test_plan_warns_about_every_skipped_path(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("octo-org/web")
    build_tree(tmp_path / REPO)
    result = run(capsys, ["plan", REPO], {"DEPLOY_TOKEN": "d", "NPM_TOKEN": "n"}, sb=sandbox)
    assert result.code == 0, result.err
    for line in EXPECTED_SKIPPED:
        assert f"WARNING reconciler.commands.common: skipped {line}\n" in result.err
