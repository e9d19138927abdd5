"""No secret value and no token ever leaves the process in any output.

Every command (validate, plan, apply, apply of a saved plan) and its error paths run with
distinctive values (env and file sources) and distinctive tokens, at every verbosity and
in every format. Everything they produce is collected: stdout, stderr, log records (via
caplog and a handler on the library loggers), the plan file, the results file, the step
summary, and tracebacks that `--debug` lets through. Each is scanned for every value and
token raw, base64 (at every byte alignment), hex, JSON-escaped and percent-encoded.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

import pytest

from reconciler import cli
from reconciler.diff import diff
from reconciler.env import Env
from reconciler.executor import ApplyOptions, resolve_values
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.manifest.load import load_manifests
from reconciler.model import App, EnvSource, FileSource, Scope, ScopeKind
from reconciler.plan import ValuePolicy
from reconciler.sandbox import Fault, Sandbox
from reconciler.values.resolver import Resolver
from reconciler.values.sources import resolve
from tests.support.e2e import cli_env, output, write_manifest
from tests.support.moto_server import ANYONE, MotoServer
from tests.values.age_cli import age_encrypt, keygen, value_file

TOKEN = "canary_LeakCanaryAdmin0123456789abcdefABCDEF"
READ_ONLY_TOKEN = "canary_LeakCanaryReadOnly9876543210zyxwvuZY"
WRONG_TOKEN = "canary_LeakCanaryWrong5555555555qqqqqqqqQQQQ"
ENV_VALUE = 'env-Ünïcødé-☃-LeakCanary-7c1f3b9a-"quoted" <tag> | pipe'
ORG_ENV_VALUE = "org-env-LeakCanary-0f1e2d3c4b5a69788796a5b4"
FILE_VALUE = "file-ÅΩ≈ç-LeakCanary-2d4e6f80\nsecond line\n".encode()
BINARY_VALUE = b"\x00\xffbin-LeakCanary-\x80\x81\xfe-31415926"
PLAINTEXT_VALUE = "hunter2-LeakCanary-plaintext-in-manifest"
AGE_VALUE = "age-LeakCanary-5e6f7a8b9c0d-decrypted"
AWS_VALUE = "aws-LeakCanary-1a2b3c4d5e6f-from-secrets-manager"
COMMAND_VALUE = "command-LeakCanary-77aa88bb99cc-stdout"
VALUES: tuple[bytes, ...] = (
    AGE_VALUE.encode(),
    AWS_VALUE.encode(),
    COMMAND_VALUE.encode(),
    ENV_VALUE.encode(),
    ORG_ENV_VALUE.encode(),
    FILE_VALUE,
    BINARY_VALUE,
    PLAINTEXT_VALUE.encode(),
)
TOKENS = (TOKEN, READ_ONLY_TOKEN, WRONG_TOKEN)
ORG = "octo-org"
MANIFEST = """
version: 1
orgs:
  octo-org:
    dependabot:
      prune: true
      secrets:
        ORG_ENV: {value: {env: ORG_ENV_TOKEN}, visibility: selected, repositories: [web, api]}
        ORG_FILE: {value: {file: values/file.txt}, visibility: private}
    actions:
      secrets:
        ORG_BIN: {value: {file: values/binary.bin}, visibility: all}
repos:
  octo-org/web:
    actions:
      prune: true
      secrets:
        REPO_ENV: {value: {env: REPO_ENV_TOKEN}}
        REPO_FILE: {value: {file: values/file.txt}}
