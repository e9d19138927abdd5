"""Fine-grained token permissions: which key each endpoint needs, named as GitHub names them.

Keys are the names GitHub uses for fine-grained permissions (what an app manifest or the
`X-Accepted-GitHub-Permissions` header says); titles are the docs' wording, e.g.
`"Organization dependabot secrets" organization permissions (read)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

APPS: tuple[str, ...] = ("actions", "agents", "codespaces", "dependabot")
Kind = Literal["org", "repo"]
Access = Literal["read", "write"]

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
METADATA = "metadata"

PERMISSION_KEYS: Mapping[tuple[str, str], str] = MappingProxyType(
    {scope_app: key for scope_app, (key, _title) in _SECRET_PERMISSIONS.items()}
    | {("repo", METADATA): METADATA}
)


def _title(kind: str, title: str, access: str) -> str:
    noun = "organization" if kind == "org" else "repository"
    return f'"{title}" {noun} permissions ({access})'


# (scope kind, app, access) -> the docs' human-readable requirement.
PERMISSIONS: Mapping[tuple[str, str, str], str] = MappingProxyType(
    {
        (kind, app, access): _title(kind, title, access)
        for (kind, app), (_key, title) in _SECRET_PERMISSIONS.items()
        for access in ("read", "write")
    }
    | {("repo", METADATA, "read"): _title("repo", "Metadata", "read")}
)


def secret_permission(kind: str, app: str) -> str:
    return PERMISSION_KEYS[(kind, app)]


def grants(permissions: Mapping[str, str], key: str, access: str) -> bool:
    """Whether a token's permission map covers `key` at `access`; write includes read."""
    held = permissions.get(key)
    return held == "write" or (held == "read" and access == "read")
