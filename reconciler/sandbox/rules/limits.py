"""Sizes GitHub refuses or serves differently above: comment bodies, contents, blobs, and how
many secrets and variables a scope holds."""

from __future__ import annotations

MAX_COMMENT_LENGTH = 65536
CONTENTS_LIMIT = 1024 * 1024  # "1 MB or smaller: all features of this endpoint are supported"
BLOB_LIMIT = 100 * 1024 * 1024

# "You can store up to 1,000 organization variables, 500 variables per repository, and 100
# variables per environment"; "individual variables are limited to 48 KB in size".
MAX_VARIABLES = {"org": 1000, "repo": 500, "environment": 100}
MAX_VARIABLE_VALUE = 48 * 1024  # bytes, UTF-8
MAX_ENVIRONMENT_SECRETS = 100
