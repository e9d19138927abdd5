"""Apply's question at a terminal: show the plan, then ask for a typed `yes`.

Asked only when a person is there (stdin and stdout are both terminals), the plan has
changes, and --auto-approve was not given: CI, pipes and scripts run as before. The plan
goes to stdout, the question to stderr, the answer is one line of stdin; anything but
`yes` writes nothing.
"""

from __future__ import annotations

from typing import TextIO

from reconciler.env import Env
from reconciler.errors import ApplyCancelledError
from reconciler.plan import Plan

ACCEPTED = "yes"


def interactive(env: Env) -> bool:
    """A person at a terminal: stdin and stdout are both terminals."""
    return _isatty(env.stdin) and _isatty(env.stdout)


def confirm(plan: Plan, env: Env) -> None:
    """Show `plan` and ask; return on `yes`, else raise ApplyCancelledError."""
    from reconciler.commands.common import use_colour
    from reconciler.render import render_text

    env.stdout.write(render_text(plan, colour=use_colour(env.stdout, env.environ)))
    env.stdout.flush()
    count = len(plan.actionable)
    these = "this 1 change" if count == 1 else f"these {count} changes"
    try:  # from the question on: a Ctrl-C answers it
        env.stderr.write(f"\nApply {these} to GitHub? Only '{ACCEPTED}' is accepted: ")
        env.stderr.flush()
        line = env.stdin.readline()
    except KeyboardInterrupt:
        env.stderr.write("\n")
        raise ApplyCancelledError("Ctrl-C", interrupted=True) from None
    if not line:
        env.stderr.write("\n")
        raise ApplyCancelledError("no answer: end of input")
    if line.strip() != ACCEPTED:
        raise ApplyCancelledError(f"the answer was not '{ACCEPTED}'")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object: no person there
        return False
