"""What the office published: school feedback reports, each kept for its school only."""

from __future__ import annotations

from django.db import models


class SchoolReportFile(models.Model):
    """One school's report of one school year, as the office made it (the latest counts)."""

    brin = models.CharField(max_length=4)
    vestiging = models.CharField(max_length=2)
    period = models.CharField(max_length=9)
    lang = models.CharField(max_length=2, default="nl")
    made_at = models.DateTimeField(auto_now_add=True)
    made_by = models.CharField(max_length=200)
    withheld = models.BooleanField(default=False)
    #: file names inside the home's reports folder (never a path from outside)
    html_file = models.CharField(max_length=100)
    pdf_file = models.CharField(max_length=100, blank=True)
    html_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-period", "-made_at"]
        indexes = [models.Index(fields=["brin", "vestiging", "period"])]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.period})"

    @property
    def code(self) -> str:
        return f"{self.brin}{self.vestiging}"
