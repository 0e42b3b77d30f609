"""An account: Django's user (the web logs it in) with the one role it acts in."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Account(models.Model):
    """What a user may do: office staff, researcher, output checker or school administrator."""

    class Role(models.TextChoices):
        OFFICE = "office"
        RESEARCHER = "researcher"
        CHECKER = "checker"
        SCHOOL = "school"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="account"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    school = models.CharField(
        max_length=6, blank=True, help_text="A school administrator's school location (BRINVEST)."
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=200)

    class Meta:
        ordering = ("user__username",)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role})"

    @property
    def name(self) -> str:
        return str(self.user.username)
