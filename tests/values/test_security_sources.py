"""Value sources, attacked as a hostile manifest author would.

Promises under attack:
- no credential of the tool (`RECONCILER_*`, present and future) or of the runner is ever a
  value source, whatever the allow-list says;
- well-known cloud/runner credentials are admitted by their exact name only, never by a
  pattern, and then every plan output says so (and the notice is part of the checksum);
- nothing under `.git/` is ever a value source, however the path reaches it;
- a file source is read only if it is a regular file within GitHub's 48 KB limit, checked
  before reading and without blocking;
- an environment value that is not UTF-8 is a clear error;
- no error about a source shows its value.

Each end-to-end case runs the real CLI against the sandbox and then checks that nothing was
written and that no canary (raw, base64 or hex) appears in any output.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ExitStatus, SourceError
from reconciler.model import FileSource, Location
from reconciler.plan import document_checksum
from reconciler.safe_text import md_text
from reconciler.sandbox import Sandbox
from reconciler.values.env_policy import (
    DEFAULT_ALLOW_ENV,
    FORBIDDEN_ENV,
    env_refusal,
    forbidden_pattern,
    guard_of,
)
from reconciler.values.sources import resolve
from tests.support.e2e import run, write_manifest
from tests.support.env_reads import env_reads
from tests.support.paths import REPO_ROOT

REPO = "octo-org/web"
CANARY = "canary-ValueSource-7f3a9c1e5b2d4086"
JOB_TOKEN = "ghs_CheckoutJobToken0123456789abcdefABCD"

# Variables the package reads that carry no credential, so a user may name them (with an
# allow-list entry). Each needs a reason; anything else the tool reads must be forbidden.
HARMLESS_READS = {
    "NO_COLOR": "a flag that turns colour off (https://no-color.org); only its emptiness counts",
    "FORCE_COLOR": "a flag that turns colour on off a terminal; only its emptiness counts",
    "TERM": "only compared with `dumb` to turn colour off; never shown or sent",
    # Where AWS Secrets Manager is reached (aws sources): configuration, not credentials, and
    # sent nowhere but to the boto3 client the operator configured.
    "AWS_REGION": "the AWS region aws sources are read in",
    "AWS_DEFAULT_REGION": "the AWS region aws sources are read in",
    "AWS_ENDPOINT_URL": "the Secrets Manager endpoint (an AWS-compatible server)",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER": "the Secrets Manager endpoint",
    # Where the conditional-request cache lives by default: a directory, never a value.
    "XDG_CACHE_HOME": "the user's cache directory (XDG), for the request cache's default",
    "HOME": "the user's home, for ~/.cache when XDG_CACHE_HOME is unset",
}

# Well-known credentials a CI job holds; the forbidden ones can never be sources, the
# guarded ones only by exact name.
FORBIDDEN_CREDENTIALS = (
    "RECONCILER_COMMENT_TOKEN",
    "RECONCILER_FUTURE_CREDENTIAL",
    "Reconciler_Ledger_Key",  # the same variable where the environment ignores case
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "RUNNER_TEMP",
    "INPUT_GITHUB_TOKEN",
    # The tool's own once it reads AWS Secrets Manager or age files.
    "AWS_SESSION_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
)
GUARDED_CREDENTIALS = (
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "VAULT_TOKEN",
    "AZURE_CLIENT_SECRET",
    "ARM_CLIENT_SECRET",
    "ARM_OIDC_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "GCP_SA_KEY",
    "CLOUDSDK_AUTH_ACCESS_TOKEN",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
    "CIRCLE_OIDC_TOKEN",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "TF_TOKEN_app_terraform_io",
    "OP_SERVICE_ACCOUNT_TOKEN",
    "HTTPS_PROXY",
    "GIT_CONFIG_VALUE_0",
)


# -- helpers ------------------------------------------------------------------------------------


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), raw.hex()]


def assert_never_shown(secret: str, *texts: str) -> None:
    for text in texts:
        for form in _forms(secret):
            assert form not in text, "a source's value appeared in an output"


def _manifest(directory: Path, value: str, *, settings: str = "", name: str = "m.yaml") -> Path:
    """A manifest whose secret S's value is on line 8 (11 with one settings line)."""
    head = f"version: 1\nsettings:\n  allow_env:\n{settings}" if settings else "version: 1\n"
    body = (
        f"repos:\n  {REPO}:\n    actions:\n      secrets:\n        S:\n          value: {value}\n"
    )
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "\n" + body, encoding="utf-8")
    return path


