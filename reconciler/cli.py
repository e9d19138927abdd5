"""Command line: argparse subcommands, logging setup, and the one error boundary."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

from reconciler import __version__
from reconciler.errors import (
    ExitStatus,
    ManifestError,
    PlanMismatchError,
    Problem,
    ReconcilerError,
    SandboxError,
    UnsafePlanError,
    UsageError,
)
from reconciler.executor import ApplyOptions, Outcome, Result, apply_plan
from reconciler.github import DEFAULT_API_URL, ClientConfig, GitHubClient
from reconciler.live import read_live
from reconciler.manifest import check_values, load_manifests
from reconciler.model import DesiredState
from reconciler.plan import (
    PLAN_FORMAT,
    Plan,
    Thresholds,
    ValuePolicy,
    diff,
    explain_mismatch,
    stale_sealed_values,
    unsafe_reasons,
)
from reconciler.render import (
    render_json,
    render_markdown,
    render_results_markdown,
    render_results_text,
    render_text,
    result_line,
    results_document,
)

log = logging.getLogger("reconciler")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "changes present" here, so raise 64 instead."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reconciler", description="GitHub secrets as code.")
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    # The same flags after the subcommand; SUPPRESS keeps a subparser's default from
    # overwriting a value given before it.
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def manifests(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or directories")
        p.add_argument(
            "--allow-env",
            action="append",
            default=[],
            metavar="PATTERN",
            help="also allow env variables matching PATTERN as value sources",
        )

    def remote(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--api-url",
            help=f"REST API base URL (default: $GITHUB_API_URL or {DEFAULT_API_URL}; "
            "GHES: https://HOST/api/v3; GHE.com: https://api.SUBDOMAIN.ghe.com)",
        )
        p.add_argument("--api-version", help="send this X-GitHub-Api-Version on every request")
        p.add_argument("--concurrency", type=_positive_int, default=8, help="reads in flight")
        p.add_argument(
            "--values",
            choices=[v.value for v in ValuePolicy],
            default=ValuePolicy.AUTO.value,
            help="which values to write: auto (new or not comparable), skip-unknown, always",
        )
        p.add_argument(
            "--format", choices=["text", "json", "markdown"], default="text", help="output format"
        )
        p.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="exit 2 when changes are present (plan) or were made (apply)",
        )
        p.add_argument(
            "--max-wait",
            type=_seconds,
            default=120.0,
            help="longest rate-limit wait in seconds before giving up",
        )

    p_validate = sub.add_parser("validate", parents=[common], help="check manifests offline")
    manifests(p_validate)
    p_validate.add_argument(
        "--resolve-values",
        action="store_true",
        help="also check every env variable and file exists and is within limits",
    )

    p_plan = sub.add_parser("plan", parents=[common], help="show what apply would change")
    manifests(p_plan)
    remote(p_plan)
    p_plan.add_argument("--out", metavar="FILE", help="write the plan (JSON, no values) here")

    p_apply = sub.add_parser(
        "apply", parents=[common], help="converge GitHub to the manifest (or a saved plan)"
    )
    manifests(p_apply)
    remote(p_apply)
    p_apply.add_argument("--force", action="store_true", help="apply even an unsafe plan")
    p_apply.add_argument(
        "--write-delay", type=_seconds, default=1.0, help="seconds between writes (default 1)"
    )
    p_apply.add_argument("--results", metavar="FILE", help="write the results as JSON here")
    p_apply.add_argument(
        "--delete-threshold",
        type=float,
        default=0.30,
        help="refuse to delete more than this fraction of a scope's secrets (default 0.30)",
    )
    p_apply.add_argument(
        "--delete-threshold-min",
        type=int,
        default=10,
        help="the delete threshold applies to scopes with at least this many secrets",
    )

    p_sandbox = sub.add_parser(
        "sandbox", parents=[common], help="run the local GitHub secrets sandbox"
    )
    p_sandbox.add_argument("--seed", metavar="FILE", help="YAML/JSON state to start with")
    p_sandbox.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    p_sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p_sandbox.add_argument("--dump", metavar="FILE", help="write the final state here on exit")

    p_demo = sub.add_parser(
        "demo", parents=[common], help="plan and apply the examples against an embedded sandbox"
    )
    p_demo.add_argument("paths", nargs="*", default=["examples"], metavar="PATH")
    p_demo.add_argument("--seed", default="examples/sandbox/seed.json", metavar="FILE")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more seconds")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# -- commands ----------------------------------------------------------------------------------


def _load(args: argparse.Namespace, environ: Mapping[str, str]) -> DesiredState:
    result = load_manifests(args.paths, extra_allow_env=tuple(args.allow_env))
    for skipped in result.skipped:
        log.info("skipped %s: not a manifest (no top-level `version` key)", skipped)
    return result.desired


def cmd_validate(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    result = load_manifests(args.paths, extra_allow_env=tuple(args.allow_env))
    if args.resolve_values:
        problems = check_values(result.desired, environ, tuple(args.allow_env))
        if problems:
            raise ManifestError(problems)
    desired = result.desired
    skipped = f"; skipped {len(result.skipped)} non-manifest files" if result.skipped else ""
    out.write(
        f"OK: {len(desired.files)} manifest files, {len(desired.groups)} scope/app groups, "
        f"{len(desired.secrets())} secrets{skipped}.\n"
    )
    return ExitStatus.OK


def _client(args: argparse.Namespace, environ: Mapping[str, str]) -> GitHubClient:
    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or ""
    if not token:
        raise UsageError(
            "no GitHub token: set GITHUB_TOKEN or GH_TOKEN",
            hint="in Actions: env: GITHUB_TOKEN: ${{ secrets.RECONCILER_TOKEN }}",
        )
    api_url = args.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return GitHubClient(
        ClientConfig(
            api_url=api_url,
            token=token,
            api_version=args.api_version,
            max_wait=args.max_wait,
            pool_size=max(16, args.concurrency * 2),
        )
    )


def _make_plan(
    desired: DesiredState, client: GitHubClient, args: argparse.Namespace
) -> tuple[Plan, Any, Any]:
    live, keys = read_live(desired, client, concurrency=args.concurrency)
    stale = stale_sealed_values(desired.secrets(), keys)
    if stale:
        raise ManifestError(stale)
    plan = diff(desired.groups, live, ValuePolicy(args.values), reads=live.requests)
    return plan, live, keys


def _emit_plan(plan: Plan, args: argparse.Namespace, environ: Mapping[str, str], out: TextIO):  # type: ignore[no-untyped-def]
    if args.format == "json":
        out.write(render_json(plan.document()))
    elif args.format == "markdown":
        out.write(render_markdown(plan))
    else:
        out.write(render_text(plan, colour=_colour(out, environ)))
    _append_step_summary(environ, render_markdown(plan))


def _colour(out: TextIO, environ: Mapping[str, str]) -> bool:
    return "NO_COLOR" not in environ and hasattr(out, "isatty") and out.isatty()


def _append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")


def cmd_plan(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    desired = _load(args, environ)
    client = _client(args, environ)
    try:
        plan, _, _ = _make_plan(desired, client, args)
    finally:
        client.close()
    _emit_plan(plan, args, environ, out)
    if args.out:
        doc = plan.document()
        doc["manifests"] = list(args.paths)
        doc["allow_env"] = list(args.allow_env)
        Path(args.out).write_text(render_json(doc), encoding="utf-8")
    return ExitStatus.CHANGES if args.detailed_exitcode and plan.has_changes else ExitStatus.OK


def _saved_plan(paths: Sequence[str]) -> dict[str, Any] | None:
    if len(paths) != 1 or not paths[0].endswith(".json"):
        return None
    try:
        doc = json.loads(Path(paths[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{paths[0]}: cannot read the plan file ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise UsageError(f"{paths[0]}: not a reconciler plan file")
    return doc


def cmd_apply(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    reviewed = _saved_plan(args.paths)
    if reviewed is not None:
        args.paths = reviewed["manifests"]
        args.values = reviewed["values"]
        args.allow_env = list(args.allow_env) + list(reviewed.get("allow_env", []))
    desired = _load(args, environ)
    client = _client(args, environ)
    try:
        plan, live, keys = _make_plan(desired, client, args)
        if reviewed is not None and plan.checksum() != reviewed.get("checksum"):
            lines = explain_mismatch(reviewed, plan.canonical())
            raise PlanMismatchError(
                "the reviewed plan no longer matches: live state or the manifest changed since "
                "it was made; nothing was written.\n"
                + "\n".join(f"  {line}" for line in lines[:20]),
                hint="run `reconciler plan` again, review it, and apply the new plan",
            )
        reasons = unsafe_reasons(
            plan, live, Thresholds(args.delete_threshold, args.delete_threshold_min)
        )
        if reasons and not args.force:
            raise UnsafePlanError(
                "refusing an unsafe plan; nothing was written:\n"
                + "\n".join(f"  {r}" for r in reasons),
                hint="review the plan; re-run with --force if it is intended",
            )
        err = sys.stderr
        progress = _Progress(err, len(plan.actionable), environ)
        with _interruptible() as stopped:
            results = apply_plan(
                plan,
                desired.secrets(),
                live,
                keys,
                client,
                ApplyOptions(
                    environ, tuple(args.allow_env) + desired.settings.allow_env, args.write_delay
                ),
                on_result=progress.update,
                should_stop=stopped.is_set,
            )
    finally:
        client.close()
    progress.done()
    _emit_results(results, plan, args, environ, out)
    if stopped.is_set():
        return ExitStatus.INTERRUPTED
    if any(r.outcome is not Outcome.DONE for r in results):
        return ExitStatus.ERROR
    changed = any(r.outcome is Outcome.DONE for r in results)
    return ExitStatus.CHANGES if args.detailed_exitcode and changed else ExitStatus.OK


def _emit_results(
    results: Sequence[Result],
    plan: Plan,
    args: argparse.Namespace,
    environ: Mapping[str, str],
    out: TextIO,
) -> None:
    doc = results_document(results, plan)
    if args.format == "json":
        out.write(render_json(doc))
    elif args.format == "markdown":
        out.write(render_results_markdown(results, plan))
    else:
        out.write(render_results_text(results))
    if args.results:
        Path(args.results).write_text(render_json(doc), encoding="utf-8")
    _append_step_summary(environ, render_results_markdown(results, plan))


class _Progress:
    """One line per change on stderr; a bar on a TTY for long runs."""

    def __init__(self, err: TextIO, total: int, environ: Mapping[str, str]) -> None:
        self._err = err
        self._total = total
        self._n = 0
        self._bar = total >= 10 and hasattr(err, "isatty") and err.isatty()

    def update(self, result: Result) -> None:
        self._n += 1
        if self._bar:
            self._err.write("\r\x1b[2K")
        self._err.write(result_line(result) + "\n")
        if self._bar:
            filled = int(30 * self._n / self._total)
            self._err.write(f"[{'#' * filled}{'.' * (30 - filled)}] {self._n}/{self._total}")
        self._err.flush()

    def done(self) -> None:
        if self._bar:
            self._err.write("\r\x1b[2K")
            self._err.flush()


@contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """Ctrl-C / SIGTERM during apply: finish the write in flight, skip the rest, report."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped
        return

    def handler(signum: int, frame: object) -> None:
        stopped.set()

    old_int = signal.signal(signal.SIGINT, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def cmd_sandbox(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    from reconciler.sandbox import SandboxConfig, serve

    if args.seed:
        _read_seed(args.seed)  # fail with a clear message before the server starts
    return serve(SandboxConfig(host=args.host, port=args.port), args.seed, args.dump, out)


def cmd_demo(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    """validate -> plan -> apply -> plan, against an embedded sandbox seeded like examples/."""
    from reconciler.sandbox import Sandbox, SandboxConfig
    from reconciler.sources import EnvSource

    with Sandbox(SandboxConfig()) as sb:
        sb.load_seed(_read_seed(args.seed))
        demo_env = dict(environ)
        desired = load_manifests(args.paths).desired
        for secret in desired.secrets():
            if isinstance(secret.source, EnvSource):
                demo_env.setdefault(secret.source.var, f"demo value of {secret.source.var}")
        demo_env.update(GITHUB_TOKEN=sb.token, GITHUB_API_URL=sb.url)
        demo_env.pop("GH_TOKEN", None)
        steps: list[list[str]] = [
            ["validate", *args.paths],
            ["plan", *args.paths],
            ["apply", *args.paths, "--write-delay", "0"],
            ["plan", *args.paths, "--values", "skip-unknown", "--detailed-exitcode"],
        ]
        for step in steps:
            out.write(f"\n$ reconciler {' '.join(step)}\n")
            out.flush()
            code = main(step, demo_env, out=out)
            if code != ExitStatus.OK:
                return code
        out.write(f"\nThe sandbox served {len(sb.requests)} requests.\n")
    return ExitStatus.OK


def _read_seed(path: str) -> dict[str, Any]:
    from reconciler.sandbox.seed import SeedError
    from reconciler.sandbox.serve import read_seed

    try:
        return read_seed(path)
    except (OSError, ValueError, SeedError) as e:
        raise SandboxError(
            f"{path}: cannot load the sandbox seed: {e}",
            hint="see the seed format in reconciler/sandbox/seed.py",
        ) from None


_COMMANDS = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
}


# -- the error boundary ------------------------------------------------------------------------


def _annotate(err: ReconcilerError, environ: Mapping[str, str], stream: TextIO) -> None:
    """In GitHub Actions, manifest problems also become inline annotations on the PR."""
    if environ.get("GITHUB_ACTIONS") != "true" or not isinstance(err, ManifestError):
        return
    for p in err.problems:
        stream.write(_workflow_command(p) + "\n")


def _workflow_command(p: Problem) -> str:
    def esc(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def esc_prop(text: str) -> str:
        return esc(text).replace(":", "%3A").replace(",", "%2C")

    message = f"{p.path}: {p.message}" if p.path else p.message
    if p.hint:
        message += f" (hint: {p.hint})"
    if p.location is None:
        return f"::error::{esc(message)}"
    loc = p.location
    return f"::error file={esc_prop(loc.file)},line={loc.line},col={loc.col}::{esc(message)}"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at emit time, so a replaced stream (tests, embedding
    applications) never receives records after it was closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _configure_logging(level: int) -> None:
    """Only the `reconciler` logger: the CLI never reconfigures an embedding program's root."""
    for handler in list(log.handlers):
        if isinstance(handler, _StderrHandler):
            log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = _build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG
            if args.debug
            else logging.INFO
            if args.verbose
            else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
            force=True,
        )
        return int(_COMMANDS[args.command](args, environ, out))
    except ReconcilerError as e:
        if debug:
            raise
        _annotate(e, environ, out)
        sys.stderr.write(f"error: {e.render()}\n")
        return int(e.exit_status)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitStatus.INTERRUPTED)
    except Exception as e:
        if debug:
            raise
        sys.stderr.write(
            f"internal error: {type(e).__name__}. This is a bug in reconciler; "
            "re-run with --debug for the traceback and report it.\n"
        )
        return int(ExitStatus.ERROR)


def console_main() -> NoReturn:
    sys.exit(main())
