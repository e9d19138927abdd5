"""GitHub's limits checked offline: counts per group (errors), 48 KB per inline value
(an error, in UTF-8 bytes), and 256 KB of Actions variables per workflow run (a warning)."""

# ruff: noqa: E501  (the expected messages are clearer unbroken)
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.load import check_values, load_manifests

KB = 1024


def _problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests([str(path)])
    return [str(p) for p in info.value.problems]


def _variables(count: int, prefix: str = "V") -> str:
    return "".join(f"          {prefix}{i}: {{value: x}}\n" for i in range(count))


@pytest.mark.parametrize(
    ("head", "kind", "limit", "message"),
    [
        (
            "orgs:\n  octo-org:\n    actions:\n      variables:\n",
            "variables",
            1000,
            "{n} actions variables for octo-org; GitHub allows at most 1000 per organisation",
        ),
        (
            "repos:\n  octo-org/web:\n    agents:\n      variables:\n",
            "variables",
            500,
            "{n} agents variables for octo-org/web; GitHub allows at most 500 per repository",
        ),
        (
            "repos:\n  octo-org/web:\n    environments:\n      prod:\n        variables:\n",
            "variables",
            100,
            '{n} variables for environment "prod" of octo-org/web; GitHub allows at most 100 per environment',
        ),
        (
            "repos:\n  octo-org/web:\n    environments:\n      prod:\n        secrets:\n",
            "secrets",
            100,
            '{n} secrets for environment "prod" of octo-org/web; GitHub allows at most 100 per environment',
        ),
    ],
    ids=["org-variables", "repo-variables", "environment-variables", "environment-secrets"],
)
def test_count_limits(tmp_path: Path, head: str, kind: str, limit: int, message: str) -> None:
    path = tmp_path / "m.yaml"
    value = "{value: x}" if kind == "variables" else "{value: {env: S_TOKEN}}"
    group_line = head.count("\n") - 1  # the line of the app (or environment) key
    col = len(head.splitlines()[-2]) - len(head.splitlines()[-2].lstrip()) + 1

    def write(n: int) -> None:
        body = "".join(f"          N{i}: {value}\n" for i in range(n))
        path.write_text("version: 1\n" + head + body)

    write(limit)
    assert len(load_manifests([str(path)]).desired.items()) == limit
    write(limit + 1)
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:{group_line + 1}:{col}  ")
    assert problem.endswith(message.format(n=limit + 1))


def test_a_secret_and_a_variable_count_against_their_own_limits(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    secrets = "".join(f"          S{i}: {{value: {{env: S_TOKEN}}}}\n" for i in range(100))
    path.write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    environments:\n      prod:\n"
        f"        secrets:\n{secrets}        variables:\n{_variables(100)}"
    )
    assert len(load_manifests([str(path)]).desired.items()) == 200


def test_an_inline_value_is_at_most_48_kb_of_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    head = "version: 1\nrepos:\n  octo-org/web:\n    actions:\n      variables:\n"
    path.write_text(head + f"        BIG: {{value: {'a' * 48 * KB}}}\n")
    assert len(load_manifests([str(path)]).desired.items()) == 1
    # 24,577 characters, 49,154 bytes: the limit is in bytes.
    path.write_text(head + f"        BIG: {{value: {'é' * (24 * KB + 1)}}}\n")
    assert _problems(path) == [
        f"{path}:6:22  repos.octo-org/web.actions.variables.BIG.value: the value is 49154 bytes, more than GitHub's 48 KB limit for a variable (49152 bytes)\n    hint: store a larger value elsewhere (an artifact, a file in the repository)"
    ]


# --- 256 KB of Actions variables per workflow run ----------------------------------------------

BIG = "b" * 45 * KB  # six of these pass 256 KB; five do not


def _org_variables(count: int, visibility: str = "all", prefix: str = "ORG") -> str:
    return "".join(
        f"        {prefix}{i}: {{value: {BIG}, visibility: {visibility}}}\n" for i in range(count)
    )


