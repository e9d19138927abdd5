"""A local, stateful stand-in for GitHub's secrets REST API, for tests and demos.

It speaks the Dependabot, agents, Actions and Codespaces secrets endpoints (org and repo
scope) as GitHub documents them, at the root and under the GHES `/api/v3` prefix, with
sealed-box encryption, pagination, ETags, rate limits, fine-grained permissions and
injectable faults. Values it receives are decrypted and kept in memory for inspection.

Beyond secrets it speaks what the tool needs around them: GitHub App auth (RS256 JWTs,
installations, expiring installation tokens), the contents API on branches (with git
blob shas and 409 on a stale `sha`), and issue/pull-request comments.
"""

from __future__ import annotations

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.faults import Fault
from reconciler.sandbox.messages import API_VERSIONS, Exchange, RequestRecord
from reconciler.sandbox.permissions import (
    APPS,
    DEFAULT_APP_PERMISSIONS,
    PERMISSION_KEYS,
    PERMISSIONS,
)
from reconciler.sandbox.seed import SeedError
from reconciler.sandbox.serve import read_seed, serve
from reconciler.sandbox.server import Sandbox
from reconciler.sandbox.state import SecretRecord

__all__ = [
    "API_VERSIONS",
    "APPS",
    "DEFAULT_APP_PERMISSIONS",
    "PERMISSIONS",
    "PERMISSION_KEYS",
    "ApiError",
    "Exchange",
    "Fault",
    "RequestRecord",
    "Sandbox",
    "SandboxConfig",
    "SecretRecord",
    "SeedError",
    "read_seed",
    "serve",
]
