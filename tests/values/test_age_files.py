"""Age value files read, checked and decrypted, with keys and ciphertexts the real `age` CLI
made (tests/values/age_cli.py): what a person pastes from `age -r … -a` works, what reconciler
writes `age -d` reads, and no key or plaintext is ever in an error or a repr."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import SourceError
from reconciler.model import AgeSource, Location
from reconciler.values.age_files import (
    Identities,
    Written,
    decrypt,
    encrypt,
    load_identities,
    read_value_file,
    set_value,
)
from tests.values.age_cli import Key, age_decrypt, age_encrypt, block_of, keygen, value_file

LOC = Location("secrets.yaml", 9, 20)
FILE = "values/prod.age.yaml"
PLAIN_A = b"canary-age-A-3f9d1c7e\nsecond line\n"
PLAIN_B = b"canary-age-B-8b2e6a40"


@dataclass(frozen=True)
class Keys:
    alice: Key
    bob: Key
    carol: Key  # listed nowhere


@dataclass(frozen=True)
class Tree:
    root: Path  # the manifest's directory
    file: Path
    armored: dict[str, str]  # as `age -a` printed them


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    where = tmp_path_factory.mktemp("keys")
    return Keys(keygen(where, "alice"), keygen(where, "bob"), keygen(where, "carol"))


@pytest.fixture
def tree(tmp_path: Path, keys: Keys) -> Tree:
    """values/prod.age.yaml listing alice and bob: A encrypted to both, B to alice only."""
    armored = {
        "A": age_encrypt(PLAIN_A, keys.alice.recipient, keys.bob.recipient),
        "B": age_encrypt(PLAIN_B, keys.alice.recipient),
    }
    path = tmp_path / FILE
    path.parent.mkdir()
    path.write_text(value_file([keys.alice.recipient, keys.bob.recipient], armored))
    return Tree(tmp_path, path, armored)


def source(tree: Tree, key: str, path: str = FILE) -> AgeSource:
    return AgeSource(path, key, str(tree.root), LOC)


def secrets_of(keys: Keys) -> list[str]:
    """Every text no output may contain: the secret keys and the plaintexts."""
    found = [k.secret for k in (keys.alice, keys.bob, keys.carol)]
    found += [k.secret.lower() for k in (keys.alice, keys.bob, keys.carol)]
    return [*found, PLAIN_A.decode(), "canary-age-A", PLAIN_B.decode()]


def failure(keys: Keys, call: object, *args: object) -> SourceError:
    """The SourceError `call(*args)` raises; it shows no key and no plaintext."""
    assert callable(call)
    with pytest.raises(SourceError) as caught:
        call(*args)
    error = caught.value
    text = error.render() + repr(error)
    for secret in secrets_of(keys):
        assert secret not in text
    return error


# -- reading and decrypting ----------------------------------------------------------------------


def test_values_pasted_from_age_decrypt_with_one_of_several_identities(
    tree: Tree, keys: Keys
) -> None:
    read = read_value_file(source(tree, "A"))
    assert read.names() == ("A", "B")
    assert read.recipients == (keys.alice.recipient, keys.bob.recipient)
    # carol's key comes first and fits nothing; bob's, after a comment and a blank line, does
    text = f"# the deploy keys\n{keys.carol.secret}\n\n  {keys.bob.secret}  \r\n"
    identities = load_identities({"RECONCILER_AGE_IDENTITY": text})
    assert len(identities) == 2
    assert decrypt(read.ciphertext(source(tree, "A")), identities, source(tree, "A")) == PLAIN_A
    alice = load_identities({"RECONCILER_AGE_IDENTITY": keys.alice.secret})
    assert decrypt(read.ciphertext(source(tree, "B")), alice, source(tree, "B")) == PLAIN_B


@pytest.mark.parametrize(
    "variable",
    [
        "RECONCILER_AGE_IDENTITY",
        "RECONCILER_AGE_IDENTITY_FILE",
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
    ],
)
def test_each_variable_gives_the_identity(tree: Tree, keys: Keys, variable: str) -> None:
    given = str(keys.bob.file) if variable.endswith("_FILE") else keys.bob.secret
    identities = load_identities({variable: given})
    assert variable in repr(identities) and "Identities(1 " in repr(identities)
    assert str(identities) == repr(identities)
    assert identities.recipients == (keys.bob.recipient,)
    ciphertext = read_value_file(source(tree, "A")).ciphertext(source(tree, "A"))
    assert decrypt(ciphertext, identities, source(tree, "A")) == PLAIN_A
    for secret in secrets_of(keys):
        assert secret not in repr(identities)


def test_the_tools_own_variables_win_and_empty_ones_count_as_unset(keys: Keys) -> None:
    both = {"SOPS_AGE_KEY": keys.alice.secret, "RECONCILER_AGE_IDENTITY_FILE": str(keys.bob.file)}
    assert load_identities(both).recipients == (keys.bob.recipient,)
    text_over_file = {
        "RECONCILER_AGE_IDENTITY": keys.carol.secret,
        "RECONCILER_AGE_IDENTITY_FILE": str(keys.bob.file),
    }
    assert load_identities(text_over_file).recipients == (keys.carol.recipient,)
    empty = {"RECONCILER_AGE_IDENTITY": "  \n", "SOPS_AGE_KEY": keys.alice.secret}
    assert load_identities(empty).origin == "SOPS_AGE_KEY"


def test_no_identity_is_a_clear_error(keys: Keys) -> None:
    error = failure(keys, load_identities, {"HOME": "/root", "NPM_TOKEN": "x"})
    assert error.location is None
    assert error.detail.startswith("no age identity: set RECONCILER_AGE_IDENTITY to the key")
    assert error.hint is not None and "SOPS_AGE_KEY" in error.hint
    empty = failure(keys, load_identities, {"RECONCILER_AGE_IDENTITY": "", "SOPS_AGE_KEY_FILE": ""})
    assert "(RECONCILER_AGE_IDENTITY, SOPS_AGE_KEY_FILE set but empty" in empty.detail


def _other_last(text: str) -> str:
    """`text` with its last character changed: a bech32 checksum catches that."""
    return text[:-1] + ("Q" if text[-1] != "Q" else "P")


def _big(tmp_path: Path) -> Path:
    path = tmp_path / "big.key"
    with open(path, "wb") as fh:
        fh.truncate(65 * 1024)
    return path


def _binary(tmp_path: Path, key: Key) -> Path:
    path = tmp_path / "binary.key"
    path.write_bytes(b"\xff\xfe" + key.secret.encode())
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.key"
    os.mkfifo(path)  # a reader that waited for a writer would hang the test
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("garbage", "line 1 of RECONCILER_AGE_IDENTITY is not an age secret key"),
        ("bad checksum", "line 2 of RECONCILER_AGE_IDENTITY is not an age secret key"),
        ("plugin", "line 1 of RECONCILER_AGE_IDENTITY is an age plugin identity"),
        ("comments only", "RECONCILER_AGE_IDENTITY holds no age secret key"),
        ("missing file", "(RECONCILER_AGE_IDENTITY_FILE) cannot be read: No such file"),
        ("fifo", "(RECONCILER_AGE_IDENTITY_FILE) is a named pipe (FIFO), not a regular file"),
        ("big file", "(RECONCILER_AGE_IDENTITY_FILE) is 66560 bytes, more than 64 KiB"),
        ("binary file", "(RECONCILER_AGE_IDENTITY_FILE) is not UTF-8 text"),
    ],
)
def test_identity_problems_never_show_the_key(
    tmp_path: Path, keys: Keys, case: str, message: str
) -> None:
    environ = {
        "garbage": {"RECONCILER_AGE_IDENTITY": keys.alice.secret.replace("AGE-SECRET", "AGE-S")},
        "bad checksum": {"RECONCILER_AGE_IDENTITY": f"# k\n{_other_last(keys.alice.secret)}"},
        "plugin": {"RECONCILER_AGE_IDENTITY": "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQ"},
        "comments only": {"RECONCILER_AGE_IDENTITY": "# created: today\n\n# nothing else"},
        "missing file": {"RECONCILER_AGE_IDENTITY_FILE": str(tmp_path / "none.key")},
        "fifo": {"RECONCILER_AGE_IDENTITY_FILE": str(_fifo(tmp_path)) if case == "fifo" else ""},
        "big file": {"RECONCILER_AGE_IDENTITY_FILE": str(_big(tmp_path))},
        "binary file": {"RECONCILER_AGE_IDENTITY_FILE": str(_binary(tmp_path, keys.alice))},
    }[case]
    error = failure(keys, load_identities, environ)
    assert message in error.detail
    assert keys.alice.secret[5:-1] not in error.render()  # not even the key's middle


def test_no_listed_identity_names_the_source_and_the_recipients(tree: Tree, keys: Keys) -> None:
    read = read_value_file(source(tree, "B"))
    ciphertext = read.ciphertext(source(tree, "B"))
    bob = load_identities({"RECONCILER_AGE_IDENTITY": keys.bob.secret})
    error = failure(keys, decrypt, ciphertext, bob, source(tree, "B"))
    assert error.location == LOC
    assert error.detail == (
        "the age identity from RECONCILER_AGE_IDENTITY cannot decrypt age:values/prod.age.yaml#B"
    )
    assert error.hint is not None and keys.bob.recipient in error.hint
    two = load_identities({"SOPS_AGE_KEY": f"{keys.bob.secret}\n{keys.carol.secret}"})
    with pytest.raises(SourceError) as caught:
        decrypt(ciphertext, two, source(tree, "B"), recipients=read.recipients)
    assert caught.value.detail.startswith("none of the 2 age identities from SOPS_AGE_KEY")
    assert caught.value.hint is not None and keys.alice.recipient in caught.value.hint


def _rearmored(armored: str, where: str) -> str:
    """The same ciphertext with one byte flipped (the payload's last, or one of the header's
    MAC), armored correctly again."""
    lines = armored.strip().split("\n")
    raw = bytearray(base64.b64decode("".join(lines[1:-1])))
    change = -1 if where == "payload" else raw.index(b"\n--- ") + 6
    raw[change] ^= 0x01
    body = base64.b64encode(bytes(raw)).decode()
    chunks = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([lines[0], *chunks, lines[-1]]) + "\n"


@pytest.mark.parametrize("where", ["payload", "header MAC"])
def test_damaged_ciphertext_in_good_armor_is_named_damaged(
    tree: Tree, keys: Keys, where: str
) -> None:
    damaged = _rearmored(tree.armored["A"], where)
    tree.file.write_text(value_file([keys.alice.recipient], {"A": damaged}))
    read = read_value_file(source(tree, "A"))  # nothing a reader without a key can see
    alice = load_identities({"RECONCILER_AGE_IDENTITY": keys.alice.secret})
    error = failure(keys, decrypt, read.ciphertext(source(tree, "A")), alice, source(tree, "A"))
    assert error.location == LOC
    assert "age:values/prod.age.yaml#A cannot be decrypted: its ciphertext is damaged" in (
        error.detail
    )
    assert error.hint == "re-encrypt it: reconciler encrypt values/prod.age.yaml A"


def test_an_unknown_name_lists_the_names_there_are(tree: Tree, keys: Keys) -> None:
    read = read_value_file(source(tree, "A"))
    error = failure(keys, read.ciphertext, source(tree, "NPM_TOKEN"))
    assert error.location == LOC
    assert error.detail == "no value NPM_TOKEN in values/prod.age.yaml (it holds A, B)"
    assert error.hint is not None and "reconciler encrypt values/prod.age.yaml NPM_TOKEN" in (
        error.hint
    )
    assert failure(keys, read.version, source(tree, "a")).hint == (
        'did you mean "A"? Names are case-sensitive'
    )
    many = {f"V{i}": tree.armored["B"] for i in range(7)}
    tree.file.write_text(value_file([keys.alice.recipient], many))
    error = failure(keys, read_value_file(source(tree, "A")).ciphertext, source(tree, "X"))
    assert "(it holds V0, V1, V2, V3, V4 and 2 more)" in error.detail


# -- version identity without a key --------------------------------------------------------------


def _versions(tree: Tree) -> dict[str, str]:
    read = read_value_file(source(tree, "A"))
    return {name: read.version(source(tree, name)) for name in read.names()}


def test_the_version_is_the_hash_of_the_normalised_armored_ciphertext(tree: Tree) -> None:
    versions = _versions(tree)
    for name, armored in tree.armored.items():
        digest = hashlib.sha256(armored.strip().encode()).hexdigest()
        assert versions[name] == f"age:{digest}"
    assert _versions(tree) == versions  # read again: the same
    # CRLF line ends and another indentation are the same ciphertext
    tree.file.write_bytes(tree.file.read_bytes().replace(b"\n", b"\r\n").replace(b"    ", b"\t "))
    tree.file.write_bytes(tree.file.read_bytes().replace(b"\t ", b"      "))
    assert _versions(tree) == versions


def test_the_version_changes_exactly_when_that_values_ciphertext_does(
    tree: Tree, keys: Keys
) -> None:
    before = _versions(tree)
    set_value(tree.file, "B", PLAIN_B, None)  # the same plaintext: age encrypts afresh
    after = _versions(tree)
    assert after["A"] == before["A"]
    assert after["B"] != before["B"]
    set_value(tree.file, "C", b"new", None)
    assert {k: v for k, v in _versions(tree).items() if k != "C"} == after


# -- the file's format ---------------------------------------------------------------------------


def _file_cases(keys: Keys, armored: str) -> dict[str, tuple[str, str]]:
    """case -> (file text, what the error says)."""
    r = keys.alice.recipient
    good = f"reconciler-age: 1\nrecipients: [{r}]\n"
    block = "\n".join("    " + line for line in armored.strip().split("\n"))
    plain_b64 = base64.b64encode(b"not age at all").decode()
    damaged = block.replace("-----\n    ", "-----\n    !", 1)
    begin = armored.split("\n", maxsplit=1)[0]
    return {
        "syntax": (good + "values: [\n", "YAML syntax error at line 4"),
        "two documents": (good + "---\n" + good, "YAML syntax error"),
        "deep": ("[" * 100, "YAML syntax error"),
        "empty": ("", "is not a mapping with `reconciler-age`"),
        "a list": ("- a\n", f"{FILE}:1:1: is not a mapping"),
        "unknown key": (good + "recipient: x\n", f"{FILE}:3:1: unknown key recipient"),
        "no version": (f"recipients: [{r}]\n", "`reconciler-age: 1` is missing"),
        "version 2": ("reconciler-age: 2\n", f"{FILE}:1:17: `reconciler-age` must be 1"),
        "version text": ('reconciler-age: "1"\n', "`reconciler-age` must be 1"),
        "no recipients": ("reconciler-age: 1\n", "`recipients` is missing"),
        "empty recipients": ("reconciler-age: 1\nrecipients: []\n", "non-empty list"),
        "secret key recipient": (
            f"reconciler-age: 1\nrecipients:\n  - {keys.bob.secret}\n",
            f"{FILE}:3:5: recipients[0] is an age SECRET key, not a recipient",
        ),
        "bad recipient": (
            "reconciler-age: 1\nrecipients: [ssh-ed25519 AAAA]\n",
            "recipients[0] is not an age X25519 recipient",
        ),
        "values a list": (good + "values: [a]\n", "`values` must be a mapping"),
        "complex key": (good + "? [a]\n: b\n", f"{FILE}:3:3: a key of the file is not a name"),
        "blank line": (
            good + f"values:\n  A: |\n{block.replace(chr(10), chr(10) * 2, 1)}\n",
            "values.A has damaged armor: each line between BEGIN and END must be base64",
        ),
        "bad padding": (
            good
            + f"values:\n  A: |\n    {begin}\n    QUJDR\n    -----END AGE ENCRYPTED FILE-----\n",
            "values.A has damaged armor: its base64 does not decode",
        ),
        "twice": (
            good + f"values:\n  A: |\n{block}\n  A: |\n{block}\n",
            "`values` has A twice",
        ),
        "bad name": (good + f'values:\n  "a b": |\n{block}\n', "the value name a b must be"),
        "not a string": (good + "values:\n  A: 12\n", f"{FILE}:4:6: values.A must be a string"),
        "not armored": (good + "values:\n  A: hello\n", "values.A is not ASCII-armored"),
        "folded": (
            good + f"values:\n  A: >\n{block}\n",
            "values.A is not ASCII-armored age ciphertext",
        ),
        "bad base64": (
            good + f"values:\n  A: |\n{damaged}\n",
            "values.A has damaged armor",
        ),
        "not age": (
            good + f"values:\n  A: |\n    {begin}\n    {plain_b64}\n"
            f"    -----END AGE ENCRYPTED FILE-----\n",
            "values.A is armored but is not age ciphertext",
        ),
    }


def test_every_format_problem_is_located_in_the_value_file(tree: Tree, keys: Keys) -> None:
    for case, (text, message) in _file_cases(keys, tree.armored["A"]).items():
        tree.file.write_text(text)
        error = failure(keys, read_value_file, source(tree, "A"))
        assert error.location == LOC, case
        assert error.detail.startswith(f"age value file {FILE}"), (case, error.detail)
        assert message in error.detail, (case, error.detail)


def test_a_file_that_is_not_utf8_is_refused(tree: Tree, keys: Keys) -> None:
    tree.file.write_bytes(b"reconciler-age: 1\n\xff\n")
    error = failure(keys, read_value_file, source(tree, "A"))
    assert error.detail == f'age value file "{FILE}" is not UTF-8 text'


def test_paths_are_confined_like_file_sources(tmp_path: Path, tree: Tree, keys: Keys) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.age.yaml"
    outside.write_text(tree.file.read_text())
    (tree.root / "link.age.yaml").symlink_to(outside)
    (tree.root / ".git").mkdir()
    (tree.root / ".git" / "v.age.yaml").write_text(tree.file.read_text())
    cases = {
        f"../{outside.name}": "leaves the manifest's directory",
        "link.age.yaml": "leaves the manifest's directory",
        str(tree.file): "is an absolute path",
        ".git/v.age.yaml": "is inside a .git directory",
        "values": "is a directory, not a regular file",
        "values/none.age.yaml": "cannot be read: No such file or directory",
    }
    for path, message in cases.items():
        error = failure(keys, read_value_file, source(tree, "A", path))
        assert error.location == LOC
        assert error.detail.startswith(f'age value file "{path}" '), error.detail
        assert message in error.detail, error.detail


def test_a_fifo_and_a_huge_file_are_refused_unread(tree: Tree, keys: Keys) -> None:
    os.mkfifo(tree.root / "values" / "fifo.age.yaml")
    error = failure(keys, read_value_file, source(tree, "A", "values/fifo.age.yaml"))
    assert "is a named pipe (FIFO), not a regular file" in error.detail
    with open(tree.root / "values" / "big.age.yaml", "wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: reading it whole would take 3 GiB
    error = failure(keys, read_value_file, source(tree, "A", "values/big.age.yaml"))
    assert "is 3221225472 bytes, more than 1 MiB; it was not read" in error.detail


def test_nothing_read_or_loaded_shows_a_key_or_a_value(tree: Tree, keys: Keys) -> None:
    read = read_value_file(source(tree, "A"))
    identities = load_identities({"RECONCILER_AGE_IDENTITY": keys.alice.secret})
    assert isinstance(identities, Identities)
    shown = repr(read) + str(read) + repr(identities) + str(identities)
    plaintext = decrypt(read.ciphertext(source(tree, "A")), identities, source(tree, "A"))
    assert plaintext == PLAIN_A
    for secret in secrets_of(keys):
        assert secret not in shown
    assert tree.armored["A"].split("\n")[1] not in repr(read)  # not even the ciphertext


def test_encrypt_refuses_bad_recipients_without_quoting_them(keys: Keys) -> None:
    checksum = _other_last(keys.bob.recipient.upper()).lower()
    cases = {
        keys.bob.secret: "recipient 2 is an age SECRET key, not a recipient",
        checksum: "recipient 2 is not a valid age recipient (its checksum is wrong)",
        "bob@example.com": "recipient 2 is not an age X25519 recipient",
    }
    for bad, message in cases.items():
        error = failure(keys, encrypt, b"v", [keys.alice.recipient, bad])
        assert error.detail.startswith(message)
        assert bad not in error.render()
    assert "no recipients" in failure(keys, encrypt, b"v", []).detail
    armored = encrypt(PLAIN_B, [keys.alice.recipient, keys.bob.recipient])
    assert age_decrypt(armored, keys.alice) == PLAIN_B == age_decrypt(armored, keys.bob)


# -- writing: `set_value` ------------------------------------------------------------------------


def read_source(directory: Path, key: str) -> AgeSource:
    return AgeSource("new.age.yaml", key, str(directory), LOC)


def _without(text: str, name: str) -> list[str]:
    """The file's lines but those of entry `name`: what an edit of `name` must leave alone."""
    entry = block_of(text, name).split("\n")
    lines = text.split("\n")
    start = lines.index(entry[0])
    return lines[:start] + lines[start + len(entry) :]


