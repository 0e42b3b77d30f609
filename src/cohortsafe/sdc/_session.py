"""An ACRO-style session: researchers call familiar functions, every output is checked.

Researchers who know ACRO (``acro.ACRO(suppress=True)``, ``acro.crosstab(...)``,
``acro.finalise(...)``) find the same shape here, with the school added::

    sess = Session(policy="research", pupil="pupil", school="school")
    table = sess.crosstab(df.region, df.domain, values=df.score, aggfunc="mean",
                          pupil=df.pupil, school=df.school)
    sess.finalise("outputs")

Parameters map to ACRO's where the idea is the same: ``suppress`` (apply secondary
suppression; primary cells are hidden either way), ``crosstab(index, columns, values,
aggfunc, margins, margins_name, normalize, rownames, colnames)``, ``pivot_table(data,
values, index, columns, aggfunc, margins)``, ``ols``/``olsr``, ``logit``/``logitr``,
``hist``, ``remove_output``, ``add_comments``, ``add_exception``, ``finalise``. New are
``pupil`` and ``school`` (Series, or column names with ``data``), ``percentiles`` and
``describe``. Tables come back as pandas frames with suppressed cells as NaN, models as
statsmodels results, as in ACRO; what leaves the environment is what ``finalise``
writes: each output's released content as CSV and one check report as JSON and HTML.

Every output is also judged with everything the project released before (the combined
check of :mod:`._combined`, over the project's :class:`Ledger`): ``ledger`` is a
:class:`Ledger` or its folder; without one the session is a new, empty project of its
own (``project`` names it) and each output's report says so. An output that does not
fail enters the ledger at once; ``remove_output`` takes it out again. Rows are told
apart by the ``record`` column (for pandas frames without one, by the frame's index).

>>> import pandas as pd, tempfile, pathlib
>>> df = pd.DataFrame({"pupil": [f"p{i}" for i in range(60)],
...                    "school": [f"s{i % 6}" for i in range(60)],
...                    "region": ["N"] * 30 + ["S"] * 26 + ["W"] * 4,
...                    "score": [200.0 + i % 7 for i in range(60)]})
>>> sess = Session(policy="research")
>>> table = sess.crosstab(df.region, None, values=df.score, aggfunc="mean", margins=True,
...                       pupil=df.pupil, school=df.school)
>>> bool(table.loc["W"].isna().all()), list(sess.outputs)
(True, ['output_0'])
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "outputs"
>>> sorted(p.name for p in sess.finalise(folder).iterdir())
['checksums.txt', 'index.html', 'output_0.csv', 'results.json']
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from cohortsafe.csvsafe import safe_cell
from cohortsafe.errors import PolicyError
from cohortsafe.sdc._entries import RECORD, regression_entry
from cohortsafe.sdc._ledger import Entry, Ledger
from cohortsafe.sdc._outputs import (
    Base,
    CheckedOutput,
    check_regression,
    histogram,
    percentiles,
    summary_statistics,
)
from cohortsafe.sdc._policy import DEFAULT_POLICY, Policy, load_policy
from cohortsafe.sdc._regression import fitted_rows
from cohortsafe.sdc._release import release
from cohortsafe.sdc._render import html_page, table_text
from cohortsafe.sdc._source import Source, open_source
from cohortsafe.sdc._source import quote as _quote
from cohortsafe.sdc._table import CheckedTable, crosstab

__all__ = ["Output", "Session"]


@dataclass
class Output:
    """One recorded output, its check and what the researcher added to it."""

    uid: str
    kind: str
    command: str
    result: CheckedTable | CheckedOutput
    comments: list[str] = field(default_factory=list)
    exception: str | None = None
    #: what the combined check compared the output with (the ledger's state)
    ledger_note: str = ""
    #: the output's number in the ledger, once recorded there
    ledger_number: int | None = None

    @property
    def outcome(self) -> str:
        return self.result.outcome

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.result.reasons

    def released_frame(self) -> pd.DataFrame:
        """What leaves the environment for this output."""
        return self.result.to_frame()

    def released_csv(self, float_format: str | None = None) -> bytes:
        """The released content as CSV, every text cell safe to open in a spreadsheet."""
        frame = _spreadsheet_safe(self.released_frame())
        return str(frame.to_csv(float_format=float_format)).encode("utf-8")

    @property
    def withheld(self) -> bool:
        """A failed output shows none of its values in any file, in JSON or HTML either."""
        return self.outcome == "fail"

    def as_dict(self) -> dict[str, Any]:
        check = self.result.to_dict()
        if self.withheld:
            # what a failed output still shows (its margins, its other cells, a row of a
            # summary) may give away what it hides: only its shape and reasons remain
            check = {"outcome": check["outcome"], "reasons": check["reasons"], "withheld": True}
        return {
            "kind": self.kind,
            "command": self.command,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "comments": list(self.comments),
            "exception": self.exception,
            "ledger": self.ledger_note,
            "check": check,
        }


def _series(value: Any, name: str) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.rename(value.name if value.name is not None else name)
    return pd.Series(value, name=name)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, pd.DataFrame):
        return [value[c] for c in value.columns]
    return [value]


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, label and level name a spreadsheet would not run.

    Labels come from the researcher's data (a school's name, a category): they are
    text anyone may have typed. Numbers stay numbers.
    """
    out = frame.map(safe_cell).rename(index=safe_cell, columns=safe_cell)
    out.index.names = [safe_cell(n) for n in out.index.names]
    out.columns.names = [safe_cell(n) for n in out.columns.names]
    return out


