"""`reconciler import` (a manifest of what exists now) and `reconciler seal` (stdin only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler import cli
from reconciler.adoption.env_names import env_name_for
from reconciler.sandbox import Sandbox
from tests.support.e2e import Run, cli_env, output, run, write_manifest

ORG = "octo-org"


@pytest.fixture
def populated(sandbox: Sandbox) -> Sandbox:
    for name in ("web", "api", "docs"):
        sandbox.add_repo(f"{ORG}/{name}")
    sandbox.add_repo("other/site")
    put = sandbox.put_secret
    put(ORG, "actions", "NPM_TOKEN", b"npm", visibility="selected", selected=["web", "api"])
    put(ORG, "actions", "NOBODY_TOKEN", b"none", visibility="selected", selected=[])
    put(ORG, "actions", "GH_TOKEN", b"reserved", visibility="private")  # env name forbidden
    put(ORG, "dependabot", "DATABASE_URL", b"db", visibility="all")  # not in the allow-list
    put(ORG, "codespaces", "RUNNER_LABEL", b"r", visibility="all")  # forbidden too
    put(f"{ORG}/web", "actions", "DEPLOY_HOOK", b"hook")
    put(f"{ORG}/web", "dependabot", "REGISTRY_PASSWORD", b"pw")
    put("other/site", "agents", "AGENT_KEY", b"k")
    return sandbox


IMPORTED_ENV = {
    "NPM_TOKEN": "n",
    "NOBODY_TOKEN": "n",
    "SECRET_GH_TOKEN": "g",
    "DATABASE_URL": "d",
    "SECRET_RUNNER_LABEL": "r",
    "DEPLOY_HOOK": "h",
    "REGISTRY_PASSWORD": "p",
    "AGENT_KEY": "k",
}


def _import(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, *args: str, env: dict[str, str] | None = None
) -> Run:
    result = run(capsys, ["import", *args], env, sb=sb)
    assert result.code == 0, result.err
    return result


def test_import_writes_what_exists_now(
    populated: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _import(
        capsys, populated, "--org", ORG, "--repo", f"{ORG}/web", "--repo", "other/site"
    )
    assert result.out.startswith("# Imported by `reconciler import`")
    doc = yaml.safe_load(result.out)
    org = doc["orgs"][ORG]
    assert org["actions"]["secrets"] == {
        "GH_TOKEN": {"value": {"env": "SECRET_GH_TOKEN"}, "visibility": "private"},
        "NOBODY_TOKEN": {
            "value": {"env": "NOBODY_TOKEN"},
            "visibility": "selected",
            "repositories": [],
        },
        "NPM_TOKEN": {
            "value": {"env": "NPM_TOKEN"},
            "visibility": "selected",
            "repositories": ["api", "web"],
        },
    }
    assert org["dependabot"]["secrets"]["DATABASE_URL"]["value"] == {"env": "DATABASE_URL"}
    assert org["codespaces"]["secrets"]["RUNNER_LABEL"]["value"] == {"env": "SECRET_RUNNER_LABEL"}
    assert "agents" not in org  # no secrets there: no empty group
    assert doc["repos"][f"{ORG}/web"]["actions"]["secrets"] == {
        "DEPLOY_HOOK": {"value": {"env": "DEPLOY_HOOK"}}
    }
    assert doc["repos"]["other/site"]["agents"]["secrets"]["AGENT_KEY"] == {
        "value": {"env": "AGENT_KEY"}
    }
    # Exactly the names the default allow-list refuses; forbidden ones were renamed instead.
    assert doc["settings"]["allow_env"] == ["DATABASE_URL", "DEPLOY_HOOK"]


def test_plan_right_after_import_shows_only_values_that_cannot_be_compared(
    populated: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--org", ORG, "--repo", f"{ORG}/web", "--repo", "other/site", "--out", "imported.yaml")
    result = _import(capsys, populated, *args)
    assert result.out == ""
    assert "wrote 8 secrets and 0 variables to imported.yaml" in result.err
    manifest = str(tmp_path / "imported.yaml")
    assert run(capsys, ["validate", manifest, "--resolve-values"], IMPORTED_ENV).code == 0

    exact = ["plan", manifest, "--values", "skip-unknown", "--detailed-exitcode"]
    empty = run(capsys, [*exact, "--format", "json"], IMPORTED_ENV, sb=populated)
    assert empty.code == 0, empty.err
    assert empty.json()["changes"] == []

    auto = run(capsys, ["plan", manifest, "--format", "json"], IMPORTED_ENV, sb=populated)
    assert auto.code == 0, auto.err
    changes = auto.json()["changes"]
    assert len(changes) == 8
    assert {(c["action"], c["value"]) for c in changes} == {("update", "not comparable")}
    assert all("repositories" not in c for c in changes)  # selections already match
    for c in changes:
        if "visibility" in c:
            assert c["visibility"]["before"] == c["visibility"]["after"]


def test_import_of_selected_apps_and_a_missing_env_reports_the_variable(
    populated: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _import(capsys, populated, "--org", ORG, "--app", "dependabot")
    doc = yaml.safe_load(result.out)
    assert list(doc["orgs"][ORG]) == ["dependabot"]
    manifest = write_manifest(tmp_path, result.out)
    missing = run(capsys, ["validate", str(manifest), "--resolve-values"], {})
    assert missing.code == 1
    assert "DATABASE_URL" in missing.err
    assert run(capsys, ["validate", str(manifest), "--resolve-values"], IMPORTED_ENV).code == 0


def test_import_needs_a_scope(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, ["import"], {}, sb=sandbox)
    assert result.code == 64
    assert "--org ORG and/or --repo OWNER/REPO" in result.err


def test_env_names_for_secret_names() -> None:
    assert env_name_for("NPM_TOKEN") == "NPM_TOKEN"
    assert env_name_for("GH_TOKEN") == "SECRET_GH_TOKEN"
    assert env_name_for("github_pat") == "SECRET_GITHUB_PAT"
    assert env_name_for("RECONCILER_TOKEN") == "SECRET_RECONCILER_TOKEN"
    assert env_name_for("DATABASE_URL") == "DATABASE_URL"


# -- seal ------------------------------------------------------------------------------------


def _seal(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, stdin: bytes, *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    env = cli_env({"GITHUB_TOKEN": sb.token, "GITHUB_API_URL": sb.url}, stdin=stdin)
    code = cli.main(["seal", *args], env)
    out, err = output(env)
    return code, out, err + capsys.readouterr().err


def _paste(tmp_path: Path, block: str, *, scope: str) -> Path:
    """The printed block, pasted under a secret of a manifest."""
    if "/" in scope:
        head = f"repos:\n  {scope}:\n    actions:\n      secrets:\n        PASTED:\n"
        extra = ""
    else:
        head = f"orgs:\n  {scope}:\n    actions:\n      secrets:\n        PASTED:\n"
        extra = "          visibility: private\n"
    path = tmp_path / "sealed.yaml"
    path.write_text(f"version: 1\n{head}          {block.strip()}\n{extra}", encoding="utf-8")
    return path


@pytest.mark.parametrize("scope", [ORG, f"{ORG}/web"])
def test_sealed_block_applies_to_exactly_the_value(
    populated: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], scope: str
) -> None:
    value = "multi-line\nvalue: with ünïcode and 'quotes'\n".encode()
    flag = "--repo" if "/" in scope else "--org"
    code, out, err = _seal(capsys, populated, value, flag, scope, "--app", "actions")
    assert code == 0, err
    assert out.startswith("value: {sealed: ") and out.count("\n") == 1
    assert value.decode() not in out + err
    key_id, _ = populated.public_key(scope, "actions")
    assert f'key_id: "{key_id}"' in out
    manifest = _paste(tmp_path, out, scope=scope)
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], {}, sb=populated)
    assert applied.code == 0, applied.err
    assert populated.secrets(scope, "actions")["PASTED"].value == value


def test_strip_drops_trailing_newlines_only(
    populated: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _seal(
        capsys, populated, b"  padded\n value\r\n\n", "--org", ORG, "--app", "actions", "--strip"
    )
    assert code == 0, err
    applied = run(
        capsys,
        ["apply", str(_paste(tmp_path, out, scope=ORG)), "--write-delay", "0"],
        {},
        sb=populated,
    )
    assert applied.code == 0, applied.err
    assert populated.secrets(ORG, "actions")["PASTED"].value == b"  padded\n value"


def test_seal_via_a_subprocess_reads_stdin(
    populated: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = b"piped-value-\x00\xff-binary"
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "seal", "--org", ORG, "--app", "dependabot"],
        input=value,
        env={
            "PATH": os.environ.get("PATH", ""),
            "GITHUB_TOKEN": populated.token,
            "GITHUB_API_URL": populated.url,
        },
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # no prompt: stdin is not a terminal
    block = proc.stdout.decode()
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"version: 1\norgs:\n  {ORG}:\n    dependabot:\n      secrets:\n        BIN_TOKEN:\n"
        f"          {block.strip()}\n          visibility: all\n",
        encoding="utf-8",
    )
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], {}, sb=populated)
    assert applied.code == 0, applied.err
    assert populated.secrets(ORG, "dependabot")["BIN_TOKEN"].value == value


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        (b"", ["--org", ORG], "no value on stdin"),
        (b"\n\n", ["--org", ORG, "--strip"], "no value on stdin"),
        (b"v", [], "exactly one of --org ORG or --repo OWNER/REPO"),
        (b"v", ["--org", ORG, "--repo", f"{ORG}/web"], "exactly one of --org"),
        (b"x" * (48 * 1024 + 1), ["--org", ORG], "48 KB"),
    ],
)
def test_seal_usage_errors(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    stdin: bytes,
    args: list[str],
    message: str,
) -> None:
    code, out, err = _seal(capsys, sandbox, stdin, *args, "--app", "actions")
    assert code == 64
    assert message in err
    assert out == ""
    assert sandbox.requests == []  # refused before asking GitHub for a key


def test_seal_needs_an_app_and_takes_no_value_argument(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _seal(capsys, sandbox, b"v", "--org", ORG)
    assert code == 64 and "--app" in err
    code, _, err = _seal(capsys, sandbox, b"v", "--org", ORG, "--app", "actions", "hunter2")
    assert code == 64 and "unrecognized arguments" in err
    assert "hunter2" not in err  # a value pasted on argv is never echoed back
    assert "1 positional argument (not shown)" in err


def test_seal_for_an_unknown_org_is_a_clear_error(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _seal(capsys, sandbox, b"value", "--org", "nobody", "--app", "actions")
    assert code == 1
    assert "/orgs/nobody/actions/secrets/public-key" in err and "not found" in err
    assert out == ""
