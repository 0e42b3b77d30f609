"""Record ids of a project's extract: keyed, stable, one per row, cheap at national size.

A record id says which row of the vault a row of the extract is, so the release ledger
recognises a record it has seen when the extract is built again (after a retraction or
a new delivery). It must be:

- keyed per project: two projects' ids never match, and an id tells nothing of the
  columns the project was not given (an unkeyed digest of the whole row would let a
  researcher try every value of an unapproved column until the digest matched);
- a function of what the school said of the pupil, not of the delivery that said it:
  a delivery sent again keeps its records' ids;
- unique within the extract.

Each row's content (every vault column but the delivery and key ids) becomes fixed
64-bit lanes: a string through xxh3-64, an integer or a float as its bits, plus a lane
of which columns are empty and one naming the table. The lanes, two to a block, go
through AES-256 in CBC-MAC, a keyed function (a pseudorandom function for messages
of one length, which every row of a table has). The first 4 bits of an id are the
pupil's *bucket*, itself a keyed function of the pupil, so all of a pupil's rows share
one; the next 60 bits are the MAC's. Rows with the same content (a result recorded
twice), and the rare two ids that coincide, are told apart by their number of
occurrence, again through the cipher. Writing one bucket after another in id order
orders the whole file by id, which says nothing of the order rows were delivered in.

A string lane is not injective (two strings may share their xxh3), and neither are
60 bits; both only ever make two rows look the same, and such rows are told apart
like a result recorded twice, so ids stay unique.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cohortsafe.errors import ConfigurationError
from cohortsafe.keyed import derived_key, encrypt_blocks, number_lanes, string_lanes
from cohortsafe.pseudonym import PseudonymKey

__all__ = ["BUCKETS", "RecordCipher"]

BUCKETS = 16  # a power of two: the first bits of an id name the bucket
_BUCKET_BITS = BUCKETS.bit_length() - 1
_MAC_BITS = 64 - _BUCKET_BITS
_U64 = np.uint64


@dataclass(frozen=True)
class RecordCipher:
    """The project's keyed functions behind record ids and pupil buckets."""

    record_key: bytes
    bucket_key: bytes

    @classmethod
    def of(cls, key: PseudonymKey) -> RecordCipher:
        secret = bytes.fromhex(key.secret_hex)
        return cls(derived_key(secret, "record cipher"), derived_key(secret, "pupil bucket cipher"))

    def __repr__(self) -> str:  # never show a key
        return "RecordCipher()"

    def macs_and_buckets(
        self, rows: pa.Table, table: str, columns: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's keyed MAC of ``columns`` (a row of two 64-bit halves), and its
        bucket (0 to BUCKETS - 1), a keyed function of its pupil alone."""
        count = rows.num_rows
        if len(columns) > 63:
            raise ConfigurationError("a vault table of more than 63 columns has no record ids")
        lanes = _lanes(rows, [*columns, "pupil"])
        pupil = lanes["pupil"]
        mixed = encrypt_blocks(self.bucket_key, np.stack([pupil, np.zeros_like(pupil)], axis=1))
        buckets = (mixed[:, 0] >> _U64(_MAC_BITS)).astype(np.uint8)
        empty = np.zeros(count, _U64)
        for number, name in enumerate(columns):
            values = rows.column(name)
            if values.null_count:
                missing = values.is_null().to_numpy(zero_copy_only=False)
                empty |= missing.astype(_U64) << _U64(number)
        message = [np.full(count, _table_lane(table), _U64), *(lanes[c] for c in columns), empty]
        if len(message) % 2:
            message.append(np.zeros(count, _U64))
        state = np.zeros((count, 2), _U64)
        for first in range(0, len(message), 2):
            state ^= np.stack(message[first : first + 2], axis=1)
            state = encrypt_blocks(self.record_key, state)
        return state, buckets

    def ids(self, buckets: np.ndarray, macs: np.ndarray) -> np.ndarray:
        """Record ids from buckets and MACs: the bucket in front, 60 bits of MAC after."""
        return (buckets.astype(_U64) << _U64(_MAC_BITS)) | (macs[:, 0] >> _U64(_BUCKET_BITS))

    def told_apart(self, ids: np.ndarray, macs: np.ndarray) -> np.ndarray:
        """``ids`` (sorted, with their ``macs``) made unique and sorted: the second and
        later of a run of equal ids get an id from their MAC and number of occurrence.

        Where nothing repeats, the ids come back as they are: the caller keeps its order.
        """
        ids, macs = ids.copy(), macs.copy()
        for attempt in range(1, 9):
            repeated = np.concatenate([[False], ids[1:] == ids[:-1]])
            if not repeated.any():
                return ids
            # within a run, which row counts as the first must not depend on the order
            # rows came in: by MAC (rows with the same MAC are the same content)
            order = np.lexsort((macs[:, 0], macs[:, 1], ids))
            ids, macs = ids[order], macs[order]
            starts = np.flatnonzero(~repeated)
            positions = np.arange(len(ids))
            occurrence = positions - starts[np.searchsorted(starts, positions, side="right") - 1]
            where = np.flatnonzero(repeated)
            tweak = macs[where].copy()
            # a different tweak for every occurrence and attempt
            tweak[:, 1] ^= occurrence[where].astype(_U64) | _U64(attempt << 32)
            fresh = encrypt_blocks(self.record_key, tweak)
            bucket = ids[where] >> _U64(_MAC_BITS)
            ids[where] = (bucket << _U64(_MAC_BITS)) | (fresh[:, 0] >> _U64(_BUCKET_BITS))
            order = np.argsort(ids, kind="stable")
            ids, macs = ids[order], macs[order]
        raise ConfigurationError("record ids could not be told apart")  # never in practice


def _table_lane(table: str) -> int:
    digest = hashlib.sha256(f"cohortsafe record\x1f{table}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _lanes(rows: pa.Table, columns: list[str]) -> dict[str, np.ndarray]:
    """Columns as 64-bit lanes: a string's xxh3 (all strings hashed at once), a
    number's bits; empty is 0 (the lane of empty columns tells it from a value)."""
    lanes: dict[str, np.ndarray] = {}
    strings = []
    for name in dict.fromkeys(columns):
        values = rows.column(name).combine_chunks()
        kind = values.type
        if pa.types.is_integer(kind):
            filled = values.fill_null(0) if values.null_count else values
            lanes[name] = np.asarray(filled.to_numpy(zero_copy_only=False), np.int64).view(_U64)
        elif pa.types.is_floating(kind):
            filled = values.fill_null(0.0) if values.null_count else values
            lanes[name] = number_lanes(filled.to_numpy(zero_copy_only=False))
        else:
            strings.append(name)
    lanes.update(string_lanes(rows, strings))
    return lanes
