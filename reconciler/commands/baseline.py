"""`reconciler baseline`: record in the value ledger that the manifest's sources hold, now, the
values GitHub holds, without writing to GitHub. The step between `import` and the first plan:
that plan is then empty, and every later rotation shows as exactly one "value changed".

GitHub never returns a value, so this is an assumption, said in the output, not a check. What
makes it safe to make:

- every source must be readable now (an unset variable, a name the env allow-list refuses, an
  unreadable file): otherwise nothing is recorded and each such secret is listed with file:line;
- a ledger key is required: without one the ledger holds no fingerprints, and a baseline
  would record nothing that tells a later rotation from an unchanged value;
- secrets GitHub does not have are not recorded (the next plan creates them);
- secrets the ledger already knows are left as they are, and listed: their entry says what
  apply last wrote, and overwriting it with an assumption would hide a rotation made since
  (`--force` re-baselines them). Skipping them, rather than refusing, lets a later import of
  more repositories be baselined without touching what is already exact;
- a ledger made with another key is refused unless `--force`: recording under a new key makes
  every other entry's fingerprint unusable;
- the ledger is written through the same store as apply, after the same write-access check.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.commands.arguments import (
    Connection,
    LedgerChoice,
    Manifests,
    add_connection_arguments,
    add_ledger_arguments,
    add_manifest_arguments,
)
from reconciler.env import Env
from reconciler.errors import BaselineRefusedError, ExitStatus, LedgerError, ManifestError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reconciler.model import DesiredItem

NAME = "baseline"
HELP = "record that the sources hold what GitHub holds now (writes only the ledger)"
DESCRIPTION = (
    "Record in the value ledger that each source in the manifests holds, now, the value GitHub "
    "holds for its secret: a keyed fingerprint of the source's value, GitHub's updated_at and "
    "the source, for every secret that exists in GitHub. Nothing is written to GitHub. Run it "
    "once after `reconciler import`, with every listed variable set: the first plan is then "
    "empty and later rotations show exactly. GitHub cannot be asked for values, so this is "
    "assumed, not checked. Reads RECONCILER_LEDGER_KEY (required), RECONCILER_LEDGER, "
    "GITHUB_TOKEN (or app credentials) and GITHUB_API_URL."
)
ASSUMPTION = (
    "assuming each source below holds the value GitHub has now; GitHub cannot be asked for "
    "values, so this is not checked"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    add_manifest_arguments(parser)
    add_connection_arguments(parser)
    add_ledger_arguments(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="also re-baseline secrets the ledger already has an entry for (and a ledger "
        "made with another key)",
    )


@dataclass(frozen=True, slots=True)
class Options:
    manifests: Manifests
    connection: Connection = field(default_factory=Connection)
    ledger: LedgerChoice = field(default_factory=LedgerChoice)
    force: bool = False

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> Options:
        return cls(
            Manifests.from_args(ns),
            Connection.from_args(ns),
            LedgerChoice.from_args(ns),
            force=ns.force,
        )


def run(options: Options, env: Env) -> int:
    from reconciler.commands.common import connect, ledger_store, load
    from reconciler.commands.planning import source_versions
    from reconciler.ledger.format import LEDGER_KEY_ENV, LedgerKey
    from reconciler.ledger.recording import baseline, read_all_sources
    from reconciler.live import read_live
    from reconciler.safety import stale_sealed_values
    from reconciler.values.resolver import Resolver

    key = LedgerKey.from_environ(env.environ)
    if key is None:
        raise LedgerError(
            f"baseline needs {LEDGER_KEY_ENV}: without a key the ledger holds no fingerprints, "
            "so a baseline could not tell a later rotation from an unchanged value; nothing "
            "was recorded",
            hint=f"set {LEDGER_KEY_ENV} to the key plan and apply use (a CI secret)",
        )
    desired = load(options.manifests)
    allow = options.manifests.allow_env + desired.settings.allow_env
    resolver = Resolver(
        env.environ, allow, commands_allowed=options.manifests.commands_allowed(env.environ)
    )
    prints, unreadable = read_all_sources(desired.secrets(), key, resolver)
    if unreadable:
        raise BaselineRefusedError(
            f"{len(unreadable)} of {len(desired.secrets())} sources cannot be read",
            tuple(f"{u.secret.source.location}  {_who(u.secret)}: {u.reason}" for u in unreadable),
            hint="set every variable the manifest names (the env template `reconciler import` "
            "wrote lists them), or --allow-env a refused name, then run baseline again",
        )
    client = connect(options.connection, env)
    try:
        store = ledger_store(options.ledger, env.environ, client)
        assert store is not None  # `baseline` has no --no-ledger
        ledger = store.load()
        if ledger.key_id and ledger.key_id != key.key_id() and not options.force:
            raise LedgerError(
                f"{store.describe()}: the ledger's fingerprints were made with another "
                f"{LEDGER_KEY_ENV}; recording under this key would make every other entry "
                "not comparable; nothing was recorded",
                hint="use the key plan and apply use, or --force to re-baseline every secret "
                "under this key",
            )
        store.check_writable()
        live, keys = read_live(desired, client, concurrency=options.connection.concurrency)
        stale = stale_sealed_values(desired.secrets(), keys)
        if stale:
            raise ManifestError(stale)
        versions = source_versions(desired, resolver)  # as apply records them
        result = baseline(
            desired.secrets(), live, prints, ledger, force=options.force, versions=versions
        )
        if result.entries:
            store.save(result.entries, key.key_id())
    finally:
        client.close()
    _report(env, store.describe(), result.recorded, result.absent, result.kept)
    return ExitStatus.OK


def _who(s: DesiredItem) -> str:
    from reconciler.safe_text import printable

    return f"{printable(str(s.scope))} {s.app} {printable(s.name)}"


def _report(
    env: Env,
    where: str,
    recorded: Sequence[DesiredItem],
    absent: Sequence[DesiredItem],
    kept: Sequence[DesiredItem],
) -> None:
    """Names and source descriptors only, never a value."""
    from reconciler.safe_text import printable

    out = env.stdout
    out.write(f"baseline: {ASSUMPTION}.\n")
    out.write(f"recorded {len(recorded)} secrets in the ledger {printable(where)}")
    out.write(":\n" if recorded else "; nothing to record\n")
    for s in recorded:
        out.write(f"  {_who(s)}  {printable(s.source.describe())}\n")
    if absent:
        out.write(f"not in GitHub, not baselined ({len(absent)}; the next plan creates them):\n")
        for s in absent:
            out.write(f"  {_who(s)}  {printable(s.source.describe())}\n")
    if kept:
        out.write(
            f"already in the ledger, kept as they are ({len(kept)}; "
            "re-baseline them with --force):\n"
        )
        for s in kept:
            out.write(f"  {_who(s)}  {printable(s.source.describe())}\n")
