"""Issue 15's two shapes: a no-op `reconciler plan` next to a Terraform-style serial reader.

    python tests/benchmarks/bench_scale.py                       # "org", about a minute
    python tests/benchmarks/bench_scale.py --enterprise --small  # a tenth of "enterprise"
    python tests/benchmarks/bench_scale.py --enterprise          # full size, several minutes

The sandbox runs in a process of its own (`scale_sandbox.py`), seeded through its Python
API from one random draw (`scale_shape.py`); the manifest matches it exactly. Then, each
as a child process whose rusage is read with `os.wait4`:

1. `python -m reconciler plan MANIFEST --values skip-unknown --detailed-exitcode` (cold:
   an empty `--cache-dir` when this checkout's plan has the flag, a fresh XDG_CACHE_HOME);
2. the Terraform-style serial reader (`terraform_reader.py`, which documents its requests);
3. the same plan again with the first run's cache (the warm re-plan), when `--cache-dir`
   exists; "n/a" otherwise.

It prints, per run: requests (all, and counted against the primary limit, i.e. not 304s),
wall time, CPU (user+sys), peak memory (ru_maxrss), time to the first request, and the
lower bound `requests x latency / concurrency + start-up` (start-up: the time to the first
request) with the ratio of wall time to it; then the ratio against the reader, and a
one-line summary. Exit status 1 if a plan is not a no-op or the reader saw drift.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Run as a script, its directory is on sys.path, not the checkout: make `tests` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reconciler.sandbox import SandboxConfig
from tests.benchmarks.scale_measure import (
    HERE,
    PlanFeatures,
    Run,
    SandboxProcess,
    plan_features,
    run_child,
)
from tests.benchmarks.scale_shape import VALUE_ENV, Shape, make_seed, write_manifest
from tests.benchmarks.terraform_reader import configuration

TOKEN = SandboxConfig().admin_token  # the sandbox's own token: not a secret of anyone's


@dataclass(frozen=True, slots=True)
class Column:
    """One run's figures as the table shows them."""

    title: str
    run: Run
    requests: int
    wall: float
    concurrency: int
    latency: float
    estimated: bool = False

    @property
    def primary(self) -> int:
        """Counted against the primary rate limit: all but the 304s (scaled with requests)."""
        return self.requests - self.run.counts.not_modified

    @property
    def bound(self) -> float:
        """Start-up plus the requests' latency spread over the concurrency."""
        start = self.run.first_request or 0.0
        return start + self.requests * self.latency / self.concurrency


