"""`reconciler validate`: check manifests offline, all problems at once."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import TextIO

from reconciler.errors import (
    ExitStatus,
    ManifestError,
)
from reconciler.manifest.load import check_values, load_manifests
from reconciler.values.sources import plan_notices

log = logging.getLogger(__name__)


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
    for notice in plan_notices(desired, tuple(args.allow_env)):
        out.write(f"notice: {notice}\n")
    for skipped_path in result.skipped:
        out.write(f"  skipped {skipped_path}\n")
    return ExitStatus.OK
