"""Command line: argparse subcommands, logging setup, and the one error boundary."""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import NoReturn, TextIO

from reconciler import __version__
from reconciler.commands import apply, demo, import_, ledger, plan, sandbox, seal, validate
from reconciler.errors import (
    ExitStatus,
    ManifestError,
    Problem,
    ReconcilerError,
    UsageError,
)
from reconciler.github.transport import DEFAULT_API_URL
from reconciler.ledger.stores import DEFAULT_LEDGER_PATH
from reconciler.model import App, DriftPolicy
from reconciler.plan import ValuePolicy
from reconciler.safe_text import printable_block

log = logging.getLogger("reconciler")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "changes present" here, so raise 64 instead.

    argparse quotes the offending argument in its messages; a value pasted where a flag or name
    belongs (`seal --app actions ghp_...`) must not come back on the terminal and into CI logs, so
    every argument that is not option-shaped is replaced before the message is shown."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        _ARGV.set(tuple(sys.argv[1:] if args is None else args))
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(describe_extra_arguments(extras))
        return parsed

    def error(self, message: str) -> NoReturn:
        raise UsageError(
            f"{self.prog}: {redact_arguments(message, _ARGV.get())}",
            hint=f"see `{self.prog} --help`",
        )


# The argv being parsed, for `_Parser.error`; a ContextVar so concurrent `main` calls
# (tests, embedding programs) never see each other's arguments.
_ARGV: ContextVar[tuple[str, ...]] = ContextVar("argv", default=())
_OPTION = re.compile(r"-{1,2}[A-Za-z][A-Za-z0-9-]*")
_NOT_SHOWN = "<argument not shown>"


def redact_arguments(message: str, argv: Sequence[str]) -> str:
    """`message` with every non-option argument (and the value part of `--opt=value`) hidden."""
    for word in sorted(set(argv), key=len, reverse=True):
        values = [word.split("=", 1)[1]] if "=" in word else []
        if not _OPTION.fullmatch(word):
            values.append(word)
        for value in values:
            if value:
                message = message.replace(repr(value), _NOT_SHOWN)
    return message


def describe_extra_arguments(extras: Sequence[str]) -> str:
    """Unrecognized arguments, named only when they are option-shaped."""
    shown = [
        word.split("=", 1)[0] + ("=..." if "=" in word else "")
        for word in extras
        if _OPTION.fullmatch(word.split("=", 1)[0])
    ]
    hidden = len(extras) - len(shown)
    if hidden:
        plural = "s" if hidden > 1 else ""
        shown.append(f"{hidden} positional argument{plural} (not shown)")
    return "unrecognized arguments: " + ", ".join(shown)


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
            help="also allow env variables matching PATTERN as value sources (a well-known "
            "cloud/runner credential only by its exact name)",
        )

    def connection(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--api-url",
            help=f"REST API base URL (default: $GITHUB_API_URL or {DEFAULT_API_URL}; "
            "GHES: https://HOST/api/v3; GHE.com: https://api.SUBDOMAIN.ghe.com)",
        )
        p.add_argument("--api-version", help="send this X-GitHub-Api-Version on every request")
        p.add_argument(
            "--concurrency",
            type=_concurrency,
            default=8,
            help=f"reads in flight (1 to {MAX_CONCURRENCY}, default 8)",
        )
        p.add_argument(
            "--max-wait",
            type=_seconds,
            default=120.0,
            help="longest rate-limit wait in seconds before giving up",
        )
        p.add_argument(
            "--timeout",
            type=_timeout,
            default=30.0,
            help="seconds one network read may wait (default 30); a whole answer may take "
            "4 times as long",
        )

    def ledger(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--ledger",
            metavar="LOCATION",
            help=f"the value ledger: a file (default: $RECONCILER_LEDGER or {DEFAULT_LEDGER_PATH})"
            " or github:OWNER/REPO[@BRANCH]:PATH",
        )

    def remote(p: argparse.ArgumentParser) -> None:
        connection(p)
        ledger(p)
        p.add_argument("--no-ledger", action="store_true", help="neither read nor write a ledger")
        p.add_argument(
            "--drift",
            choices=[d.value for d in DriftPolicy],
            help="override the manifest's drift policy (default overwrite)",
        )
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
    p_plan.add_argument(
        "--comment",
        action="store_true",
        help="post the markdown plan as one pull-request comment, updated on re-runs "
        "(GitHub Actions pull_request events)",
    )
    p_plan.add_argument("--pr", metavar="OWNER/REPO#N", help="the pull request to comment on")

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
        type=_fraction,
        default=0.30,
        help="refuse to delete more than this fraction of a scope's secrets (default 0.30)",
    )
    p_apply.add_argument(
        "--delete-threshold-min",
        type=_int_between(0, 1_000_000),
        default=10,
        help="the delete threshold applies to scopes with at least this many secrets",
    )

    p_ledger = sub.add_parser("ledger", parents=[common], help="inspect or edit the value ledger")
    ledger_sub = p_ledger.add_subparsers(dest="ledger_command", required=True, parser_class=_Parser)
    for name, text in (("show", "list the ledger's entries"), ("forget", "drop entries")):
        p = ledger_sub.add_parser(name, parents=[common], help=text)
        connection(p)
        ledger(p)
        if name == "forget":
            p.add_argument("names", nargs="+", metavar="NAME", help="secret names (any scope)")

    p_import = sub.add_parser(
        "import", parents=[common], help="write a manifest of the secrets that exist now"
    )
    connection(p_import)
    p_import.add_argument("--org", action="append", default=[], help="organization to import")
    p_import.add_argument(
        "--repo", action="append", default=[], metavar="OWNER/REPO", help="repository to import"
    )
    p_import.add_argument(
        "--app", action="append", choices=[a.value for a in App], help="apps (default: all)"
    )
    p_import.add_argument("--out", metavar="FILE", help="write the manifest here, not stdout")

    p_seal = sub.add_parser(
        "seal", parents=[common], help="seal a value from stdin for a `sealed` source"
    )
    connection(p_seal)
    p_seal.add_argument("--org", help="organization whose public key seals the value")
    p_seal.add_argument("--repo", metavar="OWNER/REPO", help="repository whose key seals it")
    p_seal.add_argument("--app", required=True, choices=[a.value for a in App])
    p_seal.add_argument(
        "--strip", action="store_true", help="drop trailing newlines from the value"
    )

    p_sandbox = sub.add_parser(
        "sandbox", parents=[common], help="run the local GitHub secrets sandbox"
    )
    p_sandbox.add_argument("--seed", metavar="FILE", help="YAML/JSON state to start with")
    p_sandbox.add_argument(
        "--port", type=_int_between(0, 65535), default=0, help="port (default: any free port)"
    )
    p_sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p_sandbox.add_argument("--dump", metavar="FILE", help="write the final state here on exit")

    p_demo = sub.add_parser(
        "demo", parents=[common], help="plan and apply the examples against an embedded sandbox"
    )
    p_demo.add_argument("paths", nargs="*", default=["examples"], metavar="PATH")
    p_demo.add_argument("--seed", default="examples/sandbox/seed.json", metavar="FILE")
    return parser


