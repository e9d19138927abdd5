"""The primary rate limit as GitHub reports it (`X-RateLimit-*`), and its refusals."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.sandbox.rules.errors import ApiError

WINDOW = 3600
_RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    remaining: int
    used: int
    reset: int

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
            ("X-RateLimit-Used", str(self.used)),
            ("X-RateLimit-Resource", "core"),
        ]


def primary_limit(request_id: str) -> ApiError:
    message = (
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
        f"please include the request ID {request_id}."
    )
    return ApiError(403, message, f"{_RATE_DOCS}#about-primary-rate-limits")


def secondary_limit(request_id: str, retry_after: int) -> ApiError:
    message = (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you "
        "try again. If you reach out to GitHub Support for help, please include the "
        f"request ID {request_id}."
    )
    doc = f"{_RATE_DOCS}#about-secondary-rate-limits"
    return ApiError(403, message, doc, (("Retry-After", str(retry_after)),))
