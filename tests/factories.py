"""factory_boy factories for the models the tests need."""

import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from sii import crypto, rut
from sii.models import Company, Subscription

SIMULATOR_CLAVE = "clave-de-prueba"  # the simulator accepts any clave but "wrong"


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Empresa {n} SpA")
    rut_body = factory.Sequence(lambda n: 76_100_000 + n)
    rut_dv = factory.LazyAttribute(lambda company: rut.check_digit(company.rut_body))
    sii_password_encrypted = factory.LazyFunction(lambda: crypto.encrypt(SIMULATOR_CLAVE))

    class Params:
        without_credentials = factory.Trait(sii_password_encrypted="")
        subscribed = factory.Trait(
            subscription=factory.RelatedFactory("tests.factories.SubscriptionFactory", "company")
        )


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    company = factory.SubFactory(CompanyFactory)
    status = Subscription.Status.ACTIVE
    starts_on = factory.LazyFunction(timezone.localdate)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class TaskLaunchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tasks_api.TaskLaunch"

    task_type = "sii.sync_documents"
    params = factory.LazyAttribute(
        lambda launch: (
            {"company_id": str(uuid.uuid4())}
            if launch.task_type in ("sii.sync_documents", "sii.sync_f29")
            else {}
        )
    )
    launched_by = "user"
    enqueued = True
