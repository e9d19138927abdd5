"""`reconciler demo`: validate -> plan -> apply -> plan against an embedded sandbox."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.env import Env
from reconciler.errors import ExitStatus

NAME = "demo"
HELP = "plan and apply the examples against an embedded sandbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="manifests (default: the examples shipped)"
    )
    parser.add_argument(
        "--seed", metavar="FILE", help="sandbox seed (default: the examples' sandbox/seed.json)"
    )


@dataclass(frozen=True, slots=True)
class Options:
    paths: tuple[str, ...] = ()  # () and None: the examples shipped with the package
    seed: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(tuple(ns.paths), ns.seed)


def shipped_examples(cwd: str) -> str:
    """The examples shipped as package data (in a checkout, the package's link to examples/),
    named relative to `cwd` when they lie below it (in a checkout: `examples`), so the demo's
    output stays short."""
    path = (Path(__file__).parent.parent / "examples").resolve()
    relative = os.path.relpath(path, cwd)
    return str(path) if relative.startswith("..") else relative


def run(options: Options, env: Env) -> int:
    """validate -> plan -> apply -> plan, against an embedded sandbox seeded like examples/;
    each step re-enters the CLI through `env.run` (commands never import the CLI)."""
    import secrets  # here, with the others: every start of the CLI imports this module
    import tempfile

    from reconciler.commands.sandbox import read_seed_file
    from reconciler.manifest.load import load_manifests
    from reconciler.model import EnvSource
    from reconciler.sandbox import Sandbox, SandboxConfig

    assert env.run is not None, "the CLI sets Env.run"
    examples = shipped_examples(os.getcwd())
    paths = list(options.paths) or [examples]
    seed = options.seed or os.path.join(examples, "sandbox", "seed.json")
    out = env.stdout
    with Sandbox(SandboxConfig()) as sb, tempfile.TemporaryDirectory() as scratch:
        sb.load_seed(read_seed_file(seed))
        demo_env = dict(env.environ)
        # The demo's ledger lives and dies with it; its key is as throwaway as its values.
        demo_env["RECONCILER_LEDGER"] = os.path.join(scratch, "ledger.json")
        demo_env["RECONCILER_LEDGER_KEY"] = secrets.token_urlsafe(32)
        # So is its HTTP cache: the sandbox's token dies with it, nothing could ever hit again.
        demo_env["RECONCILER_CACHE_DIR"] = os.path.join(scratch, "http-cache")
        desired = load_manifests(paths).desired
        for secret in desired.items():
            if isinstance(secret.source, EnvSource):
                demo_env.setdefault(secret.source.var, f"demo value of {secret.source.var}")
        demo_env.update(GITHUB_TOKEN=sb.token, GITHUB_API_URL=sb.url)
        for credential in ("GH_TOKEN", "RECONCILER_APP_ID"):
            demo_env.pop(credential, None)  # the demo only ever talks to its own sandbox
        steps: list[list[str]] = [
            ["validate", *paths],
            ["plan", *paths],
            ["apply", *paths, "--write-delay", "0"],
            ["plan", *paths, "--detailed-exitcode"],
        ]
        step_env = replace(env, environ=demo_env)
        for step in steps:
            out.write(f"\n$ reconciler {' '.join(step)}\n")
            out.flush()
            code = env.run(step, step_env)
            if code != ExitStatus.OK:
                return code
        out.write(f"\nThe sandbox served {len(sb.requests)} requests.\n")
    return ExitStatus.OK
