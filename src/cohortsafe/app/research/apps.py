from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "cohortsafe.app.research"
    label = "research"
    verbose_name = "Research"