def test_rotating_one_value_leaves_every_other_line_as_written(tree: Tree, keys: Keys) -> None:
    before = tree.file.read_text()
    written = set_value(tree.file, "A", b"rotated-A", None)
    assert written == Written(created=False, rotated=True, recipients=2, kept_layout=True)
    after = tree.file.read_text()
    assert _without(after, "A") == _without(before, "A")  # B, comments, recipients: unchanged
    assert block_of(after, "B") == block_of(before, "B")
    new_a = read_value_file(source(tree, "A")).ciphertext(source(tree, "A"))
    assert age_decrypt(new_a, keys.alice) == b"rotated-A" == age_decrypt(new_a, keys.bob)
    assert sorted(os.listdir(tree.file.parent)) == ["prod.age.yaml"]  # no temporary file left


def test_adding_a_value_appends_it_after_the_last(tree: Tree, keys: Keys) -> None:
    before = tree.file.read_text()
    written = set_value(tree.file, "NPM_TOKEN", b"npm-value", None)
    assert (written.created, written.rotated, written.kept_layout) == (False, False, True)
    after = tree.file.read_text()
    assert after.startswith(before.rstrip("\n"))
    assert read_value_file(source(tree, "A")).names() == ("A", "B", "NPM_TOKEN")
    armored = read_value_file(source(tree, "A")).ciphertext(source(tree, "NPM_TOKEN"))
    assert age_decrypt(armored, keys.bob) == b"npm-value"


