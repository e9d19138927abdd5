"""The flag groups several subcommands share, each with the frozen options it parses into,
and the checks that bound numeric flags. A command module adds the groups it takes to its
parser and builds its `Options` from them; nothing below the commands sees a Namespace.

Messages never quote the text given: a value pasted into a flag must not be echoed (see the
CLI's parser).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.commands.argument_types import (
    fraction,
    int_between,
    seconds,
    target,
    timeout,
)
from reconciler.github.urls import DEFAULT_API_URL
from reconciler.ledger.stores import DEFAULT_LEDGER_PATH
from reconciler.model import DriftPolicy
from reconciler.plan import ValuePolicy
from reconciler.safety import Thresholds
from reconciler.targets import SYNTAX, Target
from reconciler.values.resolver import ALLOW_COMMANDS_ENV

LEDGER_ENV = "RECONCILER_LEDGER"

CACHE_DIR_ENV = "RECONCILER_CACHE_DIR"
MAX_CONCURRENCY = 64  # GitHub's secondary limits start near 100 concurrent requests


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def add_strip_newline_argument(p: argparse.ArgumentParser, done: str) -> None:
    """`--strip-newline` of the commands that read a value from stdin; `done` says what
    they do with its bytes ("sealed", "encrypted")."""
    p.add_argument(
        "--strip-newline",
        "--strip",
        dest="strip",
        action="store_true",
        help="drop trailing newlines (\\n, \\r\\n) from piped input; by default its bytes are "
        f"{done} exactly and a kept trailing newline is reported on stderr",
    )


# -- manifests: PATH... --allow-env --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Manifests:
    paths: tuple[str, ...]
    allow_env: tuple[str, ...] = ()
    allow_commands: bool = False  # --allow-commands (or RECONCILER_ALLOW_COMMANDS=1)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Manifests:
        return cls(tuple(ns.paths), tuple(ns.allow_env), ns.allow_commands)

    def commands_allowed(self, environ: Mapping[str, str]) -> bool:
        """The operator's choice, made outside the manifest: the flag, or the job's setting."""
        return self.allow_commands or environ.get(ALLOW_COMMANDS_ENV) == "1"


def add_manifest_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or directories")
    p.add_argument(
        "--allow-env",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also allow env variables matching PATTERN as value sources (a well-known "
        "cloud/runner credential only by its exact name)",
    )
    p.add_argument(
        "--allow-commands",
        action="store_true",
        help=f"run the manifest's command value sources (also: {ALLOW_COMMANDS_ENV}=1); "
        "a manifest can never allow them itself",
    )


# -- connection: how to reach GitHub -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connection:
    api_url: str | None = None  # None: $GITHUB_API_URL or the default
    api_version: str | None = None
    concurrency: int = 8
    max_wait: float = 120.0
    timeout: float = 30.0
    cache_dir: str | None = None  # None: $RECONCILER_CACHE_DIR or the user's cache directory
    cache: bool = True  # False: --no-cache
    points_per_minute: int = 900  # GitHub's secondary limit on REST points; 0: no pacing

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Connection:
        c = (ns.concurrency, ns.max_wait, ns.timeout)
        return cls(
            ns.api_url, ns.api_version, *c, ns.cache_dir, not ns.no_cache, ns.points_per_minute
        )


def add_connection_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api-url",
        help=f"REST API base URL (default: $GITHUB_API_URL or {DEFAULT_API_URL}; "
        "GHES: https://HOST/api/v3; GHE.com: https://api.SUBDOMAIN.ghe.com)",
    )
    p.add_argument("--api-version", help="send this X-GitHub-Api-Version on every request")
    p.add_argument(
        "--concurrency",
        type=int_between(1, MAX_CONCURRENCY),
        default=8,
        help=f"reads in flight (1 to {MAX_CONCURRENCY}, default 8)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="keep ETags of GitHub's answers here and ask If-None-Match next time: an "
        "unchanged answer (304) costs no rate limit (default: $"
        + CACHE_DIR_ENV
        + " or ~/.cache/reconciler/http); it holds no credential and no secret value",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="send no conditional requests; keep no cache"
    )
    p.add_argument(
        "--points-per-minute",
        type=int_between(0, 100_000),
        default=900,
        help="pace requests to GitHub's secondary rate limit: a read costs 1 point, a write 5 "
        "(default 900, GitHub's; 0: no pacing, e.g. GHES with the limits off)",
    )
    p.add_argument(
        "--max-wait",
        type=seconds,
        default=120.0,
        help="longest rate-limit wait in seconds before giving up",
    )
    p.add_argument(
        "--timeout",
        type=timeout,
        default=30.0,
        help="seconds one network read may wait (default 30); a whole answer may take "
        "4 times as long",
    )


# -- the value ledger ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerChoice:
    location: str | None = None  # None: $RECONCILER_LEDGER or the default file
    enabled: bool = True  # False: --no-ledger, neither read nor write one
    # --skip-unchanged-selections: trust the ledger's record of a selection while the
    # secret's updated_at has not moved (assumes GitHub moves it; unverified, so opt-in).
    trust_selections: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> LedgerChoice:
        trust = getattr(ns, "skip_unchanged_selections", False)
        return cls(ns.ledger, not getattr(ns, "no_ledger", False), trust)

    def spec(self, environ: Mapping[str, str]) -> str:
        """Where the ledger is: the flag, else $RECONCILER_LEDGER, else the default file."""
        return self.location or environ.get(LEDGER_ENV) or DEFAULT_LEDGER_PATH


def add_ledger_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ledger",
        metavar="LOCATION",
        help=f"the value ledger: a file (default: ${LEDGER_ENV} or {DEFAULT_LEDGER_PATH})"
        " or github:OWNER/REPO[@BRANCH]:PATH",
    )


# -- remote: what plan and apply share -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Remote:
    connection: Connection = field(default_factory=Connection)
    ledger: LedgerChoice = field(default_factory=LedgerChoice)
    drift: DriftPolicy | None = None  # None: the manifest's policy
    values: ValuePolicy = ValuePolicy.AUTO
    format: OutputFormat = OutputFormat.TEXT
    detailed_exitcode: bool = False
    targets: tuple[Target, ...] = ()  # --target: plan only changes within these
    hide_variable_values: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Remote:
        return cls(
            connection=Connection.from_args(ns),
            ledger=LedgerChoice.from_args(ns),
            drift=DriftPolicy(ns.drift) if ns.drift else None,
            values=ValuePolicy(ns.values),
            format=OutputFormat(ns.format),
            detailed_exitcode=ns.detailed_exitcode,
            targets=tuple(ns.target),
            hide_variable_values=ns.hide_variable_values,
        )


def add_remote_arguments(p: argparse.ArgumentParser) -> None:
    add_connection_arguments(p)
    add_ledger_arguments(p)
    p.add_argument("--no-ledger", action="store_true", help="neither read nor write a ledger")
    p.add_argument(
        "--skip-unchanged-selections",
        action="store_true",
        help="do not list the repositories of a selected secret whose updated_at and selection "
        "match what the ledger recorded at the last apply (opt-in: assumes GitHub moves "
        "updated_at on every selection change, which is not documented)",
    )
    p.add_argument(
        "--drift",
        choices=[d.value for d in DriftPolicy],
        help="override the manifest's drift policy (default overwrite)",
    )
    p.add_argument(
        "--values",
        choices=[v.value for v in ValuePolicy],
        default=ValuePolicy.AUTO.value,
        help="which values to write: auto (new or not comparable), skip-unknown, always; "
        "none: plan without reading any value or key (a pull-request job), compare by "
        "version where a source has one, and let apply check the rest",
    )
    p.add_argument(
        "--format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.TEXT.value,
        help="output format",
    )
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are present (plan) or were made (apply)",
    )
    p.add_argument(
        "--target",
        action="append",
        default=[],
        type=target,
        metavar=SYNTAX,
        help="plan only changes within this target (repeatable; globs allowed): SCOPE is ORG "
        "(its organization secrets and variables), OWNER/REPO or OWNER/REPO/ENVIRONMENT, APP "
        "one of the four apps or *, NAME a name glob; e.g. acme/web, 'acme/*:actions', "
        "'acme:*:NPM_*', acme/web/production",
    )
    p.add_argument(
        "--hide-variable-values",
        action="store_true",
        help="show that a variable's value changes, not the values themselves (for variables "
        "that hold semi-sensitive configuration); recorded in the plan",
    )


# -- safety thresholds: apply refuses above them, plan predicts with the same numbers -----------


def add_threshold_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--delete-threshold",
        type=fraction,
        default=Thresholds().delete_fraction,
        help="refuse to delete more than this fraction of a scope's secrets (default 0.30)",
    )
    p.add_argument(
        "--delete-threshold-min",
        type=int_between(0, 1_000_000),
        default=Thresholds().delete_min_live,
        help="the delete threshold applies to scopes with at least this many secrets (default 10)",
    )


def thresholds_from_args(ns: argparse.Namespace) -> Thresholds:
    return Thresholds(ns.delete_threshold, ns.delete_threshold_min)
