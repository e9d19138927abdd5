"""The value ledger end to end: exact plans across runs, drift, storage, and privacy.

Every test drives the real CLI (`tests.support.e2e.run`) against a sandbox over HTTP. "Another
machine" is a second working directory holding its own copy of the manifest and value
files, sharing only the ledger's location.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.errors import ApiError, LedgerError, RequestInfo
from reconciler.github.client import GitHubClient
from reconciler.github.contents import Contents
from reconciler.github.transport import ClientConfig, Transport
from reconciler.ledger.format import Entry, entry_key, parse_ledger
from reconciler.ledger.stores import GitHubLedgerStore
from reconciler.model import App, Scope, ScopeKind
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

KEY = "ledger-key-for-tests-0123456789abcdef"
OTHER_KEY = "another-ledger-key-fedcba9876543210"
VALUES = {"NPM_TOKEN": "npm-value-4f1c9d2b", "WEB_TOKEN": "web-value-8a2e71c3"}
DEPLOY = "deploy-file-value-c0ffee42\n"
LEDGER_REPO = "octo-org/platform"
LEDGER_BRANCH = "reconciler-ledger"
LEDGER_PATH = "state/ledger.json"
GITHUB_LEDGER = f"github:{LEDGER_REPO}@{LEDGER_BRANCH}:{LEDGER_PATH}"

MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}, visibility: selected, repositories: [web, api]}
        DEPLOY_KEY: {value: {file: deploy.key}, visibility: private}
repos:
  octo-org/web:
    actions:
      secrets:
        WEB_TOKEN: {value: {env: WEB_TOKEN}}
"""
MANAGED = {"NPM_TOKEN", "DEPLOY_KEY", "WEB_TOKEN"}


@pytest.fixture
def org(sandbox: Sandbox) -> Sandbox:
    return _populate(sandbox)


def _populate(sb: Sandbox) -> Sandbox:
    for name in ("web", "api", "infra", "platform"):
        sb.add_repo(f"octo-org/{name}")
    sb.add_branch(LEDGER_REPO, LEDGER_BRANCH)
    return sb


def checkout(root: Path, name: str, manifest: str = MANIFEST, deploy: str = DEPLOY) -> Path:
    """A working copy as a fresh clone has it: the manifest and its value file, no ledger."""
    directory = root / name
    directory.mkdir()
    (directory / "deploy.key").write_text(deploy, encoding="utf-8")
    return write_manifest(directory, manifest)


def env(*, key: str | None = KEY, **overrides: str) -> dict[str, str]:
    environ = {**VALUES, **overrides}
    if key is not None:
        environ["RECONCILER_LEDGER_KEY"] = key
    return environ


def apply(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, manifest: Path, environ: Mapping[str, str]
) -> Callable[..., Run]:
    """`apply(*extra)`: apply the manifest and insist it succeeded."""

    def go(*extra: str) -> Run:
        result = run(
            capsys, ["apply", str(manifest), "--write-delay", "0", *extra], dict(environ), sb=sb
        )
        assert result.code == 0, result.out + result.err
        return result

    return go


def plan(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    environ: Mapping[str, str],
    *extra: str,
) -> Run:
    return run(capsys, ["plan", str(manifest), "--format", "json", *extra], dict(environ), sb=sb)


def reasons(result: Run) -> dict[str, str | None]:
    """name -> why its value is written (None: it is not) for every planned change."""
    return {c["name"]: c.get("value") for c in result.json()["changes"]}


def writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sb.requests if r.method in ("PUT", "DELETE", "POST")]


def secret_writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [w for w in writes(sb) if "/secrets/" in w[1]]


