"""Who is calling: a fine-grained token, a GitHub App (JWT) or an app installation.

`Authenticator.authenticate(header)` turns an `Authorization` header into a `Principal`
or raises the `ApiError` GitHub would answer (401 for missing, unknown, expired or
malformed credentials; 404 "Integration not found" for a JWT naming no app).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from reconciler.sandbox.pipeline import jwts
from reconciler.sandbox.rules.errors import DOCS, ApiError
from reconciler.sandbox.world.accounts import (
    BOT_ID_BASE,
    SANDBOX_USER,
    USER_ID_BASE,
    Author,
    Principal,
    bot,
)
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.github_apps import AppRegistry, InstallationToken


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


class Authenticator:
    def __init__(self, registry: AppRegistry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock
        self._tokens: dict[str, Mapping[str, str]] = {}
        self._authors: dict[str, Author] = {}
        self._lock = threading.Lock()

    def add_token(
        self,
        token: str,
        permissions: Mapping[str, str],
        *,
        login: str | None = None,
        integration: bool = False,
    ) -> None:
        """`login`: the account the token acts as (default the sandbox user); what it posts is
        signed so. `integration`: an app installation's token, e.g. a workflow's GITHUB_TOKEN
        (login `github-actions[bot]`), refused by `GET /user` as on GitHub."""
        for key, access in permissions.items():
            if access not in ("read", "write"):
                raise ValueError(f"permission {key!r} must be 'read' or 'write', not {access!r}")
        with self._lock:
            self._tokens[token] = MappingProxyType(dict(permissions))
            if login is not None or integration:
                name = login or "github-actions[bot]"
                number = USER_ID_BASE + len(self._authors) + 1
                self._authors[token] = (
                    Author(name, BOT_ID_BASE + number, "Bot", "NONE")
                    if integration
                    else Author(name, number, "User", "CONTRIBUTOR")
                )

    def tokens(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {t: dict(p) for t, p in self._tokens.items()}

    def authenticate(self, header: str | None) -> Principal:
        token = bearer(header)
        if token is None:
            raise ApiError(401, "Requires authentication", DOCS)
        with self._lock:
            permissions = self._tokens.get(token)
            author = self._authors.get(token, SANDBOX_USER)
        if permissions is not None:
            return Principal("token", token, permissions, author)
        installation = self.registry.token(token)
        if installation is not None:
            return self._installation(installation)
        if jwts.looks_like_jwt(token):
            return self._app(token)
        raise ApiError(401, "Bad credentials", DOCS)

    def _installation(self, token: InstallationToken) -> Principal:
        if token.expires_at <= self.clock.now():
            raise ApiError(401, "Bad credentials", DOCS)
        app = self.registry.app(str(token.installation.app_id))
        assert app is not None  # installations only exist for registered apps
        return Principal(
            "installation",
            f"installation:{token.installation.id}",
            token.permissions,
            bot(app.slug, app.id),
            app.id,
            token.installation.account,
            token.repo_ids,
        )

    def _app(self, token: str) -> Principal:
        parsed = jwts.parse(token)
        app = self.registry.app(parsed.issuer)
        if app is None:
            raise ApiError(404, jwts.INTEGRATION_NOT_FOUND, DOCS)
        jwts.verify(parsed, app.public_key, self.clock.now())
        return Principal("app", f"app:{app.id}", {}, bot(app.slug, app.id), app.id)
