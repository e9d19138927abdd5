"""`--target` and split manifests, end to end: the real CLI against the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model import App, Scope, ScopeKind
from reconciler.sandbox import Sandbox
from reconciler.targets import TargetSyntaxError, parse_target
from tests.support.e2e import changes, run, write_manifest

ENV = {"A_TOKEN": "targets-token-value"}
MANIFEST = """
version: 1
orgs:
  acme:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: A_TOKEN}, visibility: private}
        DOCKER: {value: {env: A_TOKEN}, visibility: private}
    dependabot:
      secrets:
        NPM_READ: {value: {env: A_TOKEN}, visibility: private}
repos:
  acme/web:
    actions:
      secrets:
        WEB_KEY: {value: {env: A_TOKEN}}
    dependabot:
      secrets:
        WEB_DEP: {value: {env: A_TOKEN}}
  acme/api:
    actions:
      secrets:
        API_KEY: {value: {env: A_TOKEN}}
"""
ALL = {
    ("acme", "actions", "DOCKER"),
    ("acme", "actions", "NPM_TOKEN"),
    ("acme", "dependabot", "NPM_READ"),
    ("acme/web", "actions", "WEB_KEY"),
    ("acme/web", "dependabot", "WEB_DEP"),
    ("acme/api", "actions", "API_KEY"),
}


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path) -> Path:
    for name in ("web", "api"):
        sandbox.add_repo(f"acme/{name}")
    return write_manifest(tmp_path, MANIFEST)


def _planned(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, manifest: Path, *targets: str
) -> set[tuple[str, str, str]]:
    args = ["plan", str(manifest), "--format", "json", "--no-ledger"]
    for t in targets:
        args += ["--target", t]
    result = run(capsys, args, ENV, sb=sb)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["targets"] == [str(parse_target(t)) for t in targets]
    assert any(n.startswith("Targeted plan: only") for n in doc["notices"])
    return {(target, app, name) for target, app, _, name in changes(doc)}


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (
            ("acme/web",),
            {("acme/web", "actions", "WEB_KEY"), ("acme/web", "dependabot", "WEB_DEP")},
        ),
        (
            ("ACME/*:actions",),
            {("acme/web", "actions", "WEB_KEY"), ("acme/api", "actions", "API_KEY")},
        ),
        (("acme:*:NPM_*",), {("acme", "actions", "NPM_TOKEN"), ("acme", "dependabot", "NPM_READ")}),
        (
            ("acme:dependabot", "acme/a*:actions:*_key"),
            {("acme", "dependabot", "NPM_READ"), ("acme/api", "actions", "API_KEY")},
        ),
    ],
    ids=["scope", "app", "name-glob", "combination"],
)
def test_targets_select_scope_app_and_name(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    targets: tuple[str, ...],
    expected: set[tuple[str, str, str]],
) -> None:
    assert _planned(capsys, sandbox, estate, *targets) == expected


def test_untargeted_plan_has_no_targets_key(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["plan", str(estate), "--format", "json", "--no-ledger"], ENV, sb=sandbox)
    assert result.code == 0, result.err
    doc = result.json()
    assert "targets" not in doc
    assert {(t, a, n) for t, a, _, n in changes(doc)} == ALL


def test_targeted_plan_says_so_in_text_and_markdown(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("text", "markdown"):
        args = ["plan", str(estate), "--no-ledger", "--format", fmt, "--target", "acme/web"]
        result = run(capsys, args, ENV, sb=sandbox)
        assert result.code == 0, result.err
        shown = result.out.replace("\\", "")  # markdown escapes punctuation
        assert "Targeted plan: only changes within acme/web" in shown
        assert "API_KEY" not in result.out


def test_a_target_matching_nothing_is_a_usage_error(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", str(estate), "--no-ledger", "--target", "acme/web", "--target", "acme/wbe"]
    result = run(capsys, args, ENV, sb=sandbox)
    assert result.code == 64
    assert '"acme/wbe"' in result.err and '"acme/web"' not in result.err
    # A name glob selecting no secret of a scope that exists matches nothing too.
    args = ["apply", str(estate), "--no-ledger", "--target", "acme:codespaces", "--auto-approve"]
    result = run(capsys, args, ENV, sb=sandbox)
    assert result.code == 64
    assert "acme:codespaces" in result.err
    assert sandbox.secrets("acme", "actions") == {}


def test_bad_target_syntax_is_a_usage_error(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("acme:actionz", "a//c", "acme/web/", "acme:actions:X:Y", ":actions"):
        with pytest.raises(TargetSyntaxError):
            parse_target(bad)
        result = run(capsys, ["plan", str(estate), "--target", bad], ENV, sb=sandbox)
        assert result.code == 64, bad
        assert "SCOPE[:APP[:NAME]]" in result.err


def test_apply_target_writes_only_the_targeted_secrets(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.put_secret("acme/web", "actions", "STALE", b"v")
    sandbox.put_secret("acme/api", "actions", "STALE", b"v")
    manifest = (
        estate.read_text()
        .replace("  acme/web:\n    actions:\n", "  acme/web:\n    actions:\n      prune: true\n")
        .replace("  acme/api:\n    actions:\n", "  acme/api:\n    actions:\n      prune: true\n")
    )
    estate.write_text(manifest)
    args = ["apply", str(estate), "--no-ledger", "--auto-approve", "--target", "acme/web:actions"]
    result = run(capsys, args, ENV, sb=sandbox)
    assert result.code == 0, result.err
    assert set(sandbox.secrets("acme/web", "actions")) == {"WEB_KEY"}  # STALE pruned
    assert set(sandbox.secrets("acme/api", "actions")) == {"STALE"}  # untouched
    assert sandbox.secrets("acme/web", "dependabot") == {}
    assert sandbox.secrets("acme", "actions") == {}


def test_a_reviewed_targeted_plan_applies_only_its_targets(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    args = ["plan", str(estate), "--no-ledger", "--target", "acme:*:NPM_*", "--out", str(plan_file)]
    assert run(capsys, args, ENV, sb=sandbox).code == 0
    assert json.loads(plan_file.read_text())["targets"] == ["acme:*:npm_*"]
    # The file fixes the targets: another --target with it is refused.
    again = ["apply", str(plan_file), "--no-ledger", "--auto-approve", "--target", "acme"]
    refused = run(capsys, again, ENV, sb=sandbox)
    assert refused.code == 64 and "reviewed plan" in refused.err
    result = run(
        capsys, ["apply", str(plan_file), "--no-ledger", "--auto-approve"], ENV, sb=sandbox
    )
    assert result.code == 0, result.err
    assert set(sandbox.secrets("acme", "actions")) == {"NPM_TOKEN"}
    assert set(sandbox.secrets("acme", "dependabot")) == {"NPM_READ"}
    assert sandbox.secrets("acme/web", "actions") == {}
    # Editing the targets out of the file breaks its checksum: it cannot be widened.
    doc = json.loads(plan_file.read_text())
    del doc["targets"]
    plan_file.write_text(json.dumps(doc))
    widened = run(
        capsys, ["apply", str(plan_file), "--no-ledger", "--auto-approve"], ENV, sb=sandbox
    )
    assert widened.code != 0 and "checksum" in widened.err
    assert sandbox.secrets("acme/web", "actions") == {}


SPLIT_ONE = """
version: 1
orgs:
  acme:
    actions:
      prune: true
      secrets:
        ONE: {value: {env: A_TOKEN}, visibility: private}
