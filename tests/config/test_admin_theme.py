"""Every registered admin renders under the console's theme: lists, add forms and detail pages."""

import pytest
from django.contrib import admin
from django.urls import reverse
from unfold.admin import ModelAdmin

from tests.factories import (
    CompanyFactory,
    F29DeclarationFactory,
    FeeReceiptFactory,
    PurchaseDocumentFactory,
    RcvSummaryFactory,
    SaleDocumentFactory,
    TaskLaunchFactory,
)

pytestmark = pytest.mark.django_db


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def one_of_each(superuser):
    CompanyFactory(subscribed=True)
    TaskLaunchFactory()
    for factory in (PurchaseDocumentFactory, SaleDocumentFactory, RcvSummaryFactory):
        factory()
    FeeReceiptFactory()
    F29DeclarationFactory()


def test_every_registered_admin_uses_the_theme():
    plain = [
        model._meta.label for model, model_admin in _registered() if not isinstance(model_admin, ModelAdmin)
    ]
    assert plain == []


def test_every_admin_list_and_detail_page_renders(client, one_of_each):
    for model, model_admin in _registered():
        opts = model._meta
        listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listing.status_code == 200, opts.label
        first = model_admin.get_queryset(listing.wsgi_request).first()
        if first is not None:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert client.get(url).status_code == 200, opts.label


def test_every_admin_add_page_it_offers_renders(client, superuser):
    for model, _ in _registered():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        answer = client.get(url)
        assert answer.status_code in (200, 403), opts.label
