"""What the tool prints can be trusted: names and messages from a hostile server, ledger or
manifest never steer a terminal, a CI log or the markdown of a PR comment / job summary.

The laws of reconciler.safe_text are checked with hypothesis, the markdown ones by rendering
with GitHub's own parser (cmark-gfm); then the real CLI runs against a sandbox whose state
was planted with names GitHub would refuse, a ledger file anyone with push access could have
written, and a server whose error messages carry escape sequences and workflow commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.cli import _workflow_command
from reconciler.errors import Problem
from reconciler.github.comments import MARKER_PREFIX
from reconciler.model import Location
from reconciler.render import render_json
from reconciler.safe_text import html_text, md_code, md_text, printable, printable_block
from reconciler.sandbox import Sandbox
from tests.support.e2e import run, write_manifest
from tests.support.hostile_state import (
    HOSTILE,
    PASSES_NAME_CHECK,
    assert_terminal_safe,
    command_lines,
    plant_secret,
    refusing_server,
    rename_repo,
    unsafe_characters,
)
from tests.support.markdown_check import TOOL_TAGS, inspect

ORG = "octo-org"
_ZWSP = "\u200b"
# Text from anywhere: every plane, controls and surrogates included, plus the hostile set.
any_text = st.one_of(st.text(), st.sampled_from(HOSTILE), st.text(alphabet="`|\\@#:<>[]()!*_~ "))


# -- the laws ------------------------------------------------------------------------------


@given(any_text)
def test_printable_is_one_safe_line(text: str) -> None:
    shown = printable(text)
    assert "\n" not in shown
    assert not unsafe_characters(shown)
    assert "::" not in shown and "##[" not in shown
    assert printable(shown) == shown  # escaping twice changes nothing (errors nest)
    shown.encode("utf-8")  # lone surrogates would make writing it to a stream fail


@given(st.from_regex(r"[A-Za-z0-9_.\-/ ]*", fullmatch=True))
def test_printable_leaves_ordinary_names_alone(text: str) -> None:
    assert printable(text) == text


@given(any_text)
def test_printable_block_keeps_the_tools_lines_and_no_others(text: str) -> None:
    shown = printable_block(text)
    assert shown.count("\n") == text.count("\n")
    assert not unsafe_characters(shown)
    assert not command_lines(shown)


def _cell_row(cell: str) -> str:
    return f"| a | b |\n|---|---|\n| {cell} | z |\n"


@settings(max_examples=300)
@given(any_text)
def test_md_code_is_one_code_span_in_one_cell(text: str) -> None:
    html = inspect(_cell_row(md_code(text)))
    assert html.rows == [2, 2]
    assert [t for t in html.tags if t not in ("table", "thead", "tbody", "tr", "th", "td")] == [
        "code"
    ]
    assert not html.comments
    assert html.cells[2] == (printable(text) or " ")  # the text, escaped, whole


@settings(max_examples=300)
@given(any_text)
def test_md_text_renders_as_exactly_the_text(text: str) -> None:
    html = inspect(_cell_row(md_text(text)))
    assert html.rows == [2, 2]
    assert set(html.tags) <= {"table", "thead", "tbody", "tr", "th", "td"}
    assert not html.comments
    assert not html.mentions()
    # What GitHub shows is the text itself (a table trims a cell's spaces).
    assert html.cells[2].replace(_ZWSP, "") == printable(text).strip(" ")


@given(any_text)
def test_html_text_stays_inside_its_summary(text: str) -> None:
    markdown = f"<details><summary><b>{html_text(text)}</b></summary>\n\nbody\n\n</details>\n"
    html = inspect(markdown)
    assert html.tags.count("details") == 1
    assert set(html.tags) <= {"details", "summary", "b", "p"}
    assert not html.mentions()
    assert not html.comments


def test_annotation_is_one_line_whatever_the_problem_says() -> None:
    for text in HOSTILE:
        problem = Problem(Location(f"dir/{text}.yaml", 3, 5), f"orgs.{text}", text, hint=text)
        line = _workflow_command(problem)
        assert "\n" not in line and "\r" not in line
        assert line.startswith("::error file=")
        assert not unsafe_characters(line)
        # The only `::` are the command's own: after `::error` and before the message.
        assert line.count("::") == 2


# -- the real CLI against hostile state --------------------------------------------------


MANIFEST = f"""
version: 1
orgs:
  {ORG}:
    actions:
      prune: true
      secrets:
        SEL: {{value: {{env: SEL_TOKEN}}, visibility: selected, repositories: [web]}}
