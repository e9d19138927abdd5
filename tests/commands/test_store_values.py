"""Values from where teams keep them, end to end: env, file, sealed, age, AWS (a real moto
server) and command sources in one manifest; then a pull-request plan that reads no value.

The proof of issue 14: apply writes every source's value; rotating the age value, the AWS
value and the command's output one at a time, the `--values none` plan names exactly the age
and AWS rotations and labels the command "checked at apply"; the full plan names all three;
apply converges, and a `--values none` reviewed plan applies with values read only at apply.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PublicKey, SealedBox

from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, run, write_manifest
from tests.support.moto_server import ANYONE, MotoServer
from tests.values.age_cli import Key, age_encrypt, keygen, value_file

SECRET_ID = "prod/npm"


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


class Estate:
    """The manifest's directory, its sources, and the environment of the jobs."""

    def __init__(self, root: Path, sandbox: Sandbox, moto: MotoServer, key: Key) -> None:
        self.root, self.sandbox, self.moto, self.key = root, sandbox, moto, key
        self.aws = moto.client("secretsmanager")
        self.secret_id = f"{SECRET_ID}-{root.name}"  # tests share the module's server
        self.aws.create_secret(Name=self.secret_id, SecretString='{"token": "aws-one"}')
        self.set_age("age-one")
        self.set_command("command-one")
        (root / "file-value.txt").write_text("file-one", encoding="utf-8")
        key_id, public = sandbox.public_key("octo-org/web", "actions")
        box = SealedBox(PublicKey(base64.b64decode(public)))
        sealed = base64.b64encode(box.encrypt(b"sealed-one")).decode()
        self.manifest = write_manifest(
            root,
            f"""
            version: 1
            repos:
              octo-org/web:
                actions:
                  secrets:
                    FROM_ENV: {{value: {{env: ENV_TOKEN}}}}
                    FROM_FILE: {{value: {{file: file-value.txt}}}}
                    FROM_SEALED: {{value: {{sealed: "{sealed}", key_id: "{key_id}"}}}}
                    FROM_AGE: {{value: {{age: values.age.yaml, key: NPM_TOKEN}}}}
                    FROM_AWS: {{value: {{aws: {self.secret_id}, json_key: token}}}}
                    FROM_COMMAND: {{value: {{command: ["{sys.executable}", "print-value.py"]}}}}
            """,
        )

    def set_age(self, value: str) -> None:
        armored = age_encrypt(value.encode(), self.key.recipient)
        text = value_file([self.key.recipient], {"NPM_TOKEN": armored})
        (self.root / "values.age.yaml").write_text(text, encoding="utf-8")

    def set_command(self, value: str) -> None:
        script = f"import sys\nsys.stdout.write({value!r} + '\\n')\n"
        (self.root / "print-value.py").write_text(script, encoding="utf-8")

    def pr_env(self) -> dict[str, str]:
        """A pull-request job: AWS metadata only, no ledger key, no age identity, no values."""
        return {"RECONCILER_LEDGER": str(self.root / "ledger.json"), **self._aws_env()}

    def apply_env(self) -> dict[str, str]:
        return {
            **self.pr_env(),
            "ENV_TOKEN": "env-one",
            "RECONCILER_LEDGER_KEY": "k" * 32,
            "RECONCILER_AGE_IDENTITY": self.key.secret,
            "RECONCILER_ALLOW_COMMANDS": "1",
        }

    def _aws_env(self) -> dict[str, str]:
        return ANYONE.environ(self.moto.url)

    def cli(self, capsys: pytest.CaptureFixture[str], args: list[str], env: dict[str, str]) -> Run:
        return run(capsys, args, env, sb=self.sandbox)

    def values(self) -> dict[str, bytes]:
        return {n: r.value for n, r in self.sandbox.secrets("octo-org/web", "actions").items()}


