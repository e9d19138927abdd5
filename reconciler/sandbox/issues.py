"""Issues and pull requests (only as homes for comments) and their comments."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_COMMENT_LENGTH = 65536


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a comment, as GitHub shows them."""

    login: str
    id: int
    type: str  # "User" or "Bot"
    association: str  # author_association: OWNER, MEMBER, NONE, ...


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
