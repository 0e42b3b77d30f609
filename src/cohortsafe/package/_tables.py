"""The allow-list: delivery tables are built from explicit columns, or not at all.

A table offered for delivery with any column the allow-list does not name is
an error, never silently trimmed: if a name or a free-text field ever reaches
this point, the bug surfaces here instead of at the statistics office.

>>> import pyarrow as pa
>>> allowed_table("voorschool", pa.table({"pgn": ["111222333"], "soort": ["vve"],
...     "maanden": pa.array([12], pa.int16()), "dagdelen_per_week": [2.0]})).num_rows
1
>>> allowed_table("voorschool", pa.table({"pgn": ["1"], "soort": ["vve"], "maanden": [1],
...     "dagdelen_per_week": [2.0], "achternaam": ["X"]}))
Traceback (most recent call last):
...
cohortsafe.errors.AllowListError: voorschool: column achternaam may not leave the school
"""

from __future__ import annotations

import pyarrow as pa

from cohortsafe.domain.schemas import DELIVERY_SCHEMAS
from cohortsafe.errors import AllowListError

__all__ = ["allowed_table", "check_delivered_table"]


def allowed_table(name: str, table: pa.Table) -> pa.Table:
    """``table`` in the exact delivery schema of ``name``; raises on any other column."""
    schema = DELIVERY_SCHEMAS.get(name)
    if schema is None:
        raise AllowListError(f"table {name} may not leave the school")
    extra = [c for c in table.column_names if c not in schema.names]
    if extra:
        plural = "s" if len(extra) > 1 else ""
        raise AllowListError(f"{name}: column{plural} {', '.join(extra)} may not leave the school")
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise AllowListError(f"{name}: required column(s) missing: {', '.join(missing)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise AllowListError(f"{name}: a column has the wrong type: {error}") from None


def check_delivered_table(name: str, table: pa.Table) -> list[str]:
    """What is wrong with a received table's shape (empty when it matches the allow-list)."""
    schema = DELIVERY_SCHEMAS.get(name)
    if schema is None:
        return [f"table {name} is not a delivery table"]
    if table.schema.names != schema.names:
        return [f"{name}: columns differ from the allow-list"]
    problems = []
    for field in schema:
        actual = table.schema.field(field.name)
        if actual.type != field.type:
            problems.append(f"{name}.{field.name}: type {actual.type} instead of {field.type}")
        elif not field.nullable and table.column(field.name).null_count:
            problems.append(f"{name}.{field.name}: missing values")
    return problems
