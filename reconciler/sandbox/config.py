"""How a sandbox is started."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port
    latency: float = 0.0  # seconds added to every request, outside the state lock
    rate_limit: int = 5000  # primary budget per token per hour
    selection_bumps_updated_at: bool = True
    admin_token: str = "sandbox-token"
    record_exchanges: bool = False  # keep raw request/response pairs (tests only)
    installation_token_ttl: int = 3600  # seconds a GitHub App installation token lives
