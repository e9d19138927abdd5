"""The one exception the sandbox raises: an HTTP error exactly as GitHub would answer it."""

from __future__ import annotations

import json
from typing import Any

DOCS = "https://docs.github.com/rest"
# GitHub's 403 when an app's credential (a JWT, an installation token, a workflow's
# GITHUB_TOKEN) calls what it may not.
NOT_ACCESSIBLE_BY_INTEGRATION = "Resource not accessible by integration"


class ApiError(Exception):
    """An error response: status, GitHub's message text and the docs link GitHub attaches.

    The inspection API (`Sandbox.put_secret` etc.) raises it too, so a test that seeds
    bad data sees the same reason an HTTP client would.
    """

    def __init__(
        self,
        status: int,
        message: str,
        documentation_url: str = DOCS,
        headers: tuple[tuple[str, str], ...] = (),
        errors: tuple[dict[str, str], ...] = (),
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.documentation_url = documentation_url
        self.headers = headers
        self.errors = errors  # "errors" entries of a "Validation Failed" body

    def body(self) -> bytes:
        # GitHub puts the status in the body as a string, e.g. "status": "422".
        data: dict[str, Any] = {"message": self.message}
        if self.errors:
            data["errors"] = [dict(e) for e in self.errors]
        data["documentation_url"] = self.documentation_url
        data["status"] = str(self.status)
        return json.dumps(data).encode()


def not_found(documentation_url: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", documentation_url)


def invalid(reason: str, documentation_url: str = DOCS) -> ApiError:
    # GitHub's JSON-schema failures read "Invalid request.\n\n<reason>".
    return ApiError(422, f"Invalid request.\n\n{reason}", documentation_url)
