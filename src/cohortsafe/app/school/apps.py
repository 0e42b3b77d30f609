from django.apps import AppConfig


class SchoolConfig(AppConfig):
    name = "cohortsafe.app.school"
    label = "school"
    verbose_name = "School"
