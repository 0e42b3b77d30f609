"""Outputs as specifications the server can compute again.

A researcher asks for an output by what it is, not by its values: a query on the
workspace and the statistic to take of it. The office's side computes it from that
specification on the project's extract, with the project's policy and ledger, and
never takes values from the researcher's side. Computing it twice on the same extract
gives the same digest; anything else (a changed value, a rebuilt extract, an edited
result) gives another.

A specification is a JSON object, strict about its keys::

    {"name": "score_by_domain", "kind": "table",
     "sql": "SELECT * FROM toetsresultaten",
     "index": ["leergebied"], "columns": ["jaargroep"],
     "values": "vaardigheidsscore", "aggfunc": "mean", "margins": true}

The query must select the project's ``pupil``, ``school`` and ``record`` columns as
they are: the engine counts pupils and schools and tells records apart by them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cohortsafe.errors import PolicyError, WorkspaceError
from cohortsafe.research._workspace import Workspace
from cohortsafe.sdc import Session

__all__ = ["KINDS", "ComputedOutput", "OutputSpec", "compute_output"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: each kind and the keys its specification takes (besides name, kind and sql)
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
_FIXED = ("pupil", "school", "record")
# Ten significant digits: a sum computed again in another order (DuckDB aggregates in
# parallel) differs in its last bits, never in these.
FLOAT_FORMAT = "%.10g"


@dataclass(frozen=True)
class OutputSpec:
    """One output as asked: its name, kind, query and the kind's parameters."""

    name: str
    kind: str
    sql: str
    parameters: Mapping[str, Any]

    @classmethod
    def parse(cls, document: Any) -> OutputSpec:
        """A specification from its JSON form; every mistake is a :class:`PolicyError`."""
        if not isinstance(document, Mapping):
            raise PolicyError("an output specification is a JSON object")
        name, kind, sql = document.get("name"), document.get("kind"), document.get("sql")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PolicyError(
                "an output's name is 1 to 64 letters, digits, dots, hyphens or underscores"
            )
        if kind not in KINDS:
            raise PolicyError(f"output {name}: kind is one of {', '.join(KINDS)}")
        if not isinstance(sql, str) or not sql.strip():
            raise PolicyError(f"output {name}: sql is the query the output is taken of")
        defaults = KINDS[kind]
        unknown = sorted(set(document) - {"name", "kind", "sql", *defaults})
        if unknown:
            raise PolicyError(
                f"output {name}: a {kind} takes no {', '.join(unknown)} "
                f"(it takes {', '.join(defaults)})"
            )
        parameters = {key: document.get(key, default) for key, default in defaults.items()}
        for key in _REQUIRED[kind]:
            if parameters[key] in (None, [], ""):
                raise PolicyError(f"output {name}: a {kind} needs {key}")
        for key in ("index", "columns", "by"):
            if key in parameters and isinstance(parameters[key], str):
                parameters[key] = [parameters[key]]
        return cls(name, str(kind), sql.strip(), parameters)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "sql": self.sql, **self.parameters}

    @property
    def canonical(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))


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
    data = workspace.arrow(spec.sql)
    missing = [c for c in _FIXED if c not in data.column_names]
    if missing:
        raise WorkspaceError(
            f"output {spec.name}: the query must select {', '.join(_FIXED)} as they are "
            f"(missing: {', '.join(missing)})"
        )
    before = set(session.outputs)
    try:
        _compute(session, spec, data.to_pandas())
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
