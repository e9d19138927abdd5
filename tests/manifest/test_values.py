"""`check_values` (validate --resolve-values), and that no value ever reaches a message."""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import base64
import tempfile
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.load import check_values, load_manifests
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    EnvSource,
    Location,
    Scope,
    ScopeKind,
)

# Distinctive, so that any leak into a message is found by a plain substring search.
ENV_VALUE = "zq-env-value-7f3a9c"
FILE_VALUE = "zq-file-value-51e2d8"
BIG = "zq-big-value-0b7e4d" * 3000  # > 48 KB

MANIFEST = """\
version: 1
repos:
  octo-org/web:
    actions:
      secrets:
        GOOD_TOKEN: {value: {env: GOOD_TOKEN}}
        BIG_TOKEN: {value: {env: BIG_TOKEN}}
        EMPTY_TOKEN: {value: {env: EMPTY_TOKEN}}
        UNSET_TOKEN: {value: {env: UNSET_TOKEN}}
        GOOD_FILE: {value: {file: values/good.txt}}
        BIG_FILE: {value: {file: values/big.txt}}
        EMPTY_FILE: {value: {file: values/empty.txt}}
        MISSING_FILE: {value: {file: values/missing.txt}}
        SEALED_TOKEN: {value: {sealed: "%s", key_id: "1"}}
""" % ("A" * 80)

ENVIRON = {"GOOD_TOKEN": ENV_VALUE, "BIG_TOKEN": BIG, "EMPTY_TOKEN": ""}


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("values").mkdir()
    Path("values/good.txt").write_text(FILE_VALUE)
    Path("values/big.txt").write_text(BIG)
    Path("values/empty.txt").write_text("")
    Path("secrets.yaml").write_text(MANIFEST)
    return "secrets.yaml"


def leaks(problems: list[Problem] | tuple[Problem, ...], values: list[str]) -> list[str]:
    found = []
    for problem in problems:
        text = f"{problem}\n{problem.hint}\n{problem.path}"
        for value in values:
            raw = value.encode()
            for form in (value, base64.b64encode(raw).decode(), raw.hex(), value[:12]):
                if form in text:
                    found.append(f"{form!r} in {text!r}")
    return found


def test_check_values_reports_every_unusable_value(manifest: str) -> None:
    desired = load_manifests([manifest]).desired
    problems = [str(p) for p in check_values(desired, ENVIRON)]
    path = "repos.octo-org/web.actions.secrets"
    assert problems == [
        f"secrets.yaml:7:34  {path}.BIG_TOKEN.value.env: env:BIG_TOKEN holds 57000 bytes, more than GitHub's 48 KB limit",
        f"secrets.yaml:8:36  {path}.EMPTY_TOKEN.value.env: env:EMPTY_TOKEN is empty\n    hint: GitHub does not accept empty secret or variable values",
        f'secrets.yaml:9:36  {path}.UNSET_TOKEN.value.env: environment variable "UNSET_TOKEN" is not set\n    hint: export it in the job that runs reconciler',
        f'secrets.yaml:11:34  {path}.BIG_FILE.value.file: file source "values/big.txt" is 57000 bytes, more than GitHub\'s 48 KB limit (49152 bytes); it was not read\n    hint: GitHub secrets hold at most 48 KB; store a larger value elsewhere',
        f"secrets.yaml:12:36  {path}.EMPTY_FILE.value.file: file:values/empty.txt is empty\n    hint: GitHub does not accept empty secret or variable values",
        f'secrets.yaml:13:38  {path}.MISSING_FILE.value.file: file source "values/missing.txt" cannot be read: No such file or directory\n    hint: create the file next to the manifest, or fix the path',
    ]


def test_check_values_passes_when_everything_resolves(manifest: str) -> None:
    head = MANIFEST.split("GOOD_TOKEN", maxsplit=1)[0]
    Path("secrets.yaml").write_text(
        f"{head}GOOD_TOKEN: {{value: {{env: GOOD_TOKEN}}}}\n"
        "        GOOD_FILE: {value: {file: values/good.txt}}\n"
    )
    desired = load_manifests([manifest]).desired
    assert len(desired.items()) == 2
    assert check_values(desired, ENVIRON) == []