def child_env(tmp: Path, name: str) -> dict[str, str]:
    """This environment without GitHub or reconciler settings, a cache home of its own."""
    drop = ("GITHUB_", "GH_", "RECONCILER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    (tmp / name).mkdir(exist_ok=True)
    return {**env, "GITHUB_TOKEN": TOKEN, VALUE_ENV: "unused", "XDG_CACHE_HOME": str(tmp / name)}


def run_plan(
    manifest: Path, sandbox: SandboxProcess, env: Mapping[str, str], extra: list[str]
) -> Run:
    argv = [sys.executable, "-m", "reconciler", "plan", str(manifest), "--values", "skip-unknown"]
    argv += ["--detailed-exitcode", "--api-url", sandbox.url, *extra]
    return run_child(argv, env, manifest.parent, sandbox)


def noop(run: Run, what: str) -> bool:
    if run.exit_code == 0:
        return True
    tail = "\n".join((run.stderr or run.stdout).splitlines()[-15:])
    print(f"{what} exited {run.exit_code}, not a no-op (0):\n{tail}", file=sys.stderr)
    return False


def cell(value: float | None, fmt: str, estimated: bool = False) -> str:
    if value is None:
        return "n/a"
    return ("~" if estimated else "") + format(value, fmt)


def ratio(tf: float | None, plan: float | None) -> str:
    return f"{tf / plan:.1f}x" if tf is not None and plan else ""


def print_table(cold: Column, tf: Column, warm: Column | None) -> None:
    columns = (cold, tf, warm)
    # label, figure, format, with a ratio, extrapolated when the reader read a sample
    rows: list[tuple[str, Callable[[Column], float | None], str, bool, bool]] = [
        ("requests (total)", lambda c: c.requests, ",d", True, True),
        ("  counted against primary", lambda c: c.primary, ",d", True, True),
        ("wall time, s", lambda c: c.wall, ".2f", True, True),
        ("CPU time (user+sys), s", lambda c: c.run.cpu, ".2f", True, False),
        ("peak memory (ru_maxrss), MiB", lambda c: c.run.maxrss_kb / 1024, ".1f", True, False),
        ("time to first request, s", lambda c: c.run.first_request, ".2f", False, False),
        ("peak requests in flight", lambda c: c.run.counts.peak, "d", False, False),
        ("lower bound, s", lambda c: c.bound, ".2f", False, True),
        ("wall / lower bound", lambda c: c.wall / c.bound if c.bound else None, ".2f", False, True),
    ]
    print(f"  {'':<30}{cold.title:>14}{tf.title:>17}{'ratio':>8}{'warm re-plan':>15}")
    for label, get, fmt, with_ratio, scaled in rows:
        values = [get(c) if c else None for c in columns]
        marks = [scaled and c is tf and tf.estimated for c in columns]
        texts = [cell(v, fmt, m) for v, m in zip(values, marks, strict=True)]
        r = ratio(values[1], values[0]) if with_ratio else ""
        print(f"  {label:<30}{texts[0]:>14}{texts[1]:>17}{r:>8}{texts[2]:>15}")


def print_kinds(name: str, run: Run) -> None:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(run.counts.kinds.items(), key=lambda x: -x[1]))
    print(f"  {name} requests by kind: {kinds or 'none'}")


def measure(shape: Shape, args: argparse.Namespace, tmp: Path) -> int:
    seed = make_seed(shape, random.Random(args.seed))
    seed_path, manifest = tmp / "seed.json", tmp / "bench.yaml"
    seed_path.write_text(seed.to_json(), encoding="utf-8")
    write_manifest(manifest, seed)
    features: PlanFeatures = plan_features(child_env(tmp, "xdg-help"))
    concurrency = args.concurrency or features.concurrency
    use_cache = features.cache_dir if args.warm == "auto" else args.warm == "yes"
    cache = ["--cache-dir", str(tmp / "cache")] if use_cache else []
    extra = ["--concurrency", str(args.concurrency)] if args.concurrency else []
    # The sandbox has no secondary rate limit; on github.com a run of more than 900 requests
    # is paced to 900 points a minute (printed below as the github.com floor).
    extra += ["--points-per-minute", "0"]
    # A serial reader's time is linear in its requests: past the budget, sample and scale.
    predicted = configuration(manifest).predicted()
    sample = args.terraform_sample or math.ceil(predicted / args.terraform_budget)

    print(f"shape {shape.name}: {shape.describe()}")
    print(
        f"  manifest {manifest.stat().st_size / 1e6:.2f} MB; plan --concurrency {concurrency}"
        f"{'' if args.concurrency or features.concurrency_known else ' (assumed)'}; cache "
        f"{'--cache-dir' if use_cache else 'n/a (this plan has no --cache-dir)'}"
    )
    sandbox = SandboxProcess(seed_path, shape.latency)
    try:
        cold = run_plan(manifest, sandbox, child_env(tmp, "xdg-cold"), [*extra, *cache])
        if not noop(cold, "plan"):
            return 1
        reader = [sys.executable, str(HERE / "terraform_reader.py"), str(manifest)]
        reader += ["--api-url", sandbox.url, "--sample", str(sample)]
        tf = run_child(reader, child_env(tmp, "xdg-tf"), tmp, sandbox)
        warm = None
        if use_cache:
            warm = run_plan(manifest, sandbox, child_env(tmp, "xdg-warm"), [*extra, *cache])
            if not noop(warm, "warm re-plan"):
                return 1
    finally:
        sandbox.close()
    if tf.exit_code != 0:
        print(f"terraform-style reader failed:\n{tf.stderr[-2000:]}", file=sys.stderr)
        return 1
    result = json.loads(tf.stdout.strip().splitlines()[-1])
    made, drift = tf.counts.total, int(result["drift"])
    if made != result["requests"]:
        print(
            f"  ! the sandbox saw {made} reader requests, the reader counted {result['requests']}"
        )
    tf_column = reader_column(tf, made, predicted if sample > 1 else made, shape.latency)
    columns = (
        Column("plan (cold)", cold, cold.counts.total, cold.wall, concurrency, shape.latency),
        tf_column,
        Column("warm", warm, warm.counts.total, warm.wall, concurrency, shape.latency)
        if warm
        else None,
    )
    report(columns, sample)
    over = cold.counts.total - 900
    if over > 0:
        print(
            f"  on github.com: {cold.counts.total:,} requests are paced to GitHub's 900 points a"
            f" minute (the default --points-per-minute): at least {over / 15:.0f} s more"
        )
    if drift:
        print(f"  ! the terraform-style reader saw {drift} secrets differ from the manifest")
    return 1 if drift else 0


