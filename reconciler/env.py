"""The world a command runs in: environment variables, the three streams, the clock, and the
factories that reach outside the process. Built once in `cli.main` (from the process by
default); tests build their own and swap any part with `dataclasses.replace`.

May import: errors, model, and github (for the client it makes). Nothing above it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from reconciler.github.auth import Auth
    from reconciler.github.client import GitHubClient
    from reconciler.github.transport import ClientConfig


class ClientFactory(Protocol):
    """Makes the client every command talks to GitHub through. `sleep` is the Env's: the
    client's back-off and rate-limit waits go through it."""

    def __call__(
        self, config: ClientConfig, *, auth: Auth, sleep: Callable[[float], None]
    ) -> GitHubClient: ...


def github_client(
    config: ClientConfig, *, auth: Auth, sleep: Callable[[float], None]
) -> GitHubClient:
    """The real client. Imported when first needed: `--help` and `validate` never load it."""
    from reconciler.github.client import GitHubClient

    return GitHubClient(config, auth=auth, sleep=sleep)


# Run a command line in a given Env: the CLI's entry point, handed to commands (demo) that
# re-enter it, since commands never import the CLI.
RunCommand = Callable[[Sequence[str], "Env"], int]


@dataclass(frozen=True, slots=True)
class Env:
    """Everything a command reads or writes outside its options: variables (credentials, value
    sources, Actions context), stdin (`seal`), stdout (plans, results, manifests), stderr
    (logs, progress, errors), the client's waits, the client itself, and the CLI for `demo`."""

    environ: Mapping[str, str] = field(repr=False)  # it holds the credentials
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    sleep: Callable[[float], None] = time.sleep
    make_client: ClientFactory = github_client
    run: RunCommand | None = None  # filled in by `cli.main` when not given

    @classmethod
    def from_process(cls) -> Env:
        """This process's environment and standard streams, as they are now."""
        return cls(environ=os.environ, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