def test_check_values_applies_the_allow_list() -> None:
    # load_manifests refuses these already; check_values must not trust its input.
    where = Location("m.yaml", 3, 4)
    scope = Scope(ScopeKind.REPO, "octo-org/web")
    secrets = tuple(
        DesiredItem(scope, App.ACTIONS, var, EnvSource(var, where), where)
        for var in ("GITHUB_TOKEN", "AWS_DEPLOY_KEY")
    )
    desired = DesiredState((DesiredGroup(scope, App.ACTIONS, False, secrets, where),))
    environ = {"GITHUB_TOKEN": ENV_VALUE, "AWS_DEPLOY_KEY": ENV_VALUE}
    problems = check_values(desired, environ)
    assert [p.message.split(":")[0] for p in problems] == [
        'environment variable "AWS_DEPLOY_KEY" is a well-known cloud/runner credential (AWS credentials, "AWS_*")',
        'environment variable "GITHUB_TOKEN" can never be a value source',
    ]
    assert len(check_values(desired, environ, ("AWS_*",))) == 2
    assert len(check_values(desired, environ, ("AWS_DEPLOY_KEY",))) == 1
    assert leaks(problems, [ENV_VALUE]) == []


def test_check_values_never_shows_a_value(manifest: str) -> None:
    desired = load_manifests([manifest]).desired
    problems = check_values(desired, ENVIRON)
    assert problems
    assert leaks(problems, [ENV_VALUE, FILE_VALUE, BIG[:40]]) == []


PLAINTEXT = "zq-plain-3d5e7f9a"
LEAKY_MANIFEST = f"""\
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        A_TOKEN: {{value: "{PLAINTEXT}"}}
        B_TOKEN: {{value: [{PLAINTEXT}]}}
        C_TOKEN: {{value: {{plain: {PLAINTEXT}}}}}
        D_TOKEN: {{value: {{env: "{PLAINTEXT}"}}}}
        E_TOKEN: {{value: {{sealed: "{PLAINTEXT}", key_id: "1"}}}}
        F_TOKEN: {{value: {{env: X_TOKEN, file: "{PLAINTEXT}"}}}}
        G_TOKEN: {{value: {{sealed: {PLAINTEXT}}}}}
        H_TOKEN: {{value: {{env: {{v: {PLAINTEXT}}}}}}}
        I_TOKEN: {{value: !!binary "{base64.b64encode(PLAINTEXT.encode()).decode()}"}}
        J_TOKEN: {{value: !!int "{PLAINTEXT}"}}
        K_TOKEN:
          value: |
            {PLAINTEXT}
"""


def test_load_manifests_never_shows_a_plaintext_value(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(LEAKY_MANIFEST)
    with pytest.raises(ManifestError) as info:
        load_manifests([str(path)])
    problems = info.value.problems
    assert {p.path.split(".")[4] for p in problems} == {f"{c}_TOKEN" for c in "ABCDEFGHIJK"}
    assert leaks(problems, [PLAINTEXT]) == []
    assert PLAINTEXT not in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(min_size=6), st.integers(min_value=10**5), st.floats(allow_nan=False)))
def test_any_plaintext_value_is_refused_without_echo(value: object) -> None:
    secrets = {"X_TOKEN": {"value": value}}
    doc = {"version": 1, "repos": {"octo-org/web": {"actions": {"secrets": secrets}}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(yaml.safe_dump(doc))
        with pytest.raises(ManifestError) as info:
            load_manifests([str(path)])
    (problem,) = info.value.problems
    assert problem.message == "plaintext values are not allowed"
    shown = str(value)
    # Text every refusal holds ("{command: [PROGRAM, ARG, ...]}") is not an echo of the value.
    if len(shown.strip()) >= 6 and shown not in _refusal_of("\u2603" * 8):
        assert shown not in str(info.value)


@cache
def _refusal_of(value: str) -> str:
    doc = {
        "version": 1,
        "repos": {"octo-org/web": {"actions": {"secrets": {"X_TOKEN": {"value": value}}}}},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(yaml.safe_dump(doc))
        with pytest.raises(ManifestError) as info:
            load_manifests([str(path)])
    return str(info.value)
