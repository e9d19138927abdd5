"""A value pasted where a name belongs is never echoed back.

A hostile or careless manifest puts a token where a secret name, an organisation, a
repository, an environment variable or a key belongs. The error must say where it is
and what is wrong without quoting it: not in the message, not in the JSON path, not in a
did-you-mean, not on stdout or stderr of the CLI.
"""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifests
from reconciler.manifest.redact import describe, looks_like_credential, path_part
from tests.support.e2e import run

GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY1zC3"  # the shape of a classic PAT
AWS = "AKIA" + "IOSFODNN7EXAMPLE"  # AWS's documented example key id
HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HIGH = "Zq8Lw3Rv9Xk2Pm7Tn4Bc6Hy1"  # 24 mixed-case digits, no separators
HIDE = "<40 characters, not shown>"
CREDENTIAL_HINT = "    hint: a value never goes where a name belongs; if a real credential was written here, remove it and rotate it (it may already be in git history)"


def _problems(text: str) -> list[str]:
    Path("m.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifests(["m.yaml"])
    return [str(p) for p in info.value.problems]


def _repo_secret(name: str, value: str = "{value: {env: A_TOKEN}}") -> str:
    return f"version: 1\nrepos:\n  octo-org/web:\n    actions:\n      secrets:\n        {name}: {value}\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            GHP,
            f"m.yaml:6:9  repos.octo-org/web.actions.secrets.{HIDE}: this looks like a credential, not a secret name (40 characters, not shown)\n{CREDENTIAL_HINT}",
        ),
        (
            AWS,
            f"m.yaml:6:9  repos.octo-org/web.actions.secrets.<20 characters, not shown>: this looks like a credential, not a secret name (20 characters, not shown)\n{CREDENTIAL_HINT}",
        ),
        (
            HEX,
            f"m.yaml:6:9  repos.octo-org/web.actions.secrets.<64 characters, not shown>: this looks like a credential, not a secret name (64 characters, not shown)\n{CREDENTIAL_HINT}",
        ),
        (
            "'my password=hunter2'",
            'm.yaml:6:9  repos.octo-org/web.actions.secrets.<19 characters, not shown>: secret name (19 characters, not shown) may contain only letters, digits and "_"',
        ),
    ],
)
def test_a_value_as_a_secret_name_is_refused_without_echo(name: str, expected: str) -> None:
    assert _problems(_repo_secret(name)) == [expected]


def test_names_that_are_names_are_still_quoted() -> None:
    assert _problems(_repo_secret("NPM-TOKEN")) == [
        'm.yaml:6:9  repos.octo-org/web.actions.secrets.NPM-TOKEN: secret name "NPM-TOKEN" may contain only letters, digits and "_"',
    ]


def test_a_value_as_an_organisation_repository_or_variable_is_not_echoed() -> None:
    text = (
        "version: 1\n"
        "orgs:\n"
        f"  {AWS}:\n"
        "    actions: {secrets: {}}\n"
        "  octo-org:\n"
        "    actions:\n"
        "      secrets:\n"
        f"        A_TOKEN: {{value: {{env: A_TOKEN}}, visibility: selected, repositories: [web, {HIGH}, 'pass word']}}\n"
        f"        B_TOKEN: {{value: {{env: {AWS}}}}}\n"
    )
    assert _problems(text) == [
        f"m.yaml:3:3  orgs.<20 characters, not shown>: this looks like a credential, not an organisation name (20 characters, not shown)\n{CREDENTIAL_HINT}",
        f"m.yaml:8:84  orgs.octo-org.actions.secrets.A_TOKEN.repositories[1]: this looks like a credential, not a repository name (24 characters, not shown)\n{CREDENTIAL_HINT}",
        'm.yaml:8:110  orgs.octo-org.actions.secrets.A_TOKEN.repositories[2]: the repository name (9 characters, not shown) is not a GitHub repository name (letters, digits, ".", "_", "-")',
        f"m.yaml:9:32  orgs.octo-org.actions.secrets.B_TOKEN.value.env: this looks like a credential, not an environment variable name (20 characters, not shown)\n{CREDENTIAL_HINT}",
    ]


