"""A Terraform-style serial reader: what `terraform plan` refreshes for the same manifest.

    GITHUB_TOKEN=... python tests/benchmarks/terraform_reader.py MANIFEST --api-url URL [--sample K]

It models terraform-provider-github (integrations/terraform-provider-github at b6ce8c0,
August 2026; `v6.9.1` reads the same) refreshing a configuration that declares, for the
manifest, one resource per secret and one `data "github_repository"` per repository it
names. Requests, one at a time, per resource:

- `github_{actions,dependabot,codespaces}_organization_secret`: `GET
  /orgs/{org}/{app}/secrets/{name}` (`...OrganizationSecretRead` calls `GetOrgSecret`);
  when the secret is `selected` and the configuration sets `selected_repository_ids`,
  every page of `GET /orgs/{org}/{app}/secrets/{name}/repositories?per_page=100`
  (`ListSelectedReposForOrgSecret[Iter]` with `max_per_page`, default 100, following
  `Link: next`). github/resource_github_{actions,dependabot,codespaces}_organization_secret.go.
  The provider has no `agents` resource; agents secrets are read the same way.
- `github_actions_secret`: `GET /repos/{owner}/{repo}/actions/secrets/{name}`
  (`resourceGithubActionsSecretRead` calls `GetRepoSecret` only;
  github/resource_github_actions_secret.go). Its `diffRepository` (github/util_diff.go)
  GETs the repository only when `repository` changes, which a no-op plan never does.
- `data "github_repository"`: `GET /repos/{owner}/{repo}`
  (`dataSourceGithubRepositoryRead`; github/data_source_github_repository.go; its pages
  and licence reads happen only for repositories that have them, none here). A data
  source is read on every plan, once per distinct repository: the ids that
  `selected_repository_ids` needs, and the repositories that repository secrets name
  (`repository = data.github_repository.x.name`, the id check that survives renames).

Serial, because the provider's default (`legacy_client`) transport holds one mutex per
request unless `parallel_requests` is set (github/transport.go `smartLock`). No
conditional requests: its ETag transport sends `If-None-Match` only for resources that
keep an `etag` attribute, and no secret resource does. No start-up request: with `owner`
configured, `configureProviderMeta` (github/provider.go) asks GitHub nothing.

`requests.Session(trust_env=False)` keeps one connection and does not re-read the
environment per request, so Python adds little beyond the latency. It compares what it
read with the manifest (visibility, selected ids) and prints one JSON line:
`{"requests", "predicted", "drift"}`; `predicted` is the count for the whole manifest of a
no-op, so `--sample K` (every K-th resource) lets the caller extrapolate the time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class OrgSecretResource:
    org: str
    app: str
    name: str
    visibility: str
    repositories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RepoSecretResource:
    owner: str
    repo: str
    app: str
    name: str


@dataclass(frozen=True, slots=True)
class Configuration:
    """The resources and data sources a Terraform configuration for the manifest has."""

    repositories: tuple[tuple[str, str], ...]  # (owner, name) of each data source
    org_secrets: tuple[OrgSecretResource, ...]
    repo_secrets: tuple[RepoSecretResource, ...]

    def predicted(self) -> int:
        """Requests of a no-op refresh: live state equals the configuration."""
        lists = sum(
            max(1, math.ceil(len(s.repositories) / PER_PAGE))
            for s in self.org_secrets
            if s.visibility == "selected"
        )
        return len(self.repositories) + len(self.org_secrets) + lists + len(self.repo_secrets)


def configuration(manifest: Path) -> Configuration:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc: dict[str, Any] = yaml.load(manifest.read_text(encoding="utf-8"), Loader=loader)
    named: set[tuple[str, str]] = set()
    org_secrets = []
    for org, apps in (doc.get("orgs") or {}).items():
        for app, group in apps.items():
            for name, spec in (group.get("secrets") or {}).items():
                repos = tuple(spec.get("repositories") or ())
                named.update((org, r) for r in repos)
                visibility = spec.get("visibility", "all")
                org_secrets.append(OrgSecretResource(org, app, name, visibility, repos))
    repo_secrets = []
    for full_name, apps in (doc.get("repos") or {}).items():
        owner, _, repo = full_name.partition("/")
        named.add((owner, repo))
        for app, group in apps.items():
            repo_secrets += [
                RepoSecretResource(owner, repo, app, n) for n in group.get("secrets") or {}
            ]
    return Configuration(tuple(sorted(named)), tuple(org_secrets), tuple(repo_secrets))


class SerialReader:
    def __init__(self, api_url: str, token: str) -> None:
        self.api = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        )
        self.requests = 0

    def get(self, url: str) -> requests.Response:
        self.requests += 1
        response = self.session.get(url if "://" in url else self.api + url, timeout=60)
        response.raise_for_status()
        return response

    def refresh(self, config: Configuration, k: int) -> int:
        """Read every K-th data source and resource, in Terraform's order; the drift seen."""
        ids: dict[tuple[str, str], int] = {}
        for owner, name in config.repositories[::k]:
            ids[owner, name] = self.get(f"/repos/{owner}/{name}").json()["id"]
        drift = 0
        for s in config.org_secrets[::k]:
            secret = self.get(f"/orgs/{s.org}/{s.app}/secrets/{s.name}").json()
            drift += secret["visibility"] != s.visibility
            if secret["visibility"] == "selected" and s.repositories:
                url: str | None = f"/orgs/{s.org}/{s.app}/secrets/{s.name}/repositories"
                url = f"{url}?per_page={PER_PAGE}"
                live: set[int] = set()
                while url:
                    page = self.get(url)
                    live.update(r["id"] for r in page.json()["repositories"])
                    url = page.links.get("next", {}).get("url")
                wanted = {ids.get((s.org, r)) for r in s.repositories}
                drift += None not in wanted and wanted != live
        for r in config.repo_secrets[::k]:
            self.get(f"/repos/{r.owner}/{r.repo}/{r.app}/secrets/{r.name}")
        return drift


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--sample", type=int, default=1, help="read every K-th resource only")
    args = parser.parse_args(argv)
    config = configuration(args.manifest)
    reader = SerialReader(args.api_url, os.environ["GITHUB_TOKEN"])
    try:
        drift = reader.refresh(config, max(1, args.sample))
    except requests.RequestException as e:
        print(f"terraform-style reader: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    result = {"requests": reader.requests, "predicted": config.predicted(), "drift": drift}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
