"""A thin HTTP client for sandbox tests: admin token, JSON bodies, sealing of values."""

from __future__ import annotations

import base64
from typing import Any

import requests
from nacl.public import PublicKey, SealedBox

from reconciler.sandbox import Sandbox


class Api:
    """A thin `requests` client for tests: the admin token, JSON, and sealing of values."""

    def __init__(self, sb: Sandbox, token: str | None = None, prefix: str = "") -> None:
        self.sb = sb
        self.session = requests.Session()
        self.root = sb.url + prefix
        if token is None:
            token = sb.token
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/vnd.github+json"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.root + path, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.put(self.root + path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.root + path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.root + path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.patch(self.root + path, json=json, **kwargs)

    def seal(self, scope_path: str, app: str, value: bytes) -> dict[str, str]:
        """Fetch the scope's public key over HTTP and seal `value` for it."""
        return self.seal_for(f"{scope_path}/{app}/secrets", value)

    def seal_for(self, secrets_root: str, value: bytes) -> dict[str, str]:
        """Seal `value` for the key at `secrets_root + "/public-key"` (e.g. an environment's
        `/repos/o/r/environments/production/secrets`)."""
        key = self.get(f"{secrets_root}/public-key").json()
        box = SealedBox(PublicKey(base64.b64decode(key["key"])))
        sealed = base64.b64encode(box.encrypt(value)).decode()
        return {"encrypted_value": sealed, "key_id": key["key_id"]}

    def close(self) -> None:
        self.session.close()


def error_of(response: requests.Response, status: int) -> str:
    """GitHub's error shape with this status, and its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == str(status) and body["documentation_url"]
    message: str = body["message"]
    return message