def test_a_new_file_is_created_for_its_recipients(tmp_path: Path, keys: Keys) -> None:
    path = tmp_path / "new.age.yaml"
    recipients = [keys.alice.recipient, keys.bob.recipient, keys.alice.recipient]
    assert set_value(path, "X", b"x-value", recipients) == Written(True, False, 2, True)
    text = path.read_text()
    assert text.startswith("# reconciler age value file: values encrypted one by one")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    read = read_value_file(read_source(tmp_path, "X"))
    assert read.recipients == (keys.alice.recipient, keys.bob.recipient)
    assert age_decrypt(read.ciphertext(read_source(tmp_path, "X")), keys.bob) == b"x-value"


@pytest.mark.parametrize(
    ("layout", "kept"),
    [
        ("values:  # none yet\n# the end\n", True),
        ("values: {{}}  # none yet\n# the end\n", True),
        ('values:\n  OLD: "{armored}"  # pasted\n# the end\n', True),
        ('values: {{OLD: "{armored}"}}\n# the end\n', False),
    ],
)
def test_other_layouts_are_edited_or_rewritten_without_losing_a_value(
    tmp_path: Path, keys: Keys, layout: str, kept: bool
) -> None:
    armored = age_encrypt(b"old", keys.alice.recipient).strip().replace("\n", "\\n")
    path = tmp_path / "v.age.yaml"
    head = f"# mine\nreconciler-age: 1\nrecipients: [{keys.alice.recipient}]  # alice\n"
    path.write_text(head + layout.format(armored=armored))
    old = read_value_file(AgeSource("v.age.yaml", "OLD", str(tmp_path), LOC)).entries
    written = set_value(path, "NEW", b"new", None)
    assert written.kept_layout is kept
    text = path.read_text()
    assert text.startswith(head if kept else "# reconciler age value file")
    assert ("# the end" in text) is kept and ("# pasted" in text) is ("OLD" in layout and kept)
    read = read_value_file(AgeSource("v.age.yaml", "NEW", str(tmp_path), LOC))
    assert read.entries[: len(old)] == old  # an existing value's ciphertext, unchanged
    assert age_decrypt(read.ciphertext(AgeSource("", "NEW", "", LOC)), keys.alice) == b"new"
    if old:  # a quoted value rotated becomes a block; the comment after it stays
        set_value(path, "OLD", b"old2", None)
        assert ("OLD: |  # pasted" in path.read_text()) is kept


