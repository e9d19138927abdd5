"""Variables and environments in seeds and dumps (a dump loads back, timestamps and ids
kept), and the Python API end-to-end tests read them with."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox import ApiError, Sandbox, SeedError, VariableRecord, read_seed
from tests.support.sandbox_client import Api

SEED = """
orgs:
  octo-org:
    repos: [web, {name: vault, private: true}]
    variables:
      actions:
        region: {value: eu-west-1, visibility: selected, repositories: [web]}
        OPEN: {value: "1"}
      agents:
        MODEL: {value: small, visibility: private}
repos:
  octo-org/web:
    variables:
      actions:
        LEVEL: {value: debug}
    environments:
      production:
        secrets:
          DEPLOY_KEY: {value: s3cr3t}
        variables:
          URL: {value: "https://example.com"}
      deploy/eu: {}
"""


def _load(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED, encoding="utf-8")
    sb.load_seed(read_seed(str(path)))


def test_a_seed_loads_variables_and_environments(sandbox: Sandbox, tmp_path: Path) -> None:
    _load(sandbox, tmp_path)
    region = sandbox.variables("octo-org", "actions")["REGION"]
    assert isinstance(region, VariableRecord)
    assert (region.value, region.visibility, region.selected) == (
        "eu-west-1", "selected", frozenset({"web"})
    )  # fmt: skip
    assert sandbox.variables("octo-org", "actions")["OPEN"].visibility == "all"
    assert sandbox.variables("octo-org", "agents")["MODEL"].visibility == "private"
    assert sandbox.variables("octo-org/web", "actions")["LEVEL"].value == "debug"
    assert sandbox.environments("octo-org/web") == ["deploy/eu", "production"]
    secret = sandbox.environment_secrets("octo-org/web", "PRODUCTION")["DEPLOY_KEY"]
    assert secret.value == b"s3cr3t"
    assert sandbox.environment_variables("octo-org/web", "production")["URL"].value == (
        "https://example.com"
    )
    assert sandbox.environment_variables("octo-org/web", "deploy/eu") == {}
    listed = Api(sandbox).get("/repos/octo-org/web/environments/deploy%2Feu")
    assert listed.status_code == 200 and listed.json()["name"] == "deploy/eu"


def test_a_dump_loads_back(make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    first = make_sandbox()
    _load(first, tmp_path)
    api = Api(first)
    # Writes over HTTP after the seed: they too must survive the round trip.
    api.patch("/orgs/octo-org/actions/variables/OPEN", {"value": "2"})
    api.put("/repos/octo-org/web/environments/Staging")
    dumped = first.dump_state()
    json.dumps(dumped)  # JSON-able
    web = dumped["repos"]["octo-org/web"]
    assert web["environments"]["production"]["secrets"]["DEPLOY_KEY"]["value"] == "s3cr3t"
    assert web["environments"]["deploy/eu"].keys() == {"id", "created_at", "updated_at"}
    assert dumped["orgs"]["octo-org"]["variables"]["actions"]["REGION"]["repositories"] == ["web"]
    second = make_sandbox()
    second.load_seed(dumped)
    assert second.dump_state() == dumped
    for scope, app in (
        ("octo-org", "actions"),
        ("octo-org", "agents"),
        ("octo-org/web", "actions"),
    ):
        assert second.variables(scope, app) == first.variables(scope, app)
    assert second.environments("octo-org/web") == ["deploy/eu", "production", "Staging"]
    listed = [Api(sb).get("/repos/octo-org/web/environments").json() for sb in (first, second)]
    ids, again = ([(e["id"], e["updated_at"]) for e in x["environments"]] for x in listed)
    assert ids == again and len(ids) == 3
    # New environments never reuse a restored id.
    created = Api(second).put("/repos/octo-org/web/environments/qa").json()
    assert created["id"] not in {i for i, _ in ids}


@pytest.mark.parametrize(
    ("seed", "says"),
    [
        ({"repos": {"o/r": {"variables": {"actions": {"A": {}}}}}}, "needs `value`"),
        ({"repos": {"o/r": {"environments": ["production"]}}}, "expected a mapping"),
        ({"repos": {"o/r": {"variables": {"actions": {"GITHUB_X": {"value": "v"}}}}}}, "GITHUB_"),
        ({"repos": {"o/r": {"environments": {"e": {"secrets": {"S": {}}}}}}}, "needs `value`"),
    ],
)
def test_malformed_seeds_say_where(sandbox: Sandbox, seed: dict[str, object], says: str) -> None:
    with pytest.raises(SeedError) as raised:
        sandbox.load_seed(seed)
    assert says in str(raised.value)


def test_python_api(sandbox: Sandbox) -> None:
    sandbox.add_repo("octo-org/web")
    sandbox.put_variable("octo-org", "actions", "a", "1", visibility="selected", selected=["web"])
    before = sandbox.variables("octo-org", "actions")["A"]
    sandbox.put_variable("octo-org", "actions", "A", "2", visibility="selected")  # keeps repos
    after = sandbox.variables("octo-org", "actions")["A"]
    assert (after.value, after.visibility, after.selected) == ("2", "selected", frozenset({"web"}))
    sandbox.put_variable("octo-org", "actions", "A", "3")  # visibility `all`, as for secrets
    assert sandbox.variables("octo-org", "actions")["A"].visibility == "all"
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
    sandbox.delete_variable("octo-org", "actions", "a")
    assert sandbox.variables("octo-org", "actions") == {}
    sandbox.create_environment("octo-org/web", "Production")
    sandbox.create_environment("octo-org/web", "production")  # touches, keeps the spelling
    assert sandbox.environments("octo-org/web") == ["Production"]
    sandbox.put_environment_variable("octo-org/web", "production", "v", "x")
    sandbox.put_environment_secret("octo-org/web", "production", "s", b"y")
    sandbox.delete_environment_variable("octo-org/web", "production", "V")
    sandbox.delete_environment_secret("octo-org/web", "production", "S")
    assert sandbox.environment_variables("octo-org/web", "production") == {}
    assert sandbox.environment_secrets("octo-org/web", "production") == {}
    key_id, key = sandbox.environment_public_key("octo-org/web", "production")
    assert len(key_id) == 18 and len(key) == 44
    assert key_id != sandbox.public_key("octo-org/web", "actions")[0]
    sandbox.delete_environment("octo-org/web", "PRODUCTION")
    with pytest.raises(ApiError) as raised:
        sandbox.put_environment_secret("octo-org/web", "production", "S", b"y")
    assert raised.value.status == 404
    with pytest.raises(ApiError) as raised:
        sandbox.variables("octo-org/web", "codespaces")
    assert raised.value.status == 404
