"""Outputs as specifications the server can compute again.

A researcher asks for an output by what it is, not by its values: which rows, and
the statistic to take of them. The office's side computes it from that specification
on the project's extract, with the project's policy and ledger, and never takes
values from the researcher's side. Computing it twice on the same extract gives the
same digest; anything else (a changed value, a rebuilt extract, an edited result)
gives another.

A specification is a JSON object, strict about its keys::

    {"name": "score_by_domain", "kind": "table", "table": "toetsresultaten",
     "with": [{"table": "voorschool", "column": "soort"}],
     "where": [["jaargroep", ">=", 5]],
     "index": ["leergebied"], "columns": ["voorschool_soort"],
     "values": "vaardigheidsscore", "aggfunc": "mean", "margins": true}

Rows are those of one extract table, each with its own pupil, school and record: the
engine counts pupils and schools, and tells records apart, by them. ``with`` adds the
same pupil's values from another table (as ``TABLE_COLUMN``: their distinct values
joined by ``+``, or their ``sum``, ``min`` or ``max``); ``where`` keeps rows by
conditions on a column and a value typed in. There is no free SQL: a query could give
a row another pupil's score, or make every pupil a school of their own, and no check
of the output would see it. A regression's formula is names of columns joined by
``+``, ``:``, ``*`` and ``-``, with ``C(column)`` for a categorical: nothing a formula
parser would run as code.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cohortsafe.errors import PolicyError, WorkspaceError
from cohortsafe.research._rows import RowSpec, checked_formula
from cohortsafe.research._workspace import Workspace
from cohortsafe.sdc import Session

__all__ = ["KINDS", "ComputedOutput", "OutputSpec", "compute_output"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: each kind and the keys its specification takes (besides name, kind, table, with, where)
KINDS: dict[str, dict[str, Any]] = {
    "table": {"index": [], "columns": [], "values": None, "aggfunc": None, "margins": False},
    "summary": {"columns": [], "by": [], "statistics": ["count", "mean", "std"]},
    "histogram": {"column": None, "bins": 10},
    "percentiles": {"column": None, "q": [0.25, 0.5, 0.75], "by": []},
    "ols": {"formula": None},
    "logit": {"formula": None},
}
_REQUIRED = {
    "table": ("index",),
    "summary": ("columns",),
    "histogram": ("column",),
    "percentiles": ("column",),
    "ols": ("formula",),
    "logit": ("formula",),
}
_ROWS = ("table", "with", "where")
_FIXED = ("pupil", "school", "record")
#: parameters that name the value measured: a column of the rows' own table
_MEASURED = ("values", "column")
#: parameters that name groups: any column of the rows, the same pupil's added ones too
_GROUPS = ("index", "columns", "by")
# Ten significant digits: a sum computed again in another order (DuckDB aggregates in
# parallel) differs in its last bits, never in these.
FLOAT_FORMAT = "%.10g"


@dataclass(frozen=True)
class OutputSpec:
    """One output as asked: its name, kind, rows and the kind's parameters."""

    name: str
    kind: str
    rows: RowSpec
    parameters: Mapping[str, Any]

    @classmethod
    def parse(cls, document: Any) -> OutputSpec:
        """A specification from its JSON form; every mistake is a :class:`PolicyError`."""
        if not isinstance(document, Mapping):
            raise PolicyError("an output specification is a JSON object")
        name, kind = document.get("name"), document.get("kind")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PolicyError(
                "an output's name is 1 to 64 letters, digits, dots, hyphens or underscores"
            )
        if kind not in KINDS:
            raise PolicyError(f"output {name}: kind is one of {', '.join(KINDS)}")
        if "sql" in document:
            raise PolicyError(
                f"output {name}: an output is taken of a table's rows (table, with, where), "
                "not of a query of its own (docs/research.md)"
            )
        defaults = KINDS[kind]
        unknown = sorted(set(document) - {"name", "kind", *_ROWS, *defaults})
        if unknown:
            raise PolicyError(
                f"output {name}: a {kind} takes no {', '.join(unknown)} "
                f"(it takes {', '.join([*_ROWS, *defaults])})"
            )
        rows = RowSpec.parse(name, document)
        parameters = {key: document.get(key, default) for key, default in defaults.items()}
        for key in _REQUIRED[kind]:
            if parameters[key] in (None, [], ""):
                raise PolicyError(f"output {name}: a {kind} needs {key}")
        for key in _GROUPS:
            if key in parameters and isinstance(parameters[key], str):
                parameters[key] = [parameters[key]]
        return cls(name, str(kind), rows, parameters)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, **self.rows.as_json(), **self.parameters}

    @property
    def canonical(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))

    def checked(self, tables: Mapping[str, Sequence[str]]) -> str:
        """The query of the output's rows, once every name it uses is in the extract."""
        columns = self.rows.columns(tables)
        p = self.parameters
        named = [p.get(k) for k in _MEASURED] + [c for k in _GROUPS for c in p.get(k) or []]
        if set(named) & set(_FIXED):
            # a pseudonym as a label or a value would leave the environment with the output
            raise PolicyError(
                f"output {self.name}: pupil, school and record are no variables of an output"
            )
        own = [c for c in tables[self.rows.table] if c not in _FIXED]
        for key in _MEASURED:
            value = p.get(key)
            if value is not None and value not in own:
                raise PolicyError(
                    f"output {self.name}: {key} is a column of {self.rows.table}, not {value!r}"
                )
        if self.kind == "summary":
            for column in p["columns"]:
                if column not in own:
                    raise PolicyError(
                        f"output {self.name}: columns are of {self.rows.table}, not {column!r}"
                    )
        for key in _GROUPS:
            if key == "columns" and self.kind == "summary":
                continue
            for column in p.get(key) or []:
                if not isinstance(column, str) or column not in columns:
                    raise PolicyError(f"output {self.name}: the rows have no column {column!r}")
        if self.kind in ("ols", "logit"):
            checked_formula(str(p["formula"]), [c for c in columns if c not in _FIXED])
        return self.rows.sql(tables)