def test_a_crlf_file_stays_crlf(tree: Tree) -> None:
    tree.file.write_bytes(tree.file.read_bytes().replace(b"\n", b"\r\n"))
    before = tree.file.read_bytes()
    set_value(tree.file, "A", b"a2", None)
    set_value(tree.file, "C", b"c", None)
    after = tree.file.read_bytes()
    assert after.count(b"\n") == after.count(b"\r\n")
    assert block_of(after.decode(), "B") == block_of(before.decode(), "B")


def test_the_mode_of_an_existing_file_is_kept(tree: Tree) -> None:
    tree.file.chmod(0o640)
    set_value(tree.file, "A", b"a2", None)
    assert stat.S_IMODE(tree.file.stat().st_mode) == 0o640


def test_refused_writes_change_nothing(tmp_path: Path, tree: Tree, keys: Keys) -> None:
    before = tree.file.read_bytes()
    missing = tmp_path / "none.age.yaml"
    error = failure(keys, set_value, missing, "A", PLAIN_A, None)
    assert "does not exist, and a new value file needs its recipients" in error.detail
    error = failure(keys, set_value, tree.file, "A", PLAIN_A, [keys.carol.recipient])
    assert "already lists its recipients, and --recipient differs" in error.detail
    assert "must be 1-200 letters" in failure(keys, set_value, tree.file, "a b", b"v", None).detail
    tree.file.write_text(before.decode() + "  A: twice\n")
    damaged = tree.file.read_bytes()
    assert "has A twice" in failure(keys, set_value, tree.file, "C", PLAIN_A, None).detail
    assert tree.file.read_bytes() == damaged
    assert not missing.exists()
    assert sorted(os.listdir(tree.file.parent)) == ["prod.age.yaml"]


