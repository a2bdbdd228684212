"""The admin's company form: one RUT field in any spelling and a write-only SII password."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sii import rut as rut_helpers
from sii.models import Company


class CompanyAdminForm(forms.ModelForm):
    rut = forms.CharField(label="RUT", max_length=20, help_text="Any spelling: 76.086.428-5, 76086428-5 …")
    sii_password = forms.CharField(
        label="SII password",
        required=False,
        strip=False,
        # Never rendered back: the page must not carry the password in any form.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password",
    )

    class Meta:
        model = Company
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.rut_body:
            self.initial.setdefault("rut", self.instance.rut_formatted)

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

    def save(self, commit: bool = True) -> Company:
        if password := self.cleaned_data.get("sii_password"):
            self.instance.set_sii_password(password)
        return super().save(commit=commit)
