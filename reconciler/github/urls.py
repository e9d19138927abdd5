"""Where the token may go: the API base URL, origins, same-origin rebuilding of URLs taken from
responses, and plain http for loopback only.

The token goes to the API base's origin only: a URL from a response (a pagination link, a
redirect) is followed only when it has that same scheme, host and port, and is then rebuilt on
the base's own spelling of the origin. Messages name origins, never paths or queries, which may
carry data.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.errors import ApiError, RequestInfo, UsageError

DEFAULT_API_URL = "https://api.github.com"
# GitHub documents 301 (moved), 302 and 307 (repeat the request verbatim at the new URL); 308
# is 301 that keeps the method. All four are followed with the same method and body.
REDIRECTS = frozenset({301, 302, 307, 308})
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port, normalised: lowercase host, default port made explicit."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def origin_of(url: str) -> Origin | None:
    """The URL's origin, or None when it has none we can trust to mean one thing: no scheme
    or host, userinfo (`https://api.github.com@evil.example/`), a backslash or whitespace,
    which URL parsers disagree about."""
    if any(c in url for c in "\\ \t\r\n") or any(ord(c) < 32 for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return Origin(parts.scheme, parts.hostname.lower(), port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_api_url(url: str) -> str:
    """Accept github.com, GHES (`https://HOST/api/v3`) and GHE.com (`https://api.SUB.ghe.com`)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if origin_of(url) is None or parts.query or parts.fragment:
        raise UsageError(
            f'--api-url "{origin_of(url) or parts.scheme or url[:40]}" is not an http(s) base URL',
            hint="use https://api.github.com, https://HOST/api/v3 (GHES) "
            "or https://api.SUBDOMAIN.ghe.com (GHE.com)",
        )
    return url


@dataclass(frozen=True, slots=True)
class ApiBase:
    """The API base URL, normalised, with its origin and its root (the base without its path,
    `/api/v3` on GHES: links from responses carry full paths)."""

    url: str
    origin: Origin
    root: str

    @classmethod
    def parse(cls, api_url: str, *, with_token: bool) -> ApiBase:
        """The base for `api_url`; UsageError when it is not an http(s) base URL, or is plain
        http to anything but loopback while a token would be sent."""
        url = normalise_api_url(api_url)
        origin = origin_of(url)
        assert origin is not None  # normalise_api_url refused every URL without one
        if origin.scheme == "http" and not is_loopback(origin.host) and with_token:
            raise UsageError(
                f"--api-url {origin} is plain http: the token would cross the network readable "
                "by anyone on the path",
                hint="use https://; plain http is accepted only for loopback addresses "
                "(127.0.0.1, ::1, localhost), where a local sandbox runs",
            )
        return cls(url, origin, url[: len(url) - len(urlsplit(url).path)])

    def same_origin(self, info: RequestInfo, url: str) -> str:
        """`url` rebuilt on the API base's own origin string, or refused: the token goes
        nowhere else. Only the origin is named, never the path or query, which may carry data."""
        origin = origin_of(url)
        if origin != self.origin:
            raise ApiError(
                info,
                f"the server pointed this request at {origin or 'a URL without a clear origin'}, "
                f"not the API's own {self.origin}; refused, so the token goes nowhere else",
                hint="a proxy or server at --api-url is sending clients elsewhere; check it",
            )
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.root}{parts.path}{query}"
