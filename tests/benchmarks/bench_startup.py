"""Benchmark start-up and the manifest loader.

    python tests/benchmarks/bench_startup.py            # about half a minute
    python tests/benchmarks/bench_startup.py --small    # a tenth of the manifest, a smoke run

Prints: the CPU (user + sys) and wall time of `reconciler --help` and `reconciler validate
examples`, each a fresh process, best and median of --repeat runs; the imports that cost
most in each, from `python -X importtime`; and the time and peak memory of loading and
validating a generated 1.9 MB manifest (4 apps x 1,000 organisation secrets, 1,200 of them
`selected` with a list of repositories, 2,000 repositories x 10 secrets) with libyaml's C
parser and with the pure-Python one, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("actions", "agents", "codespaces", "dependabot")
# The CLI as installed: what a user's shell runs.
CLI = (
    "import sys; from reconciler.cli import console_main; "
    "sys.argv[0] = 'reconciler'; console_main()"
)


@dataclass(frozen=True, slots=True)
class Shape:
    org_secrets: int  # per app
    selected: int  # over all apps
    selected_max: int  # repositories in a `selected` list: 1..selected_max
    repos: int  # in the organisation, for the lists to name
    repo_scopes: int
    repo_secrets: int  # per repository scope

    @classmethod
    def full(cls) -> Shape:
        return cls(1000, 1200, 25, 20_000, 2000, 10)

    @classmethod
    def small(cls) -> Shape:
        return cls(100, 120, 25, 2000, 200, 10)


def write_manifest(path: Path, shape: Shape, rng: random.Random) -> int:
    """Block style, as people write manifests; every organisation secret reads its own
    variable, the repositories' secrets share ten. Returns the number of secrets."""
    repos = [f"repo-{i:05d}" for i in range(shape.repos)]
    chosen = set(rng.sample(range(len(APPS) * shape.org_secrets), shape.selected))
    lines = ["version: 1", "orgs:", "  big-org:"]
    n = 0
    for app in APPS:
        lines += [f"    {app}:", "      secrets:"]
        for i in range(shape.org_secrets):
            name = f"{app.upper()}_SECRET_{i:04d}"
            lines += [f"        {name}:", f"          value: {{env: BIG_{name}_TOKEN}}"]
            if n in chosen:
                picked = ", ".join(sorted(rng.sample(repos, rng.randint(1, shape.selected_max))))
                lines += ["          visibility: selected", f"          repositories: [{picked}]"]
            else:
                lines.append(f"          visibility: {('all', 'private')[i % 2]}")
            n += 1
    lines.append("repos:")
    for repo in sorted(rng.sample(repos, shape.repo_scopes)):
        lines += [f"  big-org/{repo}:", "    actions:", "      secrets:"]
        lines += [
            f"        REPO_SECRET_{j}: {{value: {{env: REPO_SECRET_{j}_TOKEN}}}}"
            for j in range(shape.repo_secrets)
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n + shape.repo_scopes * shape.repo_secrets


# -- start-up ------------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    # Byte-code written and reused, as in an installed package (a stale .pyc is recompiled
    # on every start otherwise, which is not what a user's start costs).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_once(args: list[str]) -> tuple[float, float]:
    """CPU (user + sys) and wall seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall


def top_imports(args: list[str], count: int) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of the imports costing most, from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CLI, *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own), int(cumulative), name.strip()))
    rows.sort(reverse=True)
    return rows[:count]


def startup(repeat: int) -> None:
    print(f"start-up: a fresh process each, best / median of {repeat} (ms)")
    print(f"  {'command':<36}{'CPU':>14}{'wall':>14}")
    commands = (["--help"], ["validate", "examples"])
    for args in commands:
        run_once(args)  # writes the byte-code
        runs = [run_once(args) for _ in range(repeat)]
        cpu = sorted(c for c, _ in runs)
        wall = sorted(w for _, w in runs)
        shown = "reconciler " + " ".join(args)
        print(
            f"  {shown:<36}{cpu[0] * 1000:>7.0f} /{statistics.median(cpu) * 1000:>5.0f}"
            f"{wall[0] * 1000:>7.0f} /{statistics.median(wall) * 1000:>5.0f}"
        )
    for args in commands:
        print(f"\n  top imports of `reconciler {' '.join(args)}` (-X importtime, µs)")
        print(f"    {'self':>7} {'cumulative':>10}  module")
        for own, cumulative, name in top_imports(args, 12):
            print(f"    {own:>7} {cumulative:>10}  {name}")


# -- the large manifest ------------------------------------------------------------------------

# Run in a fresh process per parser, so each peak is its own.
LOAD = """
import json, resource, sys, time
from reconciler.manifest.load import load_manifests
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpu, wall = time.process_time(), time.perf_counter()
result = load_manifests([sys.argv[1]], libyaml=sys.argv[2] == "libyaml")
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cpu": cpu, "wall": wall, "rss_before": rss, "peak": peak,
                  "secrets": sum(len(g.items) for g in result.desired.groups)}))
"""


def load(manifest: Path, parser: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(manifest), parser],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"loading with {parser} failed:\n{done.stderr[-2000:]}")
    measured: dict[str, float] = json.loads(done.stdout)
    return measured


def large_manifest(shape: Shape, seed: int) -> None:
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "large.yaml"
        secrets = write_manifest(manifest, shape, random.Random(seed))
        text = manifest.read_text(encoding="utf-8")
        size = len(text.encode("utf-8"))
        print(
            f"\nload + validate of a generated manifest: {size / 1e6:.2f} MB, "
            f"{text.count(chr(10)):,} lines, {secrets:,} secrets ({len(APPS)} apps x "
            f"{shape.org_secrets:,} org secrets, {shape.selected:,} selected; "
            f"{shape.repo_scopes:,} repos x {shape.repo_secrets})"
        )
        print(f"  PyYAML {yaml.__version__}, libyaml: {'yes' if yaml.__with_libyaml__ else 'no'}")
        print(f"  {'parser':<14}{'CPU s':>8}{'wall s':>8}{'peak MB':>10}{'of it, load MB':>16}")
        for parser in ("libyaml", "pure-python"):
            m = load(manifest, parser)
            assert m["secrets"] == secrets, (m["secrets"], secrets)
            peak, before = m["peak"] / 1024, m["rss_before"] / 1024  # ru_maxrss is in KiB
            print(
                f"  {parser:<14}{m['cpu']:>8.2f}{m['wall']:>8.2f}{peak:>10.0f}"
                f"{peak - before:>16.0f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the manifest")
    parser.add_argument("--repeat", type=int, default=15, help="runs per start-up figure")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the manifest")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    startup(3 if args.small else args.repeat)
    large_manifest(Shape.small() if args.small else Shape.full(), args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
