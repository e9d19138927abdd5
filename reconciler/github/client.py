"""`GitHubClient`: the one object callers hold, a transport and one client per endpoint family
composed on it (`secrets`, `variables`, `environments`, `repos`, `contents`, `comments`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from reconciler.github.auth import Auth
from reconciler.github.comments import Comments
from reconciler.github.contents import Contents
from reconciler.github.environments import Environments
from reconciler.github.repositories import Repositories
from reconciler.github.secrets import Secrets
from reconciler.github.transport import ClientConfig, Transport
from reconciler.github.variables import Variables
from reconciler.model import Kind


class GitHubClient:
    """`GitHubClient(config)` opens a transport (its session, auth, retries and counters) and
    composes the endpoint families on it: `secrets`, `variables`, `environments`, `repos`,
    `contents`, `comments`; the
    transport itself is `transport` (its `counters`, the `read_pool` it can abort). `close()`
    closes it. Tests that record or remove waits pass `sleep` and `rng`, or build a family
    client on a Transport subclass of their own."""

    __slots__ = (
        "comments",
        "contents",
        "environments",
        "repos",
        "secrets",
        "transport",
        "variables",
    )

    def __init__(
        self,
        config: ClientConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        auth: Auth | None = None,
    ) -> None:
        self.transport = Transport(config, sleep=sleep, rng=rng, auth=auth)
        self.secrets = Secrets(self.transport)
        self.variables = Variables(self.transport)
        self.environments = Environments(self.transport)
        self.repos = Repositories(self.transport)
        self.contents = Contents(self.transport)
        self.comments = Comments(self.transport)

    def of_kind(self, kind: Kind) -> Secrets | Variables:
        """The family holding `kind`: deletes and selected repositories work alike on both."""
        return self.variables if kind is Kind.VARIABLE else self.secrets

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport.base_url!r})"

    def close(self) -> None:
        self.transport.close()
