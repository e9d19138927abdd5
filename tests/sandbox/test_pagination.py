"""per_page/page, total_count and GitHub's Link header."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import Sandbox
from tests.support.sandbox_client import Api

BASE = "/orgs/octo-org/actions/secrets"


def _seed(sandbox: Sandbox, count: int) -> list[str]:
    sandbox.add_org("octo-org")
    names = [f"SECRET_{i:03d}" for i in range(count)]
    for name in names:
        sandbox.put_secret("octo-org", "actions", name, b"v", visibility="all")
    return names


def test_250_secrets_in_pages_of_100(api: Api, sandbox: Sandbox) -> None:
    names = _seed(sandbox, 250)
    url = f"{sandbox.url}{BASE}"
    first = api.get(BASE, params={"per_page": 100})
    assert first.headers["Link"] == (
        f'<{url}?per_page=100&page=2>; rel="next", <{url}?per_page=100&page=3>; rel="last"'
    )
    second = api.get(BASE, params={"per_page": 100, "page": 2})
    assert second.headers["Link"] == (
        f'<{url}?per_page=100&page=1>; rel="prev", <{url}?per_page=100&page=3>; rel="next", '
        f'<{url}?per_page=100&page=3>; rel="last", <{url}?per_page=100&page=1>; rel="first"'
    )
    third = api.get(BASE, params={"per_page": 100, "page": 3})
    assert third.headers["Link"] == (
        f'<{url}?per_page=100&page=2>; rel="prev", <{url}?per_page=100&page=1>; rel="first"'
    )
    pages = [r.json() for r in (first, second, third)]
    assert [p["total_count"] for p in pages] == [250, 250, 250]
    assert [len(p["secrets"]) for p in pages] == [100, 100, 50]
    assert [s["name"] for p in pages for s in p["secrets"]] == names


def test_defaults_and_clamping(api: Api, sandbox: Sandbox) -> None:
    _seed(sandbox, 120)
    default = api.get(BASE)
    assert len(default.json()["secrets"]) == 30
    assert default.headers["Link"] == (
        f'<{sandbox.url}{BASE}?page=2>; rel="next", <{sandbox.url}{BASE}?page=4>; rel="last"'
    )
    assert len(api.get(BASE, params={"per_page": 500}).json()["secrets"]) == 100
    assert api.get(BASE, params={"page": 9}).json()["secrets"] == []


def test_single_page_has_no_link(api: Api, sandbox: Sandbox) -> None:
    _seed(sandbox, 3)
    response = api.get(BASE, params={"per_page": 100})
    assert "Link" not in response.headers


def test_link_uses_the_request_host_and_prefix(sandbox: Sandbox) -> None:
    _seed(sandbox, 3)
    ghes = Api(sandbox, prefix="/api/v3")
    link = ghes.get(BASE, params={"per_page": 1}, headers={"Host": "ghe.example:8443"}).headers
    assert link["Link"].startswith(f"<http://ghe.example:8443/api/v3{BASE}?per_page=1&page=2>")
    ghes.close()


def test_pagination_law(api: Api, sandbox: Sandbox) -> None:
    """Concatenating every page, for any per_page in 1..100, gives each secret once, in order."""
    names = _seed(sandbox, 57)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(per_page=st.integers(min_value=1, max_value=100))
    def law(per_page: int) -> None:
        seen: list[str] = []
        url: str | None = f"{sandbox.url}{BASE}?per_page={per_page}"
        while url:
            response = api.session.get(url)
            seen += [s["name"] for s in response.json()["secrets"]]
            url = response.links.get("next", {}).get("url")
        assert seen == names

    law()


def test_selected_repositories_and_org_repos_paginate(api: Api, sandbox: Sandbox) -> None:
    ids = [sandbox.add_repo(f"octo-org/r{i:02d}") for i in range(35)]
    sandbox.put_secret("octo-org", "dependabot", "S", b"v", visibility="selected",
                       selected=[f"r{i:02d}" for i in range(35)])  # fmt: skip
    first = api.get("/orgs/octo-org/dependabot/secrets/S/repositories")
    assert first.json()["total_count"] == 35 and len(first.json()["repositories"]) == 30
    assert 'rel="next"' in first.headers["Link"]
    repos = api.get("/orgs/octo-org/repos", params={"per_page": 20, "direction": "asc"})
    assert [r["id"] for r in repos.json()] == ids[:20]
    assert 'rel="last"' in repos.headers["Link"]


def test_variables_page_10_by_default_and_30_at_most(api: Api, sandbox: Sandbox) -> None:
    sandbox.add_org("octo-org")
    names = [f"VAR_{i:03d}" for i in range(65)]
    for name in names:
        sandbox.put_variable("octo-org", "actions", name, "v")
    base = "/orgs/octo-org/actions/variables"
    url = f"{sandbox.url}{base}"
    default = api.get(base)
    assert len(default.json()["variables"]) == 10 and default.json()["total_count"] == 65
    assert default.headers["Link"] == f'<{url}?page=2>; rel="next", <{url}?page=7>; rel="last"'
    capped = api.get(base, params={"per_page": 100})
    assert len(capped.json()["variables"]) == 30
    assert capped.headers["Link"] == (
        f'<{url}?per_page=100&page=2>; rel="next", <{url}?per_page=100&page=3>; rel="last"'
    )
    pages = [api.get(base, params={"per_page": 30, "page": n}) for n in (1, 2, 3)]
    assert [v["name"] for p in pages for v in p.json()["variables"]] == names
    assert pages[2].headers["Link"] == (
        f'<{url}?per_page=30&page=2>; rel="prev", <{url}?per_page=30&page=1>; rel="first"'
    )
    zero = api.get(base, params={"per_page": 0}).json()["variables"]
    assert [v["name"] for v in zero] == names[:10]


def test_every_variables_listing_pages_at_30(api: Api, sandbox: Sandbox) -> None:
    sandbox.add_repo("octo-org/web")
    sandbox.create_environment("octo-org/web", "production")
    for i in range(31):
        sandbox.put_variable("octo-org", "agents", f"O{i:02d}", "v")
        sandbox.put_variable("octo-org/web", "agents", f"R{i:02d}", "v")
        sandbox.put_environment_variable("octo-org/web", "production", f"E{i:02d}", "v")
    for path in ("/orgs/octo-org/agents/variables", "/repos/octo-org/web/agents/variables",
                 "/repos/octo-org/web/agents/organization-variables",
                 "/repos/octo-org/web/environments/production/variables"):  # fmt: skip
        response = api.get(path, params={"per_page": 50})
        assert len(response.json()["variables"]) == 30 and response.json()["total_count"] == 31
        assert 'rel="last"' in response.headers["Link"]
