"""The conditional-request cache: the last `ETag` and body of every GET, so the next run can
ask `If-None-Match` and GitHub answers `304 Not Modified`, which does not count against the
primary rate limit.

What is stored: the URL, GitHub's ETag, the `Link` header and the body. GitHub never returns a
secret's value, so no value is stored; variable values (plain configuration, readable with
Variables: read) are, like any other listing. No credential is stored: entries are keyed by a
digest of the credential identity (GitHub's ETags are specific to the token that asked), never
the token. An entry that is unreadable, malformed, keyed for another URL or identity, or whose
body does not match its recorded digest is ignored, never trusted; a cache that cannot be
written is a warning, never a failure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests

log = logging.getLogger(__name__)

FORMAT = "reconciler-http-cache/1"
# Entries larger than this are not kept: list pages of 100 items are a few tens of KB.
MAX_ENTRY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CachedResponse:
    etag: str
    body: bytes
    link: str

    def __repr__(self) -> str:
        return f"CachedResponse(etag={self.etag!r}, {len(self.body)} bytes)"


def identity_digest(authorization: str | None) -> str:
    """A name for the credential that cannot be turned back into it: the token is a random
    secret of 160+ bits, so its domain-separated SHA-256 reveals nothing."""
    text = "anonymous" if authorization is None else authorization
    return hashlib.sha256(f"reconciler cache identity\0{text}".encode()).hexdigest()


class ResponseCache:
    """One directory, one file per (identity, request); safe for concurrent runs (each file
    is replaced atomically) and for concurrent threads of one run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._warned = False
        self._made: set[Path] = set()  # directories made this run: one mkdir each

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"

    def _path(self, identity: str, url: str) -> tuple[str, Path]:
        key = hashlib.sha256(f"{identity}\0{url}".encode()).hexdigest()
        return key, self.directory / key[:2] / f"{key}.json"

    def lookup(self, identity: str, url: str) -> CachedResponse | None:
        key, path = self._path(identity, url)
        try:
            if path.stat().st_size > MAX_ENTRY_BYTES:
                return None
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None  # absent, unreadable or corrupt: a plain request
        if not isinstance(data, dict):
            return None
        etag, body, link, digest = (data.get(k) for k in ("etag", "body", "link", "sha256"))
        if (
            data.get("format") != FORMAT
            or data.get("key") != key
            or data.get("url") != url
            or not (isinstance(etag, str) and etag and isinstance(body, str))
            or not isinstance(link, str)
        ):
            log.debug("ignoring a foreign or malformed cache entry %s", path.name)
            return None
        raw = body.encode()
        if hashlib.sha256(raw).hexdigest() != digest:
            log.debug("ignoring a cache entry whose body does not match its digest")
            return None
        return CachedResponse(etag, raw, link)

    def conditional(
        self, target: str, query: Mapping[str, str | int] | None, headers: dict[str, str]
    ) -> tuple[CachedResponse | None, tuple[str, str]]:
        """The entry to revalidate for a GET (its ETag goes into `headers` as If-None-Match),
        and the entry's key: the credential's digest, and the URL with its query and API
        version (another version may answer with another body)."""
        if query:
            target += ("&" if "?" in target else "?") + urlencode(sorted(query.items()))
        key = (
            identity_digest(headers.get("Authorization")),
            f"{target} {headers.get('X-GitHub-Api-Version', '')}",
        )
        cached = self.lookup(*key)
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        return cached, key

    def revalidated(
        self, resp: requests.Response, cached: CachedResponse | None, key: tuple[str, str]
    ) -> None:
        """A 304 becomes the cached 200 (with its Link header, for paging); a fresh 200 with
        an ETag is kept for the next run."""
        if resp.status_code == 304 and cached is not None:
            resp.status_code = 200
            resp._content = cached.body
            if cached.link:
                resp.headers["Link"] = cached.link
        elif resp.status_code == 200 and resp.headers.get("ETag"):
            link = resp.headers.get("Link", "")
            self.store(*key, resp.headers["ETag"], resp.content, link)

    def store(self, identity: str, url: str, etag: str, body: bytes, link: str) -> None:
        if len(body) > MAX_ENTRY_BYTES:
            return
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return
        key, path = self._path(identity, url)
        entry = {
            "format": FORMAT,
            "key": key,
            "url": url,
            "etag": etag,
            "link": link,
            "sha256": hashlib.sha256(body).hexdigest(),
            "body": text,
        }
        try:
            if path.parent not in self._made:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                path.parent.mkdir(mode=0o700, exist_ok=True)
                self._made.add(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(entry, f, separators=(",", ":"))
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            if not self._warned:
                self._warned = True
                log.warning(
                    "the request cache in %s cannot be written (%s); continuing without it",
                    self.directory,
                    e.strerror or type(e).__name__,
                )


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """The user's cache directory (XDG), or None when the environment names no home."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else None
    )
    return Path(base) / "reconciler" / "http" if base else None
