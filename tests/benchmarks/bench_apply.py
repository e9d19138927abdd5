"""Benchmark `reconciler apply`: writes made vs planned, requests around them, wall time.

    python tests/benchmarks/bench_apply.py            # 300 secrets to write
    python tests/benchmarks/bench_apply.py --small    # 30

An empty organisation with 200 repositories gets, from one manifest: org secrets for two
apps (a third `selected` with 10 repositories each) and repository secrets. Printed: the
writes `plan` promised and the writes `apply` made (they must be equal), the reads around
them (live state, public keys, the ledger's after-write listing), the wall time with 50 ms
injected latency at `--write-delay 0` (what pacing would add at the default 1 s is
computed, not waited for), and a second, converged apply's request count.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from reconciler import cli
from reconciler.env import Env
from reconciler.sandbox import Sandbox, SandboxConfig

ORG = "bench-org"
APPS = ("actions", "dependabot")
ENV = {"BENCH_TOKEN": "benchmark value", "RECONCILER_LEDGER_KEY": "bench-ledger-key-0123456789"}


def manifest(n_org: int, n_repo: int, repos: int) -> str:
    lines = ["version: 1", "orgs:", f"  {ORG}:"]
    for app in APPS:
        lines += [f"    {app}:", "      secrets:"]
        for i in range(n_org):
            if i % 3 == 0:
                chosen = ", ".join(f"r{(i + k) % repos:03d}" for k in range(10))
                lines.append(
                    f"        S{i:04d}: {{value: {{env: BENCH_TOKEN}}, visibility: selected, "
                    f"repositories: [{chosen}]}}"
                )
            else:
                lines.append(f"        S{i:04d}: {{value: {{env: BENCH_TOKEN}}, visibility: all}}")
    lines.append("repos:")
    for r in range(n_repo):
        lines += [f"  {ORG}/r{r:03d}:", "    actions:", "      secrets:"]
        lines.append("        R: {value: {env: BENCH_TOKEN}}")
    return "\n".join(lines) + "\n"


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    out = io.StringIO()
    # Progress lines go to a stderr nobody reads: they are not the benchmark's.
    cli_env = Env(environ=env, stdin=io.StringIO(), stdout=out, stderr=io.StringIO())
    start = time.perf_counter()
    code = cli.main(args, cli_env)
    return code, out.getvalue(), time.perf_counter() - start


def kind(method: str, path: str) -> str:
    if method in ("PUT", "DELETE"):
        return "writes"
    if path.endswith("/public-key"):
        return "public keys"
    if path.endswith("/repos") or (path.count("/") == 3 and path.startswith("/repos/")):
        return "repo resolution"
    if path.endswith("/repositories"):
        return "selected-repo pages"
    return "secret list pages"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--latency", type=float, default=0.05)
    opts = parser.parse_args(argv)
    n_org, n_repo, repos = (10, 10, 20) if opts.small else (100, 100, 200)
    with Sandbox(SandboxConfig()) as sb, tempfile.TemporaryDirectory() as tmp:
        for r in range(repos):
            sb.add_repo(f"{ORG}/r{r:03d}")
        path = Path(tmp) / "bench.yaml"
        path.write_text(manifest(n_org, n_repo, repos), encoding="utf-8")
        env = {**ENV, "GITHUB_TOKEN": sb.token, "GITHUB_API_URL": sb.url,
               "RECONCILER_LEDGER": str(Path(tmp) / "ledger.json")}  # fmt: skip
        code, out, _ = run(["plan", str(path), "--format", "json"], env)
        assert code == 0, out
        planned = json.loads(out)["api"]["writes_planned"]
        sb.set_latency(opts.latency)
        sb.clear_requests()
        code, out, wall = run(["apply", str(path), "--write-delay", "0", "--format", "json"], env)
        assert code == 0, out
        made = Counter(kind(r.method, r.path) for r in sb.requests)
        sb.clear_requests()
        code, out, again_wall = run(["apply", str(path), "--write-delay", "0"], env)
        assert code == 0, out
        again = len(sb.requests)
        again_writes = sum(1 for r in sb.requests if r.method in ("PUT", "DELETE"))
    print(f"shape: {2 * n_org} org secrets over {len(APPS)} apps, {n_repo} repo secrets, "
          f"{repos} repos; latency {opts.latency * 1000:.0f} ms")  # fmt: skip
    print(f"writes planned {planned:>6}   writes made {made['writes']:>6}")
    for name in ("secret list pages", "selected-repo pages", "repo resolution", "public keys"):
        print(f"  reads: {name:<22}{made[name]:>6}")
    print(f"apply wall time (--write-delay 0): {wall:.2f}s")
    print(f"pacing at the default --write-delay 1 would add {max(planned - 1, 0)} s")
    print(f"second apply (converged): {again} requests, {again_writes} writes, {again_wall:.2f}s")
    return 0 if planned == made["writes"] and again_writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
