"""A plan predicts its apply: what apply would refuse or fail on before its first write is
reported by plan in every output, with apply's exit code, and apply refuses in the same words
writing nothing. The real CLI against the sandbox over HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from nacl.public import PublicKey, SealedBox

from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest

VALUE = "pRedicT-s3cret-value-9f2"  # must never appear in any output


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The sandbox with the organization and a repository the manifests name."""
    sb = make_sandbox()
    sb.add_org("octo-org")
    sb.add_repo("octo-org/web")
    return sb


def _writes(sb: Sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in sb.requests if r.method != "GET"]


def _predicts(
    capsys: pytest.CaptureFixture[str],
    sb: Sandbox,
    manifest: Path,
    environ: dict[str, str],
    tmp_path: Path,
    *,
    code: int,
    headline: str,
    words: str,
    extra: tuple[str, ...] = (),
) -> Run:
    """Plan in text, JSON and markdown (and the job summary) names the problem with `code`;
    apply exits `code` with the same line and writes nothing. Returns apply's run."""
    summary = tmp_path / "summary.md"
    env = {**environ, "GITHUB_STEP_SUMMARY": str(summary)}
    text = run(capsys, ["plan", str(manifest), *extra], env, sb=sb)
    assert text.code == code, text.err
    assert text.out.startswith(f"{headline}:"), text.out  # up front, not after the changes
    assert words in text.out
    assert words in text.err  # and in the log, for a job log read alone

    as_json = run(capsys, ["plan", str(manifest), "--format", "json", *extra], environ, sb=sb)
    assert as_json.code == code
    problems = as_json.json()["problems"]
    assert problems and any(words in p["message"] for p in problems)
    assert all(p["needs_force"] is (code == 3) for p in problems)

    markdown = run(capsys, ["plan", str(manifest), "--format", "markdown", *extra], environ, sb=sb)
    assert markdown.code == code
    caution = markdown.out.index("> [!CAUTION]")
    assert caution < markdown.out.find("<details>") or "<details>" not in markdown.out
    assert f"**{headline}:**" in markdown.out
    assert "> [!CAUTION]" in summary.read_text(encoding="utf-8")
    assert _writes(sb) == []

    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0", *extra], environ, sb=sb)
    assert applied.code == code, applied.err
    assert "nothing was written" in applied.err
    # The same words: every problem line plan printed, apply prints too.
    block = text.out.split("\n\n", 1)[0].splitlines()[1:]  # the problems, before the changes
    lines = [line.strip() for line in block]
    assert lines and all(line in applied.err for line in lines)
    assert _writes(sb) == []
    for result in (text, as_json, markdown, applied):
        assert VALUE not in result.out + result.err
    assert VALUE not in summary.read_text(encoding="utf-8")
    return applied


def _manifest(tmp_path: Path, secrets: str, *, prune: bool = False) -> Path:
    return write_manifest(
        tmp_path,
        "version: 1\norgs:\n  octo-org:\n    actions:\n"
        + ("      prune: true\n" if prune else "")
        + "      secrets:\n"
        + "".join(f"        {line}\n" for line in secrets.strip().splitlines()),
    )


def test_unset_variable(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "NPM_TOKEN: {value: {env: NPM_TOKEN}}")
    _predicts(
        capsys,
        sandbox,
        manifest,
        {},
        tmp_path,
        code=1,
        headline="apply would fail before its first write (1 problem)",
        words='environment variable "NPM_TOKEN" is not set',
    )


def test_missing_file(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest(tmp_path, "CERT_KEY: {value: {file: missing.pem}}")
    _predicts(
        capsys,
        sandbox,
        manifest,
        {},
        tmp_path,
        code=1,
        headline="apply would fail before its first write (1 problem)",
        words='file source "missing.pem"',
    )


def test_allow_list_refusal_is_refused_by_both_before_any_request(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "CLOUD: {value: {env: AZURE_CLIENT_SECRET}}")
    environ = {"AZURE_CLIENT_SECRET": VALUE}
    planned = run(capsys, ["plan", str(manifest)], environ, sb=sandbox)
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], environ, sb=sandbox)
    for result in (planned, applied):
        assert result.code == 1
        assert "well-known cloud/runner credential" in result.err
        assert VALUE not in result.out + result.err
    assert sandbox.requests == []


