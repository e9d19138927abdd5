"""Issues and pull requests (only as homes for comments) and their comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.sandbox.world.accounts import Author


@dataclass(slots=True)
class Comment:
    id: int
    body: str
    author: Author
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Issue:
    number: int
    pull_request: bool
    comments: list[Comment] = field(default_factory=list)
