"""`reconciler import`: a manifest of what exists now, to start adoption from the truth.

`--org ORG` reads the organization's secrets and every repository's in it (`--repo` narrows
the repositories with names and globs, `--exclude-repo` leaves some out: `import_repos`).
GitHub never returns values, so every secret gets an `env` source of its own, named by
`import_env_names` (scope-qualified where a name repeats), and the output lists every variable
the manifest reads: an env template `FILE.env` next to `--out FILE`, or a comment block at the
end of the manifest on stdout. Files that exist are not overwritten without `--force`.
Progress: one line per scope read, on stderr (always: it is the log of what was read).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.commands.arguments import Connection, add_connection_arguments
from reconciler.env import Env
from reconciler.errors import ExitStatus, OutputExistsError, UsageError
from reconciler.model import App

if TYPE_CHECKING:
    from reconciler.adoption.env_names import SecretKey
    from reconciler.adoption.repositories import RepoPattern
    from reconciler.github.client import GitHubClient
    from reconciler.model import DesiredState

NAME = "import"
HELP = "write a manifest of the secrets that exist now (an org and its repositories)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument(
        "--org",
        action="append",
        default=[],
        help="organization to import: its secrets and its repositories' (repeatable)",
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only these repositories: NAME (in each --org), OWNER/NAME, or a glob of either "
        "('acme/svc-*'; case-insensitive); repeatable; default: every repository of each --org",
    )
    parser.add_argument(
        "--exclude-repo",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave these repositories out (same patterns as --repo; repeatable)",
    )
    parser.add_argument(
        "--app", action="append", choices=[a.value for a in App], help="apps (default: all)"
    )
    parser.add_argument(
        "--out", metavar="FILE", help="write the manifest here and an env template to FILE.env"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite --out FILE and FILE.env if they exist"
    )


@dataclass(frozen=True, slots=True)
class Options:
    connection: Connection = field(default_factory=Connection)
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    apps: tuple[App, ...] = tuple(App)  # as given, in order
    out: str | None = None
    exclude_repos: tuple[str, ...] = ()
    force: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        apps = tuple(dict.fromkeys(App(a) for a in ns.app)) if ns.app else tuple(App)
        return cls(
            Connection.from_args(ns),
            tuple(ns.org),
            tuple(ns.repo),
            apps,
            ns.out,
            tuple(ns.exclude_repo),
            ns.force,
        )


def env_template_path(out: str) -> str:
    return f"{out}.env"


@dataclass(frozen=True, slots=True)
class Imported:
    desired: DesiredState
    names: dict[SecretKey, str]  # every secret's variable
    order: tuple[SecretKey, ...]  # as the manifest lists them


def import_state(
    client: GitHubClient,
    options: Options,
    includes: tuple[RepoPattern, ...],
    excludes: tuple[RepoPattern, ...],
    env: Env,
) -> Imported:
    from reconciler.adoption.env_names import assign_env_names
    from reconciler.adoption.reading import build_state, environment_scopes, read_scopes
    from reconciler.adoption.repositories import list_repos, owners_to_list, select_repos
    from reconciler.github.transport import read_pool
    from reconciler.model import Kind, Scope, ScopeKind

    def page(owner: str, n: int) -> tuple[list[str], int]:
        items, last = client.repos.org_page(owner, n)
        return [f"{item.owner or owner}/{item.name}" for item in items], last

    with read_pool(client.transport, options.connection.concurrency) as pool:
        listings = list_repos(pool, owners_to_list(options.orgs, includes), page)
        repos = select_repos(options.orgs, includes, excludes, listings)
        for owner, listed in listings.items():
            if listed is not None:
                picked = sum(1 for r in repos if r.lower().startswith(f"{owner}/"))
                env.stderr.write(f"{owner}: {len(listed)} repositories, {picked} selected\n")
        scopes = [Scope(ScopeKind.ORG, o) for o in dict.fromkeys(options.orgs)]
        repo_scopes = [Scope(ScopeKind.REPO, r) for r in repos]
        scopes += repo_scopes
        if App.ACTIONS in options.apps:  # environments hold Actions secrets and variables
            scopes += environment_scopes(client, pool, repo_scopes)
        found = read_scopes(client, pool, scopes, options.apps, env.stderr)
    names = assign_env_names(f.key for f in found if f.kind is Kind.SECRET)
    desired, order = build_state(found, names)
    return Imported(desired, names, order)


def _refuse_to_overwrite(options: Options) -> None:
    from reconciler.local_files import check_writable

    if not options.out:
        return
    for flag, path in (
        ("--out", options.out),
        ("the env template of --out", env_template_path(options.out)),
    ):
        if not options.force and os.path.lexists(path) and not os.path.isdir(path):
            raise OutputExistsError(flag, path)
        check_writable(path, flag)


_HEADER = """\
# Imported by `reconciler import`: what GitHub holds now. Variables keep the values GitHub
# shows, inline. GitHub never returns secrets' values, so
# every secret reads an environment variable of its own: named after the secret where only
# one scope holds that name, qualified by scope where several do (ACME__X for the org acme,
# ACME_WEB__X for the repository acme/web; plus the app where one scope has X under two).
# Set every one before the first apply: they are listed{where}.
# To give several secrets one value, point them at the same source yourself: that
# sharing is then a choice you wrote, not one the import made for you.
"""


def run(options: Options, env: Env) -> int:
    from reconciler.adoption.env_names import env_template, variables_comment
    from reconciler.adoption.repositories import parse_pattern
    from reconciler.commands.common import connect
    from reconciler.local_files import write_output
    from reconciler.manifest.dump import dump_manifest

    if not options.orgs and not options.repos:
        raise UsageError("give --org ORG and/or --repo OWNER/REPO")
    includes = tuple(parse_pattern(p, "--repo") for p in options.repos)
    excludes = tuple(parse_pattern(p, "--exclude-repo") for p in options.exclude_repos)
    _refuse_to_overwrite(options)
    client = connect(options.connection, env)
    try:
        imported = import_state(client, options, includes, excludes, env)
    finally:
        client.close()
    text = dump_manifest(imported.desired)
    count = len(imported.order)
    if options.out:
        template = env_template_path(options.out)
        where = f" in {os.path.basename(template)}"
        write_output(options.out, _HEADER.format(where=where) + text, "--out")
        manifest = os.path.basename(options.out)
        body = env_template(imported.names, imported.order, manifest)
        write_output(template, body, "the env template of --out")
        variables = len(imported.desired.items()) - count
        env.stderr.write(f"wrote {count} secrets and {variables} variables to {options.out}\n")
        env.stderr.write(f"wrote {count} environment variables to set to {template}\n")
    else:
        header = _HEADER.format(where=" at the end of this file")
        env.stdout.write(header + text + variables_comment(imported.names, imported.order))
    return ExitStatus.OK
