"""The real `age` command line as an independent producer of keys, ciphertexts and value
files, and as the judge of what reconciler encrypted. Nothing here uses pyrage: a value that
round-trips through these helpers is one the age tool itself wrote or read.

If `age` or `age-keygen` is missing the calling test fails (never skips): CI installs Debian's
`age`, and a machine without it must say so."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIMEOUT = 60  # a bound on a hung tool, never a synchronisation


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"the `{name}` command is not installed; the age tests produce their fixtures with "
            "the real age CLI (Debian/Ubuntu: apt-get install age; macOS: brew install age)"
        )
    return found


def _run(args: list[str], data: bytes = b"") -> bytes:
    done = subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@dataclass(frozen=True)
class Key:
    """One identity made by `age-keygen`: its file, its secret line, its recipient."""

    file: Path
    secret: str = field(repr=False)
    recipient: str


def keygen(directory: Path, name: str) -> Key:
    path = directory / f"{name}.key"
    _run([tool("age-keygen"), "-o", str(path)])
    secret = next(
        line for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-1")
    )
    recipient = _run([tool("age-keygen"), "-y", str(path)]).decode().strip()
    assert recipient.startswith("age1")
    return Key(path, secret, recipient)


def age_encrypt(plaintext: bytes, *recipients: str) -> str:
    """`age -a -r R1 -r R2 …`: ASCII-armored, as a user would paste it."""
    args = [tool("age"), "-a"]
    for recipient in recipients:
        args += ["-r", recipient]
    return _run(args, plaintext).decode("ascii")


def age_decrypt(armored: str, key: Key) -> bytes:
    """`age -d -i KEYFILE`: the real tool's reading of what reconciler wrote."""
    return _run([tool("age"), "-d", "-i", str(key.file)], armored.encode("ascii"))


def value_file(recipients: list[str], values: dict[str, str], *, comments: bool = True) -> str:
    """A value file as a person writes it: `age -a` output pasted under `NAME: |`."""
    lines = ["# team secrets: rotate with reconciler encrypt"] if comments else []
    lines += ["reconciler-age: 1", "recipients:"]
    lines += [f"  - {r}" + ("  # a person" if comments else "") for r in recipients]
    lines.append("values:")
    for name, armored in values.items():
        if comments:
            lines.append(f"  # {name}: who owns it")
        lines.append(f"  {name}: |")
        lines += ["    " + line for line in armored.strip().split("\n")]
    return "\n".join(lines) + "\n"


def block_of(text: str, name: str) -> str:
    """The lines of entry `name` in a value file as written: `  NAME: |` to the END line."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{name}:"))
    end = next(i for i in range(start, len(lines)) if "-----END AGE" in lines[i])
    return "\n".join(lines[start : end + 1])
