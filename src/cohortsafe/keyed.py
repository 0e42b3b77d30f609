"""Keyed 64-bit fingerprints of many values at once, through AES-256.

Both the release ledger (fingerprints of pupils, schools and records) and a project's
extract (record ids) need a keyed function of millions of values that stays the same
across versions of the libraries around it. HMAC-SHA256 in SQL costs about a second
per million values; here a value becomes a 128-bit block (a string: two xxh3-64
digests with different seeds, which are stable by specification; a number: its bits)
and the block goes through AES-256 under a key derived from the caller's secret. AES
is a pseudorandom permutation, so without the key a fingerprint tells nothing of the
value, and two distinct blocks never share an output block. Only its first 64 bits
are kept, so distinct values share a fingerprint with a chance of 2^-64 a pair.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import polars as pl
import polars_hash as plh
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["derived_key", "encrypt_blocks", "number_lanes", "string_blocks", "string_lanes"]

_U64 = np.uint64


def derived_key(secret: bytes, label: str) -> bytes:
    """An AES-256 key of its own for each use of one secret."""
    return hmac.new(secret, f"cohortsafe {label}".encode(), hashlib.sha256).digest()


def encrypt_blocks(key: bytes, blocks: np.ndarray) -> np.ndarray:
    """Each row of ``blocks`` (two 64-bit halves) through AES-256, one block each."""
    # ECB is the block cipher applied to each block on its own, which is what is meant
    # here: every block is a separate input, not part of a message to keep secret
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    data = np.ascontiguousarray(blocks, dtype=_U64).tobytes()
    out = encryptor.update(data) + encryptor.finalize()
    return np.frombuffer(out, _U64).reshape(-1, 2).copy()


def string_lanes(table: pa.Table, names: list[str], seed: int = 0) -> dict[str, np.ndarray]:
    """Each named column of ``table`` as its values' xxh3-64 (as text; empty: 0), all
    hashed in one pass."""
    if not names:
        return {}
    frame = pl.from_arrow(table.select(names))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.col(names).cast(pl.Utf8))
    hashed = frame.select(plh.col(n).nchash.xxh3_64(seed=seed).fill_null(0) for n in names)
    return {n: hashed.get_column(n).to_numpy().astype(_U64, copy=False) for n in names}


def string_blocks(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each value (as text) as a 128-bit block, and which values are empty."""
    frame = pl.from_arrow(pa.table({"v": values}))
    assert isinstance(frame, pl.DataFrame)
    text = frame.select(pl.col("v").cast(pl.Utf8))
    hashed = text.select(
        plh.col("v").nchash.xxh3_64(seed=seed).fill_null(0).alias(f"h{seed}") for seed in (1, 2)
    )
    blocks = np.empty((frame.height, 2), _U64)
    blocks[:, 0] = hashed.get_column("h1").to_numpy()
    blocks[:, 1] = hashed.get_column("h2").to_numpy()
    return blocks, text.get_column("v").is_null().to_numpy()


def number_lanes(numbers: np.ndarray) -> np.ndarray:
    """Floats as their 64 bits (-0.0 as 0.0: one number, one lane)."""
    values = np.asarray(numbers, np.float64)
    return np.where(values == 0.0, 0.0, values).view(_U64)