@pytest.fixture
def estate(
    sandbox: Sandbox, moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Estate:
    sandbox.add_repo("octo-org/web")
    monkeypatch.chdir(tmp_path)  # the command source runs in the working directory
    return Estate(tmp_path, sandbox, moto_server, keygen(tmp_path, "ci"))


def _plan(
    estate: Estate, capsys: pytest.CaptureFixture[str], env: dict[str, str], *extra: str
) -> dict[str, str]:
    result = estate.cli(capsys, ["plan", str(estate.manifest), "--format", "json", *extra], env)
    assert result.code == 0, result.err
    return {c["name"]: c["value"] for c in json.loads(result.out)["changes"]}


def test_every_source_is_written_and_rotations_show_without_values(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    applied = estate.cli(
        capsys, ["apply", str(estate.manifest), "--write-delay", "0"], estate.apply_env()
    )
    assert applied.code == 0, applied.err
    assert estate.values() == {
        "FROM_ENV": b"env-one",
        "FROM_FILE": b"file-one",
        "FROM_SEALED": b"sealed-one",
        "FROM_AGE": b"age-one",
        "FROM_AWS": b"aws-one",
        "FROM_COMMAND": b"command-one",
    }
    # Right after apply, the PR plan knows the identities it can know; the rest waits.
    assert _plan(estate, capsys, estate.pr_env(), "--values", "none") == {
        "FROM_ENV": "checked at apply",
        "FROM_FILE": "checked at apply",
        "FROM_COMMAND": "checked at apply",
    }
    assert _plan(estate, capsys, estate.apply_env()) == {}

    estate.set_age("age-two")
    estate.aws.put_secret_value(SecretId=estate.secret_id, SecretString='{"token": "aws-two"}')
    estate.set_command("command-two")
    pr = _plan(estate, capsys, estate.pr_env(), "--values", "none")
    assert pr["FROM_AGE"] == "value rotated" and pr["FROM_AWS"] == "value rotated"
    assert pr["FROM_COMMAND"] == "checked at apply"
    assert "FROM_SEALED" not in pr
    text = estate.cli(capsys, ["plan", str(estate.manifest), "--values", "none"], estate.pr_env())
    assert f"value: rotated in aws:{estate.secret_id}#token (version aws:" in text.out
    full = _plan(estate, capsys, estate.apply_env())
    assert full == {
        "FROM_AGE": "value changed",
        "FROM_AWS": "value changed",
        "FROM_COMMAND": "value changed",
    }
    applied = estate.cli(
        capsys, ["apply", str(estate.manifest), "--write-delay", "0"], estate.apply_env()
    )
    assert applied.code == 0, applied.err
    values = estate.values()
    assert (values["FROM_AGE"], values["FROM_AWS"], values["FROM_COMMAND"]) == (
        b"age-two",
        b"aws-two",
        b"command-two",
    )
    assert _plan(estate, capsys, estate.apply_env()) == {}
    scanned = applied.out + applied.err + (estate.root / "ledger.json").read_text()
    for value in ("age-two", "aws-two", "command-two", estate.key.secret):
        assert value not in scanned


def test_a_reviewed_plan_without_values_applies_with_values_read_at_apply(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    first = estate.cli(
        capsys, ["apply", str(estate.manifest), "--write-delay", "0"], estate.apply_env()
    )
    assert first.code == 0, first.err
    estate.aws.put_secret_value(SecretId=estate.secret_id, SecretString='{"token": "aws-two"}')
    plan_file = estate.root / "plan.json"
    reviewed = estate.cli(
        capsys,
        ["plan", str(estate.manifest), "--values", "none", "--out", str(plan_file)],
        estate.pr_env(),
    )
    assert reviewed.code == 0, reviewed.err
    assert json.loads(plan_file.read_text())["values"] == "none"
    estate.sandbox.clear_requests()
    applied = estate.cli(
        capsys, ["apply", str(plan_file), "--write-delay", "0"], estate.apply_env()
    )
    assert applied.code == 0, applied.err
    # Only the AWS rotation is written; the values checked at apply were unchanged.
    puts = [r.path for r in estate.sandbox.requests if r.method == "PUT"]
    assert puts == ["/repos/octo-org/web/actions/secrets/FROM_AWS"]
    assert "3 unchanged" in applied.out
    assert estate.values()["FROM_AWS"] == b"aws-two"
    # A rotation after the review changes what the reviewer saw: refused, nothing written.
    estate.aws.put_secret_value(SecretId=estate.secret_id, SecretString='{"token": "aws-3"}')
    estate.sandbox.clear_requests()
    stale = estate.cli(capsys, ["apply", str(plan_file), "--write-delay", "0"], estate.apply_env())
    assert stale.code == 1
    assert [r for r in estate.sandbox.requests if r.method == "PUT"] == []


def test_commands_run_only_where_the_operator_allows_them(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {k: v for k, v in estate.apply_env().items() if k != "RECONCILER_ALLOW_COMMANDS"}
    refused = estate.cli(capsys, ["apply", str(estate.manifest), "--write-delay", "0"], env)
    assert refused.code == 1
    assert "commands are not allowed in this run" in refused.err + refused.out
    assert estate.values() == {}
    allowed = estate.cli(
        capsys,
        ["apply", str(estate.manifest), "--write-delay", "0", "--allow-commands"],
        env,
    )
    assert allowed.code == 0, allowed.err


def test_validate_resolve_values_reads_every_store_as_apply_would(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", str(estate.manifest), "--resolve-values"]
    ok = estate.cli(capsys, args, estate.apply_env())
    assert ok.code == 0, ok.err
    bare = estate.cli(capsys, args, {"ENV_TOKEN": "e", **estate.pr_env()})
    assert bare.code == 1
    shown = bare.out + bare.err
    assert "secrets.FROM_AGE.value.age" in shown and "RECONCILER_AGE_IDENTITY" in shown
    assert "secrets.FROM_COMMAND.value.command" in shown and "--allow-commands" in shown
    assert "FROM_AWS" not in shown  # AWS is reachable with the job's credentials


def test_a_variable_found_unchanged_at_apply_keeps_its_value_in_the_results(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--values none leaves an env-sourced variable "checked at apply"; when apply finds it
    unchanged and writes only the visibility, the results say the value stayed, not null."""
    sandbox.add_repo("octo-org/web")
    sandbox.put_variable("octo-org", "actions", "REGION", "eu-west-1", visibility="all")
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            actions:
              variables:
                REGION: {value: {env: REGION_SECRET}, visibility: private}
        """,
    )
    env = {"REGION_SECRET": "eu-west-1"}
    plan_file, results = tmp_path / "plan.json", tmp_path / "results.json"
    planned = run(
        capsys, ["plan", str(manifest), "--values", "none", "--out", str(plan_file)], {}, sandbox
    )
    assert planned.code == 0, planned.err
    [change] = json.loads(plan_file.read_text("utf-8"))["changes"]
    assert change["value"] == "checked at apply"
    argv = ["apply", str(plan_file), "--write-delay", "0", "--results", str(results)]
    applied = run(capsys, argv, env, sandbox)
    assert applied.code == 0, applied.err
    [result] = json.loads(results.read_text("utf-8"))["results"]
    assert result["outcome"] == "done" and "value" not in result
    assert result["variable"] == {"before": "eu-west-1", "after": "eu-west-1"}
    assert result["visibility"] == {"before": "all", "after": "private"}
    held = sandbox.variables("octo-org", "actions")["REGION"]
    assert (held.value, held.visibility) == ("eu-west-1", "private")
