"""Benchmark a no-op `reconciler plan` against a large organisation in the sandbox.

    python tests/benchmarks/bench_plan.py            # 5,000 repositories (about a minute)
    python tests/benchmarks/bench_plan.py --small    # a tenth of that, for a smoke run

It seeds the sandbox through its Python API (not HTTP), writes a manifest that matches
the seed exactly (so the plan is a no-op), then prints: the requests `plan` made by kind
next to the theoretical minimum, the wall time of `plan` with injected latency at two
concurrency levels, and the CPU time of diff + render alone on the already-read state.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler import cli
from reconciler.diff import diff
from reconciler.env import Env
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.live import read_live
from reconciler.manifest.load import load_manifests
from reconciler.plan import Plan, ValuePolicy
from reconciler.render import render_json, render_markdown, render_text
from reconciler.sandbox import Sandbox, SandboxConfig

ORG = "bench-org"
ORG_APPS = ("actions", "dependabot")
REPO_APP = "actions"
PER_PAGE = 100
ENV = {"BENCH_TOKEN": "benchmark value"}


@dataclass(frozen=True)
class Shape:
    repos: int
    org_secrets: int  # per app
    selected_fraction: float
    selected_mean: int  # repositories per selected secret, on average
    repo_scopes: int
    repo_secrets: int  # per repository scope

    @classmethod
    def full(cls) -> Shape:
        return cls(5000, 500, 0.30, 20, 300, 3)

    @classmethod
    def small(cls) -> Shape:
        return cls(500, 50, 0.30, 20, 30, 3)


@dataclass(frozen=True)
class Seed:
    repos: list[str]
    # app -> name -> selected repository names (None when not `selected`)
    org: dict[str, dict[str, list[str] | None]]
    repo_scopes: list[str]


def make_seed(shape: Shape, rng: random.Random) -> Seed:
    repos = [f"repo-{i:05d}" for i in range(shape.repos)]
    org: dict[str, dict[str, list[str] | None]] = {}
    for app in ORG_APPS:
        secrets: dict[str, list[str] | None] = {}
        for i in range(shape.org_secrets):
            if rng.random() < shape.selected_fraction:
                k = rng.randint(1, 2 * shape.selected_mean - 1)  # mean `selected_mean`
                secrets[f"{app.upper()}_S{i:04d}"] = sorted(rng.sample(repos, k))
            else:
                secrets[f"{app.upper()}_S{i:04d}"] = None
        org[app] = secrets
    return Seed(repos, org, rng.sample(repos, shape.repo_scopes))


def load_sandbox(sb: Sandbox, seed: Seed, shape: Shape) -> None:
    for name in seed.repos:
        sb.add_repo(f"{ORG}/{name}")
    for app, secrets in seed.org.items():
        for i, (name, selected) in enumerate(secrets.items()):
            visibility = "selected" if selected is not None else ("all", "private")[i % 2]
            sb.put_secret(ORG, app, name, b"v", visibility=visibility, selected=selected)
    for repo in seed.repo_scopes:
        for j in range(shape.repo_secrets):
            sb.put_secret(f"{ORG}/{repo}", REPO_APP, f"R{j}", b"v")


def write_manifest(path: Path, seed: Seed, shape: Shape) -> None:
    lines = ["version: 1", "orgs:", f"  {ORG}:"]
    for app, secrets in seed.org.items():
        lines += [f"    {app}:", "      secrets:"]
        for i, (name, selected) in enumerate(secrets.items()):
            spec = "{value: {env: BENCH_TOKEN}, visibility: "
            if selected is None:
                spec += ("all", "private")[i % 2] + "}"
            else:
                spec += f"selected, repositories: [{', '.join(selected)}]}}"
            lines.append(f"        {name}: {spec}")
    lines.append("repos:")
    for repo in seed.repo_scopes:
        lines += [f"  {ORG}/{repo}:", f"    {REPO_APP}:", "      secrets:"]
        lines += [
            f"        R{j}: {{value: {{env: BENCH_TOKEN}}}}" for j in range(shape.repo_secrets)
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- requests --------------------------------------------------------------------------------


def kind_of(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[:1] == ["orgs"] and parts[2:] == ["repos"]:
        return "repo list pages"
    if parts[:1] == ["repos"] and len(parts) == 3:
        return "repo lookups"
    if parts[-1] == "repositories":
        return "selected-repo pages"
    if parts[-1] == "secrets":
        return "org secret list pages" if parts[0] == "orgs" else "repo secret list pages"
    return "other (" + "/".join(parts[-2:]) + ")"


def pages(n: int) -> int:
    """Requests to read a list of n items at 100 per page: an empty list still takes one."""
    return max(1, math.ceil(n / PER_PAGE))


def minimum(seed: Seed, shape: Shape) -> dict[str, int]:
    referenced = {r for secrets in seed.org.values() for sel in secrets.values() for r in sel or ()}
    referenced |= set(seed.repo_scopes)
    return {
        "org secret list pages": sum(pages(len(s)) for s in seed.org.values()),
        "repo secret list pages": len(seed.repo_scopes) * pages(shape.repo_secrets),
        "selected-repo pages": sum(
            pages(len(sel)) for s in seed.org.values() for sel in s.values() if sel is not None
        ),
        # Resolving every referenced name up front: the org listing or one GET per name.
        "repo resolution (up front)": min(pages(len(seed.repos)), len(referenced)),
        "distinct repositories named": len(referenced),
    }


# -- timing ----------------------------------------------------------------------------------


def run_plan(sb: Sandbox, manifest: Path, concurrency: int) -> tuple[float, str]:
    env = {**ENV, "GITHUB_TOKEN": sb.token, "GITHUB_API_URL": sb.url}
    out = io.StringIO()
    cli_env = Env(environ=env, stdin=io.StringIO(), stdout=out, stderr=sys.stderr)
    args = ["plan", str(manifest), "--values", "skip-unknown", "--format", "json"]
    start = time.perf_counter()
    code = cli.main([*args, "--concurrency", str(concurrency), "--detailed-exitcode"], cli_env)
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.exit(f"plan exited {code} (expected a no-op plan, 0)")
    return elapsed, out.getvalue()


def cpu(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-`repeat` process CPU seconds for one call."""
    best = math.inf
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size: a smoke run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the shape")
    args = parser.parse_args(argv)
    shape = Shape.small() if args.small else Shape.full()
    seed = make_seed(shape, random.Random(args.seed))

    with tempfile.TemporaryDirectory() as tmp, Sandbox(SandboxConfig()) as sb:
        t0 = time.perf_counter()
        load_sandbox(sb, seed, shape)
        manifest = Path(tmp) / "bench.yaml"
        write_manifest(manifest, seed, shape)
        seeded = time.perf_counter() - t0
        n_secrets = sum(len(s) for s in seed.org.values()) + shape.repo_scopes * shape.repo_secrets
        n_selected = sum(1 for s in seed.org.values() for sel in s.values() if sel is not None)
        print(
            f"shape: {shape.repos} repos; {shape.org_secrets} org secrets x {len(ORG_APPS)} apps "
            f"({n_selected} selected, mean {shape.selected_mean} repos); {shape.repo_scopes} "
            f"repos x {shape.repo_secrets} repo secrets = {n_secrets} secrets "
            f"(seeded in {seeded:.1f}s)"
        )

        # Requests: one no-op plan without latency.
        sb.clear_requests()
        run_plan(sb, manifest, 8)
        made = Counter(kind_of(r.path) for r in sb.requests)
        least = minimum(seed, shape)
        up_front = least["repo resolution (up front)"]
        resolution = made["repo list pages"] + made["repo lookups"]
        rows: list[tuple[str, int, int | str]] = [
            (kind, made.pop(kind, 0), least[kind])
            for kind in ("org secret list pages", "repo secret list pages", "selected-repo pages")
        ]
        lower_bound = sum(int(low) for _, _, low in rows)
        rows += [
            ("repo list pages", made.pop("repo list pages", 0), ""),
            ("repo lookups", made.pop("repo lookups", 0), ""),
            ("= repo resolution", resolution, f"{up_front} / 0"),
            *((kind, count, 0) for kind, count in sorted(made.items())),
            ("total", len(sb.requests), f"{lower_bound + up_front} / {lower_bound}"),
        ]
        print(f"\n{'requests by kind':<30}{'made':>6}  {'minimum':>9}")
        for kind, count, low in rows:
            print(f"  {kind:<28}{count:>6}  {low:>9}")
        print(
            "  minimum: each list costs ceil(n/100) pages, at least 1 (n = secrets in the group,\n"
            "  or repositories of a selected secret). Repository resolution, done up front as\n"
            "  now, costs min(ceil(repos/100), distinct names named) = "
            f"min({pages(len(seed.repos))}, {least['distinct repositories named']}) requests;\n"
            "  a no-op plan needs none (the figure after /): every named repository also\n"
            "  appears, with its id, in a live selection, or is a repository scope whose\n"
            "  secret list answered."
        )

        # Wall time with latency, at two concurrency levels, and without latency: the
        # sandbox shares this process (and its GIL), so its own CPU is in every figure.
        print(f"\nwall time of `plan`{'':<11}{args.latency * 1000:>5.0f} ms latency   no latency")
        for concurrency in (1, 8):
            sb.set_latency(args.latency)
            slow, _ = run_plan(sb, manifest, concurrency)
            sb.set_latency(0)
            fast, _ = run_plan(sb, manifest, concurrency)
            print(f"  --concurrency {concurrency:<14}{slow:>10.2f}s {fast:>11.2f}s")

        # CPU of diff + render alone, on the live state already read.
        desired = load_manifests([str(manifest)]).desired
        client = GitHubClient(ClientConfig(api_url=sb.url, token=sb.token))
        try:
            live, _ = read_live(desired, client)
        finally:
            client.close()
        noop = diff(
            desired.groups, live, ValuePolicy.SKIP_UNKNOWN, cost=client.transport.counters.cost()
        )
        assert not noop.has_changes, "the benchmark manifest should be a no-op"
        repeat = 3 if args.small else 5
        print(f"\nCPU time, best of {repeat} (time.process_time), ms")
        print(f"  {'':<18}{'no-op plan':>12}{'--values always':>17}")
        policies = (ValuePolicy.SKIP_UNKNOWN, ValuePolicy.ALWAYS)
        plans = [diff(desired.groups, live, p) for p in policies]
        steps: dict[str, Callable[[ValuePolicy, Plan], object]] = {
            "diff": lambda policy, plan: diff(desired.groups, live, policy),
            "render_text": lambda policy, plan: render_text(plan),
            "render_markdown": lambda policy, plan: render_markdown(plan),
            "render_json": lambda policy, plan: render_json(plan.document()),
        }
        totals = [0.0, 0.0]
        for name, step in steps.items():
            cells = [
                cpu(lambda: step(policy, plan), repeat)  # noqa: B023 - called at once
                for policy, plan in zip(policies, plans, strict=True)
            ]
            totals = [t + c for t, c in zip(totals, cells, strict=True)]
            print(f"  {name:<18}{cells[0] * 1000:12.1f}{cells[1] * 1000:17.1f}")
        print(f"  {'diff + render':<18}{totals[0] * 1000:12.1f}{totals[1] * 1000:17.1f}")
        print(f"  {'changes':<18}{len(plans[0].changes):>12}{len(plans[1].changes):>17}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
