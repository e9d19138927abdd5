"""`--target`: which part of the estate a plan covers. Pure: parse and match, no I/O.

A target is `SCOPE[:APP[:NAME]]`:

- SCOPE is an organization (`acme`), a repository (`acme/web`) or a repository's
  deployment environment (`acme/web/production`; everything after the second "/" is the
  environment's name); shell-style globs (`*`, `?`, `[...]`) are allowed, and it is matched
  case-insensitively, like GitHub. Each level names its own secrets and variables only:
  `acme` is the organization's, `acme/*` every repository's, `acme/web/*` every environment
  of acme/web.
- APP is one of actions, agents, codespaces, dependabot, or `*` (the default: all four).
- NAME is a secret- or variable-name glob (default `*`), case-insensitive: GitHub stores
  names upper-cased.

Several targets select the union of what each selects. A change is in the plan when a
target selects its scope, app and secret name; everything else is left out, as if the
manifest did not mention it and nothing live held it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from reconciler.model import App, Scope, ScopeKind

SYNTAX = "SCOPE[:APP[:NAME]]"
_APPS = ", ".join(a.value for a in App)


class TargetSyntaxError(ValueError):
    """A target that does not parse; the message never quotes the text given."""


@dataclass(frozen=True, slots=True)
class Target:
    scope: str  # lower-cased glob; one "/" for repositories, two for environments
    app: App | None  # None: every app
    name: str  # lower-cased glob
    text: str  # as given, for messages and the plan document

    @property
    def level(self) -> ScopeKind:
        slashes = self.scope.count("/")
        return (ScopeKind.ORG, ScopeKind.REPO)[slashes] if slashes < 2 else ScopeKind.ENVIRONMENT

    def selects(self, scope: Scope, app: App, name: str | None = None) -> bool:
        """Whether this target covers a secret or variable (or, with `name` None, a scope
        and app)."""
        if self.level is not scope.kind:
            return False
        if self.level is ScopeKind.ENVIRONMENT:
            owner, repo, environment = self.scope.split("/", 2)
            if not (
                fnmatchcase(scope.name.lower(), f"{owner}/{repo}")
                and fnmatchcase(scope.environment.lower(), environment)
            ):
                return False
        elif not fnmatchcase(scope.name.lower(), self.scope):
            return False
        if self.app is not None and self.app is not app:
            return False
        if name is None:
            return self.name == "*"
        return fnmatchcase(name.lower(), self.name)

    def __str__(self) -> str:
        return self.text


def parse_target(text: str) -> Target:
    parts = text.strip().split(":")
    if len(parts) > 3:
        raise TargetSyntaxError(f"expected {SYNTAX}: at most two colons")
    scope, app, name = (*parts, "*", "*")[:3]
    scope, app, name = scope.strip().lower(), app.strip().lower(), name.strip().lower()
    if not scope:
        raise TargetSyntaxError(f"expected {SYNTAX}: the scope (ORG or OWNER/REPO) is empty")
    if scope.startswith("/") or scope.endswith("/") or "" in scope.split("/", 2):
        raise TargetSyntaxError(f"expected {SYNTAX}: SCOPE is ORG, OWNER/REPO or OWNER/REPO/ENV")
    if app not in ("*", *(a.value for a in App)):
        raise TargetSyntaxError(f"expected {SYNTAX}: APP is one of {_APPS} or *")
    if not name:
        raise TargetSyntaxError(f"expected {SYNTAX}: NAME is empty (use * for every secret)")
    canonical = ":".join(p for p in (scope, app, name) if p)
    if canonical.endswith(":*:*"):
        canonical = canonical[: -len(":*:*")]
    elif canonical.endswith(":*"):
        canonical = canonical[: -len(":*")]
    return Target(scope, None if app == "*" else App(app), name, canonical)


def selected(targets: Sequence[Target], scope: Scope, app: App, name: str | None = None) -> bool:
    """Whether any target covers it; with no targets, everything is selected."""
    return not targets or any(t.selects(scope, app, name) for t in targets)


Subject = tuple[Scope, App, "str | None"]


def unmatched(targets: Sequence[Target], subjects: Iterable[Subject]) -> list[Target]:
    """The targets that select none of `subjects`: (scope, app, secret name) triples, or
    (scope, app, None) for a group that holds no secret."""
    known = list(subjects)
    return [t for t in targets if not any(t.selects(*s) for s in known)]


def describe(targets: Sequence[Target]) -> str:
    """The line every output of a targeted plan carries."""
    return (
        "Targeted plan: only changes within "
        + ", ".join(str(t) for t in targets)
        + "; the rest of the manifest and of GitHub is left out of this plan"
    )
