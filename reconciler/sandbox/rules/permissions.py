"""Fine-grained token permissions: which key each endpoint needs, named as GitHub names them.

Keys are the names GitHub uses for fine-grained permissions (what an app manifest or the
`X-Accepted-GitHub-Permissions` header says); titles are the docs' wording, e.g.
`"Organization dependabot secrets" organization permissions (read)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# (scope kind, app) -> (permission key, docs title)
_SECRET_PERMISSIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("org", "actions"): ("organization_secrets", "Secrets"),
    ("repo", "actions"): ("secrets", "Secrets"),
    ("org", "agents"): ("organization_agent_secrets", "Agent secrets"),
    ("repo", "agents"): ("agent_secrets", "Agent secrets"),
    ("org", "codespaces"): ("organization_codespaces_secrets", "Organization codespaces secrets"),
    ("repo", "codespaces"): ("codespaces_secrets", "Codespaces secrets"),
    ("org", "dependabot"): ("organization_dependabot_secrets", "Organization dependabot secrets"),
    ("repo", "dependabot"): ("dependabot_secrets", "Dependabot secrets"),
}
# (scope kind, app) -> (permission key, docs title), for the variables of the two apps.
_VARIABLE_PERMISSIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("org", "actions"): ("organization_variables", "Variables"),
    ("repo", "actions"): ("variables", "Variables"),
    ("org", "agents"): ("organization_agent_variables", "Agent variables"),
    ("repo", "agents"): ("agent_variables", "Agent variables"),
}
METADATA = "metadata"
CONTENTS = "contents"
ISSUES = "issues"
PULL_REQUESTS = "pull_requests"
# Repository permissions beyond secrets and variables: key -> docs title.
_REPO_PERMISSIONS: dict[str, str] = {
    METADATA: "Metadata",
    CONTENTS: "Contents",
    ISSUES: "Issues",
    PULL_REQUESTS: "Pull requests",
}
# Deployment environments: listing and reading them is "Actions" (read), creating and deleting
# them "Administration" (write); their secrets and variables need "Environments" as well.
# Repository permissions, kept apart under the kind "environment" because the key `actions`
# would collide with the Actions secrets entry ("repo", "actions") of PERMISSION_KEYS.
ACTIONS = "actions"
ADMINISTRATION = "administration"
ENVIRONMENTS = "environments"
_ENVIRONMENT_PERMISSIONS: dict[str, str] = {
    ACTIONS: "Actions",
    ADMINISTRATION: "Administration",
    ENVIRONMENTS: "Environments",
}

# (scope kind, app) -> key for secrets; (scope kind, key) -> key for every other permission
# (kind "environment" for the environment permissions), so `PERMISSION_KEYS.values()` is
# every key the sandbox checks.
PERMISSION_KEYS: Mapping[tuple[str, str], str] = MappingProxyType(
    {scope_app: key for scope_app, (key, _title) in _SECRET_PERMISSIONS.items()}
    | {(kind, key): key for (kind, _app), (key, _title) in _VARIABLE_PERMISSIONS.items()}
    | {("repo", key): key for key in _REPO_PERMISSIONS}
    | {("environment", key): key for key in _ENVIRONMENT_PERMISSIONS}
)
# (scope kind, app) -> the key its variables endpoints need.
VARIABLE_PERMISSION_KEYS: Mapping[tuple[str, str], str] = MappingProxyType(
    {scope_app: key for scope_app, (key, _title) in _VARIABLE_PERMISSIONS.items()}
)

# What a sandbox GitHub App's installations get unless `add_app` says otherwise: every
# secrets and variables permission (write), Metadata (read), Contents and Issues (write),
# and what managing environments takes: Actions (read), Administration and Environments (write).
DEFAULT_APP_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {key: "write" for key, _title in _SECRET_PERMISSIONS.values()}
    | {key: "write" for key, _title in _VARIABLE_PERMISSIONS.values()}
    | {METADATA: "read", CONTENTS: "write", ISSUES: "write"}
    | {ACTIONS: "read", ADMINISTRATION: "write", ENVIRONMENTS: "write"}
)


def _title(kind: str, title: str, access: str) -> str:
    noun = "organization" if kind == "org" else "repository"  # environments: repository
    return f'"{title}" {noun} permissions ({access})'


# (scope kind, app, access) -> the docs' human-readable requirement.
PERMISSIONS: Mapping[tuple[str, str, str], str] = MappingProxyType(
    {
        (kind, app, access): _title(kind, title, access)
        for (kind, app), (_key, title) in _SECRET_PERMISSIONS.items()
        for access in ("read", "write")
    }
    | {
        (kind, key, access): _title(kind, title, access)
        for (kind, _app), (key, title) in _VARIABLE_PERMISSIONS.items()
        for access in ("read", "write")
    }
    | {
        ("repo", key, access): _title("repo", title, access)
        for key, title in _REPO_PERMISSIONS.items()
        for access in ("read", "write")
        if key != METADATA or access == "read"
    }
    | {
        ("environment", key, access): _title("environment", title, access)
        for key, title in _ENVIRONMENT_PERMISSIONS.items()
        for access in ("read", "write")
    }
)


def secret_permission(kind: str, app: str) -> str:
    return PERMISSION_KEYS[(kind, app)]


def grants(permissions: Mapping[str, str], key: str, access: str) -> bool:
    """Whether a token's permission map covers `key` at `access`; write includes read."""
    held = permissions.get(key)
    return held == "write" or (held == "read" and access == "read")
