"""`reconciler encrypt`: encrypt a value from stdin into an age value file, for an `age` source.

The value is read as `seal` reads it: typed without echo on a terminal (twice here, since a
typo would be committed unseen), piped input byte for byte with a kept trailing newline said on
stderr unless `--strip-newline`. It is encrypted to every recipient the file lists; a new file
takes them from `--recipient`. An existing name is rotated, every other value stays byte for
byte. Nothing is checked against GitHub: no token, no network."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from reconciler.commands.arguments import add_strip_newline_argument
from reconciler.env import Env
from reconciler.errors import ExitStatus, UsageError

NAME = "encrypt"
HELP = "encrypt a value from stdin into an age value file, for an `age` source"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", help="the age value file (e.g. values/prod.age.yaml)"
    )
    parser.add_argument(
        "name", metavar="NAME", help="the value's name in the file; a name already there is rotated"
    )
    parser.add_argument(
        "-r",
        "--recipient",
        dest="recipients",
        action="append",
        default=[],
        metavar="AGE1...",
        help="a public key to encrypt to (repeatable); needed to create the file, and then "
        "the file's own `recipients` are used",
    )
    add_strip_newline_argument(parser, "encrypted")


@dataclass(frozen=True, slots=True)
class Options:
    file: str
    name: str
    recipients: tuple[str, ...] = ()
    strip: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(ns.file, ns.name, tuple(ns.recipients), ns.strip)


def run(options: Options, env: Env) -> int:
    """Everything that can be refused is checked before the value is asked for."""
    from reconciler.safe_text import printable
    from reconciler.values.age_files import recipients_for, set_value
    from reconciler.values.age_format import name_problem, recipient_problem

    problem = name_problem(options.name)
    if problem:
        raise UsageError(f"NAME {problem}", hint="e.g. reconciler encrypt FILE NPM_TOKEN")
    for number, recipient in enumerate(options.recipients, 1):
        problem = recipient_problem(recipient)
        if problem:
            raise UsageError(f"--recipient {number} {problem}")
    path = Path(options.file)
    if not (options.recipients or os.path.lexists(path)):
        raise UsageError(
            f"{printable(options.file)} does not exist; a new value file needs --recipient",
            hint="give each public key with --recipient age1… (`age-keygen -y KEYFILE` prints "
            "yours)",
        )
    listed = recipients_for(path, None if os.path.lexists(path) else options.recipients)
    if options.recipients and set(options.recipients) != set(listed):
        raise UsageError(
            f"{printable(options.file)} lists other recipients than --recipient gives",
            hint="leave out --recipient to encrypt to the file's own recipients; to change "
            "them, edit `recipients:` and re-encrypt every value",
        )
    data = read_value(env.stdin, env.stderr, strip=options.strip)
    written = set_value(path, options.name, data, options.recipients)
    shown, name = printable(options.file), printable(options.name)
    plural = "" if written.recipients == 1 else "s"
    if written.created:
        did = f"created {shown} with {name}"
    elif written.rotated:
        did = f"rotated {name} in {shown}"
    else:
        did = f"added {name} to {shown}"
    env.stdout.write(f"{did} (encrypted to {written.recipients} recipient{plural})\n")
    if not written.kept_layout:
        env.stderr.write(
            f"note: rewrote {shown} in the layout reconciler writes; comments in it were not "
            "kept (its other values' ciphertext was)\n"
        )
    return ExitStatus.OK


_PROMPT = "value (not shown; Enter ends it): "
_AGAIN = "again, to confirm: "


def read_value(stdin: TextIO, stderr: TextIO, *, strip: bool) -> bytes:
    """Like `seal.read_value`, but a typed value is typed twice and must match."""
    from reconciler.commands.seal import read_value as read_once

    if not (hasattr(stdin, "isatty") and stdin.isatty()):
        try:
            return read_once(stdin, stderr, strip=strip)
        except UsageError as e:  # seal's hint names seal
            raise UsageError(e.message, hint=_PIPE_HINT if e.hint else None) from None
    first = _checked(_typed(stdin, stderr, _PROMPT))
    if first != _typed(stdin, stderr, _AGAIN):
        raise UsageError("the two values typed differ; nothing was written", hint="type it again")
    return first


_PIPE_HINT = "e.g. reconciler encrypt FILE NAME < value.txt"


def _typed(stdin: TextIO, stderr: TextIO, prompt: str) -> bytes:
    from reconciler.commands.seal import _no_echo, _read
    from reconciler.values.sources import MAX_VALUE_BYTES

    try:
        with _no_echo(stdin):  # off before the prompt: nothing typed after it is echoed
            stderr.write(prompt)
            stderr.flush()
            data = _read(stdin, MAX_VALUE_BYTES + 1, line=True)
    except UsageError as e:  # only entering can raise it: echo could not be turned off
        raise UsageError(e.message, hint=f"pipe the value instead: {_PIPE_HINT}") from None
    stderr.write("\n")
    return data.removesuffix(b"\n").removesuffix(b"\r")


def _checked(data: bytes) -> bytes:
    from reconciler.values.sources import MAX_VALUE_BYTES

    if not data:
        raise UsageError("no value typed", hint=_PIPE_HINT)
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError("the value is larger than GitHub's 48 KB limit")
    return data
