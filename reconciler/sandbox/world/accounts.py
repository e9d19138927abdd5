"""Who acts in the world: authors (users and bots) and principals, a credential resolved to
the account it acts as, its permissions and its reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

BOT_ID_BASE = 100_000_000
USER_ID_BASE = 1_000


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a comment, as GitHub shows them."""

    login: str
    id: int
    type: str  # "User" or "Bot"
    association: str  # author_association: OWNER, MEMBER, NONE, ...


# A plain token acts as this user unless added for another (the rate-limit message says
# "user ID 1" too).
SANDBOX_USER = Author("sandbox-user", 1, "User", "OWNER")


def bot(slug: str, app_id: int) -> Author:
    return Author(f"{slug}[bot]", BOT_ID_BASE + app_id, "Bot", "NONE")


PrincipalKind = Literal["token", "app", "installation"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    key: str  # the rate-limit bucket
    permissions: Mapping[str, str]
    author: Author = SANDBOX_USER
    app_id: int | None = None
    account: str | None = None  # installation tokens: the organisation they belong to
    repo_ids: frozenset[int] | None = None  # installation tokens: None means all

    @property
    def integration(self) -> bool:
        """An app's credential (JWT, installation token, the workflow token): not a user,
        so `GET /user` is refused."""
        return self.kind != "token" or self.author.type == "Bot"
