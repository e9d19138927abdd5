"""An independent client: PyGithub against the sandbox.

Where PyGithub and the docs disagree, the sandbox accepts what GitHub accepts:

- PyGithub sends Dependabot `selected_repository_ids` as strings (`[str(repo.id)]`) and
  Actions ids as integers. GitHub's description allows `anyOf: [integer, string]` for the
  Dependabot org PUT only, and API version 2026-03-10 drops the string form
  (`remove_string_type_from_repo_id_param`); PyGithub sends no version header, so 2022-11-28
  applies and the strings are accepted.
- PyGithub only knows `actions` and `dependabot` secrets (`secret_type`), so agents and
  Codespaces are not exercised here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github

from reconciler.sandbox import Sandbox


def _client(base_url: str, token: str) -> Github:
    # lazy: GET /orgs/{org} is not part of the sandbox. No throttling: PyGithub waits
    # 1 s between writes by default, which only slows tests down.
    return Github(
        base_url=base_url,
        auth=Auth.Token(token),
        lazy=True,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@pytest.fixture
def gh(sandbox: Sandbox) -> Iterator[Github]:
    sandbox.add_repo("octo-org/web")
    sandbox.add_repo("octo-org/api", private=True)
    client = _client(sandbox.url, sandbox.token)
    yield client
    client.close()


@pytest.mark.parametrize("secret_type", ["dependabot", "actions"])
def test_org_secrets(gh: Github, sandbox: Sandbox, secret_type: str) -> None:
    org = gh.get_organization("octo-org")
    web = gh.withLazy(False).get_repo("octo-org/web")
    org.create_secret("EVERYONE", "plain-one", visibility="all", secret_type=secret_type)
    org.create_secret(
        "WEB_ONLY", "plain-two", visibility="selected", selected_repositories=[web],
        secret_type=secret_type,
    )  # fmt: skip
    stored = sandbox.secrets("octo-org", secret_type)
    assert stored["EVERYONE"].value == b"plain-one"
    assert stored["WEB_ONLY"].value == b"plain-two"
    assert stored["WEB_ONLY"].selected == frozenset({"web"})

    listed = {s.name: s.visibility for s in org.get_secrets(secret_type=secret_type)}
    assert listed == {"EVERYONE": "all", "WEB_ONLY": "selected"}
    selected = org.get_secret("WEB_ONLY", secret_type=secret_type)
    assert [r.name for r in selected.selected_repositories] == ["web"]

    # PyGithub has no Organization.delete_secret; the secret object deletes itself.
    org.get_secret("EVERYONE", secret_type=secret_type).delete()
    assert set(sandbox.secrets("octo-org", secret_type)) == {"WEB_ONLY"}


def test_repo_dependabot_secrets(gh: Github, sandbox: Sandbox) -> None:
    repo = gh.withLazy(False).get_repo("octo-org/api")
    repo.create_secret("REGISTRY", "sealed by pygithub", secret_type="dependabot")
    assert sandbox.secrets("octo-org/api", "dependabot")["REGISTRY"].value == b"sealed by pygithub"
    assert [s.name for s in repo.get_secrets(secret_type="dependabot")] == ["REGISTRY"]
    assert repo.delete_secret("REGISTRY", secret_type="dependabot")
    assert sandbox.secrets("octo-org/api", "dependabot") == {}


def test_pygithub_through_the_ghes_prefix(sandbox: Sandbox) -> None:
    sandbox.add_repo("octo-org/web")
    client = _client(sandbox.url + "/api/v3", sandbox.token)
    client.get_organization("octo-org").create_secret("ON_GHES", "v", secret_type="dependabot")
    assert sandbox.secrets("octo-org", "dependabot")["ON_GHES"].value == b"v"
    assert sandbox.requests[-1].path == "/api/v3/orgs/octo-org/dependabot/secrets/ON_GHES"
    client.close()
