from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "cohortsafe.app.office"
    label = "office"
    verbose_name = "Office"
