"""Per-scope, per-app sealed-box key pairs, as GitHub hands them out."""

from __future__ import annotations

import base64
import binascii
import random

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from reconciler.sandbox.rules.errors import invalid

_ids = random.SystemRandom()


def new_key_id() -> str:
    # GitHub's key ids are 18-digit decimal strings ("012345678912345678" in the docs).
    return f"{_ids.randrange(10**17, 10**18)}"


class KeyPair:
    """The current key of one scope and app; `rotate` forgets the old one."""

    def __init__(self) -> None:
        self.key_id = new_key_id()
        self._private = PrivateKey.generate()

    def rotate(self) -> None:
        self.key_id = new_key_id()
        self._private = PrivateKey.generate()

    @property
    def public_b64(self) -> str:
        return base64.b64encode(bytes(self._private.public_key)).decode()

    def open(self, key_id: str, encrypted_value: str, doc: str) -> bytes:
        """Decrypt a value sealed for this key, or raise the 422 GitHub would send."""
        if key_id != self.key_id:
            raise invalid(f"key_id {key_id!r} does not match the current public key.", doc)
        try:
            sealed = base64.b64decode(encrypted_value, validate=True)
        except (binascii.Error, ValueError) as e:
            raise invalid("encrypted_value is not valid base64.", doc) from e
        try:
            plaintext: bytes = SealedBox(self._private).decrypt(sealed)
        except CryptoError as e:
            raise invalid(f"encrypted_value could not be decrypted with key {key_id}.", doc) from e
        return plaintext
