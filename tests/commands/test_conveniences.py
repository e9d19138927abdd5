"""The small things people expect (issue 12): scoped `ledger forget`, `seal` without echo and
with an explicit trailing-newline rule, what `sandbox` says, colour, global flag placement."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.commands.common import colour_wanted, use_colour
from reconciler.ledger.format import Entry, Ledger, dump_ledger, parse_ledger
from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.paths import REPO_ROOT

ORG = "octo-org"
KEYS = [
    ("org", "octo-org", "actions", "NPM_TOKEN"),
    ("org", "octo-org", "dependabot", "NPM_TOKEN"),
    ("repo", "octo-org/web", "actions", "NPM_TOKEN"),
    ("repo", "octo-org/api", "actions", "NPM_TOKEN"),
    ("repo", "octo-org/api", "actions", "DEPLOY_KEY"),
    ("repo", "other/site", "agents", "NPM_TOKEN"),
]


# -- ledger forget, scoped ------------------------------------------------------------------


def _ledger(tmp_path: Path) -> Path:
    entries = {k: Entry(updated_at="2024-01-01T00:00:00Z", source=f"env:{k[3]}") for k in KEYS}
    path = tmp_path / "ledger.json"
    path.write_text(dump_ledger(Ledger(entries=entries)), encoding="utf-8")
    return path


def _left(path: Path) -> set[tuple[str, str, str, str]]:
    return set(parse_ledger(path.read_text(encoding="utf-8"), str(path)).entries)


@pytest.mark.parametrize(
    ("args", "dropped"),
    [
        (["npm_token", "--repo", "octo-org/web"], {KEYS[2]}),
        (["NPM_TOKEN", "--org", "octo-org", "--app", "dependabot"], {KEYS[1]}),
        (["--repo", "octo-org/api"], {KEYS[3], KEYS[4]}),
        (["NPM_*", "--repo", "octo-org/*", "--app", "actions"], {KEYS[2], KEYS[3]}),
        (["DEPLOY_*"], {KEYS[4]}),
        (["--app", "agents"], {KEYS[5]}),
        (["NPM_TOKEN", "--org", "octo-*", "--repo", "other/site"], {KEYS[0], KEYS[1], KEYS[5]}),
    ],
)
def test_forget_drops_exactly_what_the_filters_select(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], dropped: set[object]
) -> None:
    path = _ledger(tmp_path)
    result = run(capsys, ["ledger", "forget", *args, "--ledger", str(path)])
    assert result.code == 0, result.err
    assert _left(path) == set(KEYS) - dropped
    forgot = [tuple(line.split()[1:]) for line in result.out.splitlines() if "  forgot " in line]
    assert set(forgot) == dropped
    assert f"forgot {len(dropped)} ledger entries" in result.out


def test_a_name_in_several_scopes_lists_each_dropped_entry_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _ledger(tmp_path)
    result = run(capsys, ["ledger", "forget", "NPM_TOKEN", "--ledger", str(path)])
    assert result.code == 0, result.err
    assert _left(path) == {KEYS[4]}  # unscoped: every scope, as before
    for kind, target, app, name in KEYS[:4] + KEYS[5:]:
        assert f"  forgot {kind} {target} {app} {name}\n" in result.out
    assert "note: that was in 4 scopes" in result.out
    assert "--org ORG or --repo OWNER/REPO" in result.out


def test_one_scope_gets_no_note_and_show_filters_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _ledger(tmp_path)
    shown = run(capsys, ["ledger", "show", "--repo", "octo-org/*", "--ledger", str(path)])
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[0].endswith(": 3 of 6 secrets")
    assert len(shown.out.splitlines()) == 4 and "other/site" not in shown.out
    result = run(capsys, ["ledger", "forget", "NPM_TOKEN", "--org", ORG, "--ledger", str(path)])
    assert result.code == 0 and "note:" not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name what to forget"),
        (["NPM_TOKEN", "--repo", "nobody/*"], "no ledger entry matches NPM_TOKEN --repo nobody/*"),
        (["--repo", "octo-org"], "--repo takes OWNER/REPO"),
    ],
)
def test_forget_refuses_an_empty_or_unmatched_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = _ledger(tmp_path)
    before = path.read_bytes()
    result = run(capsys, ["ledger", "forget", *args, "--ledger", str(path)])
    assert result.code == 64
    assert message in result.err
    assert path.read_bytes() == before


# -- seal: no echo on a terminal, the trailing newline said ------------------------------------


def _apply_sealed(capsys: pytest.CaptureFixture[str], sb: Sandbox, tmp: Path, block: str) -> bytes:
    manifest = write_manifest(
        tmp,
        f"version: 1\norgs:\n  {ORG}:\n    actions:\n      secrets:\n        TYPED:\n"
        f"          {block.strip()}\n          visibility: private\n",
    )
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0", "--no-ledger"], sb=sb)
    assert applied.code == 0, applied.err
    return sb.secrets(ORG, "actions")["TYPED"].value


def test_seal_on_a_terminal_never_echoes_the_typed_value(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_org(ORG)
    value = b"typed-s3cret-value"
    master, slave = os.openpty()
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_TOKEN": sandbox.token,
        "GITHUB_API_URL": sandbox.url,
    }
    command = [sys.executable, "-m", "reconciler", "seal", "--org", ORG, "--app", "actions"]
    seen = b""
    try:
        with subprocess.Popen(
            command, stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=environ
        ) as proc:
            os.close(slave)
            slave = -1
            while b"Enter ends it): " not in seen:  # echo is off before the prompt is written
                chunk = os.read(master, 1024)
                assert chunk, seen
                seen += chunk
            os.write(master, value + b"\n")
            assert proc.stdout is not None
            block = proc.stdout.read().decode()
            assert proc.wait(timeout=60) == 0
            while True:
                try:
                    chunk = os.read(master, 1024)
                except OSError:  # EIO: every slave end is closed
                    break
                if not chunk:
                    break
                seen += chunk
        attrs = termios.tcgetattr(master)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert value not in seen  # what the terminal showed: the prompt, a newline, nothing typed
    assert attrs[3] & termios.ECHO  # echo restored
    assert block.startswith("value: {sealed: ")
    assert _apply_sealed(capsys, sandbox, tmp_path, block) == value  # Enter is not the value


@pytest.mark.parametrize(
    ("stdin", "flags", "stored", "said"),
    [
        (b"v\n", [], b"v\n", True),
        (b"v\r\n\n", ["--strip-newline"], b"v", False),
        (b"v\n", ["--strip"], b"v", False),  # the older spelling
        (b"v", [], b"v", False),
    ],
)
def test_piped_input_keeps_its_bytes_and_says_so_about_a_newline(
    sandbox: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stdin: bytes,
    flags: list[str],
    stored: bytes,
    said: bool,
) -> None:
    sandbox.add_org(ORG)
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "seal", "--org", ORG, "--app", "actions", *flags],
        input=stdin,
        env={
            "PATH": os.environ.get("PATH", ""),
            "GITHUB_TOKEN": sandbox.token,
            "GITHUB_API_URL": sandbox.url,
        },
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    note = b"note: kept the value's trailing newline (pass --strip-newline to drop it)\n"
    assert proc.stderr == (note if said else b"")
    assert _apply_sealed(capsys, sandbox, tmp_path, proc.stdout.decode()) == stored


# -- sandbox: how to stop it, where the dump goes -----------------------------------------------


def test_sandbox_says_how_to_stop_it_and_where_it_wrote_the_dump(tmp_path: Path) -> None:
    dump = tmp_path / "state.json"
    seed = str(REPO_ROOT / "examples" / "sandbox" / "seed.json")
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "sandbox",
        "--seed",
        seed,
        "--dump",
        "state.json",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipe = subprocess.PIPE
    with subprocess.Popen(
        command, stdout=pipe, stderr=pipe, text=True, env=env, cwd=tmp_path
    ) as proc:
        try:
            assert proc.stderr is not None and proc.stdout is not None
            first = proc.stderr.readline()
            second = proc.stderr.readline()
            assert "stop it with Ctrl-C, or `kill -TERM " in first and f"pid {proc.pid}" in first
            assert second == f"on stop it writes its final state to {dump}\n"
            stdout_lines = [proc.stdout.readline(), proc.stdout.readline()]
            assert [line.split("=")[0] for line in stdout_lines] == [
                "GITHUB_API_URL",
                "GITHUB_TOKEN",
            ]
            proc.terminate()
            assert proc.wait(timeout=20) == 0
            assert proc.stderr.read() == f"sandbox stopped; wrote its final state to {dump}\n"
            assert proc.stdout.read() == ""  # stdout stays `NAME=value` lines only
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "octo-org" in json.loads(dump.read_text())["orgs"]


def test_sandbox_refuses_a_dump_path_it_could_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["sandbox", "--dump", str(tmp_path / "missing" / "state.json")])
    assert result.code == 1
    assert "cannot write the sandbox dump there" in result.err
    assert "GITHUB_API_URL" not in result.out  # refused before it started


# -- colour --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "tty", "colour"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # empty means unset (no-color.org)
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": ""}, False, False),
        ({"FORCE_COLOR": "0"}, False, True),  # any non-empty value forces
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "xterm-256color"}, True, True),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),  # NO_COLOR wins
        ({"NO_COLOR": "", "TERM": "dumb"}, True, False),
    ],
)
def test_colour_is_decided_in_one_place(environ: dict[str, str], tty: bool, colour: bool) -> None:
    assert colour_wanted(environ, tty=tty) is colour


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_colour_asks_the_stream() -> None:
    assert use_colour(_Terminal(), {}) and not use_colour(io.StringIO(), {})
    assert use_colour(io.StringIO(), {"FORCE_COLOR": "1"})


def test_plan_in_colour_only_when_forced_off_a_terminal(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_org(ORG)
    manifest = write_manifest(
        tmp_path,
        f"version: 1\norgs:\n  {ORG}:\n    actions:\n      secrets:\n        NEW_TOKEN:\n"
        "          value: {env: NEW_TOKEN}\n          visibility: private\n",
    )
    argv = ["plan", str(manifest), "--no-ledger"]
    plain = run(capsys, argv, {"NEW_TOKEN": "x", "NO_COLOR": ""}, sb=sandbox)
    forced = run(capsys, argv, {"NEW_TOKEN": "x", "FORCE_COLOR": "1"}, sb=sandbox)
    assert "NEW_TOKEN" in plain.out and "\x1b[" not in plain.out
    assert "\x1b[" in forced.out


# -- global options before or after the subcommand -----------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--verbose", "validate", "m.yaml"],
        ["validate", "m.yaml", "--verbose"],
        ["-v", "validate", "m.yaml"],
        ["validate", "-v", "m.yaml"],
        ["--debug", "ledger", "show", "--ledger", "l.json"],
        ["ledger", "show", "--debug", "--ledger", "l.json"],
    ],
)
def test_global_options_go_before_or_after_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    write_manifest(tmp_path, "version: 1\n", "m.yaml")
    result = run(capsys, argv)
    assert result.code == 0, result.err
    ns = cli._build_parser().parse_args(argv)
    assert (ns.verbose, ns.debug) == ("-v" in argv or "--verbose" in argv, "--debug" in argv)
