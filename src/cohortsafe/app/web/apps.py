from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cohortsafe.app.web"
    label = "web"
    verbose_name = "Web screens"