def reader_column(tf: Run, made: int, total: int, latency: float) -> Column:
    """The reader's figures, its wall time scaled from `made` requests to `total`."""
    start = tf.first_request or 0.0
    wall = start + (tf.wall - start) * total / max(1, made)
    return Column("terraform-style", tf, total, wall, 1, latency, estimated=made != total)


def report(columns: tuple[Column, Column, Column | None], sample: int) -> None:
    cold, tf, warm = columns
    print_table(cold, tf, warm)
    if tf.estimated:
        print(
            f"  ~ terraform-style: 1 in {sample} resources read ({tf.run.counts.total:,} of "
            f"{tf.requests:,} requests); wall time extrapolated as start-up + (wall - start-up)"
            f" x {tf.requests:,} / {tf.run.counts.total:,}; the other figures as measured"
        )
    print_kinds("plan (cold)", cold.run)
    if warm:
        print_kinds("warm re-plan", warm.run)
        share = 100 * warm.run.counts.primary / max(1, cold.run.counts.primary)
        print(
            f"  warm re-plan: {share:.1f} % of the cold run's primary-counted requests "
            "(target <= 5 %)"
        )
    else:
        print("  warm re-plan: n/a (no --cache-dir in this plan)")
    errors = sum(c.run.counts.errors for c in (cold, tf, *([warm] if warm else [])))
    if errors:
        print(f"  ! {errors} error answers (4xx/5xx, dropped, or sandbox bugs) in these runs")
    print(
        f"plan: {cold.wall:.2f} s, {cold.requests:,} requests ({cold.run.counts.primary:,} "
        f"primary) ; terraform-style: {tf.wall:.2f} s, {tf.requests:,} requests ; ratio "
        f"{tf.wall / cold.wall:.1f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprise", action="store_true", help="the enterprise shape")
    parser.add_argument("--small", action="store_true", help="a tenth of the size: a smoke run")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the shape")
    parser.add_argument("--concurrency", type=int, help="pass to plan (default: plan's own)")
    parser.add_argument(
        "--warm",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run the warm re-plan with --cache-dir (auto: when plan --help lists it)",
    )
    parser.add_argument(
        "--terraform-sample",
        type=int,
        metavar="K",
        help="the reader reads every K-th resource and its time is extrapolated "
        "(default: the smallest K that keeps it within --terraform-budget requests)",
    )
    parser.add_argument(
        "--terraform-budget",
        type=int,
        default=2000,
        metavar="N",
        help="most requests the reader makes when --terraform-sample is not given (2000)",
    )
    args = parser.parse_args(argv)
    shape = Shape.enterprise() if args.enterprise else Shape.org()
    if args.small:
        shape = shape.small()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        return measure(shape, args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
