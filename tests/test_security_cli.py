"""The command line under careless or hostile use: values pasted on argv are never echoed, numeric
flags out of range are usage errors, output files are checked before any request, a closed
stdout ends quietly, bad sandbox seeds are clear errors, and a bug has its own exit code."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.errors import ExitStatus
from reconciler.ledger.format import Entry, Ledger, dump_ledger
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, cli_env, run, write_manifest
from tests.support.paths import REPO_ROOT

# Token-shaped at run time only, so secret scanners never flag the source.
PASTED = "ghp" + "_PastedValue0123456789abcdefghijklmnop"

MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}}
"""

SEED = {"orgs": {"octo-org": {"repos": ["web"]}}}


def _no_leak(text: str) -> None:
    assert PASTED not in text
    assert PASTED[4:20] not in text  # no fragment either
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "argv",
    [
        ["seal", "--org", "octo-org", "--app", "actions", PASTED],
        ["plan", "examples", "--format", PASTED],
        ["plan", "examples", f"--format={PASTED}"],
        ["plan", "examples", "--concurrency", PASTED],
        ["apply", "examples", "--write-delay", PASTED],
        ["apply", "examples", f"--delete-threshold={PASTED}"],
        [PASTED],
        ["plan", f"--token={PASTED}", "examples"],
        ["seal", "--app", PASTED, "--org", "octo-org"],
    ],
    ids=lambda argv: " ".join(a.replace(PASTED, "VALUE") for a in argv),
)
def test_a_value_on_argv_is_never_echoed(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, argv)
    assert result.code == ExitStatus.USAGE
    _no_leak(result.out + result.err)
    assert result.err.startswith("error: reconciler")


def test_an_unknown_option_is_still_named(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, ["plan", "examples", f"--tokn={PASTED}", PASTED])
    assert result.code == ExitStatus.USAGE
    assert "unrecognized arguments: --tokn=..., 1 positional argument (not shown)" in result.err
    _no_leak(result.err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["apply", "x", "--write-delay", "inf"],
            "--write-delay: expected a number of seconds, not",
        ),
        (["apply", "x", "--write-delay", "-1"], "--write-delay: must be between 0 and 86400"),
        (
            ["apply", "x", "--write-delay", "nan"],
            "--write-delay: expected a number of seconds, not",
        ),
        (["apply", "x", "--max-wait", "1e300"], "--max-wait: must be between 0 and 86400"),
        (["apply", "x", "--delete-threshold", "nan"], "--delete-threshold: expected a fraction"),
        (["apply", "x", "--delete-threshold", "1.5"], "--delete-threshold: must be a fraction"),
        (["apply", "x", "--delete-threshold", "-0.1"], "--delete-threshold: must be a fraction"),
        (["apply", "x", "--delete-threshold-min", "-3"], "must be a whole number from 0 to"),
        (["plan", "x", "--concurrency", "0"], "--concurrency: must be a whole number from 1 to 64"),
        (["plan", "x", "--concurrency", "1000000"], "--concurrency: must be a whole number from"),
        (["plan", "x", "--concurrency", "2.5"], "--concurrency: expected a whole number from 1"),
        (["sandbox", "--port", "70000"], "--port: must be a whole number from 0 to 65535"),
    ],
)
def test_numeric_flags_out_of_range_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, argv)
    assert result.code == ExitStatus.USAGE
    assert message in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("where", ["missing-dir/plan.json", "a-directory", "a-file/plan.json"])
