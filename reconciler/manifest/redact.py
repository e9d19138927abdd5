"""Which text written where a name belongs may be quoted back in a message.

A value pasted where a name belongs (a token as a secret name, `password=hunter2` as a
key, a key file's contents as a repository) must never be echoed into a log, a PR comment
or a CI annotation. The rule, applied by every manifest message and every JSON path:

- text is quoted only if it looks like a name: 1 to 140 characters of letters, digits and
  `. _ / -` (the union of GitHub's org, repository and secret name alphabets), and it does
  not look like a credential;
- anything else is described, never shown: `the secret name (41 characters, not shown)`,
  and in a path `secrets.<41 characters, not shown>`; its file:line:col says where it is;
- text looks like a credential when it contains a well-known token shape (`ghp_…`,
  `github_pat_…`, `glpat-…`, `xoxb-…`, `AKIA…`, `sk_live_…`, `npm_…`, `pypi-…`, `AIza…`,
  a PEM header) or a long high-entropy run: 20+ characters mixing upper case, lower case
  and digits, 32+ hex digits, or 40+ characters of high entropy — without the `_`/`-`
  every few characters that joins the words of a real name.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MAX_SHOWN = 140  # owner (39) + "/" + repository (100)

_NAME_LIKE = re.compile(rf"[A-Za-z0-9._/-]{{1,{MAX_SHOWN}}}")
_TOKEN_SHAPES = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}"
    r"|github_pat_[A-Za-z0-9_]{16,}"
    r"|glpat-[A-Za-z0-9_-]{16,}"
    r"|xox[abposr]-[A-Za-z0-9-]{8,}"
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}"
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{8,}"
    r"|npm_[A-Za-z0-9]{30,}"
    r"|pypi-[A-Za-z0-9_-]{16,}"
    r"|AIza[A-Za-z0-9_-]{30,}"
    r"|-----BEGIN"
)
_CHUNKS = re.compile(r"[\s./:=,;@\"']+")
_HEX = re.compile(r"[0-9A-Fa-f]+")

CREDENTIAL_HINT = (
    "a value never goes where a name belongs; if a real credential was written here, "
    "remove it and rotate it (it may already be in git history)"
)


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_credential(text: str) -> bool:
    if _TOKEN_SHAPES.search(text):
        return True
    for chunk in _CHUNKS.split(text):
        if len(chunk) < 20:
            continue
        separators = chunk.count("_") + chunk.count("-")
        if separators * 12 > len(chunk):
            continue  # WORDS_JOINED_LIKE_THIS: a name, however long
        classes = sum(
            (
                any(c.isupper() for c in chunk),
                any(c.islower() for c in chunk),
                any(c.isdigit() for c in chunk),
            )
        )
        entropy = _entropy(chunk)
        if classes == 3 and entropy >= 3.5:
            return True
        if len(chunk) >= 32 and _HEX.fullmatch(chunk) and classes >= 2:
            return True
        if len(chunk) >= 40 and entropy >= 4.0:
            return True
    return False


def showable(text: str) -> bool:
    """May `text` be quoted in a message? (See the module docstring.)"""
    return bool(_NAME_LIKE.fullmatch(text)) and not looks_like_credential(text)


def describe(text: str, noun: str) -> str:
    """`"web"`, or `the repository name (41 characters, not shown)`."""
    if showable(text):
        return f'"{text}"'
    hidden = f"({_count(text)}, not shown)"
    return f"{noun} {hidden}" if noun else hidden


def path_part(text: str) -> str:
    """One key of a JSON path as printed: the key, or `<41 characters, not shown>`."""
    return text if not text or showable(text) else f"<{_count(text)}, not shown>"


def _count(text: str) -> str:
    return "1 character" if len(text) == 1 else f"{len(text)} characters"
