"""`reconciler import`: a manifest of what exists now, to start adoption from the truth.

Every value becomes an `env` reference named after the secret (GitHub will not tell us the
value); names the env allow-list would refuse get a `SECRET_` prefix, and names it does not
allow by default are added to `settings.allow_env` exactly, so the manifest validates as is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from reconciler.commands.common import make_client
from reconciler.errors import ExitStatus, UsageError
from reconciler.github.client import GitHubClient
from reconciler.github.transport import read_pool
from reconciler.local_files import check_writable, write_output
from reconciler.manifest.dump import dump_manifest
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
    scopes = [Scope(ScopeKind.ORG, o) for o in orgs] + [Scope(ScopeKind.REPO, r) for r in repos]
    jobs = [(scope, app) for scope in scopes for app in apps]
    with read_pool(client, concurrency) as pool:
        listed = list(pool.map(lambda j: client.list_secrets(j[0], j[1]), jobs))
        selected_jobs = [
            (scope, app, item.name.upper())
            for (scope, app), items in zip(jobs, listed, strict=True)
            for item in items
            if item.visibility is Visibility.SELECTED
        ]
        selections = list(
            pool.map(
                lambda j: sorted(
                    r.name for r in client.list_selected_repositories(j[0], j[1], j[2])
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


def cmd_import(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    if not args.org and not args.repo:
        raise UsageError("give --org ORG and/or --repo OWNER/REPO")
    apps = [App(a) for a in args.app] if args.app else list(App)
    if args.out:
        check_writable(args.out, "--out")
    client = make_client(args, environ)
    try:
        desired = import_state(client, args.org, args.repo, apps, concurrency=args.concurrency)
    finally:
        client.close()
    text = dump_manifest(desired)
    header = (
        "# Imported by `reconciler import`: every value is an env reference named after the\n"
        "# secret. Set those variables (or change the sources) before the first apply.\n"
    )
    if args.out:
        write_output(args.out, header + text, "--out")
        count = len(desired.secrets())
        sys.stderr.write(f"wrote {count} secrets to {args.out}\n")
    else:
        out.write(header + text)
    return ExitStatus.OK
