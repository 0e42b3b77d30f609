"""Publication: what leaves the office for schools and the public, protected first.

- :func:`growth_cells` reads one school year's learning growth from the vault in one
  DuckDB pass; :func:`build_school_report` turns it into one school's feedback report,
  every figure checked (own figures by the ``school_report`` policy, figures about other
  schools by the ``research`` policy's rules); :func:`render_report_html` and
  :func:`render_report_pdf` lay it out;
- :func:`public_frames` reads the national count tables' pupils; :func:`checked_tables`
  protects them with the ``research`` policy and the office's publication ledger, or
  :func:`dp_tables` with OpenDP noise; :func:`public_csv` and :func:`render_public_html`
  write them (``.`` for a secret figure).

The method and its limits are documented in ``docs/publish.md``.
"""

from cohortsafe.publish._growth import MEASURES, CellKey, GrowthCells, growth_cells, pupil_growth
from cohortsafe.publish._public import (
    TABLES,
    PublicTable,
    TableSpec,
    checked_tables,
    dp_tables,
    public_frames,
)
from cohortsafe.publish._public_html import HIDDEN, public_csv, render_public_html, symbols_note
from cohortsafe.publish._report_html import (
    LANGUAGES,
    ReportHeading,
    render_report_html,
    render_report_pdf,
)
from cohortsafe.publish._school_report import (
    ABOUT_AVERAGE,
    Measures,
    Populations,
    ReportBasis,
    ReportPart,
    ReportRow,
    SchoolReport,
    Share,
    build_school_report,
    school_report,
)

__all__ = [
    "ABOUT_AVERAGE",
    "HIDDEN",
    "LANGUAGES",
    "MEASURES",
    "TABLES",
    "CellKey",
    "GrowthCells",
    "Measures",
    "Populations",
    "PublicTable",
    "ReportBasis",
    "ReportHeading",
    "ReportPart",
    "ReportRow",
    "SchoolReport",
    "Share",
    "TableSpec",
    "build_school_report",
    "checked_tables",
    "dp_tables",
    "growth_cells",
    "public_csv",
    "public_frames",
    "pupil_growth",
    "render_public_html",
    "render_report_html",
    "render_report_pdf",
    "school_report",
    "symbols_note",
]
