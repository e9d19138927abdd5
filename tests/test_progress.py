"""Progress on stderr, the TTY bar, colour rules, and write pacing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.commands.common import use_colour
from reconciler.diff import diff
from reconciler.executor import ApplyOptions, apply_plan
from reconciler.github.client import GitHubClient
from reconciler.github.transport import ClientConfig
from reconciler.live import read_live
from reconciler.manifest.load import load_manifests
from reconciler.model import LiveState
from reconciler.plan import Action, Outcome, Result, ValuePolicy
from reconciler.progress import Progress
from reconciler.sandbox import Sandbox
from reconciler.values.resolver import Resolver
from tests.support.builders import group, secret
from tests.support.e2e import cli_env, write_manifest


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _results(n: int) -> list[Result]:
    plan = diff(
        (group(*(secret(f"S{i:02d}") for i in range(n))),),
        LiveState(()),
        ValuePolicy.AUTO,
    )
    return [Result(c, Outcome.DONE, requests=1) for c in plan.changes]


def test_one_line_per_change_and_a_bar_only_on_a_tty_for_long_runs() -> None:
    plain = io.StringIO()
    progress = Progress(plain, 12)
    for r in _results(12):
        progress.update(r)
    progress.done()
    assert plain.getvalue().count("\n") == 12
    assert "[" not in plain.getvalue() and "\x1b" not in plain.getvalue()

    tty = _Tty()
    progress = Progress(tty, 12)
    for r in _results(12):
        progress.update(r)
    assert "] 12/12" in tty.getvalue()
    assert tty.getvalue().count("ok  + octo-org dependabot S") == 12

    short = _Tty()
    progress = Progress(short, 3)
    for r in _results(3):
        progress.update(r)
    assert "/3" not in short.getvalue()  # three changes need no bar


def test_colour_only_on_a_tty_and_never_with_no_color() -> None:
    assert use_colour(_Tty(), {}) is True
    assert use_colour(_Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(io.StringIO(), {}) is False


def test_writes_are_paced_by_the_write_delay(sandbox: Sandbox, tmp_path: Path) -> None:
    """Pacing is observed through the injected sleep, not by timing the run."""
    sandbox.add_repo("octo-org/web")
    manifest = write_manifest(
        tmp_path,
        """
        version: 1
        orgs:
          octo-org:
            dependabot:
              secrets:
                A: {value: {env: A_TOKEN}, visibility: private}
                B: {value: {env: A_TOKEN}, visibility: private}
                C: {value: {env: A_TOKEN}, visibility: private}
        """,
    )
    desired = load_manifests([str(manifest)]).desired
    client = GitHubClient(ClientConfig(api_url=sandbox.url, token=sandbox.token))
    live, keys = read_live(desired, client)
    plan = diff(desired.groups, live, ValuePolicy.AUTO)
    slept: list[float] = []
    results = apply_plan(
        plan,
        desired.items(),
        live,
        keys,
        client,
        ApplyOptions(Resolver({"A_TOKEN": "a-value"}, ()), write_delay=0.75),
        sleep=slept.append,
    )
    client.close()
    assert [r.outcome for r in results] == [Outcome.DONE] * 3
    assert all(r.change.action is Action.CREATE for r in results)
    # Between writes, not before the first; what is left of the delay after the write took
    # its time (the delay spaces the starts of writes).
    assert len(slept) == 2 and all(0 < s <= 0.75 for s in slept)
    writes = [r for r in sandbox.requests if r.method == "PUT"]
    assert len(writes) == 3


@pytest.mark.parametrize("delay", ["-1", "soon"])
def test_bad_write_delay_is_a_usage_error(delay: str) -> None:
    from reconciler import cli

    assert cli.main(["apply", "x.yaml", "--write-delay", delay], cli_env()) == 64
