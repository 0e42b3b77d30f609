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
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=200)

    class Meta:
        ordering = ("user__username",)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role})"

    @property
    def name(self) -> str:
        return str(self.user.username)

    @property
    def schools(self) -> list[str]:
        """A school administrator's school locations (BRINVEST), in order; others have none."""
        return list(self.school_access.order_by("school").values_list("school", flat=True))


class SchoolAccess(models.Model):
    """One school location a school administrator looks after (a board may have several)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="school_access")
    school = models.CharField(max_length=6, help_text="The school location (BRINVEST).")
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "school"], name="one_access_per_school")
        ]
        ordering = ("school",)

    def __str__(self) -> str:
        return f"{self.account.name}: {self.school}"