"""
ENV = {"ORG_ENV_TOKEN": ORG_ENV_VALUE, "REPO_ENV_TOKEN": ENV_VALUE}
VERBOSITY: tuple[list[str], ...] = ([], ["-v"], ["--debug"])


def _needles(secret: bytes) -> dict[str, bytes]:
    """The forms a secret could take in an output, each long enough to be unambiguous."""
    forms = {"raw": secret, "stripped": secret.strip()}
    for k in range(3):  # base64 of the value at each alignment inside a longer blob
        for name, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            blob = enc(b"\0" * k + secret)
            forms[f"{name}@{k}"] = blob[4 if k else 0 : -4]
    forms["hex"] = secret.hex().encode()
    forms["HEX"] = secret.hex().upper().encode()
    forms["bytes-repr"] = repr(secret)[2:-1].encode()
    forms["percent"] = quote(secret).encode()
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        return forms
    forms["json-ascii"] = json.dumps(text)[1:-1].encode()
    forms["str-repr"] = repr(text)[1:-1].encode("utf-8", "backslashreplace")
    return forms


NEEDLES = [
    (f"value {i} {form}", needle)
    for i, secret in enumerate(VALUES)
    for form, needle in _needles(secret).items()
] + [
    (f"token {i} {form}", needle)
    for i, token in enumerate(TOKENS)
    for form, needle in _needles(token.encode()).items()
]


def _hits(text: str | bytes) -> list[str]:
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return [label for label, needle in NEEDLES if needle and needle in blob]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}")


@dataclass
class Outputs:
    """Everything every run produced, labelled by where it came from."""

    texts: list[tuple[str, str | bytes]] = field(default_factory=list)
    log_lines: int = 0

    def add(self, label: str, text: str | bytes) -> None:
        self.texts.append((label, text))

    def leaks(self) -> list[str]:
        return [f"{label}: {hit}" for label, text in self.texts for hit in _hits(text)]


@dataclass
class Harness:
    sb: Sandbox
    tmp: Path
    capsys: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    outputs: Outputs
    handler: _ListHandler
    base: Env  # what every run starts from: the client backs off without sleeping
    codes: list[tuple[str, int | str]] = field(default_factory=list)

    @property
    def summary(self) -> Path:
        return self.tmp / "step-summary.md"

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            **ENV,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": self.sb.url,
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }
        return {**base, **extra}

    def cli_env(self, environ: dict[str, str] | None = None) -> Env:
        """An Env for one run: `environ` (default: `env()`) and fresh in-memory streams."""
        environ = self.env() if environ is None else environ
        return replace(self.base, environ=environ, stdout=io.StringIO(), stderr=io.StringIO())

    def streams(self, env: Env) -> tuple[str, str]:
        """What a run wrote: to its Env's streams, then anything to the process's."""
        out, err = output(env)
        captured = self.capsys.readouterr()
        return out + captured.out, err + captured.err

    def run(self, args: list[str], env: dict[str, str] | None = None) -> int | str:
        """Run the CLI in-process at every verbosity; collect whatever it produced."""
        last: int | str = ""
        for flags in VERBOSITY:
            label = " ".join([*flags, *args[:1], *(a for a in args[1:] if a.startswith("--"))])
            self.capsys.readouterr()
            self.caplog.clear()
            run_env = self.cli_env(env)
            with _library_logs(self.handler):
                try:
                    last = cli.main([*flags, *args], run_env)
                except Exception as e:  # --debug lets errors through as tracebacks
                    last = type(e).__name__
                    self.outputs.add(f"{label} traceback", "".join(traceback.format_exception(e)))
                    self.outputs.add(f"{label} exception repr", repr(e) + repr(e.args))
            out, err = self.streams(run_env)
            self.outputs.add(f"{label} stdout", out)
            self.outputs.add(f"{label} stderr", err)
            self.outputs.add(f"{label} caplog", self.caplog.text)
            for record in self.caplog.records:
                self.outputs.add(f"{label} caplog record", f"{record.msg!r} {record.args!r}")
            self.codes.append((label, last))
        return last

    def collect_files(self) -> None:
        for path in sorted(self.tmp.rglob("*")):
            if path.is_file() and "values" not in path.parts and path.suffix != ".yaml":
                self.outputs.add(f"file {path.name}", path.read_bytes())
        self.outputs.add("library log records", "\n".join(self.handler.lines))
        self.outputs.log_lines = len(self.handler.lines)


class _library_logs:  # noqa: N801 - used as a context manager
    """Also capture the library loggers directly: the CLI's `logging.basicConfig(force=True)`
    replaces the root logger's handlers, caplog's included. On exit the root logger gets its
    handlers back, so no handler is left writing to this run's captured (then closed) stderr."""

    NAMES = ("reconciler", "urllib3", "requests")

    def __init__(self, handler: logging.Handler) -> None:
        self.handler = handler
        self.root_handlers: list[logging.Handler] = []
        self.root_level = logging.WARNING

    def __enter__(self) -> None:
        self.root_handlers = list(logging.root.handlers)
        self.root_level = logging.root.level
        for name in self.NAMES:
            logging.getLogger(name).addHandler(self.handler)

    def __exit__(self, *exc: object) -> None:
        for name in self.NAMES:
            logging.getLogger(name).removeHandler(self.handler)
        logging.root.handlers[:] = self.root_handlers
        logging.root.setLevel(self.root_level)


