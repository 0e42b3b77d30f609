"""The web application's addresses. Nothing personal ever goes into one."""

from django.urls import path

from cohortsafe.app.web import office, parent, reports, research, review, school, views

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
    path("school/kies/", school.choose_school, name="school-choose"),
    path("school/bezwaren/", school.objection_list, name="school-objections"),
    path("school/bezwaren/nieuw/", school.objection_new, name="school-objection-new"),
    path(
        "school/bezwaren/<int:objection_id>/bewijs/",
        school.objection_evidence,
        name="school-objection-evidence",
    ),
    path("school/leerling/<int:pupil_id>/", school.pupil_detail, name="school-pupil"),
    path(
        "school/leerling/<int:pupil_id>/intrekken/",
        school.objection_withdraw,
        name="school-objection-withdraw",
    ),
    path("school/formulieren/", school.form_list, name="school-forms"),
    path("school/formulieren/<str:reference>/", school.form_detail, name="school-form"),
    path("school/import/", school.import_export, name="school-import"),
    path("school/brief/", school.letter, name="school-letter"),
    path("school/brief/download/", school.letter_download, name="school-letter-download"),
    path("school/toestemmingen/", school.consent_list, name="school-consents"),
    path(
        "school/toestemmingen/<int:consent_id>/intrekken/",
        school.consent_withdraw,
        name="school-consent-withdraw",
    ),
    path("school/leveringen/", school.delivery_list, name="school-deliveries"),
    path("school/rapporten/", reports.report_list, name="school-reports"),
    path(
        "school/rapporten/<int:report_id>/<str:kind>/",
        reports.report_download,
        name="school-report",
    ),
    path(
        "school/leveringen/<str:file_name>/",
        school.delivery_download,
        name="school-delivery-download",
    ),
    # researchers
    path("research/", research.projects, name="research-projects"),
    path("research/project/<str:code>/", research.project, name="research-project"),
    path("research/project/<str:code>/verzoek/", research.request_new, name="research-new"),
    path("research/verzoek/<int:number>/", research.request_detail, name="research-request"),
    path("research/verzoek/<int:number>/toevoegen/", research.request_add, name="research-add"),
    path(
        "research/verzoek/<int:number>/indienen/", research.request_submit, name="research-submit"
    ),
    path(
        "research/verzoek/<int:number>/intrekken/",
        research.request_withdraw,
        name="research-withdraw",
    ),
    path("research/verzoek/<int:number>/bundel/", research.request_bundle, name="research-bundle"),
    # office staff
    path("office/", office.overview, name="office-overview"),
    path("office/pakketten/", office.packages, name="office-packages"),
    path("office/scholen/", office.schools, name="office-schools"),
    path("office/projecten/", office.projects, name="office-projects"),
    path("office/projecten/<str:code>/", office.project, name="office-project"),
    path(
        "office/projecten/<str:code>/<str:step>/",
        office.project_change,
        name="office-project-change",
    ),
    path("office/gebruikers/", office.users, name="office-users"),
    # output checkers (and the office, which releases)
    path("review/", review.queue, name="review-queue"),
    path("review/verzoek/<int:number>/", review.request_detail, name="review-request"),
    path("review/verzoek/<int:number>/stem/", review.vote, name="review-vote"),
    path("review/verzoek/<int:number>/vrijgeven/", review.release, name="review-release"),
    path("review/verzoek/<int:number>/bundel/", review.bundle, name="review-bundle"),
]
