"""The web application's addresses. Nothing personal ever goes into one."""

from django.urls import path

from cohortsafe.app.web import parent, school, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("inloggen/", views.sign_in, name="sign-in"),
    path("inloggen/code/", views.second_factor, name="second-factor"),
    path("uitloggen/", views.sign_out, name="sign-out"),
    path("toegankelijkheid/", views.accessibility, name="accessibility"),
    # parents: no account
    path("bezwaar/status/", parent.status, name="parent-status"),
    path("bezwaar/<str:school_code>/", parent.objection_form, name="parent-form"),
    # school administrators
    path("school/", school.overview, name="school-overview"),
    path("school/bezwaren/", school.objection_list, name="school-objections"),
    path("school/bezwaren/nieuw/", school.objection_new, name="school-objection-new"),
    path("school/leerling/<int:pupil_id>/", school.pupil_detail, name="school-pupil"),
    path(
        "school/leerling/<int:pupil_id>/intrekken/",
        school.objection_withdraw,
        name="school-objection-withdraw",
    ),
    path("school/formulieren/", school.form_list, name="school-forms"),
    path("school/formulieren/<str:reference>/", school.form_detail, name="school-form"),
]
