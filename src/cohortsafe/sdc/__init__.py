"""Disclosure control: checked tables, secondary suppression, differencing and outputs.

Everything a secure environment needs to decide whether an output may leave it without
identifying a pupil or a school:

- :func:`crosstab` / :func:`pivot_table` compute a table from microdata (DuckDB,
  Parquet, CSV, Arrow, pandas, polars) in one DuckDB pass, apply the policy's rules to
  every cell (margins included) and choose the complementary suppressions exactly
  (:class:`CheckedTable`, with :meth:`CheckedTable.audit`);
- :class:`Ledger` keeps everything a project released, with the records behind it, and
  :func:`combined_check` judges a new output with all of it (differencing, linked
  tables, re-runs, any mix of statistics); :class:`ReleaseHistory` is the older,
  pairwise differencing of table populations;
- :func:`check_regression`, :func:`histogram`, :func:`percentiles` and
  :func:`summary_statistics` check other outputs;
- :class:`Session` is the researcher's ACRO-style front door;
- :class:`Policy` / :func:`load_policy` hold every rule's parameters (TOML).

>>> import pandas as pd
>>> import cohortsafe.sdc as sdc
>>> frame = pd.DataFrame({"pupil": [f"p{i}" for i in range(50)],
...                       "school": [f"s{i % 5}" for i in range(50)],
...                       "domain": ["lezen", "rekenen"] * 25})
>>> table = sdc.crosstab(frame, "domain", pupil="pupil", school="school")
>>> [(c.index["domain"], c.value, c.status) for c in table.cells]
[('lezen', 25, 'ok'), ('rekenen', 25, 'ok'), ('All', 50, 'ok')]

The guarantees and limits are documented in ``docs/sdc.md``.
"""

from cohortsafe.sdc._audit import ATTACKER_MODEL, AuditReport, CellInterval
from cohortsafe.sdc._combined import CombinedResult, combined_check
from cohortsafe.sdc._differencing import ReleaseHistory
from cohortsafe.sdc._ledger import Ledger
from cohortsafe.sdc._outputs import (
    Base,
    CheckedOutput,
    check_regression,
    histogram,
    percentiles,
    summary_statistics,
)
from cohortsafe.sdc._policy import DEFAULT_POLICY, POLICY_NAMES, Policy, load_policy
from cohortsafe.sdc._release import Released, release
from cohortsafe.sdc._render import table_text
from cohortsafe.sdc._session import Output, Session
from cohortsafe.sdc._source import open_source
from cohortsafe.sdc._table import (
    AGGREGATES,
    Cell,
    CheckedTable,
    SuppressionSummary,
    TableRequest,
    crosstab,
    pivot_table,
)

__all__ = [
    "AGGREGATES",
    "ATTACKER_MODEL",
    "DEFAULT_POLICY",
    "POLICY_NAMES",
    "AuditReport",
    "Base",
    "Cell",
    "CellInterval",
    "CheckedOutput",
    "CheckedTable",
    "CombinedResult",
    "Ledger",
    "Output",
    "Policy",
    "ReleaseHistory",
    "Released",
    "Session",
    "SuppressionSummary",
    "TableRequest",
    "check_regression",
    "combined_check",
    "crosstab",
    "histogram",
    "load_policy",
    "open_source",
    "percentiles",
    "pivot_table",
    "release",
    "summary_statistics",
    "table_text",
]
