"""Typed options: every flag of every command lands in its frozen `Options` (as an enum where
it is a choice, as a tuple where it repeats), and nothing changes an Options once made — apply
of a reviewed plan makes a new one."""

from __future__ import annotations

import argparse
from dataclasses import FrozenInstanceError, fields, is_dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reconciler import cli
from reconciler.commands import (
    apply,
    demo,
    encrypt,
    import_,
    ledger,
    plan,
    sandbox,
    schemas,
    seal,
    validate,
)
from reconciler.commands.arguments import (
    Connection,
    LedgerChoice,
    Manifests,
    OutputFormat,
    Remote,
)
from reconciler.env import Env
from reconciler.model import App, DriftPolicy
from reconciler.plan import ValuePolicy
from reconciler.safety import Thresholds
from reconciler.sandbox import Sandbox
from reconciler.targets import parse_target
from tests.support.e2e import cli_env, output, write_manifest

CONNECTION = [
    *("--api-url", "https://ghe.example/api/v3", "--api-version", "2026-03-10"),
    *("--concurrency", "3", "--max-wait", "5", "--timeout", "2.5"),
    *("--cache-dir", "/c", "--no-cache", "--points-per-minute", "60"),
]
CONNECTED = Connection(
    "https://ghe.example/api/v3", "2026-03-10", 3, 5.0, 2.5, "/c", cache=False, points_per_minute=60
)
REMOTE = [
    *CONNECTION,
    *("--ledger", "github:o/r:l.json", "--no-ledger", "--drift", "fail"),
    "--skip-unchanged-selections",
    *("--values", "always", "--format", "json", "--detailed-exitcode"),
    *("--target", "o/*:actions", "--target", "o:*:NPM_*", "--hide-variable-values"),
]
REMOTED = Remote(
    CONNECTED,
    LedgerChoice("github:o/r:l.json", enabled=False, trust_selections=True),
    DriftPolicy.FAIL,
    ValuePolicy.ALWAYS,
    OutputFormat.JSON,
    detailed_exitcode=True,
    targets=(parse_target("o/*:actions"), parse_target("o:*:NPM_*")),
    hide_variable_values=True,
)
MANIFESTS = ["a.yaml", "b", "--allow-env", "X_*", "--allow-env", "Y", "--allow-commands"]
LISTED = Manifests(("a.yaml", "b"), ("X_*", "Y"), allow_commands=True)

# Every command with every flag given (none at its default), and the Options it must make.
EVERY_FLAG: list[tuple[Any, list[str], object]] = [
    (validate, ["validate", *MANIFESTS, "--resolve-values"], validate.Options(LISTED, True)),
    (
        plan,
        [
            *("plan", *MANIFESTS, *REMOTE, "--out", "p.json", "--comment", "--pr", "o/r#7"),
            *("--delete-threshold", "0.9", "--delete-threshold-min", "3"),
        ],
        plan.Options(LISTED, REMOTED, "p.json", True, "o/r#7", Thresholds(0.9, 3)),
    ),
    (
        apply,
        [
            *("apply", *MANIFESTS, *REMOTE, "--force", "--write-delay", "0.5"),
            *("--results", "r.json", "--delete-threshold", "0.9", "--delete-threshold-min", "3"),
            "--auto-approve",
        ],
        apply.Options(LISTED, REMOTED, True, 0.5, "r.json", Thresholds(0.9, 3), True),
    ),
    (
        ledger,
        [
            *("ledger", "forget", "A", "B", *CONNECTION, "--ledger", "l.json"),
            *("--org", "o", "--repo", "o/r", "--repo", "o/s*", "--app", "agents"),
        ],
        ledger.Options(
            ledger.Action.FORGET,
            ("A", "B"),
            CONNECTED,
            LedgerChoice("l.json"),
            ("o",),
            ("o/r", "o/s*"),
            (App.AGENTS,),
        ),
    ),
    (
        ledger,
        [
            *("ledger", "show", *CONNECTION, "--ledger", "l.json"),
            *("--org", "o", "--repo", "o/*", "--app", "actions"),
        ],
        ledger.Options(
            ledger.Action.SHOW,
            (),
            CONNECTED,
            LedgerChoice("l.json"),
            ("o",),
            ("o/*",),
            (App.ACTIONS,),
        ),
    ),
    (
        import_,
        [
            *("import", *CONNECTION, "--org", "o1", "--org", "o2", "--repo", "o/r"),
            *("--app", "dependabot", "--app", "actions", "--out", "m.yaml"),
            *("--exclude-repo", "o/x-*", "--force"),
        ],
        import_.Options(
            CONNECTED,
            ("o1", "o2"),
            ("o/r",),
            (App.DEPENDABOT, App.ACTIONS),
            "m.yaml",
            ("o/x-*",),
            True,
        ),
    ),
    (
        seal,
        ["seal", *CONNECTION, "--org", "o", "--repo", "o/r", "--app", "agents", "--strip"],
        seal.Options(App.AGENTS, "o", "o/r", True, CONNECTED),
    ),
    (
        encrypt,
        ["encrypt", "v.age.yaml", "N", "--recipient", "age1a", "-r", "age1b", "--strip"],
        encrypt.Options("v.age.yaml", "N", ("age1a", "age1b"), True),
    ),
    (
        sandbox,
        ["sandbox", "--seed", "s.json", "--port", "8080", "--host", "0.0.0.0", "--dump", "d.json"],
        sandbox.Options("s.json", 8080, "0.0.0.0", "d.json"),
    ),
    (demo, ["demo", "x", "y", "--seed", "s.json"], demo.Options(("x", "y"), "s.json")),
    (
        schemas,
        ["schema", "plan", "--out", "p.json", "--url", "--force"],
        schemas.Options("plan", "p.json", True, True),
    ),
]
GLOBAL = {"help", "debug", "verbose", "command", "ledger_command"}


