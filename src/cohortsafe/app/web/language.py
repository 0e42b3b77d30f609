"""The language a visitor chose with the switch, else the screen's own: Dutch for schools
and parents, English for the office and the research environment (their tools are English). Neither
follows the browser's language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

#: screens in English unless a visitor chose Dutch
ENGLISH_FIRST = ("/research/", "/review/", "/office/")


class ChosenLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.known = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen in self.known:
            language = str(chosen)
        elif request.path.startswith(ENGLISH_FIRST):
            language = "en"
        else:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
