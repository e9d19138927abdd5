"""`reconciler import`: a manifest of what exists now, to start adoption from the truth.

Every value becomes an `env` reference named after the secret (GitHub will not tell us the
value); names the env allow-list would refuse get a `SECRET_` prefix, and names it does not
allow by default are added to `settings.allow_env` exactly, so the manifest validates as is.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.commands.arguments import Connection, add_connection_arguments
from reconciler.env import Env
from reconciler.errors import ExitStatus, UsageError
from reconciler.model import (
    App,
    DesiredGroup,
    DesiredSecret,
    DesiredState,
    EnvSource,
    Location,
    Scope,
    ScopeKind,
    Settings,
    Visibility,
)
from reconciler.values.env_policy import DEFAULT_ALLOW_ENV, env_name_allowed

if TYPE_CHECKING:
    from reconciler.github.client import GitHubClient

NAME = "import"
HELP = "write a manifest of the secrets that exist now"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument("--org", action="append", default=[], help="organization to import")
    parser.add_argument(
        "--repo", action="append", default=[], metavar="OWNER/REPO", help="repository to import"
    )
    parser.add_argument(
        "--app", action="append", choices=[a.value for a in App], help="apps (default: all)"
    )
    parser.add_argument("--out", metavar="FILE", help="write the manifest here, not stdout")


@dataclass(frozen=True, slots=True)
class Options:
    connection: Connection = field(default_factory=Connection)
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    apps: tuple[App, ...] = tuple(App)  # as given, in order
    out: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        apps = tuple(App(a) for a in ns.app) if ns.app else tuple(App)
        return cls(Connection.from_args(ns), tuple(ns.org), tuple(ns.repo), apps, ns.out)


_HERE = Location("<import>", 0, 0)


def env_name_for(secret_name: str) -> str:
    name = secret_name.upper()
    if env_name_allowed(name, ("*",)) is not None:  # forbidden whatever the allow-list
        return f"SECRET_{name}"
    return name


def import_state(
    client: GitHubClient,
    orgs: Sequence[str],
    repos: Sequence[str],
    apps: Sequence[App],
    *,
    concurrency: int = 8,
) -> DesiredState:
    from reconciler.github.transport import read_pool

    scopes = [Scope(ScopeKind.ORG, o) for o in orgs] + [Scope(ScopeKind.REPO, r) for r in repos]
    jobs = [(scope, app) for scope in scopes for app in apps]
    with read_pool(client.transport, concurrency) as pool:
        listed = list(pool.map(lambda j: client.secrets.list(j[0], j[1]), jobs))
        selected_jobs = [
            (scope, app, item.name.upper())
            for (scope, app), items in zip(jobs, listed, strict=True)
            for item in items
            if item.visibility is Visibility.SELECTED
        ]
        selections = list(
            pool.map(
                lambda j: sorted(
                    r.name for r in client.secrets.selected_repositories(j[0], j[1], j[2])
                ),
                selected_jobs,
            )
        )
    chosen = dict(zip(selected_jobs, selections, strict=True))
    groups: list[DesiredGroup] = []
    env_names: set[str] = set()
    for (scope, app), items in zip(jobs, listed, strict=True):
        secrets = []
        for item in sorted(items, key=lambda i: i.name.upper()):
            name = item.name.upper()
            var = env_name_for(name)
            env_names.add(var)
            org = scope.kind is ScopeKind.ORG
            visibility = item.visibility if org else None
            repositories = (
                tuple(chosen[(scope, app, name)]) if visibility is Visibility.SELECTED else None
            )
            secrets.append(
                DesiredSecret(
                    scope, app, name, EnvSource(var, _HERE), _HERE, visibility, repositories
                )
            )
        if secrets:
            groups.append(DesiredGroup(scope, app, False, tuple(secrets), _HERE))
    extra = sorted(n for n in env_names if env_name_allowed(n, ()) is not None)
    allow = tuple(p for p in extra if p not in DEFAULT_ALLOW_ENV)
    return DesiredState(tuple(groups), Settings(allow_env=allow))


def run(options: Options, env: Env) -> int:
    from reconciler.commands.common import connect
    from reconciler.local_files import check_writable, write_output
    from reconciler.manifest.dump import dump_manifest

    if not options.orgs and not options.repos:
        raise UsageError("give --org ORG and/or --repo OWNER/REPO")
    if options.out:
        check_writable(options.out, "--out")
    client = connect(options.connection, env)
    try:
        desired = import_state(
            client,
            options.orgs,
            options.repos,
            options.apps,
            concurrency=options.connection.concurrency,
        )
    finally:
        client.close()
    text = dump_manifest(desired)
    header = (
        "# Imported by `reconciler import`: every value is an env reference named after the\n"
        "# secret. Set those variables (or change the sources) before the first apply.\n"
    )
    if options.out:
        write_output(options.out, header + text, "--out")
        count = len(desired.secrets())
        env.stderr.write(f"wrote {count} secrets to {options.out}\n")
    else:
        env.stdout.write(header + text)
    return ExitStatus.OK
