"""The admin's company form: one RUT field in any spelling and a write-only SII password."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminTextInputWidget

from sii import rut as rut_helpers
from sii.models import Company
from sii.services.credentials import clave_rejected_at_text


class CompanyAdminForm(forms.ModelForm):
    # unfold's widgets: the admin theme styles only its own inputs.
    rut = forms.CharField(
        label="RUT",
        max_length=20,
        widget=UnfoldAdminTextInputWidget,
        help_text="Any spelling: 76.086.428-5, 76086428-5 …",
    )
    sii_password = forms.CharField(
        label="SII password",
        required=False,
        strip=False,
        # Never rendered back: the page must not carry the password in any form.
        widget=UnfoldAdminPasswordWidget(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password",
    )

    class Meta:
        model = Company
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.rut_body:
            self.initial.setdefault("rut", self.instance.rut_formatted)
        rejected_at = self.instance.sii_password_rejected_at
        if rejected_at and "sii_password" in self.fields:
            self.fields["sii_password"].help_text = (
                f"The SII rejected the stored clave on {clave_rejected_at_text(rejected_at)}. Enter the "
                "correct clave: no sync logs into the SII as this company until it changes."
            )

    def clean_rut(self) -> rut_helpers.Rut:
        try:
            parsed = rut_helpers.parse(self.cleaned_data["rut"])
        except rut_helpers.InvalidRut as exc:
            raise ValidationError(str(exc)) from None
        taken = Company.objects.filter(rut_body=parsed.body).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(f"A company with RUT {parsed.formatted} already exists.")
        return parsed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if parsed := cleaned.get("rut"):
            # Set here, before the model's own validation (Company.clean) checks them.
            self.instance.rut_body, self.instance.rut_dv = parsed.body, parsed.dv
        return cleaned

    def _post_clean(self) -> None:
        # Company.clean() computes a check digit from rut_body, which a new company only has
        # once the RUT field is valid; its error is already on the form.
        if "rut" not in self.errors:
            super()._post_clean()  # type: ignore[misc]  # Django's private hook, missing in the stubs

    def columns_to_save(self) -> list[str]:
        """The columns saving an existing company writes: never those syncs update meanwhile
        (the sync lock, last sync times, the clave's last login outcome) unless a new password
        resets them."""
        columns = ["name", "rut_body", "rut_dv", "updated_at"]
        if self.cleaned_data.get("sii_password"):
            columns += ["sii_password_encrypted", "sii_password_rejected_at", "sii_password_accepted_at"]
        return columns

    def save(self, commit: bool = True) -> Company:
        if password := self.cleaned_data.get("sii_password"):
            self.instance.set_sii_password(password)
        return super().save(commit=commit)
