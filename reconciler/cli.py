"""Command line: the parser built from the command modules, logging setup, and the one error
boundary. `main(argv, env)` runs one command line in an `Env` and returns its exit status."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, NoReturn, Protocol, TextIO

from reconciler import __version__
from reconciler.commands import (
    apply,
    baseline,
    completion,
    demo,
    encrypt,
    import_,
    ledger,
    plan,
    sandbox,
    schemas,
    seal,
    validate,
)
from reconciler.commands.manual import manual
from reconciler.env import Env
from reconciler.errors import ExitStatus, ManifestError, Problem, ReconcilerError, UsageError
from reconciler.safe_text import printable_block

log = logging.getLogger("reconciler")


class _Command(Protocol):
    """What a module in `reconciler.commands` provides."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    @property
    def Options(self) -> type[_Options]: ...  # noqa: N802 - the module's class

    def run(self, options: Any, env: Env) -> int: ...


class _Options(Protocol):
    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Any: ...


# In the order `--help` lists them.
COMMANDS: tuple[_Command, ...] = (
    validate,
    plan,
    apply,
    baseline,
    ledger,
    import_,
    seal,
    encrypt,
    sandbox,
    demo,
    schemas,
    completion,
)


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


class _CommandParser(_Parser):
    """A (sub)command's parser: it takes the global flags too, after the command's name. Their
    SUPPRESS default keeps it from overwriting a value given before the name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
        self.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP
        )


_DEBUG_HELP = "show tracebacks and debug logs"
_VERBOSE_HELP = "log progress details"


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reconciler", description="GitHub secrets as code.")
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)
    for command in COMMANDS:
        text = manual(command.NAME)
        command_parser = sub.add_parser(
            command.NAME,
            help=command.HELP,
            description=(text.description if text else "") or command.HELP,
            epilog=text.epilog() if text else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(command_parser)
        # Raw, for the epilog's layout; so the description is wrapped here.
        command_parser.description = textwrap.fill(command_parser.description or "", 78)
        if command is completion:  # it prints the completion of the whole parser
            command_parser.set_defaults(parser=parser)
    return parser


def _command(name: str) -> _Command:
    return next(command for command in COMMANDS if name == command.NAME)


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
    """Writes to the stderr of the `main` running now; outside one, to whatever sys.stderr is
    at emit time, so a replaced stream (tests, embedding applications) never receives records
    after it was closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.target: TextIO | None = None

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self.target is None else self.target

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _SafeFormatter(logging.Formatter):
    """Log records carry API data (paths, names, GitHub's messages): escaped like all output."""

    def format(self, record: logging.LogRecord) -> str:
        return printable_block(super().format(record))


_LOG_HANDLER = _StderrHandler()
_LOG_HANDLER.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))


def _configure_logging(ns: argparse.Namespace, stream: TextIO) -> None:
    """Only the `reconciler` logger: the CLI never reconfigures an embedding program's root."""
    level = logging.WARNING
    if ns.verbose:
        level = logging.INFO
    if ns.debug:
        level = logging.DEBUG
    if _LOG_HANDLER not in log.handlers:
        log.addHandler(_LOG_HANDLER)
    _LOG_HANDLER.target = stream
    log.setLevel(level)


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    """Run one command line in `env` (default: this process's) and return its exit status."""
    env = Env.from_process() if env is None else env
    if env.run is None:
        env = replace(env, run=main)  # for commands that run others (demo)
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    log_stream = _LOG_HANDLER.target  # an outer `main`'s (demo's steps), restored at the end
    try:
        ns = _build_parser().parse_args(argv)
        _configure_logging(ns, env.stderr)
        command = _command(ns.command)
        return int(command.run(command.Options.from_args(ns), env))
    except ReconcilerError as e:
        if debug:
            raise
        _annotate(e, env.environ, env.stdout)
        env.stderr.write(f"error: {e.render()}\n")
        return int(e.exit_status)
    except KeyboardInterrupt:
        env.stderr.write("interrupted\n")
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`reconciler ledger show | head`): nothing is left to tell it.
        _silence_stdout(env.stdout)
        return int(ExitStatus.OUTPUT_CLOSED)
    except Exception as e:
        if debug:
            raise
        env.stderr.write(
            f"internal error: {type(e).__name__} (exit {int(ExitStatus.BUG)}). This is a bug in "
            "reconciler, not in your manifest; re-run with --debug for the traceback and report it."
            "\n"
        )
        return int(ExitStatus.BUG)
    finally:
        _LOG_HANDLER.target = log_stream


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


def console_main() -> NoReturn:
    sys.exit(main())
