"""`reconciler sandbox`: run the local GitHub sandbox in the foreground; and the seed check
that `demo` shares."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, TextIO

from reconciler.errors import SandboxError


def cmd_sandbox(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    from reconciler.sandbox import SandboxConfig, serve

    if args.seed:
        read_seed_file(args.seed)  # fail with a clear message before the server starts
    return serve(SandboxConfig(host=args.host, port=args.port), args.seed, args.dump, out)


def read_seed_file(path: str) -> dict[str, Any]:
    """The seed, checked by loading it into a sandbox that is never started, so a bad seed is a
    clear error before any server runs."""
    from reconciler.sandbox import Sandbox, SandboxConfig
    from reconciler.sandbox.seed import SeedError
    from reconciler.sandbox.serve import read_seed

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
