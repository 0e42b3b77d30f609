"""A school administrator fetches their school's feedback reports from the office.

The office keeps every report in its home and lists it by BRIN and vestiging; this
screen lists only the reports of the schools the account looks after, and a report of
any other school is a 404, whatever the address says.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cohortsafe.app.audit.services import record
from cohortsafe.app.publish.models import SchoolReportFile
from cohortsafe.app.publish.services import reports_folder
from cohortsafe.app.web.school import school_admin
from cohortsafe.app.web.views import web_actor

_KINDS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _own(request: HttpRequest) -> list[str]:
    return list(request.account.schools)  # type: ignore[attr-defined]


def _latest(codes: list[str]) -> list[SchoolReportFile]:
    """The newest report per school and school year of ``codes``."""
    seen: set[tuple[str, str]] = set()
    latest = []
    for made in SchoolReportFile.objects.filter(brin__in=[c[:4] for c in codes]):
        key = (made.code, made.period)
        if made.code in codes and key not in seen:
            seen.add(key)
            latest.append(made)
    return latest


@school_admin
def report_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/school/reports.html", {"reports": _latest(_own(request))})


@school_admin
def report_download(request: HttpRequest, report_id: int, kind: str) -> HttpResponse:
    made = get_object_or_404(SchoolReportFile, pk=report_id)
    if made.code not in _own(request) or kind not in _KINDS:
        raise Http404
    name = made.html_file if kind == "html" else made.pdf_file
    if not name:
        raise Http404
    try:
        handle = (reports_folder() / name).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    record("publish.report_downloaded", actor=web_actor(request), subject=str(made.pk), kind=kind)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"rapport-{made.code}-{made.period}.{kind}",
        content_type=_KINDS[kind],
    )
