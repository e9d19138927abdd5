"""REST API versions (`X-GitHub-Api-Version`) and the GHES path prefix."""

from __future__ import annotations

from reconciler.sandbox.rules.errors import ApiError

V2022 = "2022-11-28"
V2026 = "2026-03-10"
API_VERSIONS: tuple[str, ...] = (V2026, V2022)  # newest first, as GitHub lists them
GHES_PREFIX = "/api/v3"
_VERSION_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"


def unsupported_version(version: str) -> ApiError:
    """GitHub's 400 for a version it does not serve, naming the ones it does."""
    supported = ", ".join(
        f'"{v}"' + (" (most recent)" if i == 0 else "") for i, v in enumerate(API_VERSIONS)
    )
    message = (
        f'The version you specified in the "X-GitHub-Api-Version" request header, "{version}", '
        f"is not a supported version. The following versions are currently supported: "
        f"{supported}."
    )
    return ApiError(400, message, _VERSION_DOCS)
