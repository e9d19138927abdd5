"""`reconciler --help` and `validate` start without the libraries only other commands use.

Each runs in a fresh interpreter (a real subprocess, as a user's shell starts it) through
`reconciler.cli.main`, which then prints the modules it loaded. Nothing here is timed: what
is loaded is what start-up costs, and `tests/benchmarks/bench_startup.py` prints the times.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT

# Network, signing and sealing stacks, the stale-plan explainer, the AWS SDK, the age library,
# and jsonschema (the manifest's schema is compiled by `reconciler.manifest.json_schema`).
HEAVY = (
    "deepdiff", "pydantic", "jwt", "cryptography", "requests", "urllib3", "nacl", "boto3",
    "botocore", "pyrage", "jsonschema", "referencing",
)  # fmt: skip
_LOADED = """
import json, sys
from reconciler import cli
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(argv: list[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    names: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(names)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["validate", "--help"], ["validate", "examples"], ["plan", "--help"]],
    ids=["help", "validate-help", "validate", "plan-help"],
)
def test_start_up_loads_no_heavy_library(argv: list[str]) -> None:
    modules = loaded(argv)
    assert "reconciler.cli" in modules  # the run happened
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


def test_only_validate_loads_the_yaml_parser_and_the_schema() -> None:
    assert {"yaml", "reconciler.manifest.json_schema"} & loaded(["--help"]) == set()
    modules = loaded(["validate", "examples"])
    assert {"yaml", "reconciler.manifest.json_schema"} <= modules
