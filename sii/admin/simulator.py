"""The SII simulator's fault switches in the admin: set one for a company, clear them (SII_MODE=simulator)."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from sii import selectors
from sii.models import Company
from sii.services.simulator import (
    SimulatorControlError,
    simulator_fault_add,
    simulator_faults_clear,
    simulator_faults_list,
    simulator_in_use,
)
from sii.simulator.faults import BHE, F29, KINDS, LOGIN, RESUMEN, Fault
from tasks_api.console import LAUNCH, admin_pages_add

URL_NAME = "sii_simulator_faults"  # reverse("admin:sii_simulator_faults")
TEMPLATE = "admin/sii/simulator_faults.html"
TARGETS = [
    ("", "Where this kind usually goes"),
    (LOGIN, "Login (CAutInicio.cgi)"),
    (RESUMEN, "RCV summaries (getResumen)"),
    ("getDetalleCompra", "Purchases (getDetalleCompra)"),
    ("getDetalleVenta", "Sales (getDetalleVenta)"),
    (F29, "F29 (getDeclaracionConEstados)"),
    (BHE, "Fee receipts, both reports (/cgi_IMT/)"),
    ("/", "Every SII request"),
]
MATCHES_SHOWN = 5


def simulator_page_visible(request: HttpRequest) -> bool:
    """For the admin's navigation: the page exists only while the simulator is in use."""
    return simulator_in_use() and request.user.is_active and request.user.is_staff


class SimulatorFaultForm(forms.Form):
    company = forms.CharField(
        label="Company", help_text="Name or RUT, in any spelling: 76.086.428-5, 76086428"
    )
    kind = forms.ChoiceField(label="Fault", choices=[(name, name) for name in KINDS])
    argument = forms.CharField(
        label="Argument", required=False, help_text="What follows 'kind:', e.g. 503 for http, 2000 for delay"
    )
    path = forms.ChoiceField(label="On", choices=TARGETS, required=False)
    times = forms.IntegerField(
        label="Times", required=False, min_value=1, initial=1, help_text="Empty: every time, until cleared"
    )

    def clean_company(self) -> Company:
        term = self.cleaned_data["company"]
        ids = selectors.company_ids_matching(term, limit=MATCHES_SHOWN + 1)
        if len(ids) == 1:
            return Company.objects.get(pk=ids[0])
        if not ids:
            raise ValidationError(f"No company's name or RUT matches {term!r}.")
        names = ", ".join(
            f"{c.name} ({c.rut_formatted})" for c in Company.objects.filter(pk__in=ids[:MATCHES_SHOWN])
        )
        raise ValidationError(
            f"Several companies match {term!r}: {names}… Type more of the name, or the RUT."
        )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if kind := cleaned.get("kind"):
            argument = cleaned.get("argument", "").strip()
            try:  # the simulator's own check, so the message comes before any request
                cleaned["fault"] = Fault.parse(f"{kind}:{argument}" if argument else kind).spec
            except ValueError as exc:
                self.add_error("argument", str(exc))
            cleaned["path"] = cleaned.get("path") or KINDS[kind].target
        return cleaned


def faults_view(request: HttpRequest) -> HttpResponse:
    if not simulator_in_use():
        raise Http404("The SII simulator is not in use (SII_MODE=live).")
    if request.method != "POST":
        return _render(request, SimulatorFaultForm())
    if not request.user.has_perm(LAUNCH):
        raise PermissionDenied("Setting simulator faults needs the permission to launch tasks.")
    if request.POST.get("action") == "clear":
        return _clear(request)
    return _set(request, SimulatorFaultForm(request.POST))


def _set(request: HttpRequest, form: SimulatorFaultForm) -> HttpResponse:
    if not form.is_valid():
        return _render(request, form)
    company, spec, target, times = (form.cleaned_data[k] for k in ("company", "fault", "path", "times"))
    try:
        simulator_fault_add(company=company, path=target, fault=spec, times=times)
    except SimulatorControlError as exc:
        form.add_error(None, str(exc))
        return _render(request, form)
    how_often = "until cleared" if times is None else f"{times} time{'s' if times > 1 else ''}"
    messages.success(request, f"{company.name}'s requests to {target} now meet {spec}, {how_often}.")
    return HttpResponseRedirect(reverse(f"admin:{URL_NAME}"))


def _clear(request: HttpRequest) -> HttpResponse:
    company = _company_or_none(request.POST.get("company_id", ""))
    try:
        simulator_faults_clear(company=company)
    except SimulatorControlError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cleared {company.name}'s faults." if company else "Cleared every fault.")
    return HttpResponseRedirect(reverse(f"admin:{URL_NAME}"))


def _company_or_none(company_id: str) -> Company | None:
    try:
        return Company.objects.filter(pk=uuid.UUID(company_id)).first() if company_id else None
    except ValueError:
        return None


def _render(request: HttpRequest, form: SimulatorFaultForm) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "SII simulator faults",
        "form": form,
        "can_set": request.user.has_perm(LAUNCH),
        "kinds": KINDS,
        **_active_faults(),
    }
    return TemplateResponse(request, TEMPLATE, context)


def _active_faults() -> dict:
    try:
        rules = simulator_faults_list()
    except SimulatorControlError as exc:
        return {"faults": [], "simulator_error": str(exc)}
    companies = Company.objects.in_bulk([r["rut"] for r in rules if r["rut"]], field_name="rut_body")
    return {"faults": [{**rule, "company": companies.get(rule["rut"])} for rule in rules]}


admin_pages_add(path("sii/simulator/faults/", admin.site.admin_view(faults_view), name=URL_NAME))
