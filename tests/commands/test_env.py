"""The Env seam: what a test (or an embedding program) puts in the `Env` is what the commands
use — its variables, its streams, its client factory, its sleep, its way back into the CLI —
and nothing reaches the process's own streams or environment."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.env import Env
from reconciler.github.auth import Auth
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.sandbox import Sandbox
from tests.support.e2e import cli_env, output, write_manifest
from tests.support.paths import REPO_ROOT

MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        SEAM: {value: {env: SEAM_TOKEN}, visibility: private}
"""


def _sandbox_env(sb: Sandbox, **extra: str) -> Env:
    sb.add_repo("octo-org/web")  # the organization exists
    return cli_env({"GITHUB_TOKEN": sb.token, "GITHUB_API_URL": sb.url, **extra})


def test_the_process_env_is_this_process() -> None:
    env = Env.from_process()
    assert env.environ is os.environ
    assert (env.stdin, env.stdout, env.stderr) == (sys.stdin, sys.stdout, sys.stderr)
    assert env.run is None  # `cli.main` wires itself in


def test_an_env_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        cli_env().environ = {}  # type: ignore[misc]  # the runtime check of what mypy refuses


def test_commands_read_the_envs_variables_not_the_processs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEAM_TOKEN", raising=False)
    manifest = str(write_manifest(tmp_path, MANIFEST))
    env = cli_env({"SEAM_TOKEN": "from the Env"})
    assert cli.main(["validate", manifest, "--resolve-values"], env) == 0
    out, err = output(env)
    assert out.startswith("OK: 1 manifest files")
    assert err == ""
    # The same run in an Env without the variable: the error is on that Env's stderr.
    missing = cli_env()
    assert cli.main(["validate", manifest, "--resolve-values"], missing) == 1
    out, err = output(missing)
    assert 'environment variable "SEAM_TOKEN" is not set' in err
    assert capsys.readouterr() == ("", "")


def test_output_logs_and_progress_go_to_the_envs_streams(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_manifest(tmp_path, MANIFEST)
    (tmp_path / "notes.yaml").write_text("just: a file\n", encoding="utf-8")  # skipped, logged
    env = _sandbox_env(sandbox, SEAM_TOKEN="v")
    argv = ["apply", str(tmp_path), "--write-delay", "0", "--no-ledger"]
    assert cli.main(["-v", *argv], env) == 0, output(env)[1]
    out, err = output(env)
    assert out.startswith("Apply: 1 done")
    assert "WARNING reconciler.commands.common: skipped" in err  # a log record
    assert "ok  + octo-org actions SEAM" in err  # a progress line
    assert capsys.readouterr() == ("", "")


def test_after_main_logs_go_to_the_process_stderr_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = cli_env()
    cli.main(["validate", str(write_manifest(tmp_path, MANIFEST))], env)
    logging.getLogger("reconciler.test").warning("after the run")
    assert "after the run" not in output(env)[1]
    assert "after the run" in capsys.readouterr().err


def test_commands_connect_through_the_envs_client_factory(sandbox: Sandbox, tmp_path: Path) -> None:
    made: list[tuple[ClientConfig, Auth, Callable[[float], None]]] = []

    def factory(
        config: ClientConfig, *, auth: Auth, sleep: Callable[[float], None]
    ) -> GitHubClient:
        made.append((config, auth, sleep))
        return GitHubClient(config, auth=auth, sleep=sleep)

    def no_sleep(seconds: float) -> None:
        pass

    env = replace(_sandbox_env(sandbox, SEAM_TOKEN="v"), make_client=factory, sleep=no_sleep)
    manifest = str(write_manifest(tmp_path, MANIFEST))
    flags = ["--api-version", "2022-11-28", "--timeout", "7", "--max-wait", "9"]
    code = cli.main(["plan", manifest, "--no-ledger", "--concurrency", "12", *flags], env)
    assert code == 0, output(env)[1]
    [(config, _, sleep)] = made
    assert config.api_url == sandbox.url  # from the Env's GITHUB_API_URL
    assert (config.api_version, config.timeout, config.max_wait) == ("2022-11-28", 7.0, 9.0)
    assert config.pool_size == 24
    assert sleep is no_sleep


def test_a_missing_credential_is_read_from_the_envs_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "in the process, not in the Env")
    env = cli_env()
    manifest = str(write_manifest(tmp_path, MANIFEST))
    assert cli.main(["plan", manifest], env) == 64
    assert "no GitHub credentials" in output(env)[1]


def test_seal_reads_the_envs_stdin(sandbox: Sandbox) -> None:
    env = replace(_sandbox_env(sandbox), stdin=io.TextIOWrapper(io.BytesIO(b"s3cret")))
    assert cli.main(["seal", "--repo", "octo-org/web", "--app", "actions"], env) == 0
    assert output(env)[0].startswith("value: {sealed: ")


def test_demo_reenters_the_cli_through_env_run(capsys: pytest.CaptureFixture[str]) -> None:
    steps: list[tuple[list[str], Env]] = []

    def record(argv: Sequence[str], step_env: Env) -> int:
        steps.append((list(argv), step_env))
        return 0

    env = replace(cli_env({"GH_TOKEN": "never used by the demo"}), run=record)
    examples = str(REPO_ROOT / "examples")
    seed = str(REPO_ROOT / "examples/sandbox/seed.json")
    assert cli.main(["demo", examples, "--seed", seed], env) == 0
    assert [argv for argv, _ in steps] == [
        ["validate", examples],
        ["plan", examples],
        ["apply", examples, "--write-delay", "0"],
        ["plan", examples, "--detailed-exitcode"],
    ]
    for _, step_env in steps:
        assert step_env.stdout is env.stdout and step_env.stderr is env.stderr
        assert step_env.environ["GITHUB_API_URL"].startswith("http://127.0.0.1:")
        assert "GH_TOKEN" not in step_env.environ
    assert env.environ == {"GH_TOKEN": "never used by the demo"}  # the Env given is untouched
    assert "The sandbox served" in output(env)[0]
    assert capsys.readouterr() == ("", "")