def test_stale_sealed_value(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, key = sandbox.public_key("octo-org", "actions")
    sealed = base64.b64encode(SealedBox(PublicKey(base64.b64decode(key))).encrypt(b"x")).decode()
    manifest = _manifest(tmp_path, f'S: {{value: {{sealed: "{sealed}", key_id: "{key_id}"}}}}')
    sandbox.rotate_key("octo-org", "actions")
    _predicts(
        capsys,
        sandbox,
        manifest,
        {},
        tmp_path,
        code=1,
        headline="apply would fail before its first write (1 problem)",
        words=f'sealed value was sealed to key "{key_id}"',
    )


def test_mass_delete_needs_force_and_the_same_thresholds(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(10):
        sandbox.put_secret("octo-org", "actions", f"OLD_{i}", b"v", visibility="private")
    kept = "\n".join(f"OLD_{i}: {{value: {{env: A_TOKEN}}, visibility: private}}" for i in range(6))
    manifest = _manifest(tmp_path, kept, prune=True)
    environ = {"A_TOKEN": VALUE}
    _predicts(
        capsys,
        sandbox,
        manifest,
        environ,
        tmp_path,
        code=3,
        headline="apply would refuse this plan without --force (1 problem)",
        words="4 of 10 live secrets would be deleted (40%, above the 30% threshold)",
    )
    # plan takes apply's flags: with the same numbers, both agree it is safe.
    looser = ("--delete-threshold", "0.5")
    planned = run(capsys, ["plan", str(manifest), "--format", "json", *looser], environ, sb=sandbox)
    assert planned.code == 0, planned.err
    assert planned.json()["problems"] == []


def test_widening_to_all_needs_force(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.put_secret("octo-org", "dependabot", "B", b"v", visibility="private")
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                B: {value: {env: B_TOKEN}, visibility: all}
        """,
    )
    environ = {"B_TOKEN": VALUE}
    _predicts(
        capsys,
        sandbox,
        manifest,
        environ,
        tmp_path,
        code=3,
        headline="apply would refuse this plan without --force (1 problem)",
        words="visibility widens from private to all",
    )
    forced = run(
        capsys, ["apply", str(manifest), "--write-delay", "0", "--force"], environ, sb=sandbox
    )
    assert forced.code == 0, forced.err
    assert sandbox.secrets("octo-org", "dependabot")["B"].visibility == "all"


def test_missing_ledger_key(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "NPM_TOKEN: {value: {env: NPM_TOKEN}}")
    ledger = tmp_path / "ledger.json"
    keyed = {"NPM_TOKEN": VALUE, "RECONCILER_LEDGER_KEY": "k" * 32}
    where = ("--ledger", str(ledger))
    first = run(capsys, ["apply", str(manifest), "--write-delay", "0", *where], keyed, sb=sandbox)
    assert first.code == 0, first.err
    assert "fingerprint" in ledger.read_text(encoding="utf-8")
    recorded = ledger.read_text(encoding="utf-8")
    before = len(_writes(sandbox))
    environ = {"NPM_TOKEN": VALUE}  # the job forgot RECONCILER_LEDGER_KEY
    planned = run(capsys, ["plan", str(manifest), "--format", "json", *where], environ, sb=sandbox)
    assert planned.code == 3, planned.err
    (problem,) = planned.json()["problems"]
    assert problem["kind"] == "no ledger key"
    assert "every value (1) will be rewritten as not comparable" in problem["message"]
    text = run(capsys, ["plan", str(manifest), *where], environ, sb=sandbox)
    assert text.code == 3
    assert text.out.startswith("apply would refuse this plan without --force (1 problem):")
    applied = run(
        capsys, ["apply", str(manifest), "--write-delay", "0", *where], environ, sb=sandbox
    )
    assert applied.code == 3
    assert "RECONCILER_LEDGER_KEY is not set" in applied.err
    assert len(_writes(sandbox)) == before  # nothing written to GitHub
    assert ledger.read_text(encoding="utf-8") == recorded  # nor to the ledger
    # With the key, the same plan is clean and empty.
    keyed_plan = run(
        capsys, ["plan", str(manifest), "--detailed-exitcode", *where], keyed, sb=sandbox
    )
    assert keyed_plan.code == 0, keyed_plan.out + keyed_plan.err
    for result in (planned, text, applied, keyed_plan):
        assert VALUE not in result.out + result.err


def test_clean_plan_stays_green_and_problems_leave_the_checksum_alone(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "NPM_TOKEN: {value: {env: NPM_TOKEN}}")
    clean = run(
        capsys, ["plan", str(manifest), "--format", "json"], {"NPM_TOKEN": VALUE}, sb=sandbox
    )
    assert clean.code == 0, clean.err
    assert clean.json()["problems"] == []
    text = run(capsys, ["plan", str(manifest)], {"NPM_TOKEN": VALUE}, sb=sandbox)
    assert text.code == 0
    assert "apply would fail" not in text.out and "apply would refuse" not in text.out
    # The same plan where the variable is missing: red, but the changes (and their checksum)
    # are the same, so a plan saved without the job's variables still binds its apply.
    out = tmp_path / "plan.json"
    broken = run(capsys, ["plan", str(manifest), "--out", str(out)], {}, sb=sandbox)
    assert broken.code == 1
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["problems"] and saved["checksum"] == clean.json()["checksum"]
    applied = run(
        capsys, ["apply", str(out), "--write-delay", "0"], {"NPM_TOKEN": VALUE}, sb=sandbox
    )
    assert applied.code == 0, applied.err
    assert sandbox.secrets("octo-org", "actions")["NPM_TOKEN"].value == VALUE.encode()
    for result in (clean, text, broken, applied):
        assert VALUE not in result.out + result.err
