"""Which rows an output is taken of: one extract table, the same pupil's values from
others, conditions typed in. The server writes the query; the researcher writes none."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cohortsafe.errors import PolicyError

__all__ = ["HOW", "OPERATORS", "RowSpec", "checked_formula"]

FIXED = ("pupil", "school", "record")
HOW = ("list", "sum", "min", "max")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Attached:
    table: str
    column: str
    how: str = "list"
    missing: Any = None  # the value of a pupil with no row in that table

    @property
    def alias(self) -> str:
        return f"{self.table}_{self.column}"


@dataclass(frozen=True)
class RowSpec:
    table: str
    attached: tuple[Attached, ...] = ()
    where: tuple[tuple[str, str, Any], ...] = ()

    @classmethod
    def parse(cls, name: str, document: Mapping[str, Any]) -> RowSpec:
        table = document.get("table")
        if not isinstance(table, str) or not _IDENTIFIER.fullmatch(table):
            raise PolicyError(f"output {name}: table names the extract table its rows are")
        attached = []
        for item in _list(name, "with", document.get("with", [])):
            if not isinstance(item, Mapping) or set(item) - {"table", "column", "how", "missing"}:
                raise PolicyError(
                    f"output {name}: each of with is {{table, column[, how, missing]}}"
                )
            how = item.get("how", "list")
            if how not in HOW:
                raise PolicyError(f"output {name}: how is one of {', '.join(HOW)}")
            names = (item.get("table"), item.get("column"))
            if not all(isinstance(n, str) and _IDENTIFIER.fullmatch(n) for n in names):
                raise PolicyError(f"output {name}: with names a table and a column")
            missing = item.get("missing")
            if missing is not None:
                missing = _literal_value(name, missing)
            attached.append(Attached(str(names[0]), str(names[1]), str(how), missing))
        where = []
        for condition in _list(name, "where", document.get("where", [])):
            where.append(_condition(name, condition))
        return cls(table, tuple(attached), tuple(where))

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "with": [
                {"table": a.table, "column": a.column, "how": a.how, "missing": a.missing}
                for a in self.attached
            ],
            "where": [list(c) for c in self.where],
        }

    def columns(self, tables: Mapping[str, Sequence[str]]) -> list[str]:
        """The columns the rows have; refused when a table or column is not in the extract."""
        if self.table not in tables:
            raise PolicyError(f"the extract has no table {self.table!r}")
        columns = list(tables[self.table])
        for item in self.attached:
            if item.column not in tables.get(item.table, ()) or item.column in FIXED:
                raise PolicyError(f"the extract has no column {item.table}.{item.column} to add")
            if item.alias in columns:
                raise PolicyError(f"{item.alias} is added twice")
            columns.append(item.alias)
        for column, _, _ in self.where:
            if column in FIXED:
                # a pseudonym typed into a condition would leave with the specification
                raise PolicyError("where: pupil, school and record are not chosen by value")
            if column not in columns:
                raise PolicyError(f"where: the rows have no column {column!r}")
        return columns

    def sql(self, tables: Mapping[str, Sequence[str]]) -> str:
        """The query the server runs; every name is checked, every value a literal."""
        self.columns(tables)
        added = "".join(
            f", {_added(f'a{i}.v', a)} AS {_q(a.alias)}" for i, a in enumerate(self.attached)
        )
        parts = [f"SELECT b.*{added}"]
        parts.append(f"FROM {_q(self.table)} b")
        for i, item in enumerate(self.attached):
            value = {
                "list": f"string_agg(DISTINCT CAST({_q(item.column)} AS VARCHAR), '+' "
                f"ORDER BY CAST({_q(item.column)} AS VARCHAR))",
                "sum": f"sum({_q(item.column)})",
                "min": f"min({_q(item.column)})",
                "max": f"max({_q(item.column)})",
            }[item.how]
            parts.append(
                f"LEFT JOIN (SELECT pupil, {value} AS v FROM {_q(item.table)} GROUP BY pupil) "
                f"a{i} ON a{i}.pupil = b.pupil"
            )
        if self.where:
            parts.append("WHERE " + " AND ".join(_sql_condition(c) for c in self.where))
        return " ".join(parts)


def _added(value: str, item: Attached) -> str:
    if item.missing is None:
        return value
    missing = _sql_literal(str(item.missing) if item.how == "list" else item.missing)
    return f"coalesce({value}, {missing})"


def _list(name: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise PolicyError(f"output {name}: {key} is a list")
    return value


def _condition(name: str, condition: Any) -> tuple[str, str, Any]:
    if not isinstance(condition, list) or len(condition) not in (2, 3):
        raise PolicyError(f"output {name}: a condition is [column, operator, value]")
    column, operator = condition[0], condition[1]
    value = condition[2] if len(condition) == 3 else None
    if not isinstance(column, str) or not _IDENTIFIER.fullmatch(column):
        raise PolicyError(f"output {name}: a condition starts with a column name")
    if operator not in OPERATORS:
        raise PolicyError(f"output {name}: an operator is one of {', '.join(OPERATORS)}")
    if operator.startswith("is") != (len(condition) == 2):
        raise PolicyError(
            f"output {name}: {operator} takes {'no' if operator.startswith('is') else 'a'} value"
        )
    if operator in ("in", "not in"):
        if not isinstance(value, list) or not value:
            raise PolicyError(f"output {name}: {operator} takes a list of values")
        value = [_literal_value(name, v) for v in value]
    elif not operator.startswith("is"):
        value = _literal_value(name, value)
    return column, str(operator), value


def _literal_value(name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PolicyError(f"output {name}: a value in a condition is a text or a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise PolicyError(f"output {name}: a value in a condition is a finite number")
    return value


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _sql_condition(condition: tuple[str, str, Any]) -> str:
    column, operator, value = condition
    if operator.startswith("is"):
        return f"{_q(column)} {operator.upper()}"
    if operator in ("in", "not in"):
        listed = ", ".join(_sql_literal(v) for v in value)
        return f"{_q(column)} {operator.upper()} ({listed})"
    return f"{_q(column)} {operator} {_sql_literal(value)}"


_TOKEN = re.compile(r"\s*(?:(C\()|([A-Za-z_][A-Za-z0-9_]*)|([~+\-:*()])|(\d+))")


def checked_formula(formula: str, columns: Sequence[str]) -> str:
    """``formula`` if it is only column names, ``C(column)``, ``+ - : * ( )``, ``0``, ``1``
    and one ``~``; anything else (a call, an attribute, a string) is refused."""
    position, tildes, pending_c = 0, 0, 0
    text = formula.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise PolicyError("a formula is column names joined by + : * -, C(column), 0 or 1")
        c_call, name, operator, number = match.groups()
        if c_call:
            pending_c += 1
            following = _TOKEN.match(text, match.end())
            if following is None or not following.group(2):
                raise PolicyError("C( takes one column name")
        elif name is not None:
            if name not in columns:
                raise PolicyError(f"the formula names {name!r}, which the rows do not have")
        elif operator == "~":
            tildes += 1
        elif number is not None and number not in ("0", "1"):
            raise PolicyError("the only numbers in a formula are 0 and 1")
        position = match.end()
    if tildes != 1:
        raise PolicyError("a formula has one ~ between the outcome and the terms")
    if text.count("(") != text.count(")"):
        raise PolicyError("the formula's brackets do not match")
    del pending_c
    return text
