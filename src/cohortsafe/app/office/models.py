"""The office's registers: schools and their keys, pseudonym keys, packages received.

Pupil data never go here: they live, pseudonymised, in the vault.
"""

from __future__ import annotations

from django.db import models


class RegisteredSchool(models.Model):
    """A school location whose packages the office accepts, with its public key."""

    brin = models.CharField(max_length=4)
    vestiging = models.CharField(max_length=2)
    public_key = models.TextField(help_text="The school's public key file, as JSON.")
    fingerprint = models.CharField(max_length=64)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brin", "vestiging"], name="registered_school_unique")
        ]
        ordering = ("brin", "vestiging")

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return self.brin + self.vestiging


class KeyRecord(models.Model):
    """A pseudonym key file, in the order keys of its purpose were introduced."""

    purpose = models.CharField(max_length=10)
    key_id = models.CharField(max_length=40, unique=True)
    position = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200)
    fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text="One-way fingerprint of the key, recorded at creation and checked on every load.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purpose", "position"], name="key_position_unique")
        ]
        ordering = ("purpose", "position")

    def __str__(self) -> str:
        return f"{self.purpose} key {self.key_id}"


class ReceivedPackage(models.Model):
    """Every package or retraction the office was given, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        DUPLICATE = "duplicate"
        SUPERSEDED = "superseded"
        REFUSED = "refused"
        RETRACTED = "retracted"
        REINSTATED = "reinstated"

    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, blank=True)
    package_id = models.CharField(max_length=40, blank=True)
    school = models.CharField(max_length=6, blank=True)
    period = models.CharField(max_length=9, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.TextField(blank=True)
    replaced = models.CharField(max_length=40, blank=True)
    counts = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.CharField(max_length=200)

    class Meta:
        ordering = ("received_at",)

    def __str__(self) -> str:
        return f"{self.file_name}: {self.status}"
