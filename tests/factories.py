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


class PurchaseDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sii.PurchaseDocument"

    company = factory.SubFactory(CompanyFactory)
    period = "202501"
    tipo_doc = 33
    folio = factory.Sequence(lambda n: 1000 + n)
    counterparty_rut = 76_086_428
    counterparty_dv = "5"
    counterparty_name = "Proveedora Austral Ltda"
    issued_on = factory.LazyFunction(timezone.localdate)
    monto_neto = 100_000
    monto_iva = 19_000
    monto_total = 119_000
    estado_contable = "REGISTRO"
    raw = factory.LazyAttribute(
        lambda doc: {"detTipoDoc": doc.tipo_doc, "detNroDoc": doc.folio, "detRznSoc": doc.counterparty_name}
    )


class SaleDocumentFactory(PurchaseDocumentFactory):
    class Meta:
        model = "sii.SaleDocument"
        exclude = ("estado_contable",)

    counterparty_name = "Cliente Ñandú SpA"


class RcvSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sii.RcvSummary"

    company = factory.SubFactory(CompanyFactory)
    period = "202501"
    operacion = "VENTA"
    estado_contable = "REGISTRO"
    tipo_doc = 39
    total_documentos = 12
    monto_total = 240_000
    raw = factory.LazyAttribute(lambda row: {"rsmnTipoDocInteger": row.tipo_doc, "rsmnTotDoc": 12})


class FeeReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sii.FeeReceipt"

    company = factory.SubFactory(CompanyFactory)
    period = "202501"
    numero = factory.Sequence(lambda n: 1 + n)
    issuer_rut = 12_345_678
    issuer_dv = "5"
    issuer_name = "María Pérez"
    issued_on = factory.LazyFunction(timezone.localdate)
    monto_bruto = 100_000
    retencion = 13_750
    monto_liquido = 86_250
    raw = factory.LazyAttribute(lambda receipt: {"nroboleta": receipt.numero})


class F29DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sii.F29Declaration"

    company = factory.SubFactory(CompanyFactory)
    period = "202501"
    folio = factory.Sequence(lambda n: 8_000_000 + n)
    estado = "Vigente"
    total_a_pagar = 54_321
    raw = factory.LazyAttribute(lambda form: {"folio": form.folio, "estado": form.estado})


class SurfaceSyncFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sii.SurfaceSync"

    company = factory.SubFactory(CompanyFactory)
    surface = "purchases"
    last_synced_at = factory.LazyFunction(timezone.now)
    first_period = "202506"
    last_period = "202507"
