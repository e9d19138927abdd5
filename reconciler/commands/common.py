"""Steps several subcommands share: loading manifests, connecting to GitHub, the ledger store,
making a plan (live state, fingerprints, diff), the drift check and the job summary.

Each takes the few typed options it needs, never a command's whole options. What talks to
GitHub is imported where it is first used, so `--help` and `validate` never load it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.commands.arguments import CACHE_DIR_ENV, Connection, LedgerChoice, Manifests
from reconciler.env import Env
from reconciler.errors import UsageError
from reconciler.github.urls import DEFAULT_API_URL
from reconciler.manifest.load import load_manifests
from reconciler.model import (
    DesiredState,
)
from reconciler.safe_text import printable

if TYPE_CHECKING:
    from reconciler.github.client import GitHubClient
    from reconciler.ledger.stores import LedgerStore

log = logging.getLogger(__name__)

COMMENT_TOKEN_ENV = "RECONCILER_COMMENT_TOKEN"


def load(manifests: Manifests) -> DesiredState:
    result = load_manifests(manifests.paths, extra_allow_env=manifests.allow_env)
    for skipped in result.skipped:
        # A warning, not info: a manifest that is skipped cannot protect its secrets from prune.
        log.warning("skipped %s", skipped)
    for warning in result.warnings:
        log.warning("%s", "\n".join(map(printable, str(warning).split("\n"))))
    return result.desired


def connect(
    connection: Connection, env: Env, environ: Mapping[str, str] | None = None
) -> GitHubClient:
    """A client made by the Env's factory; credentials and `$GITHUB_API_URL` are read from
    `environ` (default: the Env's)."""
    from reconciler.github.auth import auth_from_environ
    from reconciler.github.transport import ClientConfig

    environ = env.environ if environ is None else environ
    config = ClientConfig(
        api_url=connection.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        api_version=connection.api_version,
        max_wait=connection.max_wait,
        timeout=connection.timeout,
        pool_size=max(16, connection.concurrency * 2),
        cache_dir=cache_location(connection, environ),
        points_per_minute=connection.points_per_minute,
    )
    return env.make_client(config, auth=auth_from_environ(environ), sleep=env.sleep)


def cache_location(connection: Connection, environ: Mapping[str, str]) -> str | None:
    """Where conditional requests are cached: --cache-dir, else $RECONCILER_CACHE_DIR, else
    the user's cache directory ($XDG_CACHE_HOME or ~/.cache); None with --no-cache or when
    the environment names no home."""
    from reconciler.github.cache import default_cache_dir

    if not connection.cache:
        return None
    found = connection.cache_dir or environ.get(CACHE_DIR_ENV) or default_cache_dir(environ)
    return str(found) if found else None


def ledger_store(
    choice: LedgerChoice, environ: Mapping[str, str], client: GitHubClient | None
) -> LedgerStore | None:
    """The configured store; a `github:` one needs a client, a file one does not."""
    from reconciler.ledger.stores import FileLedgerStore, GitHubLedgerStore, parse_ledger_location

    if not choice.enabled:
        return None
    where = parse_ledger_location(choice.spec(environ))
    if isinstance(where, Path):
        return FileLedgerStore(where)
    if client is None:
        raise UsageError("a github: ledger needs GitHub credentials")
    repo, path, branch = where
    return GitHubLedgerStore(client.contents, repo, path, branch)


def use_colour(out: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour on `out`? The one place that decides; see `colour_wanted`."""
    return colour_wanted(environ, tty=hasattr(out, "isatty") and out.isatty())


def colour_wanted(environ: Mapping[str, str], *, tty: bool) -> bool:
    """A non-empty NO_COLOR turns colour off (https://no-color.org; an empty one is unset);
    else a non-empty FORCE_COLOR turns it on, even off a terminal (https://force-color.org);
    else TERM=dumb turns it off; else colour exactly when the stream is a terminal."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return tty


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
