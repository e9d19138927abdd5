"""Routes for variables (Actions and agents), deployment environments, and environment
secrets and variables.

Permissions, as GitHub's fine-grained docs give them: variables need "Variables" (or "Agent
variables"), organisation or repository; listing and reading environments "Actions" (read),
creating and deleting them "Administration" (write); an environment's secrets need
"Environments" and "Secrets", its variables "Environments".
"""

from __future__ import annotations

import re

from reconciler.sandbox.endpoints import environments, secrets, variables
from reconciler.sandbox.endpoints.request_context import Handler
from reconciler.sandbox.endpoints.routing import ENVIRONMENT, NAME, ORG, REPO, REPO_ID, Need, Route
from reconciler.sandbox.rules.names import ENVIRONMENT_APP, VARIABLE_APPS
from reconciler.sandbox.rules.permissions import (
    ACTIONS,
    ADMINISTRATION,
    ENVIRONMENTS,
    METADATA,
    PERMISSION_KEYS,
    VARIABLE_PERMISSION_KEYS,
)

_DOCS = "https://docs.github.com/rest"
_SELECTED = "selected-repositor"  # anchors say "repositories-for" or "repository-to/from"

# (method, path under the scope's variables root, handler, scope kind, access, docs anchor)
_VARIABLE_TABLE: tuple[tuple[str, str, Handler, str, str, str], ...] = (
    ("GET", "", variables.list_variables, "org", "read", "list-organization-variables"),
    ("POST", "", variables.create_variable, "org", "write", "create-an-organization-variable"),
    ("GET", NAME, variables.get_variable, "org", "read", "get-an-organization-variable"),
    ("PATCH", NAME, variables.update_variable, "org", "write", "update-an-organization-variable"),
    ("DELETE", NAME, variables.delete_variable, "org", "write", "delete-an-organization-variable"),
    ("GET", NAME + "/repositories", variables.list_selected, "org", "read",
     f"list-{_SELECTED}ies-for-an-organization-variable"),
    ("PUT", NAME + "/repositories", variables.set_selected, "org", "write",
     f"set-{_SELECTED}ies-for-an-organization-variable"),
    ("PUT", NAME + "/repositories" + REPO_ID, variables.add_selected, "org", "write",
     f"add-{_SELECTED}y-to-an-organization-variable"),
    ("DELETE", NAME + "/repositories" + REPO_ID, variables.remove_selected, "org", "write",
     f"remove-{_SELECTED}y-from-an-organization-variable"),
    ("GET", "", variables.list_variables, "repo", "read", "list-repository-variables"),
    ("POST", "", variables.create_variable, "repo", "write", "create-a-repository-variable"),
    ("GET", NAME, variables.get_variable, "repo", "read", "get-a-repository-variable"),
    ("PATCH", NAME, variables.update_variable, "repo", "write", "update-a-repository-variable"),
    ("DELETE", NAME, variables.delete_variable, "repo", "write", "delete-a-repository-variable"),
    ("GET", "", variables.list_variables, "environment", "read", "list-environment-variables"),
    ("POST", "", variables.create_variable, "environment", "write",
     "create-an-environment-variable"),
    ("GET", NAME, variables.get_variable, "environment", "read", "get-an-environment-variable"),
    ("PATCH", NAME, variables.update_variable, "environment", "write",
     "update-an-environment-variable"),
    ("DELETE", NAME, variables.delete_variable, "environment", "write",
     "delete-an-environment-variable"),
)  # fmt: skip

# (method, path under the environment's secrets root, handler, access, docs anchor)
_ENVIRONMENT_SECRET_TABLE: tuple[tuple[str, str, Handler, str, str], ...] = (
    ("GET", "", secrets.list_secrets, "read", "list-environment-secrets"),
    ("GET", "/public-key", secrets.public_key, "read", "get-an-environment-public-key"),
    ("GET", NAME, secrets.get_secret, "read", "get-an-environment-secret"),
    ("PUT", NAME, secrets.put_secret, "write", "create-or-update-an-environment-secret"),
    ("DELETE", NAME, secrets.delete_secret, "write", "delete-an-environment-secret"),
)

# (method, path, handler, permission key, access, docs anchor)
_ENVIRONMENT_TABLE: tuple[tuple[str, str, Handler, str, str, str], ...] = (
    ("GET", REPO + "/environments", environments.list_environments, ACTIONS, "read",
     "list-environments"),
    ("GET", ENVIRONMENT, environments.get_environment, ACTIONS, "read", "get-an-environment"),
    ("PUT", ENVIRONMENT, environments.put_environment, ADMINISTRATION, "write",
     "create-or-update-an-environment"),
    ("DELETE", ENVIRONMENT, environments.delete_environment, ADMINISTRATION, "write",
     "delete-an-environment"),
)  # fmt: skip


def _environment_need(access: str) -> Need:
    return Need(ENVIRONMENTS, access, "environment", ENVIRONMENTS)


def _variable_needs(kind: str, app: str, access: str) -> tuple[Need, ...]:
    if kind == "environment":
        return (_environment_need(access),)
    key = VARIABLE_PERMISSION_KEYS[(kind, app)]
    return (Need(key, access, kind, key),)


def _variable_routes(app: str) -> list[Route]:
    # Adding or removing one repository also needs to see it, as for secrets.
    meta = Need(METADATA, "read", "repo", METADATA)
    routes: list[Route] = []
    for method, tail, handler, kind, access, anchor in _VARIABLE_TABLE:
        if kind == "environment" and app != ENVIRONMENT_APP:
            continue
        root = {"org": ORG, "repo": REPO, "environment": ENVIRONMENT}[kind]
        needs = _variable_needs(kind, app, access)
        if handler in (variables.add_selected, variables.remove_selected):
            needs = (*needs, meta)
        pattern = re.compile(f"{root}/{app}/variables" + tail + r"\Z")
        if kind == "environment":
            pattern = re.compile(f"{root}/variables" + tail + r"\Z")
        doc = f"{_DOCS}/{app}/variables#{anchor}"
        routes.append(Route(method, pattern, handler, needs, app, doc))
    pattern = re.compile(f"{REPO}/{app}/organization-variables" + r"\Z")
    doc = f"{_DOCS}/{app}/variables#list-repository-organization-variables"
    needs = _variable_needs("repo", app, "read")
    routes.append(Route("GET", pattern, variables.repo_org_variables, needs, app, doc))
    return routes


def _environment_routes() -> list[Route]:
    routes: list[Route] = []
    for method, path, handler, key, access, anchor in _ENVIRONMENT_TABLE:
        needs = (Need(key, access, "environment", key),)
        doc = f"{_DOCS}/deployments/environments#{anchor}"
        routes.append(Route(method, re.compile(path + r"\Z"), handler, needs, "", doc))
    secrets_key = PERMISSION_KEYS[("repo", ENVIRONMENT_APP)]
    for method, tail, handler, access, anchor in _ENVIRONMENT_SECRET_TABLE:
        both = (_environment_need(access), Need(secrets_key, access, "repo", ENVIRONMENT_APP))
        pattern = re.compile(f"{ENVIRONMENT}/secrets" + tail + r"\Z")
        doc = f"{_DOCS}/actions/secrets#{anchor}"
        routes.append(Route(method, pattern, handler, both, ENVIRONMENT_APP, doc))
    return routes


SETTINGS_ROUTES: tuple[Route, ...] = tuple(
    [r for app in VARIABLE_APPS for r in _variable_routes(app)] + _environment_routes()
)