@pytest.fixture
def harness(
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Harness]:
    sb = make_sandbox(admin_token=TOKEN)
    for name in ("web", "api", "infra"):
        sb.add_repo(f"{ORG}/{name}")
    sb.put_secret(ORG, "dependabot", "STALE", b"stale", visibility="all")
    sb.put_secret(f"{ORG}/web", "actions", "REPO_ENV", b"old")
    sb.add_token(
        READ_ONLY_TOKEN,
        {
            "metadata": "read",
            "organization_dependabot_secrets": "read",
            "organization_secrets": "read",
            "secrets": "read",
        },
    )
    (tmp_path / "values").mkdir()
    (tmp_path / "values/file.txt").write_bytes(FILE_VALUE)
    (tmp_path / "values/binary.bin").write_bytes(BINARY_VALUE)
    write_manifest(tmp_path, MANIFEST)
    caplog.set_level(logging.DEBUG)
    # The error paths retry: the client backs off and waits without sleeping.
    base = replace(cli_env(), sleep=lambda seconds: None)
    h = Harness(sb, tmp_path, capsys, caplog, Outputs(), _ListHandler(), base)
    yield h
    h.collect_files()
    leaks = h.outputs.leaks()
    assert leaks == [], "secret material in outputs:\n" + "\n".join(leaks)


def _manifest(h: Harness) -> str:
    return str(h.tmp / "secrets.yaml")


def _assert_values_reached_github(sb: Sandbox) -> None:
    """The runs did carry the values: the leak scan is not vacuous."""
    org = sb.secrets(ORG, "dependabot")
    assert org["ORG_ENV"].value == ORG_ENV_VALUE.encode()
    assert org["ORG_FILE"].value == FILE_VALUE
    assert sb.secrets(ORG, "actions")["ORG_BIN"].value == BINARY_VALUE
    assert sb.secrets(f"{ORG}/web", "actions")["REPO_ENV"].value == ENV_VALUE.encode()


def test_validate_never_shows_values(harness: Harness) -> None:
    assert harness.run(["validate", _manifest(harness)]) == 0
    assert harness.run(["validate", _manifest(harness), "--resolve-values"]) == 0
    plaintext = harness.tmp / "plaintext.yaml"
    plaintext.write_text(
        f"version: 1\norgs:\n  {ORG}:\n    actions:\n      secrets:\n"
        f'        DB_PASSWORD: {{value: "{PLAINTEXT_VALUE}"}}\n',
        encoding="utf-8",
    )
    env = harness.env(GITHUB_ACTIONS="true")  # manifest errors also become annotations
    assert harness.run(["validate", str(plaintext)], env) in (1, "ManifestError")
    assert any("plaintext values are not allowed" in str(t) for _, t in harness.outputs.texts)


