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
    store_change = models.CharField(
        max_length=32,
        blank=True,
        help_text="Token of the last change of this school's LVS store the registry committed; "
        "an interrupted change is completed when it matches, undone otherwise.",
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


class Objection(models.Model):
    """A parent's or guardian's objection; it applies from the moment it is registered."""

    class Channel(models.TextChoices):
        BRIEF = "brief", "brief"
        EMAIL = "email", "e-mail"
        FORMULIER = "formulier", "formulier"
        MONDELING = "mondeling", "mondeling"
        LAS = "las", "lijst uit het LAS"

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="objections")
    received_on = models.DateField()
    received_from = models.CharField(max_length=200, help_text="The parent or guardian.")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    note = models.TextField(blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.CharField(max_length=200)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.CharField(max_length=200, blank=True)
    withdrawal_note = models.TextField(blank=True)
    evidence_file = models.CharField(
        max_length=100,
        blank=True,
        help_text="The evidence kept at the school, under the home's evidence folder.",
    )
    evidence_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_objection_per_pupil",
            )
        ]
        ordering = ("registered_at",)

    def __str__(self) -> str:
        state = "active" if self.active else "withdrawn"
        return f"objection for {self.pupil} ({state})"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def needs_reinstatement(self) -> bool:
        """Withdrawn after a retraction the office still holds: a reinstatement must follow."""
        if self.active or self.pupil.objections.filter(withdrawn_at__isnull=True).exists():
            return False
        return self.retractions.filter(reinstatements__isnull=True).exists()


class Study(models.Model):
    """A study that asks for special-category data, with the categories and period it covers."""

    code = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    categories = models.JSONField(help_text="Special categories the study asks for.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ("code",)
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.code


class Consent(models.Model):
    """Explicit consent for one pupil, one study and one special category; withdrawable."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="consents")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="consents")
    category = models.CharField(max_length=40)
    given_by = models.CharField(max_length=200)
    given_on = models.DateField()
    evidence = models.CharField(max_length=300, blank=True, help_text="Where the signed form is.")
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.CharField(max_length=200)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "study", "category"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_pupil_study_category",
            )
        ]
        ordering = ("registered_at",)

    def __str__(self) -> str:
        return f"consent {self.study.code}/{self.category} for {self.pupil}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class SentFile(models.Model):
    """A package file the school wrote for the office.

    It is written aside (``pending_file``, a hidden name in the output folder), then
    recorded, then renamed to ``file_name``: a package never exists without its
    record. ``pending_file`` is cleared once the rename is done; a command that
    finds it set finishes the rename.
    """

    file_name = models.CharField(max_length=200)
    pending_file = models.CharField(max_length=1000, blank=True)

    class Meta:
        abstract = True


class Delivery(SentFile):
    """A package delivered to the office: what, when, by whom, and which pupils were left out."""

    delivery_id = models.UUIDField(unique=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="deliveries")
    period = models.CharField(max_length=9)
    seq = models.PositiveIntegerField()
    study = models.ForeignKey(Study, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    office_key = models.CharField(max_length=64, help_text="Fingerprint of the office key.")
    signing_key = models.CharField(max_length=64, help_text="Fingerprint of the signing key.")
    manifest = models.JSONField(help_text="Row counts, digests and exclusions, as delivered.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "period", "seq"], name="delivery_seq_unique")
        ]
        ordering = ("created_at",)
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return self.file_name


class DeliveredPupil(models.Model):
    """A pupil a delivery held, with the number it was delivered under (for retractions)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="pupils")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="deliveries")
    pgn = models.CharField(max_length=9)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "pupil"], name="delivered_pupil_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pupil} in {self.delivery}"


class ExcludedPupil(models.Model):
    """A pupil a delivery left out, and why."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="excluded")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="exclusions")
    reason = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"{self.pupil} left out of {self.delivery}: {self.reason}"


class Retraction(SentFile):
    """A signed retraction sent after a late objection, and the deliveries it retracts."""

    retraction_id = models.UUIDField(unique=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="retractions")
    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="retractions")
    deliveries = models.ManyToManyField(Delivery, related_name="retractions")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.file_name


class Reinstatement(SentFile):
    """A signed reinstatement sent after a withdrawn objection: the office lifts its tombstone."""

    reinstatement_id = models.UUIDField(unique=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="reinstatements")
    objection = models.ForeignKey(
        Objection, on_delete=models.PROTECT, related_name="reinstatements"
    )
    retractions = models.ManyToManyField(Retraction, related_name="reinstatements")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.file_name


class ParentForm(models.Model):
    """An objection a parent sent through the school's web form: pending until the school
    matches it to a pupil and confirms it (then it is an :class:`Objection`), or decides it
    needs contact first. The form itself never looks a child up."""

    class State(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        NEEDS_CONTACT = "needs_contact"
        # a robot's form (the trap field was filled): never shown to the school, and
        # "pending" to whoever looks it up, so a robot cannot tell it was caught
        DISCARDED = "discarded"

    reference = models.CharField(max_length=9, unique=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="parent_forms")
    child_name = models.CharField(max_length=200)
    child_birth_date = models.DateField()
    child_group = models.PositiveSmallIntegerField()
    parent_name = models.CharField(max_length=200)
    parent_contact = models.CharField(max_length=300)
    submitted_at = models.DateTimeField(auto_now_add=True)
    sender = models.CharField(
        max_length=32, help_text="Keyed digest of the sender's address, for rate limits only."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    objection = models.OneToOneField(
        Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="parent_form"
    )

    class Meta:
        ordering = ("submitted_at",)
        indexes = [
            models.Index(fields=["sender", "submitted_at"]),
            models.Index(fields=["school", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"parent form {self.reference} ({self.state})"


class StatusLookup(models.Model):
    """One look at the status page, counted per sender for its rate limit (then deleted)."""

    sender = models.CharField(max_length=32)
    looked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["sender", "looked_at"])]

    def __str__(self) -> str:
        return f"status lookup at {self.looked_at:%Y-%m-%d %H:%M}"