@settings(max_examples=25, deadline=None)
@given(
    indent=st.sampled_from([2, 4]),
    crlf=st.booleans(),
    gaps=st.lists(
        st.sampled_from(["", "\n", "  # note\n", "\n# section\n"]), min_size=3, max_size=3
    ),
    edits=st.lists(st.sampled_from(["A", "B", "C", "d.e"]), min_size=1, max_size=4),
)
def test_edits_touch_only_their_own_entry(
    keys: Keys, indent: int, crlf: bool, gaps: list[str], edits: list[str]
) -> None:
    armored = age_encrypt(b"v", keys.alice.recipient).strip().split("\n")
    pad = " " * indent
    text = f"reconciler-age: 1\nrecipients:\n{pad}- {keys.alice.recipient}\nvalues:\n"
    for gap, name in zip(gaps, ["A", "B"], strict=False):
        text += gap + f"{pad}{name}: |\n" + "".join(f"{pad * 2}{line}\n" for line in armored)
    text += gaps[-1]
    newline = "\r\n" if crlf else "\n"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "v.age.yaml"
        path.write_bytes(text.replace("\n", newline).encode())
        for name in edits:
            before = dict(read_value_file(AgeSource("v.age.yaml", "A", directory, LOC)).entries)
            text_before = path.read_bytes().decode()
            assert set_value(path, name, name.encode(), None).kept_layout
            after = dict(read_value_file(AgeSource("v.age.yaml", "A", directory, LOC)).entries)
            assert {k: v for k, v in after.items() if k != name} == {
                k: v for k, v in before.items() if k != name
            }
            assert set(after) == set(before) | {name}
            assert after[name] != before.get(name)
            data = path.read_bytes()
            assert data.count(b"\n") == data.count(newline.encode())
            assert data.count(b"#") == text_before.count("#")  # every comment kept
            for other in set(before) - {name}:
                assert block_of(data.decode(), other) == block_of(text_before, other)


