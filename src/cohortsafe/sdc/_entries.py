"""What an output adds to the ledger: its released cells and the members of its parts.

A checked table's *parts* are its inner cells (the full grouping set): every record of
the table lies in exactly one, and every cell, margins included, is the union of the
parts that agree with it on its shown variables. The members of a part are read from
the same data the table was computed from, with the same filters (a grouping variable
present, a value present), and fingerprinted with the ledger's key:

- ``count`` space: one member per record, value 1;
- ``sum`` space: one member per (record, value) pair, its value;
- ``square`` space: the same members, the value squared (a standard deviation with its
  mean and count gives the sum of squares).

A (record, value) pair is keyed by the value as well as the record, so the same scores
summed under another column name are the same members, and two different variables of
one record never share an unknown unless their values are equal (the attacker the
combined check models then knows more than a real one, never less).

Each released cell's value is kept as its space's total over its parts' members (a
mean as the sum it implies, a percentage as the count): what the published figure
tells an attacker who knows the cell's number of records.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._ledger import Entry, Ledger, LedgerCell, Space
from cohortsafe.sdc._regression import FittedRows
from cohortsafe.sdc._source import Source, open_source, present, quote
from cohortsafe.sdc._structure import TOTAL
from cohortsafe.sdc._table import CheckedTable

__all__ = ["RECORD", "regression_entry", "table_entry"]

#: the column holding each row's record identity in the sources the engine builds
RECORD = "__cohortsafe_record__"


def _members_sql(table: CheckedTable, record: str) -> str:
    request, cells = table.request, table._cells
    variables = request.layout.variables
    names = [f"v{i}" for i in range(len(variables))]
    select = [f"{quote(var)} AS {n}" for var, n in zip(variables, names, strict=True)]
    # fingerprinted after the query (:meth:`Ledger.member_keys`)
    select += [
        f"{quote(request.pupil)} AS pupil",
        f"{quote(request.school)} AS school",
        f"{quote(record)} AS record",
    ]
    where = [f"{quote(var)} IS NOT NULL" for var in variables]
    if request.values is not None:
        select.append(f"CAST({quote(request.values)} AS DOUBLE) AS x")
        where.append(present(quote(request.values)))
    else:
        select.append("1.0::DOUBLE AS x")
    full = np.flatnonzero(cells.present == request.layout.full_set)
    labels = []
    for f in full.tolist():
        values = []
        for v, categories in enumerate(cells.categories):
            code = int(cells.codes[f, v])
            values.append("NULL" if code == TOTAL else _literal(categories[code]))
        labels.append(f"({f}, {', '.join(values)})")
    label_table = (
        f"(VALUES {', '.join(labels)}) AS lab(part, {', '.join(names)})"
        if labels
        else f"(SELECT NULL::INTEGER AS part, {', '.join(f'NULL AS {n}' for n in names)} "
        "WHERE false) AS lab"
    )
    join = " AND ".join(f"b.{n} IS NOT DISTINCT FROM lab.{n}" for n in names)
    return (
        f"WITH b AS (SELECT {', '.join(select)} FROM {{source}} WHERE {' AND '.join(where)}) "
        f"SELECT lab.part::INTEGER AS part, b.pupil, b.school, b.record, b.x FROM b JOIN "
        f"{label_table} ON {join}"
    )


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def table_entry(
    table: CheckedTable,
    source: Source,
    ledger: Ledger,
    *,
    record: str,
    name: str,
    kind: str,
    command: str,
    spaces: Sequence[Space] | None = None,
) -> Entry:
    """The ledger entry of a checked table computed from ``source``.

    ``spaces``: the spaces its released cells publish (default: ``count`` for a count
    table, ``sum`` for sums and means).
    """
    published: tuple[Space, ...] = tuple(
        dict.fromkeys(
            spaces
            if spaces is not None
            else (("count",) if table.request.aggfunc == "count" else ("sum",))
        )
    )
    source.require([record])
    members = _members(source, _members_sql(table, record), published, record, ledger)
    cells = table._cells
    full = np.flatnonzero(cells.present == table.request.layout.full_set)
    full_codes = cells.codes[full]
    # a released share is kept as the count behind it: an attacker who knows the
    # group's total (or the shares at full precision) knows that count
    ledger_cells: list[LedgerCell] = []
    totals = {space: _part_totals(members, space, int(cells.size)) for space in published}
    seen: set[tuple[int, ...]] = set()
    for i in np.flatnonzero(table.released).tolist():
        shown = table._values[i]
        if shown is None or (isinstance(shown, float) and np.isnan(shown)):
            continue
        codes = cells.codes[i]
        agree = np.all((codes == TOTAL) | (full_codes == codes), axis=1)
        parts = tuple(int(f) for f in full[agree])
        seen.add(parts)
        for space in published:
            value = float(totals[space][list(parts)].sum()) if parts else 0.0
            ledger_cells.append(LedgerCell(space, parts, value))
    # every margin of the table, shown or not, is a group an attacker can name
    for parts in _margins(full_codes, full):
        if parts not in seen:
            seen.add(parts)
            for space in published:
                value = float(totals[space][list(parts)].sum())
                ledger_cells.append(LedgerCell(space, parts, value, released=False))
    return Entry(name, kind, command, table.policy.fingerprint, tuple(ledger_cells), members)


def _members(
    source: Source, sql: str, spaces: Sequence[Space], record: str, ledger: Ledger
) -> pa.Table:
    """The members an entry's query reads (each row's part, pupil, school, record and
    value), each record once per space, fingerprinted with the ledger's key."""
    try:
        rows = source.query(sql).to_arrow_table()
    except duckdb.Error:
        raise PolicyError("the records behind the output could not be read") from None
    r, p, s = ledger.member_keys(rows.column("pupil"), rows.column("school"), rows.column("record"))
    x = np.asarray(rows.column("x").to_numpy(zero_copy_only=False), np.float64)
    part = rows.column("part")
    # a sum's and a square's members are the same (record, value) pairs: keyed once
    keys = {"count": r}
    if set(spaces) - {"count"}:
        keys["value"] = ledger.value_keys(r, x)
    for k in keys.values():
        ordered = np.sort(k)  # a sort of 64-bit keys is much cheaper than np.unique's
        if (ordered[1:] == ordered[:-1]).any():
            raise PolicyError(
                f"the record column {record!r} names some rows twice: the ledger needs "
                "one identity per record"
            )
    pieces = []
    for space in spaces:
        if space == "count":
            k, value = keys["count"], np.ones_like(x)
        else:
            k, value = keys["value"], x if space == "sum" else x * x
        columns = {"space": pa.repeat(space, k.size), "part": part, "k": k, "p": p, "s": s}
        pieces.append(pa.table({**columns, "x": value}).cast(_MEMBERS))
    return pa.concat_tables(pieces) if pieces else _MEMBERS.empty_table()


