"""Hybrid signatures: Ed25519 and ML-DSA-65 over the same message; valid only when both verify.

>>> from cohortsafe.package._keys import KeyPair
>>> pair = KeyPair.generate("school")
>>> signature = sign(pair, b"manifest")
>>> verify(pair.public, b"manifest", signature)
>>> verify(pair.public, b"manifest!", signature)
Traceback (most recent call last):
...
cohortsafe.errors.SignatureError: the signature does not verify with the given school key
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.exceptions import InvalidSignature

from cohortsafe.errors import SignatureError
from cohortsafe.package._keys import SIGNATURE_ALGORITHMS, KeyPair, PublicKey

# Domain separation: a cohortsafe signature can never be replayed as another protocol's,
# nor a package's as a release bundle's (each kind of message has its own context).
_CONTEXT = b"cohortsafe/package-signature/v1\0"


def sign(pair: KeyPair, message: bytes, *, context: bytes = _CONTEXT) -> dict[str, Any]:
    data = context + message
    return {
        "algorithms": list(SIGNATURE_ALGORITHMS),
        "key": pair.public.fingerprint,
        "ed25519": base64.b64encode(pair.ed25519.sign(data)).decode(),
        "ml-dsa-65": base64.b64encode(pair.mldsa.sign(data)).decode(),
    }


def verify(
    key: PublicKey,
    message: bytes,
    signature: dict[str, Any],
    *,
    context: bytes = _CONTEXT,
    what: str = "the package",
    whose: str = "school",
) -> None:
    """Raise :class:`SignatureError` unless both signatures verify with ``key``."""
    if tuple(signature.get("algorithms", ())) != SIGNATURE_ALGORITHMS:
        raise SignatureError(f"{what} is signed with algorithms this version does not know")
    signer = signature.get("key")
    if signer != key.fingerprint:
        raise SignatureError(
            f"{what} is signed by key {str(signer)[:16]}…, not by the given {whose} key "
            f"{key.fingerprint[:16]}…"
        )
    data = context + message
    try:
        key.ed25519.verify(base64.b64decode(signature["ed25519"]), data)
        key.mldsa.verify(base64.b64decode(signature["ml-dsa-65"]), data)
    except (InvalidSignature, KeyError, ValueError):
        raise SignatureError(f"the signature does not verify with the given {whose} key") from None
