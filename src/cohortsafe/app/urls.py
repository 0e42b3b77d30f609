"""URL routes: the language switch and the web screens (:mod:`cohortsafe.app.web`)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cohortsafe.app.web.urls")),
]

handler404 = "cohortsafe.app.web.views.not_found"