def _nothing_written(sb: Sandbox) -> None:
    assert [r for r in sb.requests if r.method in {"PUT", "POST", "PATCH", "DELETE"}] == []
    assert sb.secrets(REPO, "actions") == {}


@pytest.fixture
def repo(sandbox: Sandbox) -> Sandbox:
    sandbox.add_repo(REPO)
    return sandbox


# -- by construction: what the tool reads is never a source -------------------------------------


def test_the_scanner_sees_the_reads_it_must() -> None:
    names = {r.name for r in env_reads()}
    # If these vanish the scan is broken, not the package fixed.
    assert {
        "RECONCILER_COMMENT_TOKEN",
        "RECONCILER_LEDGER_KEY",
        "RECONCILER_APP_PRIVATE_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
    } <= names


def test_every_variable_the_package_reads_can_never_be_a_source() -> None:
    slipped = [
        str(r)
        for r in env_reads()
        if r.name not in HARMLESS_READS
        and (forbidden_pattern(r.name) is None or env_refusal(r.name, ("*", r.name)) is None)
    ]
    assert slipped == [], (
        "the package reads these variables but a manifest could name them as value sources; "
        "name them RECONCILER_* (or justify them in HARMLESS_READS)"
    )


@given(st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True))
def test_the_whole_reconciler_namespace_is_forbidden_in_any_case(suffix: str) -> None:
    for name in (f"RECONCILER_{suffix}", f"reconciler_{suffix}", f"Reconciler_{suffix}"):
        refused = env_refusal(name, ("*", name, "RECONCILER_*", "reconciler_*"))
        assert refused is not None and refused.hint is None
        assert '"RECONCILER_*"' in refused.message


def _patterns_for(name: str) -> st.SearchStrategy[str]:
    """Patterns that match `name` without being it: the ways a manifest could widen the list."""
    prefixes = [name[:k] + "*" for k in range(len(name))]
    suffixes = ["*" + name[k:] for k in range(1, len(name))]
    return st.sampled_from(
        ["*", "*_*", "?*", f"[{name[0]}]{name[1:]}", name[:-1] + "?", *prefixes, *suffixes]
    )


@given(
    st.sampled_from(GUARDED_CREDENTIALS).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(_patterns_for(n), max_size=4))
    )
)
def test_no_pattern_admits_a_well_known_credential(case: tuple[str, list[str]]) -> None:
    name, patterns = case
    refused = env_refusal(name, (*DEFAULT_ALLOW_ENV, *patterns))
    assert refused is not None and "well-known cloud/runner credential" in refused.message
    assert refused.hint is not None and f'exact name "{name}"' in refused.hint
    assert env_refusal(name, (*patterns, name)) is None  # the exact name, and only it, admits


@pytest.mark.parametrize("name", FORBIDDEN_CREDENTIALS)
def test_forbidden_credentials_are_refused_even_by_exact_name(name: str) -> None:
    assert forbidden_pattern(name) in FORBIDDEN_ENV
    assert env_refusal(name, ("*", name)) is not None


@pytest.mark.parametrize("name", GUARDED_CREDENTIALS)
def test_guarded_credentials_are_not_forbidden_but_guarded(name: str) -> None:
    assert forbidden_pattern(name) is None and guard_of(name) is not None


@pytest.mark.parametrize("name", ["NPM_TOKEN", "DOCKERHUB_TOKEN", "DEPLOY_KEY", "SECRET_X"])
def test_ordinary_secrets_still_pass_the_default_patterns(name: str) -> None:
    assert env_refusal(name, ()) is None


