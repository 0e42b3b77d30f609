"""Research projects: what the office approved, for whom, until when.

The data themselves never come here: a project's extract is Parquet in its
folder, built from the vault under the project's own pseudonyms.
"""

from __future__ import annotations

from django.db import models

from cohortsafe.app.accounts.models import Account


class Project(models.Model):
    """An approved research project, open to its researchers until its end date."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=300)
    institution = models.CharField(max_length=300)
    approval = models.CharField(
        max_length=200, blank=True, help_text="Reference of the approval the project rests on."
    )
    until = models.DateField(help_text="Last day the researchers have access.")
    policy = models.CharField(
        max_length=100, help_text="The disclosure policy's name (shipped, or the office's own)."
    )
    policy_text = models.TextField(
        blank=True, help_text="The office's own policy as TOML; empty for a shipped policy."
    )
    policy_fingerprint = models.CharField(max_length=16)
    reviews = models.PositiveSmallIntegerField(default=2)
    study = models.CharField(
        max_length=100,
        blank=True,
        help_text="The consented study whose special-category rows it may see.",
    )
    school_years = models.JSONField(default=list)
    key_file = models.CharField(max_length=200, help_text="The project key's file in keys/.")
    key_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=200, blank=True)
    # the workspace: when it was built, and whether what it holds is still what is approved
    built_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=False)
    stale_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return self.code


class ApprovedTable(models.Model):
    """One vault table a project may see, and which of its columns."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tables")
    table = models.CharField(max_length=40)
    columns = models.JSONField(default=list)
    approved_at = models.DateTimeField(auto_now=True)
    approved_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "table"], name="approved_table_unique")
        ]
        ordering = ("project", "table")

    def __str__(self) -> str:
        return f"{self.project.code}: {self.table}"


class Membership(models.Model):
    """A researcher granted access to a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="projects")
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "account"], name="membership_unique")
        ]
        ordering = ("project", "account")

    def __str__(self) -> str:
        return f"{self.account.name} in {self.project.code}"


class ResearchOutput(models.Model):
    """An output as the office computed and checked it from the researcher's specification."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outputs")
    author = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outputs")
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    spec = models.JSONField()
    outcome = models.CharField(max_length=10)
    reasons = models.JSONField(default=list)
    report = models.JSONField(default=dict)
    content = models.TextField(blank=True, help_text="The released content as CSV.")
    digest = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="output_name_unique")
        ]
        ordering = ("project", "name")

    def __str__(self) -> str:
        return f"{self.project.code}/{self.name}"


class OutputRequest(models.Model):
    """Outputs a researcher asks to take out of the environment, and what became of it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="requests")
    author = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="requests")
    title = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=20, default="pending")
    round = models.PositiveSmallIntegerField(default=0, help_text="Times it was submitted.")
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)
    note = models.TextField(blank=True, help_text="Why the system returned or refused it.")
    bundle_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"request {self.pk} of {self.project.code} ({self.state})"


class RequestItem(models.Model):
    """One output or free file in a request, with what its author says of it."""

    request = models.ForeignKey(OutputRequest, on_delete=models.CASCADE, related_name="items")
    output = models.ForeignKey(ResearchOutput, on_delete=models.PROTECT, null=True, blank=True)
    name = models.CharField(max_length=120)
    file_data = models.BinaryField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, help_text="The output's digest when added.")
    context = models.TextField(blank=True)
    controls = models.TextField(blank=True)
    exception = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="request_item_unique")
        ]
        ordering = ("request", "name")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.name}"


class Vote(models.Model):
    """One checker's decision on one item, in one round of review."""

    class Decision(models.TextChoices):
        APPROVED = "approved"
        CHANGES_REQUESTED = "changes_requested"

    item = models.ForeignKey(RequestItem, on_delete=models.CASCADE, related_name="votes")
    reviewer = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="votes")
    round = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer", "round"], name="vote_unique")
        ]
        ordering = ("item", "round", "at")

    def __str__(self) -> str:
        return f"{self.reviewer.name} on {self.item.name}: {self.decision}"
