"""State rules and HTTP behaviour: timestamps, ETags, rate limits, faults, concurrency, seeds."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from reconciler.sandbox import Clock, Fault, Sandbox, SandboxConfig, serve
from tests.support.sandbox_client import Api

SECRETS = "/orgs/octo-org/dependabot/secrets"


@pytest.fixture
def web(sandbox: Sandbox) -> int:
    return sandbox.add_repo("octo-org/web")


def test_clock_is_strictly_increasing_within_a_second() -> None:
    clock = Clock(now=lambda: 1_700_000_000.5)
    stamps = [clock.tick() for _ in range(3)]
    assert stamps == ["2023-11-14T22:13:20Z", "2023-11-14T22:13:21Z", "2023-11-14T22:13:22Z"]


def test_every_value_or_visibility_write_bumps_updated_at(
    api: Api, sandbox: Sandbox, web: int
) -> None:
    def stamp() -> str:
        return str(api.get(f"{SECRETS}/S").json()["updated_at"])

    created = api.put(
        f"{SECRETS}/S", {**api.seal("/orgs/octo-org", "dependabot", b"1"), "visibility": "all"}
    )
    assert created.status_code == 201
    first = stamp()
    assert api.get(f"{SECRETS}/S").json()["created_at"] == first
    api.put(f"{SECRETS}/S", {**api.seal("/orgs/octo-org", "dependabot", b"2"), "visibility": "all"})
    second = stamp()
    api.put(f"{SECRETS}/S", {"visibility": "selected"})
    third = stamp()
    assert first < second < third  # ISO 8601 with Z sorts as time


@pytest.mark.parametrize("bumps", [True, False])
def test_selection_writes_bump_updated_at_when_configured(
    make_sandbox: Callable[..., Sandbox], bumps: bool
) -> None:
    sb = make_sandbox(selection_bumps_updated_at=bumps)
    web = sb.add_repo("octo-org/web")
    sb.put_secret("octo-org", "actions", "S", b"v", visibility="selected")
    api = Api(sb)
    before = sb.secrets("octo-org", "actions")["S"].updated_at
    base = "/orgs/octo-org/actions/secrets/S/repositories"
    assert api.put(f"{base}/{web}").status_code == 204
    after_add = sb.secrets("octo-org", "actions")["S"].updated_at
    assert api.put(base, {"selected_repository_ids": []}).status_code == 204
    after_set = sb.secrets("octo-org", "actions")["S"].updated_at
    assert (before < after_add < after_set) if bumps else (before == after_add == after_set)
    api.close()


def test_etag_and_not_modified(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.put_secret("octo-org", "dependabot", "S", b"v", visibility="all")
    first = api.get(SECRETS)
    tag = first.headers["ETag"]
    used = int(first.headers["X-RateLimit-Used"])
    cached = api.get(SECRETS, headers={"If-None-Match": tag})
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["ETag"] == tag
    assert int(cached.headers["X-RateLimit-Used"]) == used  # a 304 costs nothing
    sandbox.put_secret("octo-org", "dependabot", "T", b"v", visibility="all")
    changed = api.get(SECRETS, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert int(changed.headers["X-RateLimit-Used"]) == used + 1


def test_rate_limit_headers_and_exhaustion(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(rate_limit=3)
    sb.add_org("octo-org")
    api = Api(sb)
    seen = [api.get(SECRETS).headers for _ in range(3)]
    assert [h["X-RateLimit-Remaining"] for h in seen] == ["2", "1", "0"]
    assert [h["X-RateLimit-Used"] for h in seen] == ["1", "2", "3"]
    assert {h["X-RateLimit-Limit"] for h in seen} == {"3"}
    assert {h["X-RateLimit-Resource"] for h in seen} == {"core"}
    refused = api.get(SECRETS)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("API rate limit exceeded")
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) == int(seen[0]["X-RateLimit-Reset"])
    assert api.get("/rate_limit").json()["resources"]["core"]["remaining"] == 0
    sb.add_token("other", {"organization_dependabot_secrets": "read"})
    assert Api(sb, token="other").get(SECRETS).status_code == 200  # budgets are per token
    api.close()


def test_request_ids_are_unique(api: Api, web: int) -> None:
    ids = {api.get(SECRETS).headers["X-GitHub-Request-Id"] for _ in range(20)}
    ids.add(api.get("/nope").headers["X-GitHub-Request-Id"])
    assert len(ids) == 21
    assert {r.request_id for r in api.sb.requests} == ids


def test_status_fault_first_n_matches(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.add_fault(
        Fault(kind="status", status=502, method="GET", path_pattern=r"/orgs/.*/secrets$", count=2)
    )
    statuses = [api.get(SECRETS).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert api.get(SECRETS).status_code == 200
    assert [r.status for r in sandbox.requests] == [502, 502, 200, 200]


def test_fault_selection_by_method_and_path(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.add_fault(Fault(kind="status", status=503, method="PUT"))
    assert api.get(SECRETS).status_code == 200
    assert api.put(f"{SECRETS}/X", {"visibility": "all"}).status_code == 503
    sandbox.clear_faults()
    sandbox.add_fault(Fault(kind="status", status=500, path_pattern=r"/repos/"))
    assert api.get(SECRETS).status_code == 200
    assert api.get("/api/v3/repos/octo-org/web").status_code == 500


def test_fraction_fault_is_seeded(make_sandbox: Callable[..., Sandbox]) -> None:
    def run() -> list[int]:
        sb = make_sandbox()
        sb.add_org("octo-org")
        sb.add_fault(Fault(kind="status", status=500, fraction=0.5, seed=7))
        api = Api(sb)
        statuses = [api.get(SECRETS).status_code for _ in range(30)]
        api.close()
        return statuses

    first, second = run(), run()
    assert first == second and {500, 200} == set(first)


def test_drop_fault_closes_without_response(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.add_fault(Fault(kind="drop", count=1))
    with pytest.raises(requests.ConnectionError):
        api.get(SECRETS)
    assert api.get(SECRETS).status_code == 200
    assert [r.status for r in sandbox.requests] == [0, 200]


def test_secondary_rate_limit_fault(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.add_fault(Fault(kind="secondary_rate_limit", retry_after=30, count=1))
    response = api.get(SECRETS)
    assert response.status_code == 403 and response.headers["Retry-After"] == "30"
    assert "secondary rate limit" in response.json()["message"]
    assert response.headers["X-GitHub-Request-Id"] in response.json()["message"]


def test_primary_rate_limit_fault(api: Api, sandbox: Sandbox, web: int) -> None:
    sandbox.add_fault(Fault(kind="primary_rate_limit", count=1))
    response = api.get(SECRETS)
    assert response.status_code == 403
    assert response.json()["message"].startswith("API rate limit exceeded")
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert api.get(SECRETS).status_code == 200


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        Fault(kind="explode")  # type: ignore[arg-type]  # the runtime check of what mypy refuses
    with pytest.raises(ValueError, match="fraction"):
        Fault(kind="status", fraction=1.5)


def test_peak_concurrency_and_latency(sandbox: Sandbox, web: int) -> None:
    sandbox.set_latency(0.05)
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(
                lambda _: requests.get(sandbox.url + SECRETS, headers=headers).status_code, range(6)
            )
        )
    assert statuses == [200] * 6
    assert sandbox.peak_concurrency >= 2
    sandbox.set_latency(0.0)
    sandbox.reset_peak_concurrency()
    requests.get(sandbox.url + SECRETS, headers=headers)
    assert sandbox.peak_concurrency == 1


def test_seed_and_dump_round_trip(make_sandbox: Callable[..., Sandbox]) -> None:
    seed = {
        "orgs": {
            "octo-org": {
                "repos": ["web", "api", {"name": "infra", "private": True}],
                "secrets": {
                    "dependabot": {
                        "NPM_TOKEN": {
                            "value": "npm",
                            "visibility": "selected",
                            "repositories": ["web"],
                        }
                    },
                    "actions": {"all_repos": {"value": "x"}},
                },
            }
        },
        "repos": {"octo-org/web": {"secrets": {"actions": {"X": {"value_base64": "AP8="}}}}},
        "tokens": {"t-readonly": {"organization_dependabot_secrets": "read", "metadata": "read"}},
    }
    first = make_sandbox()
    first.load_seed(seed)
    npm = first.secrets("octo-org", "dependabot")["NPM_TOKEN"]
    assert (npm.value, npm.visibility, npm.selected) == (b"npm", "selected", frozenset({"web"}))
    assert first.secrets("octo-org", "actions")["ALL_REPOS"].visibility == "all"
    assert first.secrets("octo-org/web", "actions")["X"].value == b"\x00\xff"
    assert Api(first, token="t-readonly").get(SECRETS).status_code == 200
    dumped = first.dump_state()
    json.dumps(dumped)  # JSON-able
    second = make_sandbox()
    second.load_seed(dumped)
    assert second.dump_state() == dumped
    assert second.secrets("octo-org", "dependabot") == first.secrets("octo-org", "dependabot")


def test_inspection_api(sandbox: Sandbox) -> None:
    rid = sandbox.add_repo("octo-org/web", private=False)
    assert sandbox.add_repo("OCTO-ORG/WEB") == rid  # idempotent, case-insensitive
    sandbox.put_secret(
        "octo-org", "dependabot", "NPM_TOKEN", b"value", visibility="selected", selected=["web"]
    )
    sandbox.put_secret("octo-org/web", "actions", "X", b"v")
    assert sandbox.secrets("octo-org/web", "actions")["X"].visibility is None
    sandbox.delete_secret("octo-org", "dependabot", "npm_token")
    assert sandbox.secrets("octo-org", "dependabot") == {}
    key_id, key = sandbox.public_key("octo-org", "dependabot")
    assert len(key_id) == 18 and len(key) == 44
    assert sandbox.rotate_key("octo-org", "dependabot")[0] != key_id


def test_serve_prints_url_and_dumps_on_stop(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "orgs:\n  octo-org:\n    repos: [web]\n    secrets:\n      agents:\n        A: {value: a}\n"
    )
    dump = tmp_path / "dump.json"
    stop = threading.Event()
    ready = threading.Event()

    class Out(io.StringIO):
        def flush(self) -> None:
            super().flush()
            ready.set()

    out = Out()
    thread = threading.Thread(
        target=serve, args=(SandboxConfig(), str(seed), str(dump), out), kwargs={"stop": stop}
    )
    thread.start()
    assert ready.wait(10)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    headers = {"Authorization": f"Bearer {lines['GITHUB_TOKEN']}"}
    listed = requests.get(
        lines["GITHUB_API_URL"] + "/orgs/octo-org/agents/secrets", headers=headers
    )
    assert [s["name"] for s in listed.json()["secrets"]] == ["A"]
    stop.set()
    thread.join(10)
    state = json.loads(dump.read_text())
    assert state["orgs"]["octo-org"]["secrets"]["agents"]["A"]["value"] == "a"


def test_nothing_is_logged_to_stderr(api: Api, web: int, capfd: pytest.CaptureFixture[str]) -> None:
    api.get(SECRETS)
    api.get("/nope")
    api.put(
        f"{SECRETS}/S",
        {**api.seal("/orgs/octo-org", "dependabot", b"hunter2"), "visibility": "all"},
    )
    captured = capfd.readouterr()
    assert captured.err == "" and "hunter2" not in captured.out
