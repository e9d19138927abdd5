"""GitHub Apps: registrations, installations and the installation tokens they mint.

An app is registered with a generated RSA key pair (the private key is handed to the
caller as PEM, like the key GitHub lets you download); installations tie it to an
organisation, for all of its repositories or a selection. Installation tokens carry the
installation's permissions and repositories (or a narrower subset) and expire.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_TOKEN_TTL = 3600
_FIRST_INSTALLATION_ID = 40_000_001
_TOKEN_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class GitHubApp:
    id: int
    slug: str
    client_id: str
    public_key: rsa.RSAPublicKey
    permissions: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Installation:
    id: int
    app_id: int
    account: str  # organisation login, canonical spelling
    repo_ids: frozenset[int] | None  # None: all repositories
    permissions: Mapping[str, str]
    created_at: str


@dataclass(frozen=True, slots=True)
class InstallationToken:
    token: str
    installation: Installation
    expires_at: int  # epoch seconds
    permissions: Mapping[str, str]
    repo_ids: frozenset[int] | None


def _new_token() -> str:
    # ghs_ + 36 characters: the 40-character classic shape of installation tokens.
    return "ghs_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(36))


class AppRegistry:
    def __init__(self, token_ttl: int = DEFAULT_TOKEN_TTL) -> None:
        self.lock = threading.RLock()
        self.token_ttl = token_ttl
        self._apps: dict[int, GitHubApp] = {}
        self._installations: dict[int, Installation] = {}
        self._tokens: dict[str, InstallationToken] = {}
        self._next_installation = _FIRST_INSTALLATION_ID

    def register(self, app_id: int, permissions: Mapping[str, str], slug: str) -> bytes:
        """Register an app with a fresh RSA key; returns the private key as PEM (PKCS#1)."""
        for key, access in permissions.items():
            if access not in ("read", "write"):
                raise ValueError(f"permission {key!r} must be 'read' or 'write', not {access!r}")
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app = GitHubApp(
            id=app_id,
            slug=slug,
            client_id=f"Iv1.{app_id:016x}",
            public_key=private.public_key(),
            permissions=MappingProxyType(dict(permissions)),
        )
        with self.lock:
            if app_id in self._apps:
                raise ValueError(f"app {app_id} is already registered")
            self._apps[app_id] = app
        return private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def install(
        self, app_id: int, account: str, repo_ids: frozenset[int] | None, created_at: str
    ) -> Installation:
        with self.lock:
            app = self._apps[app_id]
            if self.for_account(app_id, account) is not None:
                raise ValueError(f"app {app_id} is already installed on {account}")
            installation = Installation(
                self._next_installation, app_id, account, repo_ids, app.permissions, created_at
            )
            self._next_installation += 1
            self._installations[installation.id] = installation
            return installation

    def app(self, issuer: str) -> GitHubApp | None:
        """The app a JWT's `iss` names: its numeric ID or its client ID."""
        with self.lock:
            if issuer.isdigit():
                return self._apps.get(int(issuer))
            return next((a for a in self._apps.values() if a.client_id == issuer), None)

    def installations(self, app_id: int) -> list[Installation]:
        with self.lock:
            found = (i for i in self._installations.values() if i.app_id == app_id)
            return sorted(found, key=lambda i: i.id)

    def installation(self, app_id: int, installation_id: int) -> Installation | None:
        with self.lock:
            found = self._installations.get(installation_id)
            return found if found is not None and found.app_id == app_id else None

    def for_account(self, app_id: int, account: str) -> Installation | None:
        wanted = account.lower()
        return next((i for i in self.installations(app_id) if i.account.lower() == wanted), None)

    def mint(
        self,
        installation: Installation,
        now: int,
        permissions: Mapping[str, str],
        repo_ids: frozenset[int] | None,
    ) -> InstallationToken:
        with self.lock:
            token = InstallationToken(
                _new_token(),
                installation,
                now + self.token_ttl,
                MappingProxyType(dict(permissions)),
                repo_ids,
            )
            self._tokens[token.token] = token
            return token

    def token(self, value: str) -> InstallationToken | None:
        with self.lock:
            return self._tokens.get(value)
