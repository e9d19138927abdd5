"""GitHub App JSON Web Tokens: RS256 signature and the claims rules GitHub enforces.

Per GitHub's "Generating a JSON Web Token (JWT) for a GitHub App": RS256, `iss` is the
app's ID (or client ID), `iat` must not be in the future (we allow `IAT_LEEWAY` seconds of
clock drift), and `exp` must be in the future but no more than 10 minutes ahead. The
refusal texts are the ones GitHub sends (see the module constants).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from reconciler.sandbox.rules.errors import ApiError

IAT_LEEWAY = 60
MAX_LIFETIME = 600

UNDECODABLE = "A JSON web token could not be decoded"
IAT_INVALID = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
EXP_INVALID = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
INTEGRATION_NOT_FOUND = "Integration not found"


@dataclass(frozen=True, slots=True)
class Unverified:
    """A JWT split and decoded, signature not yet checked."""

    issuer: str
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def undecodable() -> ApiError:
    return ApiError(401, UNDECODABLE)


def parse(token: str) -> Unverified:
    """The issuer and claims, or GitHub's 401 for anything that is not an RS256 JWT."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_b64url(head_b64))
        claims = json.loads(_b64url(body_b64))
        signature = _b64url(sig_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise undecodable() from e
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise undecodable()
    if not isinstance(claims, dict):
        raise undecodable()
    issuer = claims.get("iss")
    if isinstance(issuer, bool) or not isinstance(issuer, int | str):
        raise undecodable()
    return Unverified(str(issuer), claims, f"{head_b64}.{body_b64}".encode(), signature)


def verify(jwt: Unverified, key: rsa.RSAPublicKey, now: int) -> None:
    """Raise GitHub's 401 unless the signature and the time claims are acceptable."""
    try:
        key.verify(jwt.signature, jwt.signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as e:
        raise undecodable() from e
    iat, exp = jwt.claims.get("iat"), jwt.claims.get("exp")
    if not _number(iat) or iat > now + IAT_LEEWAY:
        raise ApiError(401, IAT_INVALID)
    if not _number(exp) or exp <= now:
        raise ApiError(401, EXP_INVALID)
    # Measured against the server's clock: a client whose clock runs ahead gets this even
    # when its own exp - iat is within ten minutes (octokit/auth-app.js#698).
    if exp > now + MAX_LIFETIME:
        raise ApiError(401, EXP_TOO_FAR)


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
