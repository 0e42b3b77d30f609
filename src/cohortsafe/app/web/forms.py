"""The web forms; each one's fields are what its service takes, nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.school.models import Objection, Pupil, Study
from cohortsafe.app.school.services import Evidence
from cohortsafe.errors import UsageError
from cohortsafe.evidence import EVIDENCE_LIMIT, evidence_kind
from cohortsafe.vault import VAULT_SCHEMAS

GROUPS = [(str(n), str(n)) for n in range(1, 9)]


class DateInput(forms.DateInput):
    input_type = "date"


class ParentObjectionForm(forms.Form):
    """The public form: who the child is, who the parent is; nothing is looked up."""

    child_name = forms.CharField(label=_("Your child's full name"), max_length=200)
    child_birth_date = forms.DateField(
        label=_("Your child's date of birth"),
        widget=DateInput(),
        help_text=_("For example 14-03-2017"),
    )
    child_group = forms.TypedChoiceField(
        label=_("Group at school"),
        choices=[("", "–"), *GROUPS],
        coerce=int,
        help_text=_("Group 1 to 8"),
    )
    parent_name = forms.CharField(label=_("Your name"), max_length=200)
    parent_contact = forms.CharField(
        label=_("Your e-mail address or phone number"),
        max_length=300,
        help_text=_("The school uses this only if it has a question about your objection."),
    )
    # A field people never see (the style sheet hides it); a robot fills it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def clean_child_birth_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["child_birth_date"]
        today = dt.date.today()
        if not today.replace(year=today.year - 16) <= value <= today:
            raise forms.ValidationError(_("Check the date of birth: it is not that of a pupil."))
        return value


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference number"), max_length=12, help_text=_("For example K7M4-Q2XP")
    )


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(), strip=False)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code is 6 digits.")},
    )


class PupilChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        pupil: Pupil = obj
        return f"{pupil.display_name} ({pupil.geboortedatum:%d-%m-%Y}, groep {pupil.jaargroep})"


class ObjectionForm(forms.Form):
    pupil = PupilChoiceField(label=_("Pupil"), queryset=Pupil.objects.none())
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    received_from = forms.CharField(label=_("From (parent or guardian)"), max_length=200)
    channel = forms.ChoiceField(label=_("How"), choices=Objection.Channel.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.FileField(
        label=_("The letter or e-mail (optional)"),
        required=False,
        help_text=_("A PDF, photo (PNG or JPG) or e-mail (EML or TXT) of at most 10 MB."),
    )

    def __init__(self, *args: Any, pupils: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils  # type: ignore[attr-defined]

    def clean_received_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["received_on"]
        if value > dt.date.today():
            raise forms.ValidationError(_("An objection cannot be received in the future."))
        return value

    def clean_evidence(self) -> Evidence | None:
        upload = self.cleaned_data.get("evidence")
        if not upload:
            return None
        refused = forms.ValidationError(
            _("This file cannot be kept: send a PDF, PNG, JPG, EML or TXT file of at most 10 MB.")
        )
        if upload.size is None or upload.size > EVIDENCE_LIMIT:
            raise refused
        evidence = Evidence(upload.name or "", b"".join(upload.chunks()))
        try:
            evidence_kind(evidence.name, evidence.data)
        except UsageError:
            raise refused from None
        return evidence


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Why it is withdrawn"), required=False, max_length=500)


class ConfirmForm(forms.Form):
    pupil = PupilChoiceField(
        label=_("The pupil this objection is for"), queryset=Pupil.objects.none()
    )
    # Confirming tells the sender (on the status page) that the child is at this school:
    # only once the school knows the sender is the child's parent or guardian.
    checked = forms.BooleanField(
        label=_("I checked that the sender is a parent or guardian of this pupil"),
        help_text=_("For example: the contact details match those the school has."),
    )

    def __init__(self, *args: Any, pupils: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils  # type: ignore[attr-defined]


class NeedsContactForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need to contact the parent"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NewRequestForm(forms.Form):
    title = forms.CharField(label=_("Title of the request"), max_length=200)


class AddOutputsForm(forms.Form):
    """Outputs go into a request in groups, each with what it shows and how it is protected."""

    outputs = forms.MultipleChoiceField(
        label=_("Outputs"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    context = forms.CharField(
        label=_("What the outputs show"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    controls = forms.CharField(
        label=_("How they are protected"),
        help_text=_("For example: cells under 10 pupils suppressed, rounded to 1 decimal."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    exception = forms.CharField(
        label=_("Exception request (only for an output that does not pass)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outputs"].choices = [(n, n) for n in names]  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    """One checker's decision on every output of a request, or a rejection of it all."""

    APPROVE, CHANGES = "approve", "changes"
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        help_text=_("Needed when you ask for changes or reject. The author reads it."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    action = forms.ChoiceField(choices=[("vote", "vote"), ("reject", "reject")])

    def __init__(self, *args: Any, items: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for number, name in enumerate(items):
            self.fields[f"item_{number}"] = forms.ChoiceField(
                label=name,
                choices=[(self.APPROVE, _("Approve")), (self.CHANGES, _("Changes needed"))],
                widget=forms.RadioSelect,
                required=False,
            )

    @property
    def item_fields(self) -> list[Any]:
        return [self[f"item_{n}"] for n in range(len(self.items))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "reject":
            if not data.get("comment", "").strip():
                raise forms.ValidationError(_("Say why you reject the request."))
            return data
        missing = [n for i, n in enumerate(self.items) if not data.get(f"item_{i}")]
        if missing:
            message = _("Decide on every output: %(names)s") % {"names": ", ".join(missing)}
            raise forms.ValidationError(message)
        if self.changes and not data.get("comment", "").strip():
            raise forms.ValidationError(_("Say which changes are needed."))
        return data

    def _decided(self, decision: str) -> list[str]:
        if self.rejects:
            return []
        data = self.cleaned_data
        return [n for i, n in enumerate(self.items) if data.get(f"item_{i}") == decision]

    @property
    def rejects(self) -> bool:
        return bool(self.cleaned_data.get("action") == "reject")

    @property
    def approved(self) -> list[str]:
        return self._decided(self.APPROVE)

    @property
    def changes(self) -> list[str]:
        return self._decided(self.CHANGES)


class ConsentForm(forms.Form):
    """Explicit consent for special-category data: for one pupil, one study, its categories."""

    pupil = PupilChoiceField(label=_("Pupil"), queryset=Pupil.objects.none())
    study = forms.ModelChoiceField(label=_("Study"), queryset=Study.objects.none())
    categories = forms.MultipleChoiceField(
        label=_("Categories consented to"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    given_by = forms.CharField(label=_("Given by (parent or guardian)"), max_length=200)
    given_on = forms.DateField(label=_("Given on"), widget=DateInput())
    evidence = forms.CharField(
        label=_("Where the signed form is kept"), max_length=300, required=False
    )

    def __init__(self, *args: Any, pupils: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils  # type: ignore[attr-defined]
        studies = Study.objects.order_by("code")
        self.fields["study"].queryset = studies  # type: ignore[attr-defined]
        names = sorted({c for s in studies for c in s.categories})
        self.fields["categories"].choices = [(c, c) for c in names]  # type: ignore[attr-defined]

    def clean_given_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["given_on"]
        if value > dt.date.today():
            raise forms.ValidationError(_("Consent cannot be given in the future."))
        return value


class DeliveryForm(forms.Form):
    period = forms.ChoiceField(label=_("School year"), choices=())
    study = forms.ModelChoiceField(
        label=_("Also special-category data consented for this study"),
        queryset=Study.objects.none(),
        required=False,
        empty_label=_("No: no special-category data"),
    )
    before_deadline = forms.BooleanField(
        label=_("Deliver although parents can still object this year"), required=False
    )

    def __init__(self, *args: Any, years: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(y, y) for y in years]  # type: ignore[attr-defined]
        self.fields["study"].queryset = Study.objects.order_by("code")  # type: ignore[attr-defined]


# --- the office's forms -------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data]
        return [one(data, initial)]


class ReceiveForm(forms.Form):
    files = MultipleFileField(
        label=_("Packages and retractions (.nco)"),
        help_text=_("As the schools sent them; they are checked, decrypted and taken in order."),
    )


class SchoolKeyForm(forms.Form):
    school = forms.CharField(label=_("School location (BRIN + vestiging)"), max_length=6)
    key = forms.FileField(label=_("The school's public key (school.pub)"))
    replace = forms.BooleanField(
        label=_("Replace the key registered before (the school made a new one)"), required=False
    )


class ProjectForm(forms.Form):
    code = forms.CharField(label=_("Project code"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=300)
    institution = forms.CharField(label=_("Institution"), max_length=300)
    approval = forms.CharField(label=_("Approval reference"), max_length=100, required=False)
    until = forms.DateField(label=_("Access until"), widget=DateInput())
    reviews = forms.IntegerField(label=_("Reviews per request"), min_value=2, initial=2)


class GrantForm(forms.Form):
    user = forms.ChoiceField(label=_("Researcher"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = Account.objects.filter(role=Account.Role.RESEARCHER).select_related("user")
        self.fields["user"].choices = [(a.name, a.name) for a in names]  # type: ignore[attr-defined]


class VariablesForm(forms.Form):
    table = forms.ChoiceField(label=_("Vault table"), choices=())
    columns = forms.CharField(
        label=_("Approved columns"),
        help_text=_("Comma-separated, e.g. leergebied,jaargroep,vaardigheidsscore"),
        max_length=1000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = [(t, t) for t in VAULT_SCHEMAS]  # type: ignore[attr-defined]

    @property
    def columns_list(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["columns"].split(",") if c.strip()]


class AccountForm(forms.Form):
    name = forms.CharField(label=_("User name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            ("office", _("office staff")),
            ("researcher", _("researcher")),
            ("checker", _("output checker")),
        ],
    )


class ImportForm(forms.Form):
    export = forms.FileField(
        label=_("The export from your pupil tracking system, as a zip file"),
        help_text=_("The CSV files of one school year (leerlingen.csv, toetsresultaten.csv, …)."),
    )
    replace = forms.BooleanField(
        label=_("An older export replaces what the school holds for its school year"),
        required=False,
    )
