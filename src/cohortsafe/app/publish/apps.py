from django.apps import AppConfig


class PublishConfig(AppConfig):
    name = "cohortsafe.app.publish"
    label = "publish"
    verbose_name = "Publication"