def test_unknown_and_duplicate_keys_are_not_echoed_and_get_no_suggestion() -> None:
    text = f"version: 1\n'orgs={GHP}': 1\n'orgs x': 2\n{HIGH}: 3\n{HIGH}: 4\n"
    assert _problems(text) == [
        "m.yaml:2:1  <45 characters, not shown>: unknown key name (45 characters, not shown)",
        "m.yaml:3:1  <6 characters, not shown>: unknown key name (6 characters, not shown)",
        "m.yaml:4:1  <24 characters, not shown>: unknown key name (24 characters, not shown)",
        "m.yaml:5:1  <24 characters, not shown>: duplicate key the key (24 characters, not shown) (first written at m.yaml:4:1); YAML would keep only the last one\n    hint: remove or rename one of them",
    ]


def test_a_pasted_value_on_the_command_line_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["validate", GHP])
    assert result.code == 1
    assert (
        result.err
        == "error: 1 problem in the manifest:\n  the path given (40 characters, not shown): no such file or directory\n"
    )


def test_the_cli_prints_nothing_of_a_pasted_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("m.yaml").write_text(
        _repo_secret(GHP) + f"  {GHP}:\n    actions: {{}}\n", encoding="utf-8"
    )
    result = run(capsys, ["validate", "m.yaml"])
    assert result.code == 1
    _assert_absent(GHP, result.out + result.err)


def _assert_absent(value: str, output: str) -> None:
    encoded = value.encode()
    for form in (value, base64.b64encode(encoded).decode(), encoded.hex(), value[4:20]):
        assert form not in output


# -- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        GHP,
        AWS,
        HEX,
        HIGH,
        "github" + "_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",  # split: no scanner hit
        "glpat-" + "x1Y2z3A4b5C6d7E8f9G0",
        "xoxb-" + "1234567890-abcdefghij",
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "password=" + GHP,
        "-----BEGIN OPENSSH " + "PRIVATE KEY-----",  # split: no scanner hit
    ],
)
def test_credentials_are_recognised(text: str) -> None:
    assert looks_like_credential(text)
    assert describe(text, "the name") == f"the name ({len(text)} characters, not shown)"


@pytest.mark.parametrize(
    "text",
    [
        "NPM_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "GHP_TOKEN",
        "ghp_deploy_token",
        "DOCKERHUB_PASSWORD_FOR_PRODUCTION_DEPLOYMENTS_V2",
        "DOCKERHUBPASSWORD2024PROD",
        "octo-org/a-very-long-repository-name-for-the-2024-platform",
        "supercalifragilisticexpialidocious",
        "dependabot",
    ],
)
def test_names_are_not_mistaken_for_credentials(text: str) -> None:
    assert not looks_like_credential(text)
    assert describe(text, "the name") == f'"{text}"'
    assert path_part(text) == text


tokens = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=24, max_size=60
).filter(
    lambda t: (
        any(c.isupper() for c in t) and any(c.islower() for c in t) and any(c.isdigit() for c in t)
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens, st.sampled_from(["secret", "org", "repo", "key", "env"]))
def test_a_random_token_anywhere_a_name_goes_is_never_echoed(token: str, where: str) -> None:
    if looks_like_credential(token):
        text = {
            "secret": _repo_secret(token),
            "org": f"version: 1\norgs:\n  {token}: {{actions: {{secrets: {{}}}}}}\n",
            "repo": f"version: 1\nrepos:\n  octo-org/{token}: {{actions: {{secrets: {{}}}}}}\n",
            "key": f"version: 1\n{token}: 1\n",
            "env": _repo_secret("A_TOKEN", f"{{value: {{env: {token}}}}}"),
        }[where]
        problems = _problems(text)
        assert problems
        _assert_absent(token, "\n".join(problems))