def test_an_alias_is_rewritten_never_edited_through(tree: Tree, keys: Keys) -> None:
    text = (
        tree.file.read_text()
        .replace("  A: |", "  A: &shared |")
        .replace("  B: |", "  B: *shared\n  OLD_B: |")
    )
    tree.file.write_text(text)
    shared = read_value_file(source(tree, "A")).ciphertext(source(tree, "B"))
    written = set_value(tree.file, "B", b"own", None)
    assert not written.kept_layout  # an edit at B's node would have changed A too
    read = read_value_file(source(tree, "A"))
    assert read.ciphertext(source(tree, "A")) == shared
    assert age_decrypt(read.ciphertext(source(tree, "B")), keys.alice) == b"own"


def test_a_file_without_a_final_newline_gets_one_before_a_new_entry(tree: Tree) -> None:
    tree.file.write_text(tree.file.read_text().rstrip("\n"))
    assert set_value(tree.file, "C", b"c", None).kept_layout
    assert read_value_file(source(tree, "A")).names() == ("A", "B", "C")
    assert tree.file.read_text().endswith("-----END AGE ENCRYPTED FILE-----\n")


def test_a_failed_write_leaves_the_file_and_no_temporary_behind(
    tree: Tree, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree.file.read_bytes()

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    error = failure(keys, set_value, tree.file, "A", PLAIN_A, None)
    assert error.detail == f'"{tree.file}" cannot be written: No space left on device'
    assert tree.file.read_bytes() == before
    assert sorted(os.listdir(tree.file.parent)) == ["prod.age.yaml"]