"""


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox whose state breaks GitHub's own rules (names, time stamps), so its exchanges
    are not checked against the OpenAPI description: that is what a hostile server is."""
    return make_sandbox(record_exchanges=False)


@pytest.fixture
def hostile(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """Secrets named like HOSTILE, and a selection that holds repositories so named."""
    sandbox.add_repo(f"{ORG}/web")
    sandbox.add_repo(f"{ORG}/infra")
    sandbox.add_pull_request(f"{ORG}/infra", 7)
    victims = [f"victim{i}" for i in range(len(PASSES_NAME_CHECK))]
    for victim in victims:
        sandbox.add_repo(f"{ORG}/{victim}")
    sandbox.put_secret(
        ORG, "actions", "SEL", b"old", visibility="selected", selected=["web", *victims]
    )
    for victim, name in zip(victims, PASSES_NAME_CHECK, strict=True):
        rename_repo(sandbox, f"{ORG}/{victim}", name.replace("/", "-"))
        plant_secret(sandbox, ORG, "actions", name)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"number": 7}}), "utf-8")
    return {
        "SEL_TOKEN": "value-of-sel",
        "GITHUB_REPOSITORY": f"{ORG}/infra",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def _assert_markdown_safe(markdown: str, *, details: int) -> None:
    html = inspect(markdown)
    assert set(html.tags) <= TOOL_TAGS, set(html.tags) - TOOL_TAGS
    assert html.tags.count("details") == details
    assert not html.mentions(), html.mentions()
    assert all(c.strip().startswith("reconciler-plan") for c in html.comments)
    assert len(html.comments) <= 1
    assert set(html.rows) <= {5, 6}, html.rows  # the plan's tables have 6 and 5 columns


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_shows_hostile_names_safely(
    capsys: pytest.CaptureFixture[str],
    sandbox: Sandbox,
    hostile: dict[str, str],
    tmp_path: Path,
    fmt: str,
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    result = run(
        capsys,
        ["plan", str(manifest), "--no-ledger", "--delete-threshold", "1", "--format", fmt],
        hostile,
        sandbox,
    )
    assert result.code == 0, result.err
    assert_terminal_safe("stdout", result.out)
    assert_terminal_safe("stderr", result.err)
    if fmt == "json":
        names = {c["name"] for c in result.json()["changes"]}
        assert {
            n.upper() for n in PASSES_NAME_CHECK
        } <= names  # JSON keeps data exact, escaped by JSON
    if fmt == "text":
        assert "O\\x9d8;;HTTP://EVIL\\x9cC1-LINK\\u2028:\\x3aADD-MASK:\\x3aY" in result.out
    summary = Path(hostile["GITHUB_STEP_SUMMARY"]).read_text("utf-8")
    _assert_markdown_safe(summary, details=1)


def test_pr_comment_and_summary_parse_safely(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, hostile: dict[str, str], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    result = run(
        capsys,
        ["plan", str(manifest), "--no-ledger", "--delete-threshold", "1", "--comment"],
        hostile,
        sandbox,
    )
    assert result.code == 0, result.err
    assert_terminal_safe("stderr", result.err)
    [comment] = sandbox.comments(f"{ORG}/infra", 7)
    _assert_markdown_safe(comment["body"], details=1)
    assert comment["body"].startswith(MARKER_PREFIX)
    assert len(inspect(comment["body"]).comments) == 1  # the forged marker is text, not HTML


def test_apply_results_progress_and_summary_are_safe(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, hostile: dict[str, str], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    results = tmp_path / "results.json"
    args = ["apply", str(manifest), "--no-ledger", "--write-delay", "0", "--force"]
    result = run(capsys, [*args, "--results", str(results)], hostile, sandbox)
    assert result.code in (0, 1), result.err
    assert_terminal_safe("stdout", result.out)
    assert_terminal_safe("stderr", result.err)
    assert result.err.count("\n") >= len(PASSES_NAME_CHECK)  # a progress line per change
    summary = Path(hostile["GITHUB_STEP_SUMMARY"]).read_text("utf-8")
    html = inspect(summary)
    assert set(html.tags) <= TOOL_TAGS
    assert not html.mentions()
    assert set(html.rows) == {6}  # every results row: 6 cells, none split or merged


@pytest.mark.parametrize("name", [n for n in HOSTILE if n not in PASSES_NAME_CHECK])
def test_a_name_with_c0_controls_is_refused_or_shown_safely(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, tmp_path: Path, name: str
) -> None:
    sandbox.add_repo(f"{ORG}/web")
    plant_secret(sandbox, ORG, "actions", name)
    manifest = write_manifest(tmp_path, MANIFEST)
    result = run(capsys, ["plan", str(manifest), "--no-ledger"], {"SEL_TOKEN": "v"}, sandbox)
    assert result.code in (0, 1), result.err
    assert_terminal_safe("stdout", result.out)
    assert_terminal_safe("stderr", result.err)


def test_ledger_show_escapes_a_hostile_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.json"
    entries = [
        {
            "scope": "org",
            "target": text,
            "app": "actions",
            "name": text,
            "updated_at": text,
            "source": text,
        }
        for text in HOSTILE
    ]
    doc = {"format": "reconciler-ledger", "version": 1, "secrets": entries}
    ledger.write_text(json.dumps(doc), "utf-8")
    result = run(capsys, ["ledger", "show", "--ledger", str(ledger)], {})
    assert result.code == 0, result.err
    assert_terminal_safe("stdout", result.out)
    assert len(result.out.rstrip("\n").split("\n")) == 1 + len(HOSTILE)  # one line per entry


@pytest.mark.parametrize("message", HOSTILE)
def test_githubs_error_message_is_shown_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, message: str
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    with refusing_server(message) as url:
        env = {"SEL_TOKEN": "v", "GITHUB_TOKEN": "t0ken-not-shown", "GITHUB_API_URL": url}
        result = run(capsys, ["plan", str(manifest), "--no-ledger"], env)
    assert result.code == 1
    assert "GitHub said" in result.err
    assert printable(message) in result.err  # the message is shown, escaped
    assert_terminal_safe("stderr", result.err)
    assert_terminal_safe("stdout", result.out)


def test_a_hostile_message_in_actions_starts_no_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    with refusing_server("denied\n::add-mask::x\n::stop-commands::abc") as url:
        env = {
            "SEL_TOKEN": "v",
            "GITHUB_TOKEN": "t",
            "GITHUB_API_URL": url,
            "GITHUB_ACTIONS": "true",
        }
        result = run(capsys, ["plan", str(manifest), "--no-ledger"], env)
    assert result.code == 1
    assert not command_lines(result.err) and not command_lines(result.out)


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.sampled_from(HOSTILE), st.integers())))
def test_json_output_is_exact_and_starts_no_command(data: dict[str, object]) -> None:
    text = render_json({"changes": data})
    assert json.loads(text) == {"changes": data}
    assert not command_lines(text) and not unsafe_characters(text)


@pytest.mark.parametrize("stamp", [*PASSES_NAME_CHECK[:3], "", "2024-01-01"])
def test_a_hostile_updated_at_is_refused_before_it_reaches_any_output(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox, tmp_path: Path, stamp: str
) -> None:
    """updated_at is shown in plans and kept in the ledger: a server's odd one is a malformed
    response, reported safely, never printed or recorded."""
    sandbox.add_repo(f"{ORG}/web")
    plant_secret(sandbox, ORG, "actions", "PLANTED", updated_at=stamp)
    manifest = write_manifest(tmp_path, MANIFEST)
    result = run(capsys, ["plan", str(manifest), "--no-ledger"], {"SEL_TOKEN": "v"}, sandbox)
    assert result.code == 1
    assert "secrets[0].updated_at: expected an ISO 8601 date-time" in result.err
    assert_terminal_safe("stderr", result.err)
    if stamp:
        assert stamp not in result.out + result.err
