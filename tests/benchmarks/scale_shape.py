"""The two shapes of issue 15 for `bench_scale.py`: the seed, its JSON form, its manifest.

The seed is drawn once, in the benchmark's process, and handed to the sandbox launcher as
JSON, so the sandbox's state and the manifest match exactly (the plan is a no-op) without
two processes having to draw the same random numbers.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ORG = "bench-org"
REPO_APP = "actions"
VALUE_ENV = "BENCH_TOKEN"  # the manifest's value source; skip-unknown never reads it


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    apps: tuple[str, ...]  # organisation apps, each with `org_secrets` secrets
    org_secrets: int  # per app
    selected: int  # `selected` org secrets, over all apps together
    selected_max: int  # a selected secret has 1..selected_max repositories (mean ~half)
    repos: int
    repo_scopes: int  # repositories with repository secrets (app actions)
    repo_secrets: int  # per repository scope
    latency: float  # seconds the sandbox adds to every request

    @classmethod
    def org(cls) -> Shape:
        # The bench_plan.py draw at issue 15's size: 30 % selected, 1 to 39 repositories each.
        return cls("org", ("actions", "dependabot"), 200, 120, 39, 1000, 60, 3, 0.020)

    @classmethod
    def enterprise(cls) -> Shape:
        # The sandbox (like GitHub) has organisation secrets for all four apps.
        apps = ("actions", "agents", "codespaces", "dependabot")
        return cls("enterprise", apps, 1000, 1200, 39, 20_000, 2000, 10, 0.050)

    def small(self) -> Shape:
        """A tenth of the size (the same latency), for a smoke run."""
        return replace(
            self,
            name=f"{self.name} (small)",
            org_secrets=max(1, self.org_secrets // 10),
            selected=self.selected // 10,
            repos=self.repos // 10,
            repo_scopes=max(1, self.repo_scopes // 10),
        )

    def describe(self) -> str:
        return (
            f"{len(self.apps)} apps ({', '.join(self.apps)}) x {self.org_secrets:,} org secrets "
            f"({self.selected:,} selected, 1..{self.selected_max} repos each), "
            f"{self.repos:,} repos, {self.repo_scopes:,} repos x {self.repo_secrets} "
            f"{REPO_APP} secrets; {self.latency * 1000:.0f} ms latency"
        )


@dataclass(frozen=True, slots=True)
class OrgSecret:
    app: str
    name: str
    visibility: str
    repositories: tuple[str, ...]  # names, only when `selected`


@dataclass(frozen=True, slots=True)
class Seed:
    org: str
    repos: tuple[str, ...]
    org_secrets: tuple[OrgSecret, ...]
    repo_scopes: tuple[str, ...]  # repository names with `repo_secrets` secrets each
    repo_secrets: tuple[str, ...]  # the secret names in each of them

    def to_json(self) -> str:
        return json.dumps(
            {
                "org": self.org,
                "repos": self.repos,
                "org_secrets": [
                    [s.app, s.name, s.visibility, s.repositories] for s in self.org_secrets
                ],
                "repo_scopes": self.repo_scopes,
                "repo_secrets": self.repo_secrets,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Seed:
        data: dict[str, Any] = json.loads(text)
        secrets = tuple(
            OrgSecret(app, name, visibility, tuple(repos))
            for app, name, visibility, repos in data["org_secrets"]
        )
        return cls(
            data["org"],
            tuple(data["repos"]),
            secrets,
            tuple(data["repo_scopes"]),
            tuple(data["repo_secrets"]),
        )


def make_seed(shape: Shape, rng: random.Random) -> Seed:
    repos = tuple(f"repo-{i:05d}" for i in range(shape.repos))
    slots = [(app, i) for app in shape.apps for i in range(shape.org_secrets)]
    chosen = set(rng.sample(range(len(slots)), min(shape.selected, len(slots))))
    secrets = []
    for n, (app, i) in enumerate(slots):
        name = f"{app.upper()}_S{i:04d}"
        if n in chosen:
            k = rng.randint(1, min(shape.selected_max, len(repos)))
            secrets.append(OrgSecret(app, name, "selected", tuple(sorted(rng.sample(repos, k)))))
        else:
            secrets.append(OrgSecret(app, name, ("all", "private")[i % 2], ()))
    scopes = tuple(sorted(rng.sample(repos, shape.repo_scopes)))
    return Seed(
        ORG, repos, tuple(secrets), scopes, tuple(f"R{j}" for j in range(shape.repo_secrets))
    )


def write_manifest(path: Path, seed: Seed) -> None:
    """The manifest that matches the seed exactly: a no-op plan."""
    lines = ["version: 1", "orgs:", f"  {seed.org}:"]
    app = ""
    for secret in seed.org_secrets:
        if secret.app != app:
            app = secret.app
            lines += [f"    {app}:", "      secrets:"]
        spec = f"{{value: {{env: {VALUE_ENV}}}, visibility: {secret.visibility}"
        if secret.visibility == "selected":
            spec += f", repositories: [{', '.join(secret.repositories)}]"
        lines.append(f"        {secret.name}: {spec}}}")
    lines.append("repos:")
    for repo in seed.repo_scopes:
        lines += [f"  {seed.org}/{repo}:", f"    {REPO_APP}:", "      secrets:"]
        lines += [f"        {name}: {{value: {{env: {VALUE_ENV}}}}}" for name in seed.repo_secrets]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
