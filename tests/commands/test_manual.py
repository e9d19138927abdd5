"""`reconciler COMMAND --help`: a description, examples that parse, and the environment
variables the command's code really reads; and `reconciler completion` generated from the
same parser, checked in a real bash."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys

import pytest

from reconciler import cli
from reconciler.commands.completion import Node, describe, fish_script
from reconciler.commands.manual import MANUALS
from tests.support.architecture import graph, module_name
from tests.support.env_reads import env_reads
from tests.support.paths import PACKAGE, REPO_ROOT

NAMES = [command.NAME for command in cli.COMMANDS]
_VARIABLE = re.compile(r"^  ([A-Z][A-Z0-9_]{2,})  ", re.MULTILINE)


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = cli._build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = sub.choices[name]
    return found


def _module(command: str) -> str:
    found = next(c for c in cli.COMMANDS if command == c.NAME)
    return str(vars(found)["__name__"])


def _reads_of(command: str) -> set[str]:
    """Variables read by the command's module, every package module it imports (at the top or
    in a function, transitively), and the CLI's error boundary."""
    module = _module(command)
    edges = graph()
    seen, todo = {module, "reconciler.cli"}, [module]
    while todo:
        for dep in edges.get(todo.pop(), set()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return {r.name for r in env_reads() if module_name(PACKAGE.parent / r.file) in seen}


def test_every_command_has_a_manual() -> None:
    assert sorted(MANUALS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_help_has_a_description_examples_and_the_environment(name: str) -> None:
    parser = _subparser(name)
    text = parser.format_help()
    manual = MANUALS[name]
    assert parser.description and parser.description in text
    assert all(len(line) <= 78 for line in parser.description.splitlines())
    if manual.description:
        assert " ".join(manual.description.split()) == " ".join(parser.description.split())
    assert "examples:\n  " in text
    assert "environment variables:" in text
    for example in manual.examples:
        assert f"  {example}\n" in text + "\n"  # kept verbatim: RawDescriptionHelpFormatter


@pytest.mark.parametrize("name", NAMES)
def test_every_variable_named_is_one_the_command_reads(name: str) -> None:
    named = set(_VARIABLE.findall(MANUALS[name].epilog()))
    assert named == {v for v, _ in MANUALS[name].environment}  # the pattern finds them all
    assert named <= _reads_of(name)


@pytest.mark.parametrize("name", NAMES)
def test_what_the_commands_own_module_reads_is_named(name: str) -> None:
    module = _module(name)
    own = {r.name for r in env_reads() if module_name(PACKAGE.parent / r.file) == module}
    assert own <= {v for v, _ in MANUALS[name].environment}


def _examples() -> list[tuple[str, str]]:
    return [(name, e) for name, m in MANUALS.items() for e in m.examples]


@pytest.mark.parametrize(("name", "example"), _examples())
def test_every_example_parses(name: str, example: str) -> None:
    words = shlex.split(example, comments=True)
    if words[0] != "reconciler":  # `source <(reconciler completion bash)`
        words = shlex.split(example.split("(", 1)[1].rstrip(")"))
    for redirect in ("<", ">"):
        if redirect in words:
            words = words[: words.index(redirect)]
    ns = cli._build_parser().parse_args(words[1:])
    assert ns.command == name


# -- completion ----------------------------------------------------------------------------------


def _bash(script: str) -> str:
    proc = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": f"{REPO_ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "PY": sys.executable},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_the_bash_script_registers_a_completion() -> None:
    out = _bash('source <("$PY" -m reconciler completion bash); complete -p reconciler')
    assert out == "complete -o default -F _reconciler reconciler\n"


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("reconciler ", set(NAMES)),
        ("reconciler led", {"ledger"}),
        ("reconciler ledger ", {"show", "forget"}),
        ("reconciler ledger forget --a", {"--app", "--api-url", "--api-version"}),
        ("reconciler ledger forget --app ", {"actions", "agents", "codespaces", "dependabot"}),
        ("reconciler plan --format m", {"markdown"}),
        ("reconciler -v seal --st", {"--strip-newline", "--strip"}),
        ("reconciler completion ", {"bash", "zsh", "fish"}),
        ("reconciler plan --out ", set()),  # a value: left to file-name completion
    ],
)
def test_bash_offers_what_the_parser_accepts(line: str, offered: set[str]) -> None:
    words = line.split(" ")
    script = (
        'source <("$PY" -m reconciler completion bash)\n'
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        '_reconciler\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    assert set(_bash(script).split()) == offered


def test_every_flag_of_every_command_is_completed() -> None:
    tree = describe(cli._build_parser())
    nodes = {n.path: n for n in tree.walk()}
    assert ("ledger", "forget") in nodes and ("completion",) in nodes
    for node in nodes.values():
        for action in _parser_at(node).__dict__["_actions"]:
            if action.option_strings and action.help != argparse.SUPPRESS:
                assert tuple(action.option_strings) in {f.names for f in node.flags}


def _parser_at(node: Node) -> argparse.ArgumentParser:
    parser = cli._build_parser()
    for name in node.path:
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = sub.choices[name]
    return parser


def test_zsh_and_fish_scripts_cover_the_commands() -> None:
    tree = describe(cli._build_parser())
    zsh = subprocess.run(
        [sys.executable, "-m", "reconciler", "completion", "zsh"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert zsh.startswith("#compdef reconciler\n") and "bashcompinit" in zsh
    assert "complete -o default -F _reconciler reconciler" in zsh
    fish = fish_script(tree)
    for name in NAMES:
        assert f"-a '{name}'" in fish
    assert "__fish_seen_subcommand_from ledger; and __fish_seen_subcommand_from forget" in fish
    assert "-l strip-newline -l strip" in fish
    assert "-l app -x -a 'actions agents codespaces dependabot'" in fish
    # Help texts with quotes stay inside their quotes.
    assert all(line.count("'") % 2 == 0 for line in fish.splitlines() if "\\'" not in line)
