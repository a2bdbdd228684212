"""A company picker for admin forms: Django's select2 autocomplete over the Company admin's search."""

import uuid

from django import forms
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse

from sii.models import Company, Subscription
from tasks_api import console

# Django's autocomplete names its target through a relation to it; any foreign key to Company
# does (the view only reads its remote model and to_field).
COMPANY_RELATION = Subscription._meta.get_field("company")


class CompanyAutocompleteView(AutocompleteJsonView):
    """Companies matching a term (name, or RUT in any spelling), 20 a page, as {id, text}; for
    staff who may view companies or launch tasks (the launch form picks a company)."""

    def has_perm(self, request, obj=None) -> bool:
        return super().has_perm(request, obj) or request.user.has_perm(console.LAUNCH)

    def get_queryset(self):
        # The admin's search, over plain companies: a picker needs none of the list's run columns.
        companies, duplicates = self.model_admin.get_search_results(
            self.request, Company.objects.all(), self.term
        )
        return companies.distinct() if duplicates else companies


class CompanyPicker(AutocompleteSelect):
    """Renders only the chosen company, never the whole list; select2 asks the picker view."""

    def __init__(self, admin_site, attrs=None) -> None:
        super().__init__(COMPANY_RELATION, admin_site, attrs=attrs)

    def get_url(self) -> str:
        return reverse(f"{self.admin_site.name}:sii_company_pick")

    def optgroups(self, name, value, attr=None):
        # A value that is no UUID cannot name a company (and would break the lookup): shown as none.
        return super().optgroups(name, [text for text in value if _is_uuid(text)], attr)


class CompanyIdField(forms.ModelChoiceField):
    """A company from the picker, kept as the UUID text the API takes: the API's validation,
    not this field's, says what is wrong with it, in the same words on every surface."""

    def __init__(self, *, admin_site, **kwargs) -> None:
        super().__init__(queryset=Company.objects.all(), widget=CompanyPicker(admin_site), **kwargs)

    def to_python(self, value) -> str:
        return "" if value in self.empty_values else str(value).strip()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True
