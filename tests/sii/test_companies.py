"""Companies: validated RUTs, encrypted SII passwords, who counts as subscribed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sii.models import Company
from sii.rut import InvalidRut
from sii.selectors import (
    CompanyNotFound,
    company_get,
    company_ids_with_active_subscription,
    company_ids_with_sii_credentials,
)
from sii.services.companies import company_create
from tests.factories import CompanyFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_a_company_is_created_from_any_spelling_of_its_rut():
    company = company_create(name="Demo SpA", rut=" 76.086.428-5 ", sii_password="s3creta")

    assert (company.rut_body, company.rut_dv) == (76086428, "5")
    assert company.rut_formatted == "76.086.428-5"
    assert str(company.pk) in company_ids_with_active_subscription()


def test_a_rut_with_a_wrong_check_digit_is_refused():
    with pytest.raises(InvalidRut, match="wrong check digit"):
        company_create(name="Demo SpA", rut="76.086.428-6")
    company = CompanyFactory.build(rut_body=76086428, rut_dv="6")
    with pytest.raises(ValidationError):
        company.clean()


def test_the_sii_password_is_encrypted_at_rest_and_never_shown():
    company = company_create(name="Demo SpA", rut="76086428-5", sii_password="clave-super-secreta")

    stored = Company.objects.filter(pk=company.pk).values_list("sii_password_encrypted", flat=True).get()
    assert "clave-super-secreta" not in stored
    assert Company.objects.get(pk=company.pk).get_sii_password() == "clave-super-secreta"
    assert "clave-super-secreta" not in repr(company) + str(company)


def test_a_missing_or_malformed_company_id_is_company_not_found():
    with pytest.raises(CompanyNotFound, match="Company not found"):
        company_get(company_id="123e4567-e89b-12d3-a456-426614174000")
    with pytest.raises(CompanyNotFound, match="Company not found"):
        company_get(company_id="test-company-id")


def test_only_current_active_subscriptions_count():
    today = timezone.localdate()
    current = SubscriptionFactory().company
    open_ended = SubscriptionFactory(ends_on=None).company
    SubscriptionFactory(status="inactive")
    SubscriptionFactory(ends_on=today - datetime.timedelta(days=1))
    SubscriptionFactory(starts_on=today + datetime.timedelta(days=1))
    CompanyFactory()

    assert set(company_ids_with_active_subscription()) == {str(current.pk), str(open_ended.pk)}


def test_only_companies_with_a_password_have_sii_credentials():
    with_password = CompanyFactory()
    CompanyFactory(without_credentials=True)

    assert company_ids_with_sii_credentials() == [str(with_password.pk)]
