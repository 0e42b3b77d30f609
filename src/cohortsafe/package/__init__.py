"""Delivery packages: hybrid post-quantum keys, signed manifests, encrypted envelopes.

What leaves a school travels as one file per school and period: tables limited
to the allow-list (:mod:`cohortsafe.domain.schemas`), a manifest with the
SHA-256 of each, signed with Ed25519 and ML-DSA-65, all encrypted to the
office's ML-KEM-768 + X25519 key. Retractions and reinstatements travel the same way.
"""

from cohortsafe.package._keys import (
    ENCRYPTION_SUITE,
    ROLES,
    SIGNATURE_ALGORITHMS,
    KeyPair,
    PublicKey,
    load_private,
    load_public,
    require_role,
    write_key_pair,
)
from cohortsafe.package._package import (
    MANIFEST_FORMAT,
    DeliveryContents,
    OpenedPackage,
    SchoolKeyLookup,
    open_package,
    write_delivery,
    write_reinstatement,
    write_retraction,
)
from cohortsafe.package._signing import sign as sign_message
from cohortsafe.package._signing import verify as verify_message
from cohortsafe.package._tables import allowed_table, check_delivered_table

__all__ = [
    "ENCRYPTION_SUITE",
    "MANIFEST_FORMAT",
    "ROLES",
    "SIGNATURE_ALGORITHMS",
    "DeliveryContents",
    "KeyPair",
    "OpenedPackage",
    "PublicKey",
    "SchoolKeyLookup",
    "allowed_table",
    "check_delivered_table",
    "load_private",
    "load_public",
    "open_package",
    "require_role",
    "sign_message",
    "verify_message",
    "write_delivery",
    "write_key_pair",
    "write_reinstatement",
    "write_retraction",
]
