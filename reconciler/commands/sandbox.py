"""`reconciler sandbox`: run the local GitHub sandbox in the foreground; and the seed check
that `demo` shares."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from reconciler.commands.argument_types import int_between
from reconciler.env import Env
from reconciler.errors import SandboxError

NAME = "sandbox"
HELP = "run the local GitHub secrets sandbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", metavar="FILE", help="YAML/JSON state to start with")
    parser.add_argument(
        "--port", type=int_between(0, 65535), default=0, help="port (default: any free port)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--dump", metavar="FILE", help="write the final state here on exit")


@dataclass(frozen=True, slots=True)
class Options:
    seed: str | None = None
    port: int = 0
    host: str = "127.0.0.1"
    dump: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(ns.seed, ns.port, ns.host, ns.dump)


def run(options: Options, env: Env) -> int:
    from reconciler.sandbox import SandboxConfig, serve

    if options.seed:
        read_seed_file(options.seed)  # fail with a clear message before the server starts
    if options.dump:
        check_dump_path(options.dump)
    config = SandboxConfig(host=options.host, port=options.port)
    return serve(config, options.seed, options.dump, env.stdout, notes=env.stderr)


def check_dump_path(path: str) -> None:
    """A dump that could not be written is found now, not after the session it records."""
    from pathlib import Path

    target = Path(path)
    if target.is_dir() or not target.absolute().parent.is_dir():
        what = "is a directory" if target.is_dir() else "is in a directory that does not exist"
        raise SandboxError(
            f"{path}: cannot write the sandbox dump there: it {what}",
            hint="give --dump a file path in an existing directory",
        )


def read_seed_file(path: str) -> dict[str, Any]:
    """The seed, checked by loading it into a sandbox that is never started, so a bad seed is a
    clear error before any server runs."""
    from reconciler.sandbox import Sandbox, SandboxConfig, SeedError, read_seed

    try:
        seed = read_seed(path)
        Sandbox(SandboxConfig()).load_seed(seed)
    except OSError as e:
        raise SandboxError(
            f"{path}: cannot read the sandbox seed: {e.strerror or type(e).__name__}"
        ) from None
    except SeedError as e:
        raise SandboxError(
            f"{path}: not a sandbox seed: {e}",
            hint="see the seed format in reconciler/sandbox/seed.py",
        ) from None
    return seed
