"""`reconciler validate`: check manifests offline, all problems at once."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from reconciler.commands.arguments import Manifests, add_manifest_arguments
from reconciler.env import Env
from reconciler.errors import ExitStatus, ManifestError
from reconciler.safe_text import printable

NAME = "validate"
HELP = "check manifests offline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument(
        "--resolve-values",
        action="store_true",
        help="also check every env variable and file exists and is within limits",
    )


@dataclass(frozen=True, slots=True)
class Options:
    manifests: Manifests
    resolve_values: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(Manifests.from_args(ns), ns.resolve_values)


def run(options: Options, env: Env) -> int:
    from reconciler.manifest.load import check_values, load_manifests
    from reconciler.values.resolver import Resolver
    from reconciler.values.sources import plan_notices

    allow_env = options.manifests.allow_env
    result = load_manifests(options.manifests.paths, extra_allow_env=allow_env)
    if options.resolve_values:
        allow = result.desired.settings.allow_env + allow_env
        commands = options.manifests.commands_allowed(env.environ)
        resolver = Resolver(env.environ, allow, commands_allowed=commands)
        problems = check_values(result.desired, env.environ, allow_env, resolver=resolver)
        if problems:
            raise ManifestError(problems)
    desired = result.desired
    skipped = f"; skipped {len(result.skipped)} non-manifest files" if result.skipped else ""
    out = env.stdout
    secrets = len(desired.secrets())
    variables = len(desired.items()) - secrets
    kinds = f"{secrets} secrets" + (f", {variables} variables" if variables else "")
    environments = len(desired.environments())
    if environments:
        kinds += f" ({environments} deployment environments)"
    out.write(
        f"OK: {len(desired.files)} manifest files, {len(desired.groups)} scope/app groups, "
        f"{kinds}{skipped}.\n"
    )
    for notice in plan_notices(desired, allow_env):
        out.write(f"notice: {notice}\n")
    for warning in result.warnings:
        out.write("warning: " + "\n".join(map(printable, str(warning).split("\n"))) + "\n")
    for skipped_path in result.skipped:
        out.write(f"  skipped {skipped_path}\n")
    return ExitStatus.OK