"""
SPLIT_TWO = SPLIT_ONE.replace("ONE:", "TWO:")


def test_one_file_of_a_split_manifest_never_prunes_what_its_sibling_declares(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_repo("acme/web")
    for name in ("ONE", "TWO", "OLD"):
        sandbox.put_secret("acme", "actions", name, b"v", visibility="private")
    directory = tmp_path / "manifests"
    directory.mkdir()
    one = write_manifest(directory, SPLIT_ONE, "one.yaml")
    write_manifest(directory, SPLIT_TWO, "two.yaml")
    result = run(capsys, ["plan", str(one), "--no-ledger", "--format", "json"], ENV, sb=sandbox)
    assert result.code == 1, result.err
    doc = result.json()
    [problem] = doc["problems"]
    assert problem["subject"] == "acme actions TWO"
    assert "two.yaml declares it" in problem["message"]
    assert problem["location"].startswith(str(directory / "two.yaml"))
    assert problem["needs_force"] is False
    args = ["apply", str(one), "--no-ledger", "--auto-approve", "--force"]
    refused = run(capsys, args, ENV, sb=sandbox)
    assert refused.code == 1
    assert "two.yaml declares it" in refused.err and "nothing was written" in refused.err
    assert set(sandbox.secrets("acme", "actions")) == {"ONE", "TWO", "OLD"}
    # The directory plans correctly: only the secret neither file declares goes.
    whole = run(
        capsys, ["plan", str(directory), "--no-ledger", "--format", "json"], ENV, sb=sandbox
    )
    assert whole.code == 0, whole.err
    assert [(a, n) for _, _, a, n in changes(whole.json()) if a == "delete"] == [("delete", "OLD")]
    assert whole.json()["problems"] == []


def test_environment_targets_name_one_level_only() -> None:
    """`OWNER/REPO/ENV` selects an environment's items; the name after the second "/" may
    hold more slashes; `acme/web` never selects its environments, nor `acme/web/*` the
    repository's own."""
    production = Scope.of_environment("Acme/Web", "Production")
    review = Scope.of_environment("acme/web", "review/pr-7")
    repo = Scope(ScopeKind.REPO, "acme/web")
    everything = parse_target("acme/web/*")
    assert everything.selects(production, App.ACTIONS, "X")
    assert everything.selects(review, App.ACTIONS, "X")
    assert not everything.selects(repo, App.ACTIONS, "X")
    assert not parse_target("acme/web").selects(production, App.ACTIONS, "X")
    assert parse_target("acme/*/review/*:actions:x").selects(review, App.ACTIONS, "X")
    assert not parse_target("acme/web/prod").selects(production, App.ACTIONS, "X")
