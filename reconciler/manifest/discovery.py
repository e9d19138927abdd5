"""Which files are manifests: the one discovery rule.

A path named on the command line is always read as a manifest: if it is not one, that
is an error. In a directory named on the command line:

1. Directories that are never searched (each listed as skipped, with its reason):
   hidden ones (`.git`, `.github`, `.venv`, any name starting with "."), dependency and
   cache trees (`node_modules`, `bower_components`, `__pycache__`, `site-packages`,
   `venv`), virtualenvs (any directory holding `pyvenv.cfg`), Helm charts (any
   directory holding `Chart.yaml`: their templates are not YAML), and symbolic links to
   directories (not followed; name the target to read it).
2. Files considered: names ending in `.yaml` or `.yml` in any letter case (`ORG.YAML`).
   Hidden ones (`.pre-commit-config.yaml`) are listed as skipped, not read.
3. Every considered file must be readable UTF-8 YAML: a syntax error, bad encoding,
   nesting deeper than the YAML depth bound, a non-regular file (FIFO, device) or one
   over MAX_FILE_BYTES is an ERROR, located, whatever the file was meant to be. Nothing
   broken is ever skipped, because skipping a manifest lets `prune` delete its secrets.
4. A parsed file is a manifest, and validated as one (every problem is an error), when
   any document's top level is a mapping with a key that says so:
   - `orgs` or `repos`, or a case variant or near miss of one (`Orgs`, `ORGS`, `org`,
     `repo`, `orgz`, `organizations`, `organisations`, `repositories`, ...): did-you-mean
     at a stricter cutoff than error hints, so `origin`, `rules` or `repo_url` are not;
   - `version` (or a near miss) whose value is the integer 1 or the string "1": ours is
     1, docker-compose writes a string such as "3.8", dependabot and readthedocs write 2;
   - `settings` holding `allow_env` or `drift`.
   A manifest with a typo in every other key still has `version: 1`, so it is caught.
5. Anything else (empty files, lists, workflows, docker-compose, Helm values,
   dependabot, readthedocs, ...) is skipped and listed with its reason by `validate`
   and in the warnings of `plan` and `apply`.

A foreign file that trips rule 4 fails loudly rather than being read quietly: move it
out of the manifest directory, or name the manifest files explicitly.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 8 * 1024 * 1024
DEPENDENCY_DIRS = frozenset(
    {"node_modules", "bower_components", "__pycache__", "site-packages", "venv"}
)
NOT_A_MANIFEST = "not a manifest (no top-level version: 1, orgs or repos)"

_SCOPE_KEYS = ("orgs", "repos")
_SCOPE_SPELLINGS = frozenset(
    {
        "org",
        "organization",
        "organizations",
        "organisation",
        "organisations",
        "repo",
        "repository",
        "repositories",
    }
)
# Stricter than the 0.6 of error hints: "origin", "rules" and "repo_url" score 0.6.
_NEAR = 0.75
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path found in a directory and not read as a manifest, with the reason."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Found:
    files: tuple[str, ...]
    skipped: tuple[Skipped, ...]


def is_yaml_name(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def walk(directory: str) -> Found:
    """The YAML files under `directory` (rules 1 and 2), in a stable order."""
    files: list[tuple[tuple[str, ...], str]] = []
    skipped: list[Skipped] = []
    for root, dirs, names in os.walk(directory):
        kept: list[str] = []
        for name in sorted(dirs):
            path = os.path.join(root, name)
            reason = _directory_skip_reason(path, name)
            if reason:
                skipped.append(Skipped(path + os.sep, reason))
            else:
                kept.append(name)
        dirs[:] = kept
        for name in names:
            if not is_yaml_name(name):
                continue
            path = os.path.join(root, name)
            if name.startswith("."):
                skipped.append(Skipped(path, "hidden file, not read"))
            else:
                files.append((Path(os.path.relpath(path, directory)).parts, path))
    return Found(
        tuple(path for _, path in sorted(files)),
        tuple(sorted(skipped, key=lambda s: s.path)),
    )


def _directory_skip_reason(path: str, name: str) -> str | None:
    if os.path.islink(path):
        return "symbolic link to a directory, not followed (name its target to read it)"
    if name.startswith("."):
        return "hidden directory, not searched"
    if name in DEPENDENCY_DIRS:
        return "dependency or cache directory, not searched"
    if os.path.exists(os.path.join(path, "pyvenv.cfg")):
        return "virtualenv, not searched"
    if os.path.exists(os.path.join(path, "Chart.yaml")):
        return "Helm chart, not searched"
    return None


def not_a_manifest(documents: list[Node]) -> str | None:
    """Why a parsed file found in a directory is not a manifest; None if it is one (rule 4)."""
    if not documents:
        return "not a manifest (empty)"
    if any(looks_like_manifest(node) for node in documents):
        return None
    if len(documents) > 1:
        return f"not a manifest ({len(documents)} YAML documents, none with manifest keys)"
    top = documents[0]
    if not isinstance(top, MappingNode):
        kind = "a list" if isinstance(top, SequenceNode) else "a single value"
        return f"not a manifest (the top level is {kind}, not a mapping)"
    return NOT_A_MANIFEST


def looks_like_manifest(node: Node) -> bool:
    if not isinstance(node, MappingNode):
        return False
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            continue
        key = str(key_node.value).strip().lower()
        if _is_scope_key(key):
            return True
        if _near(key, ("version",)) and _is_one(value_node):
            return True
        if key == "settings" and isinstance(value_node, MappingNode):
            names = {str(k.value) for k, _ in value_node.value if isinstance(k, ScalarNode)}
            if names & {"allow_env", "drift"}:
                return True
    return False


def _is_scope_key(key: str) -> bool:
    return key in _SCOPE_SPELLINGS or _near(key, _SCOPE_KEYS)


def _near(word: str, candidates: tuple[str, ...]) -> bool:
    return bool(difflib.get_close_matches(word, candidates, n=1, cutoff=_NEAR))


def _is_one(node: Node) -> bool:
    if not isinstance(node, ScalarNode):
        return False
    text = str(node.value).strip()
    if node.tag == _STR_TAG:
        return text == "1"
    if node.tag == _INT_TAG:
        digits = text.replace("_", "").lstrip("+")
        return digits.isdigit() and len(digits) < 20 and int(digits) == 1
    return False
