"""A request body larger than its page can take is refused before anything reads it.

Django writes an uploaded file to disk as it parses a form, and the CSRF check parses every
form, so without this anyone could fill the disk through the public parent form. The limit
is a little above what each page's own check accepts, so that page gives the helpful error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cohortsafe.evidence import EVIDENCE_LIMIT

_MB = 2**20
#: Path prefixes that take files, and their limit; every other page takes 1 MB.
LIMITS = (
    ("/office/pakketten/", 2048 * _MB),
    ("/school/import/", 101 * _MB),
    ("/school/bezwaren/nieuw/", EVIDENCE_LIMIT + _MB),
)
DEFAULT_LIMIT = _MB


def body_limit(path: str) -> int:
    return next((limit for prefix, limit in LIMITS if path.startswith(prefix)), DEFAULT_LIMIT)


class BodySizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0  # Django reads no body it cannot size
        if size > body_limit(request.path):
            return render(request, "web/too_large.html", status=413)
        return self.get_response(request)
