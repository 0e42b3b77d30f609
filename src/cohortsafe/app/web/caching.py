"""No page is kept by a browser or a proxy: pupils' data, a parent's reference and a bundle
must not come back with the back button on a shared school computer after signing out.
Static files (served before this middleware) keep their own long caching."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NeverCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Cache-Control alone: an Expires date would make two answers differ by the clock
        patch_cache_control(
            response, no_store=True, no_cache=True, must_revalidate=True, private=True, max_age=0
        )
        return response