def _table_base(table: CheckedTable, source: Source) -> Base:
    return Base(table, source, ("count",) if table.request.aggfunc == "count" else ("sum",))


class Session:
    """Checked research outputs, the ACRO way; see the module docstring."""

    def __init__(
        self,
        policy: str | Path | Policy = DEFAULT_POLICY,
        *,
        suppress: bool = True,
        pupil: str = "pupil",
        school: str = "school",
        record: str = "record",
        ledger: Ledger | str | Path | None = None,
        project: str | None = None,
        floor: str | Path | Policy | None = None,
        fixed_columns: bool = False,
    ) -> None:
        self.policy = load_policy(policy)
        if floor is not None:
            self.policy.require_at_least(load_policy(floor))
        if pupil == school:
            raise PolicyError("the pupil and the school must be two distinct columns")
        if record in (pupil, school):
            raise PolicyError("the record column must be distinct from the pupil and school")
        self.suppress = suppress
        self.pupil = pupil
        self.school = school
        self.record = record
        # an environment that fixes the columns (the research workspace) lets no
        # output name others: the pupil, school and record are the office's
        self.fixed_columns = fixed_columns
        if isinstance(ledger, Ledger):
            self.ledger = ledger
        elif ledger is not None:
            self.ledger = Ledger.open(ledger, project=project)
        else:
            # no ledger: a new, empty project of its own, which every report names
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
            self.ledger = Ledger.memory(project or f"session-{stamp}")
        self.outputs: dict[str, Output] = {}
        self._next = 0

    # --- recording -------------------------------------------------------------

    def _record(
        self,
        kind: str,
        command: str,
        result: CheckedTable | CheckedOutput,
        bases: Sequence[Base] = (),
        *,
        entry: Entry | None = None,
    ) -> Output:
        """Check ``result`` with the project's earlier outputs, then keep it.

        An output that does not fail enters the ledger at once: the outputs of one
        session leave together, so each is judged with the ones before it.
        """
        uid = f"output_{self._next}"
        self._next += 1
        released = release(
            self.ledger,
            result,
            bases,
            policy=self.policy,
            record=RECORD,
            name=f"{uid}: {command}"[:120],
            kind=kind,
            command=command,
            entry=entry,
        )
        output = Output(uid, kind, command, released.result, ledger_note=released.note)
        output.ledger_number = released.number
        self.outputs[uid] = output
        return output

    def remove_output(self, key: str) -> None:
        """Drop an output from what ``finalise`` writes, and from the ledger."""
        if key not in self.outputs:
            raise PolicyError(f"no output named {key!r}")
        number = self.outputs[key].ledger_number
        if number is not None:
            self.ledger.remove(number)
        del self.outputs[key]

    def add_comments(self, key: str, text: str) -> None:
        """Add a comment for the output checker."""
        if key not in self.outputs:
            raise PolicyError(f"no output named {key!r}")
        self.outputs[key].comments.append(text)

    def add_exception(self, key: str, reason: str) -> None:
        """Ask the checker to release a failing output anyway, with the reason why."""
        if key not in self.outputs:
            raise PolicyError(f"no output named {key!r}")
        self.outputs[key].exception = reason

    # --- tables ----------------------------------------------------------------

    def _columns(self, pupil: str | None, school: str | None) -> tuple[str, str]:
        """The pupil and school columns an output uses: the session's, unless it lets
        the caller choose."""
        if self.fixed_columns and (pupil or self.pupil, school or self.school) != (
            self.pupil,
            self.school,
        ):
            raise PolicyError(
                "this environment fixes the pupil and school columns: leave pupil= and school= out"
            )
        return pupil or self.pupil, school or self.school

    def _record_series(self, pupil: Any, record: Any) -> pd.Series:
        """The rows' record identities next to Series: ``record=``, else their index."""
        if record is None:
            if self.fixed_columns:
                raise PolicyError(
                    f"this environment fixes the record column: give record=data.{self.record}"
                )
            index = _series(pupil, "__pupil__").index
            return pd.Series(index.astype(str), index=index, name=RECORD)
        if self.fixed_columns and getattr(record, "name", None) != self.record:
            raise PolicyError(
                f"this environment fixes the record column: give record=data.{self.record}"
            )
        return _series(record, RECORD).rename(RECORD)

    def _source(self, data: Any) -> Source:
        """``data`` with the record identity the ledger keys on, as a source.

        The session's record column when the data have it; for a pandas frame without
        it, the frame's index (identities stay the same across filters of one frame).
        """
        if isinstance(data, pd.DataFrame):
            ids = self._model_records(data)
            return open_source(data.assign(**{RECORD: ids.to_numpy()}))
        source = open_source(data)
        if self.record not in source.columns:
            raise PolicyError(
                f"the data have no record column {self.record!r}: the ledger needs one "
                "identity per row"
            )
        relation = source.query(
            f"SELECT *, {_quote(self.record)} AS {_quote(RECORD)} FROM {{source}}"
        )
        return Source(relation, f"{source.name}_records")

    def _frame(
        self,
        index: Any,
        columns: Any,
        values: Any,
        pupil: Any,
        school: Any,
        rownames: Sequence[str] | None,
        colnames: Sequence[str] | None,
        record: Any = None,
    ) -> tuple[pd.DataFrame, list[str], list[str], str | None]:
        rows = [_series(s, f"row_{i}") for i, s in enumerate(_as_list(index))]
        cols = [_series(s, f"col_{i}") for i, s in enumerate(_as_list(columns))]
        if rownames:
            rows = [s.rename(n) for s, n in zip(rows, rownames, strict=True)]
        if colnames:
            cols = [s.rename(n) for s, n in zip(cols, colnames, strict=True)]
        if pupil is None or school is None or isinstance(pupil, str) or isinstance(school, str):
            raise PolicyError("give the pupil and school pseudonyms as Series next to the index")
        self._ids(pupil, school)
        parts = [*rows, *cols]
        value_name = None
        if values is not None:
            value_series = _series(values, "values")
            value_name = str(value_series.name)
            parts.append(value_series)
        parts += [
            _series(pupil, "__pupil__").rename("__pupil__"),
            _series(school, "__school__").rename("__school__"),
            self._record_series(pupil, record),
        ]
        names = [str(s.name) for s in parts]
        if len(set(names)) != len(names):
            raise PolicyError("two of the variables have the same name")
        frame = pd.concat(parts, axis=1)
        return frame, [str(s.name) for s in rows], [str(s.name) for s in cols], value_name

    def crosstab(
        self,
        index: Any,
        columns: Any,
        values: Any = None,
        rownames: Sequence[str] | None = None,
        colnames: Sequence[str] | None = None,
        aggfunc: str | None = None,
        margins: bool = False,
        margins_name: str = "All",
        normalize: bool | str = False,
        *,
        pupil: Any,
        school: Any,
        record: Any = None,
    ) -> pd.DataFrame:
        """ACRO's (and pandas') ``crosstab`` on Series, checked; suppressed cells NaN.

        ``record``: the rows' record identities (a Series), for the ledger; without
        it, the Series' index."""
        frame, rows, cols, value_name = self._frame(
            index, columns, values, pupil, school, rownames, colnames, record
        )
        source = open_source(frame)
        table = crosstab(
            None,
            rows,
            cols,
            pupil="__pupil__",
            school="__school__",
            values=value_name,
            aggfunc=aggfunc,
            policy=self.policy,
            margins=margins,
            margins_name=margins_name,
            normalize=cast(Any, normalize),
            suppress=self.suppress,
            source=source,
        )
        command = (
            f"crosstab(index={rows}, columns={cols}, values={value_name!r}, "
            f"aggfunc={table.request.aggfunc!r}, margins={margins})"
        )
        output = self._record("table", command, table, [_table_base(table, source)])
        return cast(CheckedTable, output.result).to_frame()

    def pivot_table(
        self,
        data: pd.DataFrame,
        values: str | None = None,
        index: str | Sequence[str] | None = None,
        columns: str | Sequence[str] | None = None,
        aggfunc: str = "mean",
        margins: bool = False,
        margins_name: str = "All",
        *,
        pupil: str | None = None,
        school: str | None = None,
    ) -> pd.DataFrame:
        """ACRO's (and pandas') ``pivot_table`` on a frame, checked."""
        if index is None:
            raise PolicyError("pivot_table needs an index")
        who = self._columns(pupil, school)
        source = self._source(data)
        table = crosstab(
            None,
            index,
            columns,
            pupil=who[0],
            school=who[1],
            values=values,
            aggfunc=aggfunc if values is not None else "count",
            policy=self.policy,
            margins=margins,
            margins_name=margins_name,
            suppress=self.suppress,
            source=source,
        )
        request = table.request
        command = (
            f"pivot_table(values={values!r}, index={list(request.index)}, "
            f"columns={list(request.columns)}, aggfunc={request.aggfunc!r}, "
            f"margins={margins})"
        )
        output = self._record("table", command, table, [_table_base(table, source)])
        return cast(CheckedTable, output.result).to_frame()

    # --- models ----------------------------------------------------------------

    def _model(
        self, kind: str, model: Any, command: str, pupil: Any, school: Any, record: Any
    ) -> Any:
        results = model.fit(disp=0) if kind == "logit" else model.fit()
        checked = check_regression(results, self.policy, kind=kind, pupil=pupil, school=school)
        rows = fitted_rows(results, pupil=pupil, school=school, record=record)
        entry = None
        if rows is not None and checked.outcome != "fail":
            entry = regression_entry(
                rows,
                self.ledger,
                record=self.record,
                name=command,
                kind="regression",
                command=command,
                policy=self.policy.fingerprint,
            )
        self._record("regression", command, checked, entry=entry)
        return results

    def _model_records(self, data: pd.DataFrame) -> pd.Series:
        """The record identity of each row of a frame: its record column, else its index."""
        if self.record in data.columns:
            return data[self.record]
        if self.fixed_columns:
            raise PolicyError(f"this environment needs the record column {self.record!r}")
        return pd.Series(data.index.astype(str), index=data.index)

    def _ids(self, pupil: Any, school: Any) -> tuple[Any, Any]:
        """The pupil and school Series of a model given as arrays (see ``crosstab``)."""
        given = (getattr(pupil, "name", None), getattr(school, "name", None))
        if self.fixed_columns and given != (self.pupil, self.school):
            raise PolicyError(
                f"this environment fixes the pupil and school columns: give "
                f"pupil=data.{self.pupil} and school=data.{self.school}"
            )
        return pupil, school

    def _ids_record(self, pupil: Any, record: Any) -> Any:
        """The record identities of a model given as arrays: ``record=``, else the index."""
        if pupil is None and record is None:
            return None  # the model fails for want of pupils; nothing enters the ledger
        if record is None and not isinstance(pupil, pd.Series):
            return None if self.fixed_columns else np.arange(len(pupil)).astype(str)
        return self._record_series(pupil, record)

    def ols(
        self,
        endog: Any,
        exog: Any = None,
        missing: str = "none",
        hasconst: bool | None = None,
        *,
        pupil: Any = None,
        school: Any = None,
        record: Any = None,
    ) -> Any:
        """Ordinary least squares (statsmodels), checked as the groups it rests on.

        ``pupil`` and ``school``: Series of the rows' pseudonyms, next to ``endog``;
        ``record``: the rows' record identities, for the ledger (default: the index)."""
        import statsmodels.api as sm

        model = sm.OLS(endog, exog, missing=missing, hasconst=hasconst)
        return self._model(
            "ols",
            model,
            "ols(endog, exog)",
            *self._ids(pupil, school),
            self._ids_record(pupil, record),
        )

    def olsr(self, formula: str, data: pd.DataFrame) -> Any:
        """OLS from an R-style formula; the pupils and schools come from ``data``."""
        import statsmodels.formula.api as smf

        model = smf.ols(formula, data=data)
        return self._model(
            "ols",
            model,
            f"olsr({formula!r})",
            data[self.pupil],
            data[self.school],
            self._model_records(data),
        )

    def logit(
        self,
        endog: Any,
        exog: Any = None,
        missing: str = "none",
        *,
        pupil: Any = None,
        school: Any = None,
        record: Any = None,
    ) -> Any:
        """Logistic regression (statsmodels), checked as the groups it rests on."""
        import statsmodels.api as sm

        model = sm.Logit(endog, exog, missing=missing)
        return self._model(
            "logit",
            model,
            "logit(endog, exog)",
            *self._ids(pupil, school),
            self._ids_record(pupil, record),
        )

    def logitr(self, formula: str, data: pd.DataFrame) -> Any:
        """Logistic regression from an R-style formula; pupils and schools from ``data``."""
        import statsmodels.formula.api as smf

        model = smf.logit(formula, data=data)
        return self._model(
            "logit",
            model,
            f"logitr({formula!r})",
            data[self.pupil],
            data[self.school],
            self._model_records(data),
        )

    # --- other outputs -----------------------------------------------------------

    def hist(
        self,
        data: pd.DataFrame,
        column: str,
        bins: int | Sequence[float] = 10,
        *,
        pupil: str | None = None,
        school: str | None = None,
    ) -> CheckedOutput:
        """A checked histogram (bins are cells; outermost bins open-ended)."""
        who = self._columns(pupil, school)
        result = histogram(
            self._source(data).relation,
            column,
            bins,
            pupil=who[0],
            school=who[1],
            policy=self.policy,
            suppress=self.suppress,
        )
        output = self._record("histogram", f"hist({column!r}, bins={bins!r})", result, result.bases)
        return cast(CheckedOutput, output.result)

    def percentiles(
        self,
        data: pd.DataFrame,
        column: str,
        q: Sequence[float] = (0.25, 0.5, 0.75),
        *,
        by: str | Sequence[str] = (),
        pupil: str | None = None,
        school: str | None = None,
    ) -> CheckedOutput:
        """Checked percentiles, overall or by group."""
        who = self._columns(pupil, school)
        result = percentiles(
            self._source(data).relation,
            column,
            q,
            pupil=who[0],
            school=who[1],
            by=by,
            policy=self.policy,
        )
        output = self._record(
            "percentiles", f"percentiles({column!r}, q={list(q)})", result, result.bases
        )
        return cast(CheckedOutput, output.result)

    def describe(
        self,
        data: pd.DataFrame,
        columns: str | Sequence[str],
        *,
        by: str | Sequence[str] = (),
        statistics: Sequence[str] = ("count", "mean", "std"),
        pupil: str | None = None,
        school: str | None = None,
    ) -> CheckedOutput:
        """Checked summary statistics (count, mean, std, median), overall or by group."""
        who = self._columns(pupil, school)
        result = summary_statistics(
            self._source(data).relation,
            columns,
            pupil=who[0],
            school=who[1],
            by=by,
            statistics=statistics,
            policy=self.policy,
            suppress=self.suppress,
        )
        output = self._record("summary", f"describe({columns!r}, by={by!r})", result, result.bases)
        return cast(CheckedOutput, output.result)

    # --- the end ---------------------------------------------------------------

    def report(self) -> str:
        """Every output with its outcome and reasons, as text (ACRO's print_outputs)."""
        lines = [self.policy.describe()]
        for output in self.outputs.values():
            lines.append(f"{output.uid}: {output.kind} — {output.outcome}")
            lines.append(f"  {output.command}")
            if isinstance(output.result, CheckedTable):
                lines.extend("  " + line for line in table_text(output.result).splitlines())
            else:
                lines.extend(f"  {reason}" for reason in output.reasons)
        return "\n".join(lines)

    def finalise(self, path: str | Path, ext: str = "json") -> Path:
        """Write the outputs (CSV) with the check report (JSON and HTML) to a new folder.

        A failed output's values are written only with an exception request, and then
        only to its CSV for the output checker; the JSON and HTML list it with its
        reasons and no value.
        """
        if ext != "json":
            raise PolicyError("finalise writes JSON (and HTML) reports")
        folder = Path(path)
        if folder.exists():
            raise PolicyError(f"{folder.name} already exists; choose a new folder")
        folder.mkdir(parents=True)
        report: dict[str, Any] = {
            "policy": {**self.policy.as_dict(), **self.policy.identity()},
            "outputs": {},
        }
        sections = []
        for output in self.outputs.values():
            entry = output.as_dict()
            entry["files"] = []
            # A failed output may be recoverable from what it still shows (a table's
            # margins): its values leave only when the researcher asks an exception,
            # for the output checker to decide on.
            if output.outcome != "fail" or output.exception:
                csv_name = f"{output.uid}.csv"
                (folder / csv_name).write_bytes(output.released_csv())
                entry["files"] = [csv_name]
            report["outputs"][output.uid] = entry
            lines = [output.command, *(f"comment: {c}" for c in output.comments)]
            if output.exception:
                lines.append(f"exception requested: {output.exception}")
            shown = not output.withheld
            if output.withheld:
                where = f" (in {output.uid}.csv, for the checker)" if output.exception else ""
                lines.append(f"values withheld: the output failed its check{where}")
            table = output.result if isinstance(output.result, CheckedTable) else None
            rows = None if isinstance(output.result, CheckedTable) else list(output.result.rows)
            sections.append(
                {
                    "title": f"{output.uid} ({output.kind})",
                    "outcome": output.outcome,
                    "lines": lines,
                    "reasons": list(output.reasons),
                    "table": table if shown else None,
                    "rows": rows if shown else None,
                }
            )
        (folder / "results.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        (folder / "index.html").write_text(
            html_page(f"Checked outputs — {self.policy.describe()}", sections),
            encoding="utf-8",
        )
        digests = [
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
            for p in sorted(folder.iterdir())
        ]
        (folder / "checksums.txt").write_text("\n".join(digests) + "\n", encoding="utf-8")
        return folder
