"""Publication: what leaves the office for schools and the public, protected first.

- :func:`growth_cells` reads one school year's learning growth from the vault in one
  DuckDB pass; :func:`build_school_report` turns it into one school's feedback report,
  every figure checked (own figures by the ``school_report`` policy, figures about other
  schools by the ``research`` policy's rules); :func:`render_report_html` and
  :func:`render_report_pdf` lay it out.

The method and its limits are documented in ``docs/publish.md``.
"""

from cohortsafe.publish._growth import MEASURES, CellKey, GrowthCells, growth_cells, pupil_growth
from cohortsafe.publish._report_html import (
    LANGUAGES,
    ReportHeading,
    render_report_html,
    render_report_pdf,
)
from cohortsafe.publish._school_report import (
    ABOUT_AVERAGE,
    Measures,
    ReportPart,
    ReportRow,
    SchoolReport,
    Share,
    build_school_report,
)

__all__ = [
    "ABOUT_AVERAGE",
    "LANGUAGES",
    "MEASURES",
    "CellKey",
    "GrowthCells",
    "Measures",
    "ReportHeading",
    "ReportPart",
    "ReportRow",
    "SchoolReport",
    "Share",
    "build_school_report",
    "growth_cells",
    "pupil_growth",
    "render_report_html",
    "render_report_pdf",
]