class _ReadNamespace(argparse.Namespace):
    """Remembers which attributes were read."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            object.__getattribute__(self, "_read").add(name)
        return object.__getattribute__(self, name)


def _parse(argv: list[str]) -> argparse.Namespace:
    return cli._build_parser().parse_args(argv)


def _command_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of `argv`'s (sub)command, found by following the subcommand names."""
    parser: argparse.ArgumentParser = cli._build_parser()
    for word in argv:
        found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not found or word not in found[0].choices:
            break
        parser = found[0].choices[word]
    return parser


@pytest.mark.parametrize(("module", "argv", "expected"), EVERY_FLAG, ids=lambda v: str(v)[:20])
def test_from_args_maps_every_flag(module: ModuleType, argv: list[str], expected: object) -> None:
    ns = _ReadNamespace(**vars(_parse(argv)), _read=set())
    assert module.Options.from_args(ns) == expected
    actions = [a for a in _command_parser(argv)._actions if a.dest not in GLOBAL]
    # from_args reads every argument the command's parser has...
    assert {a.dest for a in actions} <= ns._read
    # ...and the table above gives each flag a value other than its default.
    given = {word for word in argv if word.startswith("-")}
    assert {a.option_strings[-1] for a in actions if a.option_strings} <= given


def test_defaults_make_the_default_options() -> None:
    assert plan.Options.from_args(_parse(["plan", "m.yaml"])) == plan.Options(
        Manifests(("m.yaml",))
    )
    assert apply.Options.from_args(_parse(["apply", "m.yaml"])) == apply.Options(
        Manifests(("m.yaml",))
    )
    assert import_.Options.from_args(_parse(["import"])).apps == tuple(App)
    assert demo.Options.from_args(_parse(["demo"])) == demo.Options()
    assert schemas.Options.from_args(_parse(["schema"])) == schemas.Options()


def _all_options() -> list[object]:
    return [module.Options.from_args(_parse(argv)) for module, argv, _ in EVERY_FLAG]


@pytest.mark.parametrize("options", _all_options(), ids=lambda o: type(o).__module__)
def test_options_are_frozen_all_the_way_down(options: object) -> None:
    assert is_dataclass(options)
    for f in fields(options):
        value = getattr(options, f.name)
        with pytest.raises(FrozenInstanceError):
            setattr(options, f.name, value)
        assert not isinstance(value, list | dict | set), f"{f.name} is mutable"
        if is_dataclass(value):
            test_options_are_frozen_all_the_way_down(value)


def test_choices_become_enums() -> None:
    options = apply.Options.from_args(_parse(["apply", "m.yaml", *REMOTE]))
    assert options.remote.values is ValuePolicy.ALWAYS
    assert options.remote.drift is DriftPolicy.FAIL
    assert options.remote.format is OutputFormat.JSON


# -- a reviewed plan: new options, the given ones untouched ---------------------------------------

MANIFEST = """
version: 1
orgs:
  octo-org:
    actions:
      secrets:
        REVIEWED: {value: {env: REVIEWED_TOKEN}, visibility: private}
"""


def _reviewed_plan(sb: Sandbox, tmp_path: Path) -> tuple[Path, Path, Env]:
    sb.add_repo("octo-org/web")
    manifest = write_manifest(tmp_path, MANIFEST)
    env = cli_env(
        {"GITHUB_TOKEN": sb.token, "GITHUB_API_URL": sb.url, "REVIEWED_TOKEN": "v", "X_A": "1"}
    )
    reviewed = tmp_path / "reviewed.json"
    argv = ["plan", str(manifest), "--values", "always", "--allow-env", "X_*"]
    assert cli.main([*argv, "--out", str(reviewed)], env) == 0, output(env)[1]
    return manifest, reviewed, env


def test_reviewed_options_are_a_new_options(sandbox: Sandbox, tmp_path: Path) -> None:
    manifest, reviewed, _ = _reviewed_plan(sandbox, tmp_path)
    given = apply.Options(Manifests((str(reviewed),)), force=True, write_delay=0)
    snapshot = replace(given)
    planned, doc = apply.reviewed_options(given)
    assert given == snapshot
    assert doc is not None and doc["checksum"].startswith("sha256:")
    assert planned.manifests == Manifests((str(manifest),), ("X_*",))
    assert planned.remote.values is ValuePolicy.ALWAYS
    assert (planned.force, planned.write_delay) == (True, 0)
    # Manifests, not a plan file: the same options back.
    direct = apply.Options(Manifests((str(manifest),)))
    assert apply.reviewed_options(direct) == (direct, None)


def test_apply_of_a_reviewed_plan_leaves_its_options_as_given(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    _, reviewed, env = _reviewed_plan(sandbox, tmp_path)
    given = apply.Options(Manifests((str(reviewed),)), write_delay=0)
    snapshot = replace(given)
    assert apply.run(given, env) == 0
    assert given == snapshot
    assert sandbox.secrets("octo-org", "actions")["REVIEWED"].value == b"v"