def test_no_warning_below_256_kb(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\norgs:\n  octo-org:\n    actions:\n      variables:\n"
        + _org_variables(5)
        + "repos:\n  octo-org/web:\n    actions:\n      secrets: {}\n"
    )
    assert load_manifests([str(path)]).warnings == ()


def test_a_warning_names_each_repository_past_256_kb(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "big.txt").write_text(BIG)
    path.write_text(
        "version: 1\n"
        "orgs:\n"
        "  octo-org:\n"
        "    actions:\n"
        "      variables:\n"
        + _org_variables(5)
        + f"        PICKED: {{value: {BIG}, visibility: selected, repositories: [api]}}\n"
        "  other-org:\n"
        "    actions:\n"
        "      variables:\n" + _org_variables(3) + "repos:\n"
        "  octo-org/web:\n"
        "    actions:\n"
        "      variables:\n"
        "        FROM_FILE: {value: {file: values/big.txt}}\n"
        "        FROM_ENV: {value: {env: HUGE_TOKEN}}\n"
        "  octo-org/docs:\n"
        "    environments:\n"
        "      prod: {variables: {URL: {value: x}}}\n"
        "  other-org/site:\n"
        "    actions: {variables: {}}\n"
    )
    warnings = [str(w) for w in load_manifests([str(path)]).warnings]
    names = 5 * len("ORG0") + len("PICKED")
    api = 6 * len(BIG) + names
    web = 6 * len(BIG) + 5 * len("ORG0") + len("FROM_FILE") + len("FROM_ENV")
    hint = "    hint: counted: its repository variables and the organisation variables with visibility all or private (as if the repository were private) or selecting it; move large values elsewhere or narrow the organisation variables' visibility"
    assert warnings == [
        # Named only by an organisation variable's repositories: pointed at the org's group.
        f"{path}:4:5  orgs.octo-org.actions: the Actions variables workflow runs of octo-org/api can see total at least {api} bytes (names and values), more than GitHub's 256 KB per run (262144 bytes): runs get only the variables that fit, taken in alphabetical order\n{hint}",
        f"{path}:20:5  repos.octo-org/web.actions: the Actions variables workflow runs of octo-org/web can see total at least {web} bytes (names and values; 1 value from env or missing files not counted), more than GitHub's 256 KB per run (262144 bytes): runs get only the variables that fit, taken in alphabetical order\n{hint}",
    ]
    # octo-org/docs sees only the five org variables visible to all: 230 KB, under the limit.


def test_the_warning_does_not_stop_loading(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\norgs:\n  octo-org:\n    actions:\n      variables:\n"
        + _org_variables(6, "private")
        + "repos:\n  octo-org/web:\n    agents: {variables: {}}\n"
    )
    result = load_manifests([str(path)])
    assert len(result.desired.items()) == 6
    (warning,) = result.warnings
    assert "octo-org/web" in warning.message
    assert BIG not in str(warning)


# --- validate --resolve-values for variables ---------------------------------------------------


def test_resolving_a_variable_needs_utf8_text_and_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    (tmp_path / "cert.der").write_bytes(b"\x30\x82\xff\xfe")
    path.write_text(
        "version: 1\nrepos:\n  octo-org/web:\n    environments:\n      production:\n"
        "        variables:\n          CERT: {value: {file: cert.der}}\n"
        "          HOST: {value: {env: HOST_TOKEN}}\n"
        "          PLAIN: {value: inline}\n"
        "        secrets:\n          CERT: {value: {file: cert.der}}\n"
    )
    desired = load_manifests([str(path)]).desired
    problems = [str(p) for p in check_values(desired, {"HOST_TOKEN": "h"})]
    assert problems == [
        f"{path}:7:32  repos.octo-org/web.environments.production.variables.CERT.value.file: file:cert.der is not UTF-8 text; a variable's value must be text\n    hint: store binary values as secrets, or encode them (base64) first"
    ]
    assert check_values(desired, {}) != []  # HOST_TOKEN unset