@dataclass(frozen=True)
class ComputedOutput:
    """An output as the engine computed and checked it."""

    spec: OutputSpec
    outcome: str  # pass | review | fail
    reasons: tuple[str, ...]
    report: dict[str, Any]  # the check report (a failed output's values left out)
    content: bytes | None  # the released content as CSV; None for a failed output
    ledger_number: int | None

    @property
    def digest(self) -> str:
        """SHA-256 over the specification, the outcome and the released content."""
        digest = hashlib.sha256(self.spec.canonical.encode())
        digest.update(b"\x00" + self.outcome.encode() + b"\x00")
        digest.update(self.content or b"")
        return digest.hexdigest()


def compute_output(workspace: Workspace, session: Session, spec: OutputSpec) -> ComputedOutput:
    """Compute ``spec`` on the workspace and check it in ``session`` (its policy, ledger)."""
    data = workspace.arrow(spec.checked(workspace.tables))
    before = set(session.outputs)
    try:
        # the engine reads Arrow as it is; models need a pandas frame
        _compute(session, spec, data.to_pandas() if spec.kind in ("ols", "logit") else data)
    except (PolicyError, WorkspaceError):
        raise
    except Exception as error:
        # a library's message may quote a value of the data: only its type is shown
        raise PolicyError(
            f"output {spec.name} cannot be computed ({type(error).__name__}): check its "
            "columns, parameters and formula against the query's columns"
        ) from None
    (uid,) = set(session.outputs) - before
    output = session.outputs[uid]
    content = None if output.withheld else output.released_csv(FLOAT_FORMAT)
    return ComputedOutput(
        spec,
        output.outcome,
        tuple(output.reasons),
        output.as_dict(),
        content,
        output.ledger_number,
    )


def _compute(session: Session, spec: OutputSpec, frame: Any) -> None:
    p = spec.parameters
    if spec.kind == "table":
        session.pivot_table(
            frame,
            values=p["values"],
            index=list(p["index"]),
            columns=list(p["columns"]) or None,
            aggfunc=p["aggfunc"] or ("mean" if p["values"] else "count"),
            margins=bool(p["margins"]),
        )
    elif spec.kind == "summary":
        session.describe(
            frame, list(p["columns"]), by=list(p["by"]), statistics=list(p["statistics"])
        )
    elif spec.kind == "histogram":
        session.hist(frame, str(p["column"]), bins=p["bins"])
    elif spec.kind == "percentiles":
        session.percentiles(frame, str(p["column"]), q=list(p["q"]), by=list(p["by"]))
    elif spec.kind == "ols":
        session.olsr(str(p["formula"]), frame)
    else:
        session.logitr(str(p["formula"]), frame)
