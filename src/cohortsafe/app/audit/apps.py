from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cohortsafe.app.audit"
    label = "audit"
    verbose_name = "Audit log"
