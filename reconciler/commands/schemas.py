"""`reconciler schema`: the published JSON Schemas of manifests and of the tool's JSON outputs,
printed, written next to the manifests for editors, or named by their stable URL. (The module
is `schemas`, what it serves: `schema` would be a letter from the `reconciler/schemas` data.)"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from reconciler import __version__, schema_files
from reconciler.env import Env
from reconciler.errors import ExitStatus

NAME = "schema"
HELP = "print or write the JSON Schema of manifests, plans, apply results or the ledger"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        default="manifest",
        choices=tuple(schema_files.FILES),
        help="which schema (default: manifest)",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="write it to this file, or into this directory under its published name",
    )
    parser.add_argument(
        "--url", action="store_true", help="print the schema's stable URL instead of the schema"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite a --out file that is not a schema of ours"
    )


@dataclass(frozen=True, slots=True)
class Options:
    name: str = "manifest"
    out: str | None = None
    url: bool = False
    force: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(ns.name, ns.out, ns.url, ns.force)


def run(options: Options, env: Env) -> int:
    import os

    from reconciler.errors import OutputExistsError
    from reconciler.local_files import check_writable, write_output

    if options.url:
        env.stdout.write(schema_files.url(options.name) + "\n")
        return ExitStatus.OK
    text = schema_files.path(options.name).read_text("utf-8")
    if options.out is None:
        env.stdout.write(text)
        return ExitStatus.OK
    target = options.out
    if os.path.isdir(target):
        target = os.path.join(target, schema_files.FILES[options.name])
    if os.path.lexists(target) and not options.force and not _ours(target):
        raise OutputExistsError("--out", target)
    check_writable(target, "--out")
    write_output(target, text, "--out")
    env.stdout.write(f"wrote {target} ({options.name} schema of reconciler {__version__})\n")
    if options.name == "manifest":
        env.stdout.write(
            "Editors with the YAML language server use it when a manifest beside it starts with:\n"
            f"# yaml-language-server: $schema={os.path.basename(target)}\n"
        )
    return ExitStatus.OK


def _ours(path: str) -> bool:
    """Whether `path` holds a schema this tool wrote (any version): refreshing it after an
    upgrade needs no --force, overwriting anything else does."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and str(doc.get("$id", "")).startswith(schema_files.HOME + "/")