def test_an_unwritable_plan_out_fails_before_any_request(
    where: str, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("x")
    write_manifest(tmp_path, MANIFEST)
    before = len(sandbox.requests)
    result = run(capsys, ["plan", "secrets.yaml", "--out", where], {"NPM_TOKEN": "v"}, sandbox)
    assert result.code == ExitStatus.USAGE
    assert f'--out "{where}" cannot be written:' in result.err
    assert "hint: point --out at a writable file" in result.err
    assert len(sandbox.requests) == before, "no request may be made before the check"
    assert not (tmp_path / "missing-dir").exists()


def test_the_writability_probe_leaves_no_file_and_keeps_an_existing_one(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_manifest(tmp_path, MANIFEST)
    # A failed plan (unset variable is fine; no credentials is not) must not leave an empty file.
    result = run(capsys, ["plan", "secrets.yaml", "--out", "plan.json"], {"NPM_TOKEN": "v"})
    assert result.code == ExitStatus.USAGE  # no credentials
    assert "no GitHub credentials" in result.err
    assert not (tmp_path / "plan.json").exists()
    sandbox.load_seed(SEED)
    result = run(
        capsys, ["plan", "secrets.yaml", "--out", "plan.json"], {"NPM_TOKEN": "v"}, sandbox
    )
    assert result.code == ExitStatus.OK
    assert json.loads((tmp_path / "plan.json").read_text())["format"]


def test_a_write_error_on_out_names_the_flag(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.load_seed(SEED)
    write_manifest(tmp_path, MANIFEST)
    # /dev/full opens for writing and then fails every write with ENOSPC.
    result = run(
        capsys, ["plan", "secrets.yaml", "--out", "/dev/full"], {"NPM_TOKEN": "v"}, sandbox
    )
    assert result.code == ExitStatus.USAGE
    assert '--out "/dev/full" cannot be written: No space left on device' in result.err


def test_import_out_is_checked_before_any_request(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(sandbox.requests)
    result = run(capsys, ["import", "--org", "octo-org", "--out", "nope/x.yaml"], {}, sandbox)
    assert result.code == ExitStatus.USAGE
    assert '--out "nope/x.yaml" cannot be written' in result.err
    assert len(sandbox.requests) == before


def _cli(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )


def _close_after_first_line(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    with proc.stderr:
        err = proc.stderr.read()
    return proc.wait(timeout=60), err


def test_ledger_show_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    entries = {
        ("org", f"org{i}", "actions", f"NAME_{i}"): Entry("2026-01-01T00:00:00Z", None, "env:X")
        for i in range(20_000)  # more than any pipe buffer holds
    }
    (tmp_path / "ledger.json").write_text(dump_ledger(Ledger(entries)))
    code, err = _close_after_first_line(
        _cli("ledger", "show", "--ledger", "ledger.json", cwd=tmp_path)
    )
    assert code == ExitStatus.OUTPUT_CLOSED
    assert err == b""


def test_demo_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    proc = _cli("demo", cwd=REPO_ROOT)
    code, err = _close_after_first_line(proc)
    assert code == ExitStatus.OUTPUT_CLOSED
    assert b"Traceback" not in err and b"Exception ignored" not in err


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("[1, 2]", "the seed must be a mapping at the top level"),
        ('{"orgs": 5}', "orgs: expected a mapping, got int"),
        ('{"orgs": {"a": {"secrets": "x"}}}', "orgs.a.secrets: expected a mapping, got str"),
        ("orgs: [", "not valid YAML or JSON"),
        ('{"repos": {"x": {}}}', "repository must be 'owner/name'"),
        (
            '{"orgs": {"a": {"secrets": {"actions": {"S": {"value_base64": "!!"}}}}}}',
            "the seed does not follow the format",
        ),
        ('{"orgs": {"a": {"secrets": {"actions": {"S": {}}}}}}', "needs `value` or `value_base64`"),
    ],
)
def test_bad_sandbox_seeds_are_clear_errors(
    seed: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "seed.yaml").write_text(seed)
    for argv in (["sandbox", "--seed", "seed.yaml"], ["demo", "--seed", "seed.yaml"]):
        result = run(capsys, argv)
        assert result.code == ExitStatus.ERROR, argv
        assert "error: seed.yaml: not a sandbox seed:" in result.err
        assert message in result.err
        assert "Traceback" not in result.err and "internal error" not in result.err


def test_a_non_utf8_seed_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "seed.yaml").write_bytes(b"\xff\xfe\x00")
    result = run(capsys, ["sandbox", "--seed", "seed.yaml"])
    assert result.code == ExitStatus.ERROR
    assert "not valid YAML or JSON" in result.err


class _BuggyStdout(io.StringIO):
    def write(self, text: str) -> int:
        raise ZeroDivisionError(PASTED)  # a bug whose text must not be shown either


def test_a_bug_exits_with_its_own_code_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["validate", str(write_manifest(tmp_path, MANIFEST))]
    buggy = replace(cli_env(), stdout=_BuggyStdout())
    err = io.StringIO()
    code = cli.main(argv, replace(buggy, stderr=err))
    result = Run(code, "", err.getvalue() + capsys.readouterr().err)
    assert result.code == ExitStatus.BUG
    assert int(ExitStatus.BUG) == 70  # documented in the README
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("internal error: ZeroDivisionError (exit 70). This is a bug")
    assert "--debug" in lines[0]
    _no_leak(result.err)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", *argv], buggy)
