"""What people at the school look up and edit. Bulk tables live in the LVS store, not here."""

from __future__ import annotations

from django.db import models


class School(models.Model):
    """A school location (BRIN + vestiging) whose LVS exports were imported."""

    brin = models.CharField(max_length=4)
    vestiging = models.CharField(max_length=2)
    name = models.CharField(max_length=200, blank=True)
    contact = models.CharField(
        max_length=300, blank=True, help_text="Who parents contact to object (name, e-mail)."
    )
    latest_year = models.CharField(
        max_length=9, blank=True, help_text="School year of the newest export imported."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brin", "vestiging"], name="school_location_unique")
        ]
        ordering = ("brin", "vestiging")

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return self.brin + self.vestiging


class Pupil(models.Model):
    """A pupil as the school's newest export describes them; kept after they leave."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    leerlingnummer = models.CharField(max_length=20)
    bsn = models.CharField(max_length=9, blank=True)
    onderwijsnummer = models.CharField(max_length=9, blank=True)
    voornamen = models.CharField(max_length=200)
    tussenvoegsel = models.CharField(max_length=20, blank=True)
    achternaam = models.CharField(max_length=200)
    geboortedatum = models.DateField()
    geslacht = models.CharField(max_length=1)
    postcode = models.CharField(max_length=6)
    huisnummer = models.PositiveIntegerField()
    huisnummertoevoeging = models.CharField(max_length=10, blank=True)
    jaargroep = models.PositiveSmallIntegerField()
    current = models.BooleanField(
        default=True, help_text="In the school's newest export (false once the pupil left)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "leerlingnummer"], name="pupil_unique")
        ]
        ordering = ("school", "leerlingnummer")

    def __str__(self) -> str:
        return f"{self.school.code}/{self.leerlingnummer}"

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.voornamen, self.tussenvoegsel, self.achternaam) if p)


class ExportImport(models.Model):
    """An accepted import of one LVS export."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="imports")
    school_year = models.CharField(max_length=9)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.CharField(max_length=200)
    rows = models.JSONField(default=dict)

    class Meta:
        ordering = ("imported_at",)

    def __str__(self) -> str:
        return f"{self.school.code} {self.school_year} ({self.imported_at:%Y-%m-%d})"
