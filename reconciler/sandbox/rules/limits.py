"""Sizes GitHub refuses or serves differently above: comment bodies, contents, blobs."""

from __future__ import annotations

MAX_COMMENT_LENGTH = 65536
CONTENTS_LIMIT = 1024 * 1024  # "1 MB or smaller: all features of this endpoint are supported"
BLOB_LIMIT = 100 * 1024 * 1024
