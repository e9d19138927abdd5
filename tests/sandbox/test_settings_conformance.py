"""Variables and environments against GitHub's description: every operation of the vendored
file has a route with its docs page, the checker judges each one (none is skipped as
unknown), and a walk through all of them, at both API versions, conforms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reconciler.sandbox import Exchange, Sandbox
from reconciler.sandbox.endpoints.routes import match
from tests.support.openapi_check import SPEC_FILE, check_exchanges
from tests.support.sandbox_client import Api

V2026 = "2026-03-10"
# Concrete values for the path parameters, so a template becomes a request path.
_VALUES = {"org": "octo-org", "owner": "octo-org", "repo": "web", "environment_name": "prod",
           "name": "REGION", "secret_name": "TOKEN", "repository_id": "1296269"}  # fmt: skip


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every variables and environments operation."""
    paths: dict[str, dict[str, Any]] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))["paths"]
    return [
        (method.upper(), template, op)
        for template, ops in paths.items()
        if "variables" in template or "/environments" in template
        for method, op in ops.items()
        if method != "parameters"
    ]


OPERATIONS = _operations()


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _VALUES[m[1]], template)


def test_the_description_has_the_operations_this_file_expects() -> None:
    # 18 org variables (two apps), 10 repo variables, 2 repo organization-variables,
    # 4 environments, 5 environment secrets, 5 environment variables.
    assert len(OPERATIONS) == 44


@pytest.mark.parametrize(("method", "template", "op"), OPERATIONS, ids=lambda v: str(v)[:70])
def test_every_operation_has_a_route_with_its_docs_page(
    method: str, template: str, op: dict[str, Any]
) -> None:
    found = match(method, _path(template))
    assert found is not None, f"no route for {method} {template}"
    assert found[0].doc == op["externalDocs"]["url"]


@pytest.mark.parametrize(("method", "template", "op"), OPERATIONS, ids=lambda v: str(v)[:70])
def test_the_checker_judges_every_operation(method: str, template: str, op: dict[str, Any]) -> None:
    # An undocumented success status is only reported for an operation the checker found in
    # the description: an operation it skipped as unknown would pass silently.
    url = "http://127.0.0.1:1" + _path(template)
    body = b"{}"
    exchange = Exchange(method, url, (("Authorization", "Bearer x"),), b"", 202,
                        (("Content-Type", "application/json"),), body)  # fmt: skip
    assert "202 is not documented" in "\n".join(check_exchanges([exchange]))


def _walk(api: Api, app: str, headers: dict[str, str], ids: dict[str, int]) -> None:
    """Every operation of one app, each answered with a success (status checked here; the
    `sandbox` fixture checks every exchange against the description)."""

    def ok(response: Any, status: int) -> None:
        assert response.status_code == status, response.text

    org, repo = f"/orgs/octo-org/{app}/variables", f"/repos/octo-org/web/{app}/variables"
    body = {"name": "REGION", "value": "eu", "visibility": "selected",
            "selected_repository_ids": [ids["web"]]}  # fmt: skip
    ok(api.post(org, body, headers=headers), 201)
    ok(api.get(org, headers=headers), 200)
    ok(api.get(f"{org}/REGION", headers=headers), 200)
    ok(api.patch(f"{org}/REGION", {"value": "us"}, headers=headers), 204)
    ok(api.get(f"{org}/REGION/repositories", headers=headers), 200)
    selection = {"selected_repository_ids": [ids["web"]]}
    ok(api.put(f"{org}/REGION/repositories", selection, headers=headers), 204)
    ok(api.put(f"{org}/REGION/repositories/{ids['api']}", headers=headers), 204)
    ok(api.delete(f"{org}/REGION/repositories/{ids['api']}", headers=headers), 204)
    ok(api.get(f"/repos/octo-org/web/{app}/organization-variables", headers=headers), 200)
    ok(api.delete(f"{org}/REGION", headers=headers), 204)
    ok(api.post(repo, {"name": "LEVEL", "value": "1"}, headers=headers), 201)
    ok(api.get(repo, headers=headers), 200)
    ok(api.get(f"{repo}/LEVEL", headers=headers), 200)
    ok(api.patch(f"{repo}/LEVEL", {"name": "DEPTH", "value": "2"}, headers=headers), 204)
    ok(api.delete(f"{repo}/DEPTH", headers=headers), 204)
    if app != "actions":
        return
    envs = "/repos/octo-org/web/environments"
    ok(api.put(f"{envs}/prod", headers=headers), 200)
    ok(api.get(envs, headers=headers), 200)
    ok(api.get(f"{envs}/prod", headers=headers), 200)
    secrets, variables = f"{envs}/prod/secrets", f"{envs}/prod/variables"
    ok(api.get(f"{secrets}/public-key", headers=headers), 200)
    ok(api.put(f"{secrets}/TOKEN", api.seal_for(secrets, b"v"), headers=headers), 201)
    ok(api.put(f"{secrets}/TOKEN", api.seal_for(secrets, b"w"), headers=headers), 204)
    ok(api.get(secrets, headers=headers), 200)
    ok(api.get(f"{secrets}/TOKEN", headers=headers), 200)
    ok(api.delete(f"{secrets}/TOKEN", headers=headers), 204)
    ok(api.post(variables, {"name": "URL", "value": "u"}, headers=headers), 201)
    ok(api.get(variables, headers=headers), 200)
    ok(api.get(f"{variables}/URL", headers=headers), 200)
    ok(api.patch(f"{variables}/URL", {"value": "v"}, headers=headers), 204)
    ok(api.delete(f"{variables}/URL", headers=headers), 204)
    ok(api.delete(f"{envs}/prod", headers=headers), 204)


@pytest.mark.parametrize("version", [None, V2026])
def test_a_walk_through_every_operation_conforms(
    api: Api, sandbox: Sandbox, version: str | None
) -> None:
    ids = {name: sandbox.add_repo(f"octo-org/{name}") for name in ("web", "api")}
    headers = {"X-GitHub-Api-Version": version} if version else {}
    for app in ("actions", "agents"):
        _walk(api, app, headers, ids)
    # Every operation was answered with a success at least once.
    hit = {
        (ex.method, template)
        for ex in sandbox.exchanges
        if ex.status < 300
        for method, template, _op in OPERATIONS
        if method == ex.method and _template_matches(template, ex.url.removeprefix(sandbox.url))
    }
    assert hit == {(method, template) for method, template, _op in OPERATIONS}


def _template_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path.split("?", maxsplit=1)[0]) is not None
