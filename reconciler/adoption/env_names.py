"""The environment variable each imported secret reads: pure naming, no I/O.

GitHub never returns values, so every imported secret gets an `env` source, and each DISTINCT
secret (scope, app, name) gets its own variable:

- a name held in one scope and app only keeps its own name (`NPM_TOKEN`);
- a name held in several scopes or apps is qualified by its scope: `ACME__PROD_API_KEY` for the
  org `acme`, `ACME_WEB__PROD_API_KEY` for the repository `acme/web`, and by its app too where
  the same scope holds it under two apps (`ACME_WEB_DEPENDABOT__PROD_API_KEY`).

Names are upper-case `[A-Z0-9_]`, never start with a digit, and never fall under a forbidden
or guarded pattern of the env allow-list (those get a `SECRET_` prefix instead). Two secrets
never share a variable: a name already taken gets a stable `_2`, `_3`, … suffix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from reconciler.model import App, Scope
from reconciler.values.env_policy import DEFAULT_ALLOW_ENV, env_name_allowed, guard_of

SecretKey = tuple[Scope, App, str]  # scope, app, the secret's upper-cased name

_APP_ORDER = {app: i for i, app in enumerate(App)}
_NOT_ENV = re.compile(r"[^A-Z0-9_]")
_NOT_TOKEN = re.compile(r"[^A-Z0-9]+")


def env_name_for(secret_name: str) -> str:
    """`secret_name` as a variable the allow-list can admit: upper-cased, with a `SECRET_`
    prefix where the name is reserved (`GH_TOKEN`, `RECONCILER_*`), a well-known cloud or
    runner credential (`AWS_*`: the job's own would be copied), or starts with a digit."""
    name = _NOT_ENV.sub("_", secret_name.upper())
    refused = env_name_allowed(name, ("*",)) is not None  # forbidden whatever the allow-list
    if refused or guard_of(name) is not None or name[:1].isdigit() or not name:
        return f"SECRET_{name}"
    return name


def scope_token(scope: Scope) -> str:
    """`acme/web` -> `ACME_WEB`, `acme/web/production` -> `ACME_WEB_PRODUCTION`; runs of
    anything else than [A-Z0-9] become one `_`."""
    return _NOT_TOKEN.sub("_", str(scope).upper()).strip("_")


def sort_key(key: SecretKey) -> tuple[tuple[int, str, str], int, str]:
    scope, app, name = key
    return (scope.key, _APP_ORDER[app], name)


def assign_env_names(keys: Iterable[SecretKey]) -> dict[SecretKey, str]:
    """One distinct variable per secret; the same keys always give the same names."""
    ordered = sorted(set(keys), key=sort_key)
    holders: dict[str, list[SecretKey]] = defaultdict(list)
    apps_in_scope: dict[tuple[Scope, str], set[App]] = defaultdict(set)
    for key in ordered:
        scope, app, name = key
        holders[name].append(key)
        apps_in_scope[(scope, name)].add(app)

    def wanted(key: SecretKey) -> str:
        scope, app, name = key
        if len(holders[name]) == 1:
            return env_name_for(name)
        qualifier = scope_token(scope)
        if len(apps_in_scope[(scope, name)]) > 1:
            qualifier += f"_{app.value.upper()}"
        return env_name_for(f"{qualifier}__{name}")

    # Names that need no qualifier are claimed first: they keep their own name, as before.
    claim_order = sorted(ordered, key=lambda k: len(holders[k[2]]) > 1)
    names: dict[SecretKey, str] = {}
    taken: set[str] = set()
    for key in claim_order:
        base = wanted(key)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        names[key] = candidate
    assert len(set(names.values())) == len(names), "two secrets share a variable"
    return names


def extra_allow_env(env_names: Iterable[str]) -> tuple[str, ...]:
    """The exact names to add to `settings.allow_env` so the manifest validates as is: those
    the default patterns do not admit (none is forbidden or guarded: see `env_name_for`)."""
    refused = sorted({n for n in env_names if env_name_allowed(n, ()) is not None})
    return tuple(n for n in refused if n not in DEFAULT_ALLOW_ENV)


def env_template(names: Mapping[SecretKey, str], order: Sequence[SecretKey], manifest: str) -> str:
    """The `FILE.env` written next to an imported manifest: one `NAME=` line per variable,
    under a `# <scope> <app> <SECRET>` comment, in manifest order; never a value."""
    lines = [
        f"# The environment variables {manifest} reads, one per secret (`reconciler import`).",
        "# GitHub never returns values: set each one in your CI's secret store (or your shell)",
        "# before the first apply. Do not commit values to this file.",
    ]
    for scope, app, name in order:
        lines += ["", f"# {scope.name} {app.value} {name}", f"{names[(scope, app, name)]}="]
    return "\n".join(lines) + "\n"


def variables_comment(names: Mapping[SecretKey, str], order: Sequence[SecretKey]) -> str:
    """The same list as a YAML comment block, for the end of a manifest printed on stdout."""
    width = max((len(names[k]) for k in order), default=0)
    lines = ["", "# Environment variables this manifest reads (set them in CI before applying):"]
    lines += [f"#   {names[k]:<{width}}  {k[0].name} {k[1].value} {k[2]}" for k in order]
    return "\n".join(lines) + "\n"