# -- end to end: a hostile manifest naming a credential -----------------------------------------

MODES = ("default", "settings-star", "cli-star", "settings-prefix", "exact")


def _attack(directory: Path, var: str, mode: str) -> tuple[Path, list[str]]:
    settings = {
        "settings-star": '    - "*"\n',
        "settings-prefix": f'    - "{var.split("_", maxsplit=1)[0]}_*"\n',
        "exact": f"    - {var}\n",
    }.get(mode, "")
    manifest = _manifest(directory, f"{{env: {var}}}", settings=settings)
    extra = ["--allow-env", "*"] if mode == "cli-star" else []
    return manifest, extra


# By exact name a guarded credential is allowed: see the notice tests below.
ATTACKS = [
    (var, mode)
    for var in FORBIDDEN_CREDENTIALS + GUARDED_CREDENTIALS[:6]
    for mode in MODES
    if not (mode == "exact" and var in GUARDED_CREDENTIALS)
]


@pytest.mark.parametrize(("var", "mode"), ATTACKS)
def test_apply_never_copies_a_credential(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], var: str, mode: str
) -> None:
    manifest, extra = _attack(tmp_path, var, mode)
    env = {var: CANARY, "RECONCILER_COMMENT_TOKEN": CANARY}
    result = run(capsys, ["apply", str(manifest), "--write-delay", "0", *extra], env, sb=repo)
    assert result.code == ExitStatus.ERROR
    line = 8 if mode in {"default", "cli-star"} else 11
    assert f"{manifest}:{line}:" in result.err  # located at the value
    assert f'"{var}"' in result.err
    assert "Traceback" not in result.err
    assert_never_shown(CANARY, result.out, result.err)
    _nothing_written(repo)


def test_the_comment_token_is_not_copied_by_plan_with_a_comment(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "{env: RECONCILER_COMMENT_TOKEN}", settings='    - "*"\n')
    env = {"RECONCILER_COMMENT_TOKEN": CANARY}
    result = run(capsys, ["plan", str(manifest), "--comment", "--pr", f"{REPO}#1"], env, sb=repo)
    assert result.code == ExitStatus.ERROR
    assert "can never be a value source" in result.err
    assert_never_shown(CANARY, result.out, result.err)
    _nothing_written(repo)


# -- by exact name: allowed, and every plan says so --------------------------------------------


def _exact(tmp_path: Path) -> tuple[Path, str]:
    manifest = _manifest(
        tmp_path, "{env: AZURE_CLIENT_SECRET}", settings="    - AZURE_CLIENT_SECRET\n"
    )
    notice = (
        "env:AZURE_CLIENT_SECRET is a well-known cloud/runner credential; allowed by its "
        f"exact name in settings.allow_env ({manifest}:4:7)"
    )
    return manifest, notice


