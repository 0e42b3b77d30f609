"""Keyed pseudonyms: HMAC-SHA256 under secret keys only the office holds.

A pupil's pseudonym is ``HMAC-SHA256(pupil key, canonical PGN)``; a school's is
the HMAC under a separate school key of ``BRIN + vestiging``. Both are written
as 64 hex digits. The HMAC key is the secret's 64-character hex form, used as
bytes, which keeps 256 bits of entropy and lets the vectorised implementation
(polars-hash, about two million a second per core) and Python's ``hmac``
agree byte for byte.

Why guessing fails: there are only about 10^8 valid BSNs, so an *unkeyed*
hash of every BSN could be tabulated in minutes. A keyed HMAC cannot: without
the 256-bit key, each guess must also guess the key, and 2^256 keys cannot be
searched. So the pseudonyms are only as safe as the key files (mode 0600,
outside the vault, never logged).

Rotation: a new key ``k2`` re-keys every existing pseudonym as
``HMAC(k2, old pseudonym)``, without the PGNs (which the office dropped). New
deliveries then go through the whole chain, ``HMAC(k2, HMAC(k1, pgn))``, so
a pupil keeps one pseudonym across the rotation.

>>> chain = KeyChain((PseudonymKey("p1", "pupil", "00" * 32),))
>>> import hmac, hashlib
>>> pseudonym = chain.pseudonyms(["111222333"])[0].as_py()
>>> pseudonym == hmac.new(b"0" * 64, b"111222333", hashlib.sha256).hexdigest()
True
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import polars_hash as plh
import pyarrow as pa

from cohortsafe.errors import ConfigurationError, ExistsError
from cohortsafe.files import write_private

__all__ = [
    "PROJECT",
    "PURPOSES",
    "KeyChain",
    "OfficePseudonyms",
    "PseudonymKey",
    "hmac_hex",
    "load_key",
    "new_key",
    "write_key",
]

#: What each key is for; each purpose has its own keys, so pseudonyms never collide.
PURPOSES = ("pupil", "school", "link")
#: A research project's key: it re-keys the vault's pseudonyms for that project alone.
PROJECT = "project"


@dataclass(frozen=True)
class PseudonymKey:
    """One secret key (256 bits, kept as 64 hex digits) with its id and purpose."""

    key_id: str
    purpose: str
    secret_hex: str

    def __repr__(self) -> str:  # never show the secret
        return f"PseudonymKey(key_id={self.key_id!r}, purpose={self.purpose!r})"

    @property
    def fingerprint(self) -> str:
        """A one-way fingerprint that tells this key from any other with the same id.

        HMAC of a fixed label under the key: it shows nothing of the secret, and a
        key file swapped for another valid key no longer matches what was recorded.
        """
        label = f"cohortsafe pseudonym key {self.purpose} {self.key_id}".encode()
        return hmac.new(bytes.fromhex(self.secret_hex), label, hashlib.sha256).hexdigest()


def new_key(purpose: str, key_id: str | None = None) -> PseudonymKey:
    if purpose not in (*PURPOSES, PROJECT):
        raise ConfigurationError(
            f"a pseudonym key is for one of: {', '.join((*PURPOSES, PROJECT))}"
        )
    key_id = key_id or f"{purpose[0]}-{secrets.token_hex(4)}"
    return PseudonymKey(key_id, purpose, secrets.token_hex(32))


def write_key(key: PseudonymKey, folder: Path) -> Path:
    """Write the key to ``folder/<purpose>-<key id>.key``, mode 0600, never overwriting."""
    path = folder / f"{key.purpose}-{key.key_id}.key"
    document = {
        "cohortsafe_pseudonym_key": 1,
        "algorithm": "HMAC-SHA256",
        "key_id": key.key_id,
        "purpose": key.purpose,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "secret_hex": key.secret_hex,
    }
    try:
        write_private(path, json.dumps(document, indent=1).encode())
    except FileExistsError:
        raise ExistsError(f"{path} exists already; a key is never overwritten") from None
    return path


def load_key(path: Path) -> PseudonymKey:
    try:
        mode = path.stat().st_mode & 0o777
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read pseudonym key {path.name}: {error}") from None
    if mode & 0o077:
        raise ConfigurationError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    if document.get("algorithm") != "HMAC-SHA256" or len(document.get("secret_hex", "")) != 64:
        raise ConfigurationError(f"{path.name} is not a cohortsafe pseudonym key")
    return PseudonymKey(
        str(document["key_id"]), str(document["purpose"]), str(document["secret_hex"])
    )


def hmac_hex(key: PseudonymKey, values: pa.Array | Sequence[str], *, threads: int = 1) -> pa.Array:
    """HMAC-SHA256 of each value under ``key``, as hex; vectorised, identical to ``hmac``.

    With ``threads`` above one, a long array is hashed in that many slices at once."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if threads > 1 and len(values) >= _PARALLEL_FROM:
            step = -(-len(values) // threads)
            slices = [values.slice(start, step) for start in range(0, len(values), step)]
            with ThreadPoolExecutor(threads) as pool:  # the hashing releases the GIL
                parts = list(pool.map(lambda s: hmac_hex(key, s), slices))
            if len(values) >= _STRING_LIMIT:
                parts = [part.cast(pa.large_string()) for part in parts]
            return pa.concat_arrays(parts)
        text = values if pa.types.is_large_string(values.type) else values.cast(pa.large_string())
        series = pl.Series("v", text)
    else:
        series = pl.Series("v", list(values), dtype=pl.Utf8)
    frame = pl.DataFrame({"v": series})
    hashed = frame.select(plh.col("v").chash.hmac_sha256(key=key.secret_hex))
    digests = hashed.to_series().to_arrow()
    # 64 hex digits each: past about 33 M of them they no longer fit a string array
    return digests.cast(pa.string()) if len(digests) < _STRING_LIMIT else digests


_PARALLEL_FROM = 200_000  # below this, starting threads costs more than it saves
_STRING_LIMIT = (2**31 - 1) // 64


@dataclass(frozen=True)
class KeyChain:
    """The keys of one purpose in the order they were introduced; the last is current."""

    keys: tuple[PseudonymKey, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        if not self.keys:
            raise ConfigurationError("a key chain needs at least one key")
        if len({k.purpose for k in self.keys}) != 1:
            raise ConfigurationError("a key chain holds keys of one purpose")

    @property
    def current(self) -> PseudonymKey:
        return self.keys[-1]

    def pseudonyms(self, values: pa.Array | Sequence[str]) -> pa.Array:
        """Values through every key of the chain, oldest first."""
        result: pa.Array | Sequence[str] = values
        for key in self.keys:
            result = hmac_hex(key, result)
        assert isinstance(result, pa.Array)
        return result


@dataclass(frozen=True)
class OfficePseudonyms:
    """The office's three key chains: pupils, schools, and link hashes for the fallback."""

    pupil_chain: KeyChain
    school_chain: KeyChain
    link_chain: KeyChain

    @property
    def pupil_key(self) -> str:
        return self.pupil_chain.current.key_id

    @property
    def school_key(self) -> str:
        return self.school_chain.current.key_id

    def pupils(self, pgns: pa.Array) -> pa.Array:
        return self.pupil_chain.pseudonyms(pgns)

    def school(self, code: str) -> str:
        return _school_pseudonym(self.school_chain, code)

    def links(self, keys: pa.Array) -> pa.Array:
        return self.link_chain.pseudonyms(keys)


@functools.lru_cache(maxsize=65536)
def _school_pseudonym(chain: KeyChain, code: str) -> str:
    """Schools deliver year after year: remember their pseudonyms rather than recompute."""
    return str(chain.pseudonyms([code])[0].as_py())
