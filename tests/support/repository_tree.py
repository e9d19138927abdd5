"""A realistic repository checkout with a manifest directory among other YAML, for the
discovery tests: the files a CI checkout really holds next to reconciler manifests."""

from __future__ import annotations

import textwrap
from pathlib import Path

ORG_MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      prune: true
      secrets:
        DEPLOY_TOKEN: {value: {env: DEPLOY_TOKEN}}
"""

REPOS_MANIFEST = """
version: 1
repos:
  octo-org/web:
    actions:
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}}
"""

WORKFLOW = """
name: ci
on: [push]
jobs:
  test: {runs-on: ubuntu-latest, steps: [{run: make}]}
"""

DEPENDABOT = """
version: 2
updates:
  - {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}
"""

DOCKER_COMPOSE = """
version: "3.8"
services:
  web: {image: "nginx:1.27", secrets: [db_password]}
secrets:
  db_password: {file: ./db_password.txt}
"""

PRE_COMMIT = """
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.0
    hooks: [{id: ruff}]
"""

READTHEDOCS = """
version: 2
build: {os: ubuntu-22.04, tools: {python: "3.12"}}
sphinx: {configuration: docs/conf.py}
"""

HELM_VALUES = """
replicaCount: 2
image: {repository: nginx, tag: stable}
service: {type: ClusterIP, port: 80}
"""

HELM_TEMPLATE = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
"""

MKDOCS = """
site_name: Octo docs
repo_url: https://github.com/octo-org/web
repo_name: octo-org/web
"""

KUBERNETES = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
"""

BROKEN_YAML = "version: 1\norgs: {octo-org: [\n"

TREE: dict[str, str] = {
    "manifests/org.yaml": ORG_MANIFEST,
    "manifests/team/REPOS.YAML": REPOS_MANIFEST,
    ".github/workflows/ci.yml": WORKFLOW,
    ".github/dependabot.yml": DEPENDABOT,
    "docker-compose.yml": DOCKER_COMPOSE,
    ".pre-commit-config.yaml": PRE_COMMIT,
    ".readthedocs.yaml": READTHEDOCS,
    "mkdocs.yml": MKDOCS,
    "deploy/k8s.yaml": KUBERNETES,
    "deploy/values.yaml": HELM_VALUES,
    "deploy/chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "deploy/chart/templates/deployment.yaml": HELM_TEMPLATE,
    "node_modules/pkg/broken.yaml": BROKEN_YAML,
    ".venv/lib/broken.yaml": BROKEN_YAML,
    "env/pyvenv.cfg": "home = /usr/bin\n",
    "env/lib/broken.yaml": BROKEN_YAML,
    "src/pkg/__pycache__/broken.yaml": BROKEN_YAML,
    ".git/config.yaml": BROKEN_YAML,
    "README.md": "# octo\n",
}


def build_tree(root: Path, tree: dict[str, str] = TREE) -> Path:
    for name, text in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root
