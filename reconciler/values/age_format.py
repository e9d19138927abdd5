"""The text of an age value file (the format: see `age_files`) parsed and checked into an
`AgeValueFile`, remembering where each value is written for `age_edit`. Checks need no key
and no cryptography: armor, base64, the age header, recipients' shape. Pure: no I/O."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import SourceError
from reconciler.model import AgeSource, Location
from reconciler.safe_text import printable

FORMAT_VERSION = 1
VERSION_KEY = "reconciler-age"
HEADER = (
    "# reconciler age value file: values encrypted one by one, so a diff shows which one changed"
)
ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
_MAGIC = b"age-encryption.org/v1\n"
# An X25519 recipient: "age1" and the bech32 of a 32-byte key. Plugin recipients
# (age1yubikey1…) and SSH keys fall outside it.
_RECIPIENT = re.compile(r"age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}")
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
_BASE64_LINE = re.compile(r"(?=.)[A-Za-z0-9+/]*={0,2}")  # not empty
_MAX_DEPTH = 16  # the format needs 3; this bounds the composer's recursion on hostile input
_SHOWN_NAMES = 5
_INT_TAG = "tag:yaml.org,2002:int"
NULL_TAG = "tag:yaml.org,2002:null"


def normalise(armored: str) -> str:
    """Armored ciphertext as its version identity hashes it: CRLF as LF, no surrounding
    whitespace (a value pasted from `age -a` output hashes the same whatever the editor did)."""
    return armored.replace("\r\n", "\n").strip()


def version_of(armored: str) -> str:
    import hashlib  # here, not at the top: `validate` imports this module for its name rule

    return "age:" + hashlib.sha256(normalise(armored).encode("ascii")).hexdigest()


def name_problem(name: str) -> str | None:
    """None if `name` can name a value in the file; otherwise why not (without the name: it
    may be a value pasted in the wrong place)."""
    if NAME_RE.fullmatch(name):
        return None
    return "must be 1-200 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"


def recipient_problem(text: str) -> str | None:
    """None if `text` has the shape of an age X25519 recipient; otherwise why not. Never
    quotes `text`: a secret key pasted where a public one belongs must not be shown."""
    if _RECIPIENT.fullmatch(text):
        return None
    if text.strip().upper().startswith("AGE-SECRET-KEY-"):
        return (
            "is an age SECRET key, not a recipient: give its public key "
            "(`age-keygen -y KEYFILE` prints it), and keep the secret key out of files and flags"
        )
    return "is not an age X25519 recipient (age1 and 58 more characters)"


def armor_problem(text: str) -> str | None:
    """None if `text` is ASCII-armored age ciphertext (as `age -a` writes it); otherwise why
    not. Checked without any key: the armor, its base64, and the age header line."""
    lines = normalise(text).split("\n")
    if len(lines) < 3 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        return f"is not ASCII-armored age ciphertext ({ARMOR_BEGIN} ... {ARMOR_END})"
    body = lines[1:-1]
    if any(len(line) > 64 or not _BASE64_LINE.fullmatch(line) for line in body):
        return "has damaged armor: each line between BEGIN and END must be base64, 64 columns"
    try:
        raw = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return "has damaged armor: its base64 does not decode"
    if not raw.startswith(_MAGIC):
        return "is armored but is not age ciphertext (no age-encryption.org/v1 header)"
    return None


@dataclass(frozen=True, slots=True)
class AgeValueFile:
    """A checked age value file: its recipients and each value's normalised armored
    ciphertext. Holds no plaintext and no key."""

    path: str  # as written in the manifest, or on the command line
    recipients: tuple[str, ...]
    entries: tuple[tuple[str, str], ...] = field(repr=False)  # (name, ciphertext)

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.entries)

    def ciphertext(self, source: AgeSource) -> str:
        """The armored ciphertext of `source.key`, or SourceError naming the names there are."""
        found = next((text for name, text in self.entries if name == source.key), None)
        if found is not None:
            return found
        names = self.names()
        similar = [n for n in names if n.lower() == source.key.lower()]
        listed = ", ".join(names[:_SHOWN_NAMES])
        if len(names) > _SHOWN_NAMES:
            listed += f" and {len(names) - _SHOWN_NAMES} more"
        held = f"it holds {listed}" if names else "it holds no values yet"
        hint = (
            f'did you mean "{similar[0]}"? Names are case-sensitive'
            if similar
            else f"add it with `reconciler encrypt {self.path} {source.key}` (from the "
            "manifest's directory), or fix `key`"
        )
        _raise(
            source.location,
            f"no value {printable(source.key)} in {printable(self.path)} ({held})",
            printable(hint),
        )

    def version(self, source: AgeSource) -> str:
        """The identity of the value without decrypting it: `age:` and the sha256 hex of its
        normalised armored ciphertext. It changes exactly when that value is re-encrypted."""
        return version_of(self.ciphertext(source))


def _raise(location: Location | None, detail: str, hint: str | None = None) -> NoReturn:
    raise SourceError(location, detail, hint=hint)


# -- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Where one value is written: its text is `start:end` (end after its last line's line
    break for a block scalar), its key at column `key_col`, its style a block scalar or not."""

    start: int
    end: int
    key_col: int
    block: bool


