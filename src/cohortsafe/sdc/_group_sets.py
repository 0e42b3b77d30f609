"""Sets of groups (unions of atoms) as rows of packed bits.

The combined check judges tens of thousands of candidate groups, most of them large
and harmless. Kept as bit rows they are deduplicated by sorting, and the questions that
settle most of them (how many atoms, whether every atom is small, an upper bound on a
school's share) are answered a block of rows at a time without a Python loop per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import scipy.sparse as sp

from cohortsafe.sdc._cellstats import BoolArray, FloatArray

__all__ = ["GroupSet", "pieces_of"]

# rows unpacked at a time: bounds the memory of a block to about this many bytes
_BLOCK_BYTES = 1 << 26
_REVERSED = np.packbits(np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)[:, ::-1])


class GroupSet:
    """Distinct groups of at least two atoms, each a row of ``n_atoms`` bits."""

    def __init__(self, packed: np.ndarray, n_atoms: int) -> None:
        self.n_atoms = n_atoms
        kept = packed[_sizes(packed) > 1] if packed.size else packed
        self.packed = _distinct(kept) if kept.shape[0] else kept.reshape(0, _width(n_atoms))

    @classmethod
    def of(cls, groups: Iterable[np.ndarray], n_atoms: int) -> GroupSet:
        """From groups given as arrays of atom numbers."""
        rows = list(groups)
        step = max(1, _BLOCK_BYTES // max(n_atoms, 1))
        packed = [np.zeros((0, _width(n_atoms)), np.uint8)]
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            bits = np.zeros((len(chunk), n_atoms), bool)
            for r, atoms in enumerate(chunk):
                bits[r, atoms] = True
            packed.append(np.packbits(bits, axis=1))
        return cls(np.vstack(packed), n_atoms)

    @classmethod
    def of_integers(cls, groups: Iterable[int], n_atoms: int) -> GroupSet:
        """From groups given as integers whose bit i stands for atom i."""
        width = _width(n_atoms)
        rows = [bits.to_bytes(width, "little") for bits in groups]
        if not rows:
            return cls(np.zeros((0, width), np.uint8), n_atoms)
        flat = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)
        # numpy packs the first atom into the highest bit of a byte: reverse each byte
        return cls(_REVERSED[flat], n_atoms)

    def __len__(self) -> int:
        return int(self.packed.shape[0])

    def __or__(self, other: GroupSet) -> GroupSet:
        return GroupSet(np.vstack([self.packed, other.packed]), self.n_atoms)

    def blocks(self) -> Iterator[tuple[int, BoolArray]]:
        """(first row, rows as booleans), a block at a time."""
        step = max(1, _BLOCK_BYTES // max(self.n_atoms, 1))
        for start in range(0, len(self), step):
            chunk = self.packed[start : start + step]
            yield start, np.unpackbits(chunk, axis=1, count=self.n_atoms).astype(bool)

    def within(self, allowed: BoolArray) -> BoolArray:
        """Which groups lie wholly within the atoms marked ``allowed``."""
        outside = np.packbits(~allowed)
        return np.asarray(~(self.packed & outside).any(axis=1))

    def sums(self, per_atom: FloatArray) -> FloatArray:
        """Per group, the sum over its atoms of each column of ``per_atom`` (in single
        precision: callers needing a bound allow for its rounding)."""
        weights = per_atom.astype(np.float32)
        out = np.zeros((len(self), per_atom.shape[1]))
        for start, bits in self.blocks():
            out[start : start + bits.shape[0]] = bits.astype(np.float32) @ weights
        return out

    def atoms(self, rows: Iterable[int]) -> list[np.ndarray]:
        """The chosen groups as arrays of atom numbers."""
        chosen = np.fromiter(rows, np.int64)
        if chosen.size == 0:
            return []
        bits = np.unpackbits(self.packed[chosen], axis=1, count=self.n_atoms)
        return [np.flatnonzero(row) for row in bits]


def pieces_of(
    new: sp.csr_array,
    earlier: sp.csr_array,
    weights: FloatArray,
    worth: Callable[[FloatArray], BoolArray],
) -> GroupSet:
    """For every new cell and every earlier cell sharing atoms: their intersection and
    both differences (pieces of one atom are judged as atoms), of those that
    ``worth`` keeps.

    ``worth`` sees each piece's sums of the columns of ``weights`` (one row per atom),
    found from the cells' sums and their intersections' without building the pieces:
    only those it keeps are built."""
    n_atoms = new.shape[1]
    empty = GroupSet(np.zeros((0, _width(n_atoms)), np.uint8), n_atoms)
    if new.shape[0] == 0 or earlier.shape[0] == 0:
        return empty
    new_on = sp.csr_array(new > 0, dtype=np.float64)
    old_on = sp.csr_array(earlier > 0, dtype=np.float64)
    shared = new_on @ old_on.T
    first, second = sp.coo_array(shared).coords
    if first.size == 0:
        return empty
    # per pair, the sums over the intersection of every column of weights
    common = np.column_stack(
        [
            _pair_sums(sp.csr_array(new_on.multiply(column[None, :])), old_on, first, second)
            for column in weights.T
        ]
    )
    new_sums, old_sums = new_on @ weights, old_on @ weights
    kinds = (common, new_sums[first] - common, old_sums[second] - common)
    keep = [np.flatnonzero(worth(sums)) for sums in kinds]
    if not any(k.size for k in keep):
        return empty
    new_bits = np.packbits(_as_bits(new), axis=1)
    old_bits = np.packbits(_as_bits(earlier), axis=1)
    found = []
    for kind, chosen in enumerate(keep):
        step = max(1, 8 * _BLOCK_BYTES // max(n_atoms, 1))
        for start in range(0, chosen.size, step):
            pairs = chosen[start : start + step]
            a, b = new_bits[first[pairs]], old_bits[second[pairs]]
            packed = (a & b, a & ~b, b & ~a)[kind]
            found.append(_distinct(packed))
    return GroupSet(np.vstack(found), n_atoms)


def _pair_sums(
    left: sp.csr_array, right: sp.csr_array, rows: np.ndarray, columns: np.ndarray
) -> FloatArray:
    """``(left @ right.T)[rows, columns]`` without densifying the product."""
    product = sp.csr_array(left @ right.T)
    return np.asarray(product[rows, columns]).ravel()


def _as_bits(cells: sp.csr_array) -> BoolArray:
    return np.asarray(cells.toarray() > 0)


def _width(n_atoms: int) -> int:
    return (n_atoms + 7) // 8


def _sizes(packed: np.ndarray) -> np.ndarray:
    return np.asarray(np.bitwise_count(packed).sum(axis=1, dtype=np.int64))


def _distinct(packed: np.ndarray) -> np.ndarray:
    """The distinct rows: sorted by a hash, a row equal to the one before it is dropped
    (rows equal in hash only are both kept, so no group is ever lost)."""
    if packed.shape[0] < 2:
        return packed
    width = -(-packed.shape[1] // 8) * 8
    words = np.zeros((packed.shape[0], width), np.uint8)
    words[:, : packed.shape[1]] = packed
    lanes = words.view(np.uint64)
    weights = np.random.default_rng(0).integers(1, 2**63, lanes.shape[1], dtype=np.uint64) | 1
    with np.errstate(over="ignore"):
        hashed = (lanes * weights).sum(axis=1, dtype=np.uint64) ^ (lanes[:, 0] >> np.uint64(7))
    order = np.argsort(hashed, kind="stable")
    ordered = packed[order]
    same = (hashed[order][1:] == hashed[order][:-1]) & (ordered[1:] == ordered[:-1]).all(axis=1)
    return np.asarray(ordered[np.concatenate([[True], ~same])])