def test_exact_name_is_allowed_and_every_plan_output_says_so(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, notice = _exact(tmp_path)
    summary = tmp_path / "summary.md"
    env = {"AZURE_CLIENT_SECRET": CANARY, "GITHUB_STEP_SUMMARY": str(summary)}
    outputs: list[str] = []

    text = run(capsys, ["plan", str(manifest)], env, sb=repo)
    assert text.code == 0, text.err
    assert f"Notice: {notice}\n" in text.out
    as_json = run(capsys, ["plan", str(manifest), "--format", "json"], env, sb=repo)
    assert as_json.json()["notices"] == [notice]
    markdown = run(capsys, ["plan", str(manifest), "--format", "markdown"], env, sb=repo)
    assert f"> **Notice:** {md_text(notice)}" in markdown.out
    assert f"> **Notice:** {md_text(notice)}" in summary.read_text(encoding="utf-8")
    validate = run(capsys, ["validate", str(manifest)], env)
    assert validate.code == 0 and f"notice: {notice}\n" in validate.out
    outputs += [r.out + r.err for r in (text, as_json, markdown, validate)]
    assert_never_shown(CANARY, *outputs, summary.read_text(encoding="utf-8"))
    _nothing_written(repo)


def test_exact_name_on_the_command_line_is_named_in_the_notice(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "{env: CI_JOB_TOKEN}")
    args = ["plan", str(manifest), "--format", "json", "--allow-env", "CI_JOB_TOKEN"]
    result = run(capsys, args, {"CI_JOB_TOKEN": CANARY}, sb=repo)
    assert result.code == 0, result.err
    assert result.json()["notices"] == [
        "env:CI_JOB_TOKEN is a well-known cloud/runner credential; allowed by its exact name "
        "in --allow-env"
    ]


def test_the_notice_is_bound_by_the_checksum(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, notice = _exact(tmp_path)
    env = {"AZURE_CLIENT_SECRET": CANARY}
    saved = tmp_path / "plan.json"
    planned = run(capsys, ["plan", str(manifest), "--out", str(saved)], env, sb=repo)
    assert planned.code == 0, planned.err
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert doc["notices"] == [notice]
    assert document_checksum(doc) == doc["checksum"]
    stripped = {k: v for k, v in doc.items() if k != "notices"}
    assert document_checksum(stripped) != doc["checksum"]

    # A reviewer who never saw the notice cannot have it applied: the edited plan is refused.
    saved.write_text(json.dumps(stripped), encoding="utf-8")
    refused = run(capsys, ["apply", str(saved), "--write-delay", "0"], env, sb=repo)
    assert refused.code == ExitStatus.ERROR
    assert "checksum" in refused.err
    _nothing_written(repo)


def test_apply_by_exact_name_writes_and_says_so(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, notice = _exact(tmp_path)
    results = tmp_path / "results.json"
    args = ["apply", str(manifest), "--write-delay", "0", "--results", str(results)]
    applied = run(capsys, args, {"AZURE_CLIENT_SECRET": CANARY}, sb=repo)
    assert applied.code == 0, applied.err
    assert notice in applied.err
    assert json.loads(results.read_text(encoding="utf-8"))["notices"] == [notice]
    assert repo.secrets(REPO, "actions")["S"].value == CANARY.encode()
    assert_never_shown(CANARY, applied.out, applied.err, results.read_text(encoding="utf-8"))


# -- .git is never a source ---------------------------------------------------------------------


def _checkout(root: Path) -> Path:
    """A checkout whose .git/config holds the job token, as actions/checkout leaves it."""
    git = root / ".git"
    git.mkdir(parents=True)
    (git / "config").write_text(
        f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {JOB_TOKEN}\n'
    )
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    return git


def _git_cases(root: Path) -> dict[str, tuple[Path, str]]:
    """name -> (manifest directory, file source as written)."""
    _checkout(root)
    (root / "sub").mkdir()
    (root / "link-config").symlink_to(root / ".git" / "config")
    (root / "link-dir").symlink_to(root / ".git")
    worktree = root / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {root / '.git'}\n# {JOB_TOKEN}\n")
    deep = root / "deploy" / "secrets"
    deep.mkdir(parents=True)
    return {
        "direct": (root, ".git/config"),
        "dotdot": (root, "sub/../.git/config"),
        "upper-case": (root, ".GIT/config"),
        "trailing-dot": (root, ".git./config"),
        "symlink-to-file": (root, "link-config"),
        "symlink-to-dir": (root, "link-dir/config"),
        "worktree-git-file": (root, "wt/.git"),
        "from-deeper": (deep, "../../.git/config"),
        "manifest-inside-git": (root / ".git", "config"),
        "head": (root, ".git/HEAD"),
    }


GIT_CASES = (
    "direct",
    "dotdot",
    "upper-case",
    "trailing-dot",
    "symlink-to-file",
    "symlink-to-dir",
    "worktree-git-file",
    "from-deeper",
    "manifest-inside-git",
    "head",
)


@pytest.mark.parametrize("case", GIT_CASES)
def test_git_directory_is_never_a_source(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    directory, written = _git_cases(tmp_path / "checkout")[case]
    manifest = _manifest(directory, f'{{file: "{written}"}}', name="m.yaml")
    validate = run(capsys, ["validate", str(manifest)], {})
    assert validate.code == ExitStatus.ERROR
    assert f"{manifest}:8:" in validate.err
    assert "inside a .git directory" in validate.err
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], {}, sb=repo)
    assert applied.code == ExitStatus.ERROR
    assert_never_shown(JOB_TOKEN, validate.out, validate.err, applied.out, applied.err)
    _nothing_written(repo)


@pytest.mark.parametrize("written", [".git/config", "a/../.git/config", ".Git/config"])
def test_git_directory_is_refused_at_read_time_too(tmp_path: Path, written: str) -> None:
    # The loader refuses these; resolve must not rely on having been called after it.
    _checkout(tmp_path)
    (tmp_path / "a").mkdir()
    where = Location("m.yaml", 8, 24)
    with pytest.raises(SourceError) as caught:
        resolve(FileSource(written, str(tmp_path), where), {}, ())
    assert caught.value.location == where
    assert "inside a .git directory" in caught.value.detail
    assert JOB_TOKEN not in caught.value.render()


# -- file sources: type and size before reading -------------------------------------------------


def _resolve_values_subprocess(
    manifest: Path, env: dict[bytes, bytes] | None = None, limit_memory: bool = False
) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process: a regression that blocks or reads everything is a
    timeout or a MemoryError here, not a hung test run."""

    def cap_address_space() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    base = {k.encode(): v.encode() for k, v in os.environ.items() if k in {"PATH", "HOME"}}
    base[b"PYTHONPATH"] = str(REPO_ROOT).encode()
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--resolve-values", str(manifest)],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=cap_address_space if limit_memory else None,
        check=False,
    )


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    manifest = _manifest(tmp_path, "{file: pipe}")
    done = _resolve_values_subprocess(manifest)
    assert done.returncode == ExitStatus.ERROR, done.stderr
    assert f"{manifest}:8:" in done.stderr
    assert 'file source "pipe" is a named pipe (FIFO), not a regular file' in done.stderr
    assert "Traceback" not in done.stderr


def test_a_symlink_to_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "value.txt").symlink_to(tmp_path / "pipe")
    manifest = _manifest(tmp_path, "{file: value.txt}")
    done = _resolve_values_subprocess(manifest)
    assert done.returncode == ExitStatus.ERROR, done.stderr
    assert "named pipe (FIFO)" in done.stderr


def test_apply_with_a_fifo_source_writes_nothing(repo: Sandbox, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    manifest = _manifest(tmp_path, "{file: pipe}")
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME"}}
    env.update(GITHUB_TOKEN=repo.token, GITHUB_API_URL=repo.url, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", str(manifest), "--write-delay", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == ExitStatus.ERROR, done.stderr
    assert "named pipe (FIFO)" in done.stderr
    _nothing_written(repo)


def test_a_directory_and_a_socket_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "values").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind("s")  # relative: the working directory is tmp_path, and paths are short
        manifest = tmp_path / "m.yaml"
        write_manifest(
            tmp_path,
            f"""
            version: 1
            repos:
              {REPO}:
                actions:
                  secrets:
                    D: {{value: {{file: values}}}}
                    S: {{value: {{file: s}}}}
            """,
            name="m.yaml",
        )
        result = run(capsys, ["validate", "--resolve-values", str(manifest)], {})
    finally:
        sock.close()
    assert result.code == ExitStatus.ERROR
    lines = result.err.splitlines()
    assert any(
        line.strip().startswith(f"{manifest}:6:")
        and line.endswith('.D.value.file: file source "values" is a directory, not a regular file')
        for line in lines
    ), result.err
    assert any(
        line.strip().startswith(f"{manifest}:7:")
        and line.endswith('.S.value.file: file source "s" is a socket, not a regular file')
        for line in lines
    ), result.err


def test_a_sparse_multi_gigabyte_file_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: no blocks on disk
    manifest = _manifest(tmp_path, "{file: big.bin}")
    result = run(capsys, ["validate", "--resolve-values", str(manifest)], {})
    assert result.code == ExitStatus.ERROR
    assert f"{manifest}:8:" in result.err
    assert (
        'file source "big.bin" is 3221225472 bytes, more than GitHub\'s 48 KB limit' in result.err
    )
    assert "it was not read" in result.err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS semantics")
def test_a_sparse_multi_gigabyte_file_is_never_loaded_into_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024**3)
    manifest = _manifest(tmp_path, "{file: big.bin}")
    # With 1 GiB of address space, reading the file whole would fail with MemoryError.
    done = _resolve_values_subprocess(manifest, limit_memory=True)
    assert done.returncode == ExitStatus.ERROR, done.stderr
    assert "it was not read" in done.stderr


def test_a_file_just_over_the_limit_is_refused_and_one_at_it_is_read(
    tmp_path: Path,
) -> None:
    where = Location("m.yaml", 8, 24)
    (tmp_path / "at").write_bytes(b"v" * 48 * 1024)
    (tmp_path / "over").write_bytes(b"v" * (48 * 1024 + 1))
    assert len(resolve(FileSource("at", str(tmp_path), where), {}, ())) == 48 * 1024
    with pytest.raises(SourceError, match="49153 bytes, more than GitHub's 48 KB limit"):
        resolve(FileSource("over", str(tmp_path), where), {}, ())


# -- environment values that are not UTF-8 ------------------------------------------------------


def test_a_non_utf8_environment_value_is_a_clear_error(
    repo: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, "{env: BIN_TOKEN}")
    env = {"BIN_TOKEN": os.fsdecode(b"\xff" + CANARY.encode())}
    validate = run(capsys, ["validate", "--resolve-values", str(manifest)], env)
    assert validate.code == ExitStatus.ERROR
    assert (
        f"{manifest}:8:24  repos.{REPO}.actions.secrets.S.value.env: environment variable "
        '"BIN_TOKEN" is not valid UTF-8 text' in validate.err
    )
    applied = run(capsys, ["apply", str(manifest), "--write-delay", "0"], env, sb=repo)
    assert applied.code == ExitStatus.ERROR
    assert '"BIN_TOKEN" is not valid UTF-8 text' in applied.err
    for result in (validate, applied):
        assert "Traceback" not in result.err and "internal error" not in result.err
        assert_never_shown(CANARY, result.out, result.err)
    _nothing_written(repo)


def test_a_non_utf8_value_in_a_real_process_environment(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "{env: BIN_TOKEN}")
    done = _resolve_values_subprocess(manifest, {b"BIN_TOKEN": b"\xfe\xff" + CANARY.encode()})
    assert done.returncode == ExitStatus.ERROR, done.stderr
    assert '"BIN_TOKEN" is not valid UTF-8 text' in done.stderr
    assert_never_shown(CANARY, done.stdout, done.stderr)


# -- errors about a source never show the value -------------------------------------------------


@pytest.mark.parametrize("size", [0, 48 * 1024 + 1])
def test_value_errors_name_the_source_not_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int
) -> None:
    value = (CANARY * (size // len(CANARY) + 1))[:size]
    (tmp_path / "v.txt").write_text(value)
    manifest = tmp_path / "m.yaml"
    write_manifest(
        tmp_path,
        f"""
        version: 1
        repos:
          {REPO}:
            actions:
              secrets:
                E: {{value: {{env: E_TOKEN}}}}
                F: {{value: {{file: v.txt}}}}
        """,
        name="m.yaml",
    )
    result = run(capsys, ["validate", "--resolve-values", str(manifest)], {"E_TOKEN": value})
    assert result.code == ExitStatus.ERROR
    assert "env:E_TOKEN" in result.err and "v.txt" in result.err
    assert_never_shown(CANARY, result.out, result.err)