def ledger_doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def github_ledger_text(sb: Sandbox) -> str:
    data = sb.file(LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    assert data is not None, "no ledger on the branch"
    return data.decode("utf-8")


# -- 1. exact plans across runs and machines ---------------------------------------------------


def test_plan_on_another_machine_is_empty_with_the_github_ledger(
    org: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = checkout(tmp_path, "ci-runner")
    monkeypatch.chdir(runner.parent)
    apply(capsys, org, runner, env())("--ledger", GITHUB_LEDGER)
    assert not (runner.parent / ".reconciler-ledger.json").exists()
    assert org.file(LEDGER_REPO, LEDGER_PATH) is None  # on the named branch, not main
    recorded = parse_ledger(github_ledger_text(org), GITHUB_LEDGER)
    assert {k[3] for k in recorded.entries} == MANAGED

    laptop = checkout(tmp_path, "laptop")
    monkeypatch.chdir(laptop.parent)
    args = ["plan", str(laptop), "--ledger", GITHUB_LEDGER, "--detailed-exitcode"]
    again = run(capsys, args, env(), sb=org)
    assert again.code == 0, again.out + again.err
    # The ledger is what makes it exact: without it every value is not comparable.
    blind = plan(capsys, org, laptop, env(), "--no-ledger", "--detailed-exitcode")
    assert blind.code == 2
    assert set(reasons(blind).values()) == {"not comparable"}


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_plan_on_another_machine_is_empty_with_a_shared_ledger_file(
    how: str,
    org: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = tmp_path / "shared" / "ledger.json"

    def located(environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        if how == "flag":
            return environ, ["--ledger", str(shared)]
        return {**environ, "RECONCILER_LEDGER": str(shared)}, []

    first = checkout(tmp_path, "one")
    monkeypatch.chdir(first.parent)
    environ, extra = located(env())
    apply(capsys, org, first, environ)(*extra)
    assert shared.exists()
    assert not (first.parent / ".reconciler-ledger.json").exists()

    second = checkout(tmp_path, "two")
    monkeypatch.chdir(second.parent)
    again = plan(capsys, org, second, environ, *extra, "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert again.json()["changes"] == []


def test_default_ledger_is_in_the_working_directory(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    doc = ledger_doc(tmp_path / ".reconciler-ledger.json")
    assert doc["format"] == "reconciler-ledger" and doc["version"] == 1
    live = {**org.secrets("octo-org", "actions"), **org.secrets("octo-org/web", "actions")}
    assert {s["name"]: s["updated_at"] for s in doc["secrets"]} == {
        name: live[name].updated_at for name in MANAGED
    }
    assert {s["name"]: s["source"] for s in doc["secrets"]} == {
        "NPM_TOKEN": "env:NPM_TOKEN",
        "WEB_TOKEN": "env:WEB_TOKEN",
        "DEPLOY_KEY": "file:deploy.key",
    }
    assert all(s["fingerprint"].startswith("hmac-sha256:") for s in doc["secrets"])
    # --no-ledger neither reads nor writes it.
    (tmp_path / ".reconciler-ledger.json").unlink()
    apply(capsys, org, manifest, env())("--no-ledger")
    assert not (tmp_path / ".reconciler-ledger.json").exists()


# -- 2. value changed ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["env", "file"])
def test_a_changed_value_is_the_only_change_and_apply_writes_just_it(
    source: str, org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    before = org.secrets("octo-org", "actions")
    if source == "env":
        changed, name, new = env(NPM_TOKEN="npm-rotated-11aa"), "NPM_TOKEN", b"npm-rotated-11aa"
    else:
        (manifest.parent / "deploy.key").write_text("rotated-deploy-22bb", encoding="utf-8")
        changed, name, new = env(), "DEPLOY_KEY", b"rotated-deploy-22bb"

    planned = plan(capsys, org, manifest, changed, "--detailed-exitcode")
    assert planned.code == 2, planned.err
    assert reasons(planned) == {name: "value changed"}
    text = run(capsys, ["plan", str(manifest)], changed, sb=org)
    assert "(value changed)" in text.out

    org.clear_requests()
    apply(capsys, org, manifest, changed)()
    assert secret_writes(org) == [("PUT", f"/orgs/octo-org/actions/secrets/{name}")]
    after = org.secrets("octo-org", "actions")
    assert after[name].value == new
    others = [n for n in after if n != name]
    assert all(after[n].updated_at == before[n].updated_at for n in others)
    final = plan(capsys, org, manifest, changed, "--detailed-exitcode")
    assert final.code == 0, final.out


# -- 3. drift ------------------------------------------------------------------------------------


def _by_hand(sb: Sandbox) -> None:
    """Someone edits NPM_TOKEN in GitHub's UI: same visibility and repositories, new value."""
    sb.put_secret(
        "octo-org", "actions", "NPM_TOKEN", b"typed-by-hand", visibility="selected",
        selected=["web", "api"],
    )  # fmt: skip


def test_a_secret_changed_outside_reconciler_is_the_only_change_and_overwrite_restores_it(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    _by_hand(org)
    planned = plan(capsys, org, manifest, env(), "--detailed-exitcode")
    assert planned.code == 2
    assert reasons(planned) == {"NPM_TOKEN": "changed outside reconciler"}
    org.clear_requests()
    apply(capsys, org, manifest, env())()
    assert secret_writes(org) == [("PUT", "/orgs/octo-org/actions/secrets/NPM_TOKEN")]
    assert org.secrets("octo-org", "actions")["NPM_TOKEN"].value == VALUES["NPM_TOKEN"].encode()
    assert plan(capsys, org, manifest, env(), "--detailed-exitcode").code == 0


@pytest.mark.parametrize("where", ["manifest", "flag"])
def test_drift_policy_ignore_leaves_it_alone(
    where: str, org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MANIFEST.replace("version: 1\n", "version: 1\nsettings: {drift: ignore}\n")
    manifest = checkout(tmp_path, "repo", text if where == "manifest" else MANIFEST)
    extra = ["--drift", "ignore"] if where == "flag" else []
    apply(capsys, org, manifest, env())()
    _by_hand(org)
    planned = plan(capsys, org, manifest, env(), "--detailed-exitcode", *extra)
    assert planned.code == 0, planned.out + planned.err
    org.clear_requests()
    apply(capsys, org, manifest, env())(*extra)
    assert secret_writes(org) == []
    assert org.secrets("octo-org", "actions")["NPM_TOKEN"].value == b"typed-by-hand"
    if where == "manifest":  # the flag overrides the manifest's policy
        overridden = plan(capsys, org, manifest, env(), "--drift", "overwrite")
        assert reasons(overridden) == {"NPM_TOKEN": "changed outside reconciler"}


@pytest.mark.parametrize("where", ["manifest", "flag"])
def test_drift_policy_fail_exits_1_naming_the_secret_and_writes_nothing(
    where: str, org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MANIFEST.replace("version: 1\n", "version: 1\nsettings: {drift: fail}\n")
    manifest = checkout(tmp_path, "repo", text if where == "manifest" else MANIFEST)
    extra = ["--drift", "fail"] if where == "flag" else []
    apply(capsys, org, manifest, env())()
    assert plan(capsys, org, manifest, env(), *extra).code == 0  # no drift, no failure
    _by_hand(org)
    planned = plan(capsys, org, manifest, env(), *extra)
    assert planned.code == 1
    assert "changed outside reconciler" in planned.err
    assert "octo-org actions NPM_TOKEN" in planned.err
    assert "Traceback" not in planned.err
    org.clear_requests()
    # Even with the manifest's value changed too, a hand edit is never silently overwritten.
    args = ["apply", str(manifest), "--write-delay", "0", *extra]
    refused = run(capsys, args, env(NPM_TOKEN="npm-rotated-11aa"), sb=org)
    assert refused.code == 1
    assert "octo-org actions NPM_TOKEN" in refused.err
    assert secret_writes(org) == []
    assert org.secrets("octo-org", "actions")["NPM_TOKEN"].value == b"typed-by-hand"


# -- 4. selection and visibility writes are recorded ---------------------------------------------


@pytest.mark.parametrize("bumps", [True, False], ids=["bumps-updated_at", "keeps-updated_at"])
@pytest.mark.parametrize(
    "repositories",
    [
        pytest.param("[web]", id="remove-one"),
        pytest.param("[web, infra]", id="add-and-remove"),
        pytest.param("[api, web, infra]", id="add-one"),
    ],
)
def test_a_selection_change_is_no_value_change_and_the_replan_is_empty(
    bumps: bool,
    repositories: str,
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sb = _populate(make_sandbox(selection_bumps_updated_at=bumps))
    manifest = checkout(tmp_path, "repo")
    apply(capsys, sb, manifest, env())()
    before = sb.secrets("octo-org", "actions")["NPM_TOKEN"]
    manifest.write_text(
        manifest.read_text().replace("repositories: [web, api]", f"repositories: {repositories}")
    )
    planned = plan(capsys, sb, manifest, env(), "--detailed-exitcode")
    assert planned.code == 2
    (change,) = planned.json()["changes"]
    assert (change["name"], change["action"]) == ("NPM_TOKEN", "selection")
    assert "value" not in change
    sb.clear_requests()
    apply(capsys, sb, manifest, env())()
    (write,) = secret_writes(sb)
    assert write[1].startswith("/orgs/octo-org/actions/secrets/NPM_TOKEN/repositories")
    after = sb.secrets("octo-org", "actions")["NPM_TOKEN"]
    assert after.value == before.value
    assert (after.updated_at != before.updated_at) is bumps
    replan = plan(capsys, sb, manifest, env(), "--detailed-exitcode")
    assert replan.code == 0, replan.out
    recorded = parse_ledger((tmp_path / ".reconciler-ledger.json").read_text(), "ledger")
    entry = recorded.get(Scope(ScopeKind.ORG, "octo-org"), App.ACTIONS, "NPM_TOKEN")
    assert entry is not None and entry.updated_at == after.updated_at


def test_a_visibility_write_without_a_value_is_recorded(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Dependabot takes a visibility change alone (no encrypted_value), and it bumps updated_at.
    text = """
    version: 1
    orgs:
      octo-org:
        dependabot:
          secrets:
            NPM_TOKEN: {value: {env: NPM_TOKEN}, visibility: private}
    """
    manifest = write_manifest(tmp_path, text)
    apply(capsys, org, manifest, env())()
    before = org.secrets("octo-org", "dependabot")["NPM_TOKEN"]
    manifest.write_text(manifest.read_text().replace("private", "selected, repositories: [web]"))
    planned = plan(capsys, org, manifest, env())
    (change,) = planned.json()["changes"]
    assert change["action"] == "update" and "value" not in change
    apply(capsys, org, manifest, env())()
    after = org.secrets("octo-org", "dependabot")["NPM_TOKEN"]
    assert after.visibility == "selected" and after.value == before.value
    assert after.updated_at != before.updated_at
    assert plan(capsys, org, manifest, env(), "--detailed-exitcode").code == 0


# -- 5. no value, however encoded, in the ledger or its traffic ----------------------------------


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {
        value,
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        hashlib.sha256(raw).hexdigest(),  # an unkeyed hash confirms a guessed value
    }
    return {f for f in forms if len(f) >= 8}


def _decoded_contents(body: bytes) -> list[str]:
    """Every base64 `content` in a contents-API body, decoded."""
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "content" and isinstance(v, str):
                    found.append(base64.b64decode(v.replace("\n", "")).decode("utf-8"))
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return found


def test_no_value_in_the_ledger_or_its_traffic_in_any_encoding(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rotated = "npm-rotated-99zz"
    manifest = checkout(tmp_path, "repo")
    github = ["--ledger", GITHUB_LEDGER]
    apply(capsys, org, manifest, env())(*github)
    apply(capsys, org, manifest, env(NPM_TOKEN=rotated))(*github)
    shown = run(capsys, ["ledger", "show", *github], env(), sb=org)
    assert shown.code == 0
    apply(capsys, org, manifest, env(NPM_TOKEN=rotated))("--ledger", str(tmp_path / "l.json"))

    texts = [
        github_ledger_text(org),
        (tmp_path / "l.json").read_text(encoding="utf-8"),
        shown.out + shown.err,
    ]
    contents = [x for x in org.exchanges if "/contents/" in x.url]
    assert {x.method for x in contents} == {"GET", "PUT"}
    decoded: list[str] = []
    for x in contents:
        for body in (x.request_body, x.response_body):
            texts.append(body.decode("utf-8"))
            decoded.extend(_decoded_contents(body))
    assert any('"reconciler-ledger"' in d for d in decoded)  # the ledger was seen decoded
    texts.extend(decoded)
    secrets = [*VALUES.values(), rotated, DEPLOY, DEPLOY.strip()]
    for value in secrets:
        for form in _encodings(value):
            leaks = [t for t in texts if form in t]
            assert leaks == [], f"{form!r} (from a value) found in ledger data"


# -- 6. source changed ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [VALUES["NPM_TOKEN"], "a-different-value-77"])
def test_a_switched_source_is_source_changed(
    value: str, org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    manifest.write_text(manifest.read_text().replace("{env: NPM_TOKEN}", "{env: B_TOKEN}"))
    environ = env(B_TOKEN=value)
    planned = plan(capsys, org, manifest, environ)
    assert reasons(planned) == {"NPM_TOKEN": "source changed"}
    apply(capsys, org, manifest, environ)()
    assert org.secrets("octo-org", "actions")["NPM_TOKEN"].value == value.encode()
    assert plan(capsys, org, manifest, environ, "--detailed-exitcode").code == 0


# -- 7. no key -----------------------------------------------------------------------------------


def test_without_a_key_no_fingerprints_values_not_comparable_drift_still_seen(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env(key=None))()
    text = (tmp_path / ".reconciler-ledger.json").read_text()
    assert "fingerprint" not in text and "key_id" not in text and "hmac" not in text
    assert {s["name"] for s in json.loads(text)["secrets"]} == MANAGED

    planned = plan(capsys, org, manifest, env(key=None))
    assert reasons(planned) == dict.fromkeys(MANAGED, "not comparable")
    skipping = plan(capsys, org, manifest, env(key=None), "--values", "skip-unknown")
    assert skipping.json()["changes"] == []  # not comparable values are left alone

    _by_hand(org)
    drifted = plan(capsys, org, manifest, env(key=None))
    assert reasons(drifted) == {
        **dict.fromkeys(MANAGED, "not comparable"),
        "NPM_TOKEN": "changed outside reconciler",
    }
    failing = plan(capsys, org, manifest, env(key=None), "--drift", "fail")
    assert failing.code == 1 and "octo-org actions NPM_TOKEN" in failing.err


# -- 8. another key ------------------------------------------------------------------------------


def test_another_key_warns_and_values_are_not_comparable(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    planned = plan(capsys, org, manifest, env(key=OTHER_KEY))
    assert planned.code == 0
    assert "another RECONCILER_LEDGER_KEY" in planned.err
    assert reasons(planned) == dict.fromkeys(MANAGED, "not comparable")
    assert "Traceback" not in planned.err


def test_a_partial_apply_with_another_key_never_reads_as_value_changed(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    # The key is rotated; one new secret is written, the rest are left alone.
    manifest.write_text(
        manifest.read_text().replace(
            "WEB_TOKEN: {value: {env: WEB_TOKEN}}",
            "WEB_TOKEN: {value: {env: WEB_TOKEN}}\n        NEW_TOKEN: {value: {env: NEW_TOKEN}}",
        )
    )
    environ = env(key=OTHER_KEY, NEW_TOKEN="new-value-5e5e")
    apply(capsys, org, manifest, environ)("--values", "skip-unknown")
    planned = plan(capsys, org, manifest, environ)
    assert "value changed" not in reasons(planned).values()
    assert reasons(planned).keys() >= MANAGED
    assert set(reasons(planned).values()) == {"not comparable"}


def test_after_a_key_rotation_one_apply_makes_plans_exact_again(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())()
    rotated = env(key=OTHER_KEY)
    # The first apply under the new key writes everything (not comparable) and records the
    # new key's fingerprints, so the very next plan is exact.
    apply(capsys, org, manifest, rotated)()
    planned = plan(capsys, org, manifest, rotated)
    assert [c for c in planned.json()["changes"] if c["action"] != "unmanaged"] == []
    assert "another RECONCILER_LEDGER_KEY" not in planned.err


# -- 9. concurrent ledger updates on GitHub ------------------------------------------------------


class _InterposingTransport(Transport):
    """A real transport that lets `before_put` run just before each contents-API PUT:
    another apply committing the ledger between our read and our write."""

    before_put: Callable[[], None] = staticmethod(lambda: None)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        if method == "PUT" and "/contents/" in path:
            self.before_put()
        return super().request(method, path, **kw)


def _other_apply_entry(n: int) -> tuple[Any, Entry]:
    key = entry_key(Scope(ScopeKind.REPO, f"octo-org/other{n}"), App.ACTIONS, "THEIRS")
    return key, Entry(f"2030-01-01T00:00:{n:02d}Z", source="env:THEIRS")


def _their_ledger(n: int) -> bytes:
    key, entry = _other_apply_entry(n)
    doc = {
        "format": "reconciler-ledger",
        "version": 1,
        "secrets": [
            {"scope": key[0], "target": key[1], "app": key[2], "name": key[3],
             "updated_at": entry.updated_at, "source": entry.source}
        ],
    }  # fmt: skip
    return json.dumps(doc).encode()


def test_a_conflicting_ledger_write_is_re_read_and_merged(org: Sandbox) -> None:
    transport = _InterposingTransport(ClientConfig(api_url=org.url, token=org.token, max_retries=0))
    store = GitHubLedgerStore(Contents(transport), LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    mine = entry_key(Scope(ScopeKind.ORG, "octo-org"), App.ACTIONS, "MINE")
    org.put_file(LEDGER_REPO, LEDGER_PATH, _their_ledger(0), branch=LEDGER_BRANCH)
    assert len(store.load().entries) == 1
    conflicts = iter([1])

    def another_apply() -> None:
        for n in conflicts:  # once: the first PUT finds the file changed under it
            org.put_file(LEDGER_REPO, LEDGER_PATH, _their_ledger(n), branch=LEDGER_BRANCH)

    transport.before_put = another_apply
    org.clear_requests()
    saved = store.save({mine: Entry("2030-02-02T00:00:00Z", "hmac-sha256:ab", "env:MINE")}, "k1")
    statuses = [r.status for r in org.requests if r.method == "PUT"]
    assert statuses == [409, 200]
    on_branch = parse_ledger(github_ledger_text(org), "branch")
    assert on_branch == saved
    their_key, their_entry = _other_apply_entry(1)
    assert on_branch.entries[their_key] == their_entry
    assert on_branch.entries[mine].fingerprint == "hmac-sha256:ab"
    assert on_branch.key_id == "k1"
    transport.close()


def test_a_conflict_on_every_attempt_gives_up_with_a_clear_error(org: Sandbox) -> None:
    transport = _InterposingTransport(ClientConfig(api_url=org.url, token=org.token, max_retries=0))
    store = GitHubLedgerStore(Contents(transport), LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    org.put_file(LEDGER_REPO, LEDGER_PATH, _their_ledger(0), branch=LEDGER_BRANCH)
    counter = iter(range(1, 100))

    def another_apply_every_time() -> None:
        org.put_file(LEDGER_REPO, LEDGER_PATH, _their_ledger(next(counter)), branch=LEDGER_BRANCH)

    transport.before_put = another_apply_every_time
    mine = entry_key(Scope(ScopeKind.ORG, "octo-org"), App.ACTIONS, "MINE")
    with pytest.raises(LedgerError) as raised:
        store.save({mine: Entry("2030-02-02T00:00:00Z")}, None)
    message = raised.value.render()
    assert GITHUB_LEDGER in message and "gave up after 4 attempts" in message
    assert "re-run apply" in message
    assert [r.status for r in org.requests if r.method == "PUT"] == [409] * 4
    assert "MINE" not in github_ledger_text(org)
    transport.close()


def test_the_first_ledger_write_racing_another_creation_is_merged(org: Sandbox) -> None:
    """No file yet: our PUT carries no sha, and GitHub answers 422 when one appeared."""
    transport = _InterposingTransport(ClientConfig(api_url=org.url, token=org.token, max_retries=0))
    store = GitHubLedgerStore(Contents(transport), LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    conflicts = iter([3])

    def another_apply() -> None:
        for n in conflicts:
            org.put_file(LEDGER_REPO, LEDGER_PATH, _their_ledger(n), branch=LEDGER_BRANCH)

    transport.before_put = another_apply
    mine = entry_key(Scope(ScopeKind.ORG, "octo-org"), App.ACTIONS, "MINE")
    org.clear_requests()
    store.save({mine: Entry("2030-02-02T00:00:00Z")}, None)
    assert [r.status for r in org.requests if r.method == "PUT"] == [422, 200]
    on_branch = parse_ledger(github_ledger_text(org), "branch")
    assert set(on_branch.entries) == {mine, _other_apply_entry(3)[0]}
    transport.close()


def test_other_api_errors_are_not_retried_as_conflicts(org: Sandbox) -> None:
    client = GitHubClient(ClientConfig(api_url=org.url, token=org.token, max_retries=0))
    store = GitHubLedgerStore(client.contents, LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH)
    store.load()
    org.add_token("read-only", {"contents": "read", "metadata": "read"})
    reader = GitHubClient(ClientConfig(api_url=org.url, token="read-only", max_retries=0))
    org.clear_requests()
    with pytest.raises(ApiError) as raised:
        GitHubLedgerStore(reader.contents, LEDGER_REPO, LEDGER_PATH, LEDGER_BRANCH).save({}, None)
    assert isinstance(raised.value.request, RequestInfo) and raised.value.request.status == 403
    assert [r.method for r in org.requests].count("PUT") == 1
    client.close()
    reader.close()


@pytest.mark.parametrize(
    ("location", "missing"),
    [
        (f"github:{LEDGER_REPO}@no-such-branch:{LEDGER_PATH}", "branch no-such-branch of"),
        (f"github:octo-org/no-such-repo:{LEDGER_PATH}", "octo-org/no-such-repo does not exist"),
    ],
    ids=["branch", "repository"],
)
def test_a_missing_ledger_branch_fails_the_plan_before_any_write(
    location: str,
    missing: str,
    org: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = checkout(tmp_path, "repo")
    org.clear_requests()
    result = run(
        capsys, ["apply", str(manifest), "--write-delay", "0", "--ledger", location], env(), sb=org
    )
    assert result.code == 1
    assert f"error: {location}: " in result.err and missing in result.err
    assert writes(org) == []
    # A missing file on an existing branch is just an empty ledger.
    apply(capsys, org, manifest, env())("--ledger", GITHUB_LEDGER)
    assert "NPM_TOKEN" in github_ledger_text(org)


# -- 10. ledger show and forget ------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["file", "github"])
def test_ledger_show_lists_entries_and_forget_makes_one_not_comparable(
    backend: str, org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--ledger", GITHUB_LEDGER] if backend == "github" else []
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env())(*where)
    shown = run(capsys, ["ledger", "show", *where], env(), sb=org)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].endswith(": 3 secrets")
    assert len(lines) == 4
    npm = next(line for line in lines if "NPM_TOKEN" in line)
    assert "org octo-org actions NPM_TOKEN" in npm and "env:NPM_TOKEN" in npm
    assert org.secrets("octo-org", "actions")["NPM_TOKEN"].updated_at in npm
    assert "fingerprint" in npm and "no fingerprint" not in npm
    assert "hmac-sha256" not in shown.out

    forgot = run(capsys, ["ledger", "forget", "npm_token", *where], env(), sb=org)
    assert forgot.code == 0, forgot.err
    assert "forgot 1 ledger entries" in forgot.out
    after = run(capsys, ["ledger", "show", *where], env(), sb=org)
    assert after.out.splitlines()[0].endswith(": 2 secrets") and "NPM_TOKEN" not in after.out
    planned = plan(capsys, org, manifest, env(), *where)
    assert reasons(planned) == {"NPM_TOKEN": "not comparable"}

    unknown = run(capsys, ["ledger", "forget", "NO_SUCH", *where], env(), sb=org)
    assert unknown.code == 64 and "NO_SUCH" in unknown.err


def test_ledger_show_without_a_key_says_no_fingerprint(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    apply(capsys, org, manifest, env(key=None))()
    shown = run(capsys, ["ledger", "show"], {}, sb=org)
    entries = shown.out.splitlines()[1:]
    assert len(entries) == 3 and all(line.endswith("no fingerprint") for line in entries)


# -- 11. format and errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "reconciler-ledger", "version": 99, "secrets": []}', "version 99 is not"),
        ('{"format": "reconciler-ledger", "secrets": [', "is not valid JSON"),
        ('{"secrets": []}', "not a reconciler ledger"),
        (
            '{"format": "reconciler-ledger", "version": 1, "secrets": [{"scope": "org"}]}',
            "malformed ledger entry secrets[0]",
        ),
    ],
    ids=["unknown-version", "malformed-json", "not-a-ledger", "malformed-entry"],
)
@pytest.mark.parametrize("command", ["plan", "apply", "ledger"])
def test_an_unreadable_ledger_is_a_clear_error_naming_the_file(
    content: str,
    message: str,
    command: str,
    org: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = checkout(tmp_path, "repo")
    ledger = tmp_path / "team-ledger.json"
    ledger.write_text(content, encoding="utf-8")
    args = {
        "plan": ["plan", str(manifest)],
        "apply": ["apply", str(manifest), "--write-delay", "0"],
        "ledger": ["ledger", "show"],
    }[command]
    org.clear_requests()
    result = run(capsys, [*args, "--ledger", str(ledger)], env(), sb=org)
    assert result.code == 1
    assert result.err.startswith(f"error: {ledger}: "), result.err
    assert message in result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert writes(org) == []
    assert ledger.read_text(encoding="utf-8") == content  # never overwritten


def test_an_unreadable_github_ledger_names_its_location(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org.put_file(LEDGER_REPO, LEDGER_PATH, b"not json", branch=LEDGER_BRANCH)
    manifest = checkout(tmp_path, "repo")
    result = plan(capsys, org, manifest, env(), "--ledger", GITHUB_LEDGER)
    assert result.code == 1
    assert f"error: {GITHUB_LEDGER}: the ledger is not valid JSON" in result.err


def test_a_bad_ledger_location_is_a_usage_error(
    org: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = checkout(tmp_path, "repo")
    result = plan(capsys, org, manifest, env(), "--ledger", "github:octo-org:ledger.json")
    assert result.code == 64
    assert "is not github:OWNER/REPO[@BRANCH]:PATH" in result.err
