"""Seal a value for GitHub: a libsodium sealed box against the scope's public key. Pure."""

from __future__ import annotations

import base64
import binascii

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox

from reconciler.errors import ReconcilerError
from reconciler.values.sources import SecretValue


def seal(public_key_b64: str, value: SecretValue) -> str:
    """base64 ciphertext of `value`, readable only by the holder of the private key."""
    try:
        key = PublicKey(base64.b64decode(public_key_b64, validate=True))
        sealed = SealedBox(key).encrypt(value.reveal())
    except (binascii.Error, ValueError, CryptoError, TypeError) as e:
        raise ReconcilerError(
            f"GitHub returned a public key that is not a valid Curve25519 key ({type(e).__name__})",
            hint="re-run; if it persists, report it with the request id",
        ) from None
    return base64.b64encode(sealed).decode("ascii")