# Flag bounds. Messages never quote the text given (see `_Parser`).
MAX_SECONDS = 86_400.0  # a day: longer pacing or rate-limit waits are a typo, not a plan
MAX_CONCURRENCY = 64  # GitHub's secondary limits start near 100 concurrent requests


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, not infinity or NaN")
    return value


def _seconds(text: str) -> float:
    value = _number(text, "a number of seconds")
    if not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SECONDS:.0f} seconds")
    return value


def _timeout(text: str) -> float:
    value = _number(text, "a number of seconds")
    if not 0.01 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0.01 and 3600 seconds")
    return value


def _fraction(text: str) -> float:
    value = _number(text, "a fraction between 0 and 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a fraction between 0 and 1 (0.3 = 30 %)")
    return value


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return value

    return parse


_concurrency = _int_between(1, MAX_CONCURRENCY)


_COMMANDS = {
    "validate": validate.cmd_validate,
    "plan": plan.cmd_plan,
    "apply": apply.cmd_apply,
    "ledger": ledger.cmd_ledger,
    "import": import_.cmd_import,
    "sandbox": sandbox.cmd_sandbox,
}


# -- the error boundary ------------------------------------------------------------------------


def _annotate(err: ReconcilerError, environ: Mapping[str, str], stream: TextIO) -> None:
    """In GitHub Actions, manifest problems also become inline annotations on the PR."""
    if environ.get("GITHUB_ACTIONS") != "true" or not isinstance(err, ManifestError):
        return
    for p in err.problems:
        stream.write(_workflow_command(p) + "\n")


def _workflow_command(p: Problem) -> str:
    """One `::error` line. Every part can come from data (a file name in the manifest
    directory, a name in it): controls are escaped first, then the command's own encoding makes
    the whole annotation one line, so nothing in it can start another command."""

    def esc(text: str) -> str:
        text = printable_block(text)
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


class _SafeFormatter(logging.Formatter):
    """Log records carry API data (paths, names, GitHub's messages): escaped like all output."""

    def format(self, record: logging.LogRecord) -> str:
        return printable_block(super().format(record))


def _configure_logging(level: int) -> None:
    """Only the `reconciler` logger: the CLI never reconfigures an embedding program's root."""
    for handler in list(log.handlers):
        if isinstance(handler, _StderrHandler):
            log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = _build_parser().parse_args(argv)
        level = logging.WARNING
        if args.verbose:
            level = logging.INFO
        if args.debug:
            level = logging.DEBUG
        _configure_logging(level)
        if args.command == "seal":
            return int(seal.cmd_seal(args, environ, out, stdin or sys.stdin))
        if args.command == "demo":
            return int(
                demo.cmd_demo(args, environ, out, lambda argv, env, o: main(argv, env, out=o))
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
    except BrokenPipeError:
        # The reader went away (`reconciler ledger show | head`): nothing is left to tell it.
        _silence_stdout(out)
        return int(ExitStatus.OUTPUT_CLOSED)
    except Exception as e:
        if debug:
            raise
        sys.stderr.write(
            f"internal error: {type(e).__name__} (exit {int(ExitStatus.BUG)}). This is a bug in "
            "reconciler, not in your manifest; re-run with --debug for the traceback and report it."
            "\n"
        )
        return int(ExitStatus.BUG)


def _silence_stdout(out: TextIO) -> None:
    """Point a closed stdout at /dev/null, so the interpreter's final flush does not report the
    broken pipe a second time as an ignored exception."""
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _run_step(argv: Sequence[str], environ: Mapping[str, str], out: TextIO) -> int:
    return main(argv, environ, out=out)


def console_main() -> NoReturn:
    sys.exit(main())