_MEMBERS = pa.schema(
    [
        ("space", pa.string()),
        ("part", pa.int32()),
        ("k", pa.uint64()),
        ("p", pa.uint64()),
        ("s", pa.uint64()),
        ("x", pa.float64()),
    ]
)


def regression_entry(
    rows: FittedRows,
    ledger: Ledger,
    *,
    record: str,
    name: str,
    kind: str,
    command: str,
    policy: str,
) -> Entry:
    """The ledger entry of a fitted model: the counts and outcome sums it publishes.

    Parts are the rows' patterns over the model's groups (:class:`FittedRows`); each
    group whose sum is published is a released cell in the ``count`` and ``sum`` spaces,
    and so is the whole with a constant; the other groups (and the whole without a
    constant) are groups an attacker can name. Members are keyed as a table's are, so
    a model and a table over the same records and outcome share their unknowns.
    """
    patterns, part = np.unique(rows.groups, axis=0, return_inverse=True)
    frame = pa.table(
        {
            "pupil": pa.array(rows.pupils),
            "school": pa.array(rows.schools),
            "record": pa.array(rows.records),
            "x": pa.array(rows.outcome, pa.float64()),
            "part": pa.array(np.asarray(part).reshape(-1), pa.int32()),
        }
    )
    sql = "SELECT part, pupil, school, record, x FROM {source}"
    spaces: tuple[Space, ...] = ("count", "sum")
    members = _members(open_source(frame), sql, spaces, record, ledger)
    every = tuple(range(len(patterns)))
    sides: list[tuple[tuple[int, ...], bool]] = [(every, rows.constant)]
    for j in range(patterns.shape[1]):
        sides.append((tuple(int(p) for p in np.flatnonzero(patterns[:, j])), rows.released[j]))
    totals = {space: _part_totals(members, space, len(patterns)) for space in spaces}
    cells: dict[tuple[int, ...], bool] = {}
    for parts, released in sides:
        if parts:
            cells[parts] = cells.get(parts, False) or bool(released)
    ledger_cells = tuple(
        LedgerCell(space, parts, float(totals[space][list(parts)].sum()), released)
        for parts, released in cells.items()
        for space in spaces
    )
    return Entry(name, kind, command, policy, ledger_cells, members)


def _margins(codes: np.ndarray, full: np.ndarray) -> list[tuple[int, ...]]:
    """The parts of every margin of a table's inner cells (``codes``: one row per inner
    cell): for each set of shown variables, the parts agreeing on them."""
    variables = codes.shape[1] if codes.ndim == 2 else 0
    found: list[tuple[int, ...]] = []
    for mask in range((1 << variables) - 1):
        shown = [v for v in range(variables) if mask >> v & 1]
        groups: dict[tuple[int, ...], list[int]] = {}
        for row, part in zip(codes.tolist(), full.tolist(), strict=True):
            groups.setdefault(tuple(row[v] for v in shown), []).append(int(part))
        found += [tuple(parts) for parts in groups.values()]
    return found


def _part_totals(members: pa.Table, space: str, size: int) -> np.ndarray:
    """The true total of every part in ``space`` (index: part number)."""
    chosen = members.filter(pc.equal(members.column("space"), space))
    out = np.zeros(size)
    np.add.at(
        out,
        chosen.column("part").to_numpy(zero_copy_only=False),
        chosen.column("x").to_numpy(zero_copy_only=False),
    )
    return out


def merged_entry(entries: Sequence[Entry]) -> Entry:
    """One entry for an output resting on several tables: their parts kept apart."""
    if len(entries) == 1:
        return entries[0]
    first = entries[0]
    cells: list[LedgerCell] = []
    members = []
    offset = 0
    for entry in entries:
        width = 1 + max(
            [max(c.parts, default=-1) for c in entry.cells]
            + [pc.max(entry.members.column("part")).as_py() or 0]
        )
        cells += [
            LedgerCell(c.space, tuple(p + offset for p in c.parts), c.value, c.released)
            for c in entry.cells
        ]
        part = pc.add(entry.members.column("part"), pa.scalar(offset, pa.int32()))
        members.append(entry.members.set_column(1, "part", part))
        offset += width
    return Entry(
        first.name, first.kind, first.command, first.policy, tuple(cells), pa.concat_tables(members)
    )
