"""Hybrid post-quantum key pairs and their files.

Cohort data must stay confidential for decades, so every key pairs a
classical algorithm with a post-quantum one and an attacker must break both:

- encryption: HPKE (RFC 9180) with the KEM ML-KEM-768 + X25519, HKDF-SHA256, AES-256-GCM;
- signatures: Ed25519 *and* ML-DSA-65; a signature is valid only when both verify.

A key file is JSON naming its algorithms, so they can be upgraded later
without guessing what an old file holds. ``NAME.key`` (private, mode 0600)
holds the seeds; ``NAME.pub`` the public halves. The fingerprint is SHA-256
over the public halves and identifies a key in manifests and registries.

Each file names its **role**, ``school`` (signs deliveries) or ``office``
(receives them), so a school key given where the office's key belongs is
refused by name. Files from earlier versions have no role and load with role
``None``; callers then compare fingerprints instead (see :func:`require_role`).

>>> pair = KeyPair.generate("school")
>>> pub = PublicKey.from_json(pair.public.to_json())
>>> pub.fingerprint == pair.public.fingerprint
True
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519

from cohortsafe.errors import ConfigurationError, ExistsError
from cohortsafe.files import write_atomic, write_private

__all__ = [
    "ENCRYPTION_SUITE",
    "KEY_FORMAT",
    "ROLES",
    "SIGNATURE_ALGORITHMS",
    "KeyPair",
    "PublicKey",
    "load_private",
    "load_public",
    "require_role",
    "write_key_pair",
]

KEY_FORMAT = 1
ENCRYPTION_SUITE = "HPKE/ML-KEM-768+X25519/HKDF-SHA256/AES-256-GCM"
SIGNATURE_ALGORITHMS = ("Ed25519", "ML-DSA-65")
#: Who holds a key: a school signs deliveries, the office receives them.
ROLES = ("school", "office")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ConfigurationError("key file field is not base64 text")
    return base64.b64decode(text, validate=True)


@dataclass(frozen=True)
class PublicKey:
    """The public halves: what schools encrypt to and what verifies a signature."""

    name: str
    mlkem: mlkem.MLKEM768PublicKey
    x25519: x25519.X25519PublicKey
    ed25519: ed25519.Ed25519PublicKey
    mldsa: mldsa.MLDSA65PublicKey
    role: str | None = None  # None: a file from before roles

    def _raw(self) -> dict[str, bytes]:
        return {
            "ml-kem-768": self.mlkem.public_bytes_raw(),
            "x25519": self.x25519.public_bytes_raw(),
            "ed25519": self.ed25519.public_bytes_raw(),
            "ml-dsa-65": self.mldsa.public_bytes_raw(),
        }

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for label, raw in sorted(self._raw().items()):
            digest.update(label.encode() + b"\0" + raw)
        return digest.hexdigest()

    def hpke_key(self) -> hpke.MLKEM768X25519PublicKey:
        return hpke.MLKEM768X25519PublicKey(self.mlkem, self.x25519)

    def to_json(self) -> str:
        raw = self._raw()
        document = {
            "cohortsafe_key": KEY_FORMAT,
            "kind": "public",
            "name": self.name,
            "role": self.role,
            "fingerprint": self.fingerprint,
            "encryption": {
                "suite": ENCRYPTION_SUITE,
                "ml-kem-768": _b64(raw["ml-kem-768"]),
                "x25519": _b64(raw["x25519"]),
            },
            "signature": {
                "algorithms": list(SIGNATURE_ALGORITHMS),
                "ed25519": _b64(raw["ed25519"]),
                "ml-dsa-65": _b64(raw["ml-dsa-65"]),
            },
        }
        return json.dumps(document, indent=1)

    @classmethod
    def from_json(cls, text: str) -> PublicKey:
        document = _parse(text, "public")
        enc, sig = _algorithms(document)
        try:
            key = cls(
                name=str(document.get("name", "")),
                mlkem=mlkem.MLKEM768PublicKey.from_public_bytes(_unb64(enc["ml-kem-768"])),
                x25519=x25519.X25519PublicKey.from_public_bytes(_unb64(enc["x25519"])),
                ed25519=ed25519.Ed25519PublicKey.from_public_bytes(_unb64(sig["ed25519"])),
                mldsa=mldsa.MLDSA65PublicKey.from_public_bytes(_unb64(sig["ml-dsa-65"])),
                role=_role(document),
            )
        except (KeyError, ValueError) as error:
            raise ConfigurationError(f"public key file is damaged: {error}") from None
        if document.get("fingerprint") not in (None, key.fingerprint):
            raise ConfigurationError("public key file is damaged: fingerprint does not match")
        return key


@dataclass(frozen=True)
class KeyPair:
    """A private key (both algorithms of each kind) with its public halves."""

    name: str
    mlkem: mlkem.MLKEM768PrivateKey
    x25519: x25519.X25519PrivateKey
    ed25519: ed25519.Ed25519PrivateKey
    mldsa: mldsa.MLDSA65PrivateKey
    role: str | None = None  # None: a file from before roles

    @classmethod
    def generate(cls, name: str, role: str | None = None) -> KeyPair:
        if role is not None and role not in ROLES:
            raise ConfigurationError(f"a key's role is one of: {', '.join(ROLES)}")
        return cls(
            name,
            mlkem.MLKEM768PrivateKey.generate(),
            x25519.X25519PrivateKey.generate(),
            ed25519.Ed25519PrivateKey.generate(),
            mldsa.MLDSA65PrivateKey.generate(),
            role,
        )

    @property
    def public(self) -> PublicKey:
        return PublicKey(
            self.name,
            self.mlkem.public_key(),
            self.x25519.public_key(),
            self.ed25519.public_key(),
            self.mldsa.public_key(),
            self.role,
        )

    def hpke_key(self) -> hpke.MLKEM768X25519PrivateKey:
        return hpke.MLKEM768X25519PrivateKey(self.mlkem, self.x25519)

    def to_json(self) -> str:
        document = {
            "cohortsafe_key": KEY_FORMAT,
            "kind": "private",
            "name": self.name,
            "role": self.role,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "fingerprint": self.public.fingerprint,
            "encryption": {
                "suite": ENCRYPTION_SUITE,
                "ml-kem-768-seed": _b64(self.mlkem.private_bytes_raw()),
                "x25519": _b64(self.x25519.private_bytes_raw()),
            },
            "signature": {
                "algorithms": list(SIGNATURE_ALGORITHMS),
                "ed25519": _b64(self.ed25519.private_bytes_raw()),
                "ml-dsa-65-seed": _b64(self.mldsa.private_bytes_raw()),
            },
        }
        return json.dumps(document, indent=1)

    @classmethod
    def from_json(cls, text: str) -> KeyPair:
        document = _parse(text, "private")
        enc, sig = _algorithms(document)
        try:
            return cls(
                name=str(document.get("name", "")),
                mlkem=mlkem.MLKEM768PrivateKey.from_seed_bytes(_unb64(enc["ml-kem-768-seed"])),
                x25519=x25519.X25519PrivateKey.from_private_bytes(_unb64(enc["x25519"])),
                ed25519=ed25519.Ed25519PrivateKey.from_private_bytes(_unb64(sig["ed25519"])),
                mldsa=mldsa.MLDSA65PrivateKey.from_seed_bytes(_unb64(sig["ml-dsa-65-seed"])),
                role=_role(document),
            )
        except (KeyError, ValueError) as error:
            raise ConfigurationError(f"private key file is damaged: {error}") from None


def _parse_any(text: str, kind: str = "") -> dict[str, Any]:
    what = f"{kind} key file" if kind else "key file"
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigurationError(f"not a cohortsafe {what}") from None
    if not isinstance(document, dict) or document.get("cohortsafe_key") != KEY_FORMAT:
        raise ConfigurationError(f"not a cohortsafe {what} (or an unknown format)")
    return document


def _parse(text: str, kind: str) -> dict[str, Any]:
    document = _parse_any(text, kind)
    if document.get("kind") != kind:
        raise ConfigurationError(f"expected a {kind} key file, got a {document.get('kind')} one")
    return document


def _role(document: dict[str, Any]) -> str | None:
    role = document.get("role")
    if role is not None and role not in ROLES:
        raise ConfigurationError(f"key file names an unknown role; a role is one of {ROLES}")
    return role if role is None else str(role)


def require_role(
    key: PublicKey,
    role: str,
    *,
    given_as: str,
    fix: str | None = None,
    not_fingerprints: tuple[str, ...] = (),
) -> None:
    """Refuse ``key`` where a key of ``role`` belongs (``given_as`` names the option).

    A key of another role is refused by name; so is a key whose fingerprint is
    in ``not_fingerprints`` (one's own key, say), which catches a role-less copy
    from an earlier version too. A role-less key that passes both is accepted,
    so keys made before roles keep working.
    """
    other = next(r for r in ROLES if r != role)
    fix = fix or (
        "use the office's office.pub" if role == "office" else "use the school's school.pub"
    )
    if key.fingerprint in not_fingerprints:
        raise ConfigurationError(
            f"{given_as} is the {other}'s own key (fingerprint {key.fingerprint[:16]}…); {fix}"
        )
    if key.role is not None and key.role != role:
        article = "an" if key.role[0] in "aeiou" else "a"
        raise ConfigurationError(f"{given_as} is {article} {key.role} key, not the {role}'s; {fix}")


def _algorithms(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    enc, sig = document.get("encryption"), document.get("signature")
    if not isinstance(enc, dict) or enc.get("suite") != ENCRYPTION_SUITE:
        raise ConfigurationError("key file uses an encryption suite this version does not know")
    if not isinstance(sig, dict) or tuple(sig.get("algorithms", ())) != SIGNATURE_ALGORITHMS:
        raise ConfigurationError("key file uses signature algorithms this version does not know")
    return enc, sig


def write_key_pair(pair: KeyPair, folder: Path) -> tuple[Path, Path]:
    """Write ``NAME.key`` (mode 0600, never overwritten) and ``NAME.pub``."""
    private_path = folder / f"{pair.name}.key"
    public_path = folder / f"{pair.name}.pub"
    if private_path.exists():
        raise ExistsError(f"{private_path} exists already; a key is never overwritten")
    write_private(private_path, pair.to_json().encode())
    # the public half is meant to be handed out
    write_atomic(public_path, pair.public.to_json().encode(), mode=0o644)
    return private_path, public_path


def load_private(path: Path) -> KeyPair:
    """Read a private key file; it must not be readable by others."""
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text()
    except OSError as error:
        raise ConfigurationError(f"cannot read key file {path}: {error.strerror}") from None
    document = _parse_any(text)
    if document.get("kind") == "public":
        raise ConfigurationError(
            f"{path}: expected a private key file, got a public one; give NAME.key, not NAME.pub"
        )
    if mode & 0o077:
        raise ConfigurationError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    return KeyPair.from_json(text)


def load_public(path: Path) -> PublicKey:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigurationError(f"cannot read key file {path}: {error.strerror}") from None
    return PublicKey.from_json(text)
