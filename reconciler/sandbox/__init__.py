"""A local, stateful stand-in for GitHub's secrets REST API, for tests and demos.

It speaks the Dependabot, agents, Actions and Codespaces secrets endpoints (org and repo
scope), the Actions and agents variables endpoints, and deployment environments with their
Actions secrets and variables, as GitHub documents them, at the root and under the GHES
`/api/v3` prefix, with sealed-box encryption, pagination, ETags, rate limits, fine-grained
permissions and injectable faults. Values it receives are decrypted and kept in memory for
inspection.

Beyond secrets it speaks what the tool needs around them: GitHub App auth (RS256 JWTs,
installations, expiring installation tokens), the contents API on branches (with git
blob shas and 409 on a stale `sha`), and issue/pull-request comments.

Layers, each importing only those after it: this package's modules (`Sandbox`, seeds and
dumps, `serve`) -> `http` -> `pipeline` -> `endpoints` -> `world` -> `rules`. It imports
nothing from the tool it referees (`tests/sandbox/test_layers.py` checks both).
"""

from __future__ import annotations

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.foreground import serve
from reconciler.sandbox.pipeline.faults import Fault
from reconciler.sandbox.pipeline.recording import Exchange, RequestRecord
from reconciler.sandbox.rules.errors import ApiError
from reconciler.sandbox.rules.limits import CONTENTS_LIMIT
from reconciler.sandbox.rules.names import APPS, VARIABLE_APPS
from reconciler.sandbox.rules.permissions import (
    DEFAULT_APP_PERMISSIONS,
    PERMISSION_KEYS,
    PERMISSIONS,
)
from reconciler.sandbox.rules.versions import API_VERSIONS
from reconciler.sandbox.sandbox import Sandbox
from reconciler.sandbox.seed import SeedError, read_seed
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.scopes import SecretRecord, VariableRecord

__all__ = [
    "API_VERSIONS",
    "APPS",
    "CONTENTS_LIMIT",
    "DEFAULT_APP_PERMISSIONS",
    "PERMISSIONS",
    "PERMISSION_KEYS",
    "VARIABLE_APPS",
    "ApiError",
    "Clock",
    "Exchange",
    "Fault",
    "RequestRecord",
    "Sandbox",
    "SandboxConfig",
    "SecretRecord",
    "SeedError",
    "VariableRecord",
    "read_seed",
    "serve",
]