def test_plan_in_every_format_never_shows_values(harness: Harness) -> None:
    for fmt in ("text", "json", "markdown"):
        code = harness.run(["plan", _manifest(harness), "--format", fmt, "--values", "always"])
        assert code == 0
    out = harness.tmp / "plan.json"
    assert harness.run(["plan", _manifest(harness), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "reconciler-plan"
    assert harness.summary.read_text(encoding="utf-8").count("### reconciler plan") == 12


def test_apply_in_every_format_never_shows_values(harness: Harness) -> None:
    for fmt in ("text", "json", "markdown"):
        results = harness.tmp / f"results-{fmt}.json"
        args = ["apply", _manifest(harness), "--format", fmt, "--values", "always"]
        assert harness.run([*args, "--write-delay", "0", "--results", str(results)]) == 0
        assert json.loads(results.read_text(encoding="utf-8"))["summary"]["done"] == 5
    _assert_values_reached_github(harness.sb)
    assert "### reconciler apply" in harness.summary.read_text(encoding="utf-8")
    assert harness.handler.lines, "the debug runs logged nothing: capture is broken"


def test_apply_of_a_saved_plan_never_shows_values(harness: Harness) -> None:
    plan = harness.tmp / "reviewed.json"
    results = harness.tmp / "results.json"
    for flags in VERBOSITY:
        run_env = harness.cli_env()
        args = ["plan", _manifest(harness), "--values", "always", "--out", str(plan)]
        assert cli.main([*flags, *args], run_env) == 0
        harness.outputs.add(f"{flags} reviewed plan", plan.read_bytes())
        applied = cli.main(
            [*flags, "apply", str(plan), "--write-delay", "0", "--results", str(results)],
            run_env,
        )
        assert applied == 0
        out, err = harness.streams(run_env)
        harness.outputs.add(f"{flags} saved-plan stdout", out)
        harness.outputs.add(f"{flags} saved-plan stderr", err)
        harness.outputs.add(f"{flags} saved-plan results", results.read_bytes())
    _assert_values_reached_github(harness.sb)


def test_error_paths_never_show_values_or_tokens(harness: Harness) -> None:
    manifest = _manifest(harness)
    apply = ["apply", manifest, "--write-delay", "0", "--values", "always"]
    # A token GitHub does not know, for reads and for the apply.
    assert harness.run(["plan", manifest], harness.env(GITHUB_TOKEN=WRONG_TOKEN)) in (1, "ApiError")
    assert harness.run(apply, harness.env(GITHUB_TOKEN=WRONG_TOKEN)) in (1, "ApiError")
    # A token that may read but not write: every write fails with a 403.
    results = harness.tmp / "results-denied.json"
    denied = harness.run(
        [*apply, "--results", str(results)], harness.env(GITHUB_TOKEN=READ_ONLY_TOKEN)
    )
    assert denied == 1
    assert "permission denied" in results.read_text(encoding="utf-8")
    # Server errors on every write, after the values were sealed.
    harness.sb.add_fault(Fault(kind="status", status=502, method="PUT"))
    assert harness.run([*apply, "--format", "json", "--results", str(results)]) == 1
    harness.sb.clear_faults()
    # A source that cannot be read, next to ones that can.
    env = harness.env()
    del env["REPO_ENV_TOKEN"]
    assert harness.run(apply, env) in (1, "PlanProblemsError")
    assert harness.sb.secrets(ORG, "dependabot").keys() == {"STALE"}


def test_reprs_never_show_values(harness: Harness, tmp_path: Path) -> None:
    desired = load_manifests([_manifest(harness)]).desired
    harness.outputs.add("repr DesiredState", repr(desired))
    harness.outputs.add("str DesiredState", str(desired))
    for secret in desired.items():
        harness.outputs.add(f"repr source {secret.name}", repr(secret.source))
        assert isinstance(secret.source, EnvSource | FileSource)  # the manifest seals nothing
        value = resolve(secret.source, ENV, ())
        assert value.reveal() in VALUES  # the scan below would catch it, if it showed
        harness.outputs.add(f"repr value {secret.name}", repr(value))
        harness.outputs.add(f"str value {secret.name}", f"{value} {value!s} {value!r}")
        harness.outputs.add(f"repr value in a container {secret.name}", repr([value, {1: value}]))

    options = ApplyOptions(Resolver(ENV, ("*_TOKEN",)), 0)
    harness.outputs.add("repr ApplyOptions", repr(options))
    config = ClientConfig(api_url=harness.sb.url, token=TOKEN)
    harness.outputs.add("repr ClientConfig", repr(config))
    client = GitHubClient(config)
    try:
        harness.outputs.add("repr GitHubClient", repr(client))
        from reconciler.live import read_live

        live, _ = read_live(desired, client)
        plan = diff(desired.groups, live, ValuePolicy.ALWAYS)
        harness.outputs.add("repr LiveState", repr(live))
        harness.outputs.add("repr Plan", repr(plan))
        values = resolve_values(
            plan, {(s.scope, s.app, s.kind, s.name): s for s in desired.items()}, options
        )
        assert len(values) == 5
        harness.outputs.add("repr resolved values", repr(values))
    finally:
        client.close()
    assert Scope(ScopeKind.ORG, ORG) in {k[0] for k in values}
    assert App.ACTIONS in {k[1] for k in values}


@pytest.mark.parametrize("secret", [*VALUES, TOKEN.encode()])
def test_the_scan_finds_every_form_of_a_value(secret: bytes) -> None:
    """The detector itself: each encoding, embedded in surrounding text, is a hit."""
    for k in range(3):
        assert _hits(b"x" + base64.b64encode(b"pad"[:k] + secret + b"tail") + b"x")
        assert _hits(base64.urlsafe_b64encode(b"pad"[:k] + secret))
    assert _hits(b"<" + secret + b">")
    assert _hits(f"log: {secret.hex()} end")
    assert _hits(f"{secret!r}")
    assert _hits(f"{{'v': {secret.hex().upper()}}}")
    assert _hits(quote(secret))
    try:
        text = secret.decode()
    except UnicodeDecodeError:
        return
    assert _hits(json.dumps({"v": text}))
    assert _hits(repr({"v": text}))
    assert not _hits(text[:8] + "..." + text[-8:])


def test_store_sources_never_show_values_or_the_age_identity(harness: Harness) -> None:
    """age, AWS (a real moto server) and command values, read by every command and by the
    plan that reads none: no decrypted, fetched or printed value, and no age secret key, in
    any output or file."""
    values = harness.tmp / "values"
    key = keygen(values, "ci")
    armored = age_encrypt(AGE_VALUE.encode(), key.recipient)
    (values / "store.age.yaml").write_text(value_file([key.recipient], {"V": armored}))
    (values / "print.py").write_text(f"print({COMMAND_VALUE!r})\n", encoding="utf-8")
    (harness.tmp / "moto").mkdir()
    moto = MotoServer(harness.tmp / "moto")
    try:
        moto.client("secretsmanager").create_secret(
            Name="prod/leak", SecretString=json.dumps({"token": AWS_VALUE})
        )
        manifest = write_manifest(
            harness.tmp,
            f"""
            version: 1
            repos:
              octo-org/infra:
                actions:
                  secrets:
                    FROM_AGE: {{value: {{age: values/store.age.yaml, key: V}}}}
                    FROM_AWS: {{value: {{aws: prod/leak, json_key: token}}}}
                    FROM_COMMAND: {{value: {{command: ["{sys.executable}", "values/print.py"]}}}}
            """,
            name="stores.yaml",
        )
        env = harness.env(
            RECONCILER_AGE_IDENTITY=key.secret,
            RECONCILER_ALLOW_COMMANDS="1",
            RECONCILER_LEDGER=str(harness.tmp / "ledger.json"),
            RECONCILER_LEDGER_KEY="leak-test-ledger-key-0123456789",
            **ANYONE.environ(moto.url),
        )
        assert harness.run(["validate", str(manifest), "--resolve-values"], env) == 0
        for fmt in ("text", "json", "markdown"):
            assert harness.run(["plan", str(manifest), "--format", fmt], env) == 0
        apply = ["apply", str(manifest), "--write-delay", "0"]
        assert harness.run(apply, env) == 0
        assert harness.run(["plan", str(manifest), "--values", "none"], env) == 0
    finally:
        moto.stop()
    written = harness.sb.secrets(f"{ORG}/infra", "actions")
    assert {n: r.value for n, r in written.items()} == {
        "FROM_AGE": AGE_VALUE.encode(),
        "FROM_AWS": AWS_VALUE.encode(),
        "FROM_COMMAND": COMMAND_VALUE.encode(),
    }
    harness.collect_files()
    assert not [label for label, text in harness.outputs.texts if key.secret in str(text)]