@dataclass(frozen=True, slots=True)
class Parsed:
    file: AgeValueFile
    spans: tuple[tuple[str, Span], ...]  # in file order
    values_node: Node | None  # None: the file has no `values` key


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.depth >= _MAX_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {_MAX_DEPTH} levels")
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1


class _Reader:
    """Checks one file's nodes; every problem is a SourceError at the manifest's location
    whose message says where in the value file."""

    def __init__(self, shown: str, location: Location | None) -> None:
        self.shown = shown
        self.location = location

    def fail(self, node: Node | None, message: str, hint: str | None = None) -> NoReturn:
        where = printable(self.shown)
        if node is not None:
            where += f":{node.start_mark.line + 1}:{node.start_mark.column + 1}"
        _raise(self.location, f"age value file {where}: {message}", hint)

    def compose(self, text: str) -> MappingNode:
        try:
            loader = _Loader(text)
            try:
                root = loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            reason = getattr(e, "problem", None) or str(e)
            self.fail(None, f"YAML syntax error{at}: {printable(str(reason))}")
        if not isinstance(root, MappingNode):
            self.fail(root, f"is not a mapping with `{VERSION_KEY}`, `recipients`, `values`")
        return root

    def mapping(self, node: MappingNode, what: str) -> dict[str, tuple[ScalarNode, Node]]:
        found: dict[str, tuple[ScalarNode, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.fail(key, f"a key of {what} is not a name")
            if key.value in found:
                self.fail(key, f"{what} has {printable(key.value)} twice")
            found[key.value] = (key, value)
        return found

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.fail(node, f"{what} must be a string")
        return str(node.value)


def parse(text: str, shown: str, location: Location | None) -> Parsed:
    """The checked contents of a value file's text; SourceError at the first problem."""
    reader = _Reader(shown, location)
    root = reader.compose(text)
    top = reader.mapping(root, "the file")
    unknown = sorted(set(top) - {VERSION_KEY, "recipients", "values"})
    if unknown:
        reader.fail(top[unknown[0]][0], f"unknown key {printable(unknown[0])}")
    if VERSION_KEY not in top:
        reader.fail(root, f"`{VERSION_KEY}: {FORMAT_VERSION}` is missing")
    version = top[VERSION_KEY][1]
    if not (
        isinstance(version, ScalarNode)
        and version.tag == _INT_TAG
        and version.value == str(FORMAT_VERSION)
    ):
        reader.fail(
            version,
            f"`{VERSION_KEY}` must be {FORMAT_VERSION}",
            "a newer reconciler may have written it: upgrade reconciler",
        )
    recipients = _recipients(reader, top["recipients"][1] if "recipients" in top else None, root)
    values_node = top["values"][1] if "values" in top else None
    spans: list[tuple[str, Span]] = []
    entries: list[tuple[str, str]] = []
    if isinstance(values_node, MappingNode):
        for name, (key, value) in reader.mapping(values_node, "`values`").items():
            if name_problem(name):
                reader.fail(key, f"the value name {printable(name)} {name_problem(name)}")
            armored = reader.scalar(value, f"values.{name}")
            problem = armor_problem(armored)
            if problem:
                reader.fail(value, f"values.{name} {problem}", _ARMOR_HINT)
            entries.append((name, normalise(armored)))
            spans.append((name, _span(text, key, value)))
    elif values_node is not None and values_node.tag != NULL_TAG:
        reader.fail(values_node, "`values` must be a mapping of names to armored ciphertext")
    return Parsed(AgeValueFile(shown, recipients, tuple(entries)), tuple(spans), values_node)


_ARMOR_HINT = (
    "write each value as a block scalar (`NAME: |` and the armored lines indented below it), "
    "as `age -r RECIPIENT -a` prints it or `reconciler encrypt` writes it"
)


def _recipients(reader: _Reader, node: Node | None, root: Node) -> tuple[str, ...]:
    if node is None:
        reader.fail(root, "`recipients` is missing: list the age1… public keys that can decrypt")
    if not isinstance(node, SequenceNode) or not node.value:
        reader.fail(node, "`recipients` must be a non-empty list of age1… public keys")
    found: list[str] = []
    for number, item in enumerate(node.value):
        text = reader.scalar(item, f"recipients[{number}]")
        problem = recipient_problem(text)
        if problem:
            reader.fail(item, f"recipients[{number}] {problem}")
        if text not in found:
            found.append(text)
    return tuple(found)


def _span(text: str, key: ScalarNode, value: Node) -> Span:
    start, end = value.start_mark.index, value.end_mark.index
    block = isinstance(value, ScalarNode) and value.style in {"|", ">"}
    if block:
        # A block scalar's node runs over the blank lines after it: they are left in place.
        end = line_end(text, start + len(text[start:end].rstrip()))
    return Span(start, end, key.start_mark.column, block)


def line_end(text: str, index: int) -> int:
    """The index just past the line break of the line `index` is on (or the text's end)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1
