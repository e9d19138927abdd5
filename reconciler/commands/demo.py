"""`reconciler demo`: validate -> plan -> apply -> plan against an embedded sandbox."""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from reconciler.commands.sandbox import read_seed_file
from reconciler.errors import ExitStatus
from reconciler.manifest.load import load_manifests

# The CLI's own entry point, passed in: commands never import the CLI.
RunCommand = Callable[[Sequence[str], Mapping[str, str], TextIO], int]


def cmd_demo(
    args: argparse.Namespace, environ: Mapping[str, str], out: TextIO, run: RunCommand
) -> int:
    """validate -> plan -> apply -> plan, against an embedded sandbox seeded like examples/."""
    from reconciler.model import EnvSource
    from reconciler.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig()) as sb, tempfile.TemporaryDirectory() as scratch:
        sb.load_seed(read_seed_file(args.seed))
        demo_env = dict(environ)
        # The demo's ledger lives and dies with it; its key is as throwaway as its values.
        demo_env["RECONCILER_LEDGER"] = os.path.join(scratch, "ledger.json")
        demo_env["RECONCILER_LEDGER_KEY"] = secrets.token_urlsafe(32)
        desired = load_manifests(args.paths).desired
        for secret in desired.secrets():
            if isinstance(secret.source, EnvSource):
                demo_env.setdefault(secret.source.var, f"demo value of {secret.source.var}")
        demo_env.update(GITHUB_TOKEN=sb.token, GITHUB_API_URL=sb.url)
        for credential in ("GH_TOKEN", "RECONCILER_APP_ID"):
            demo_env.pop(credential, None)  # the demo only ever talks to its own sandbox
        steps: list[list[str]] = [
            ["validate", *args.paths],
            ["plan", *args.paths],
            ["apply", *args.paths, "--write-delay", "0"],
            ["plan", *args.paths, "--detailed-exitcode"],
        ]
        for step in steps:
            out.write(f"\n$ reconciler {' '.join(step)}\n")
            out.flush()
            code = run(step, demo_env, out)
            if code != ExitStatus.OK:
                return code
        out.write(f"\nThe sandbox served {len(sb.requests)} requests.\n")
    return ExitStatus.OK
