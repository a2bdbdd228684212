"""Companies, subscriptions and what the SII says about them (RCV, BHE, F29)."""

import json
import uuid
from typing import Protocol, TypedDict

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from sii import crypto, doctypes, rut

RCV_AMOUNTS = ("exento", "neto", "iva", "total")


class CompanyQuerySet(models.QuerySet):
    def with_active_subscription(self) -> "CompanyQuerySet":
        return self.filter(Exists(Subscription.objects.active().filter(company=OuterRef("pk"))))

    def with_sii_credentials(self) -> "CompanyQuerySet":
        return self.exclude(sii_password_encrypted="")

    def with_rejected_clave(self, rejected: bool = True) -> "CompanyQuerySet":
        return self.filter(sii_password_rejected_at__isnull=not rejected)


class Company(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, help_text="Razón social.")
    rut_body = models.PositiveIntegerField(unique=True, help_text="RUT without check digit.")
    rut_dv = models.CharField(max_length=1, help_text="RUT check digit: 0-9 or K.")
    # Encrypted with settings.SII_CREDENTIALS_KEY; F29 and BHE need the company's own login.
    sii_password_encrypted = models.TextField(blank=True, editable=False)
    # When the SII refused the stored clave: no sync logs in again until a new one is stored
    # (the SII locks an account after repeated wrong logins).
    sii_password_rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a sync last logged in with the stored clave (the admin's credentials state).
    sii_password_accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The SII session (its cookies, JSON, encrypted like the clave) the last login opened, reused
    # by the company's next syncs until it expires (SII_SESSION_MAX_AGE) or the SII refuses it.
    sii_session_encrypted = models.TextField(blank=True, editable=False)
    sii_session_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The sync logged into the SII as this company now (sii.services.locks): one at a time.
    sync_lock_holder = models.CharField(max_length=255, blank=True, default="", editable=False)
    sync_lock_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_documents_sync_at = models.DateTimeField(null=True, blank=True)
    last_f29_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.rut_formatted})"

    @property
    def rut(self) -> rut.Rut:
        return rut.Rut(body=self.rut_body, dv=self.rut_dv)

    @property
    def rut_formatted(self) -> str:
        return self.rut.formatted

    @property
    def has_sii_credentials(self) -> bool:
        return bool(self.sii_password_encrypted)

    def clean(self) -> None:
        if self.rut_dv != rut.check_digit(self.rut_body):
            raise ValidationError({"rut_dv": f"Wrong check digit for {self.rut_body}."})

    def set_sii_password(self, password: str) -> None:
        """Store a new password (encrypted); a new password is worth one more login attempt,
        and nothing is known yet of how the SII takes it."""
        self.sii_password_encrypted = crypto.encrypt(password) if password else ""
        self.sii_password_rejected_at = None
        self.sii_password_accepted_at = None
        self.sii_session_encrypted, self.sii_session_expires_at = "", None  # the old clave's session

    def get_sii_password(self) -> str:
        return crypto.decrypt(self.sii_password_encrypted)

    def sii_session(self) -> list | None:
        """The cookies of the SII session a sync may reuse: none once expired, or when no
        configured key decrypts them (the key was rotated away)."""
        expires_at = self.sii_session_expires_at
        if not self.sii_session_encrypted or expires_at is None or expires_at <= timezone.now():
            return None
        try:
            return json.loads(crypto.decrypt(self.sii_session_encrypted))
        except crypto.CredentialsUnreadable:
            return None


class SubscriptionQuerySet(models.QuerySet):
    def active(self) -> "SubscriptionQuerySet":
        """Active today: started, not ended."""
        today = timezone.localdate()
        return self.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            status=Subscription.Status.ACTIVE,
            starts_on__lte=today,
        )


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return f"{self.company_id} {self.status} from {self.starts_on}"


class SyncedRow(models.Model):
    """Columns every synced SII row carries."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=6, db_index=True, help_text="Tax period YYYYMM.")
    raw = models.JSONField(help_text="The row exactly as the SII sent it.")
    first_synced_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now, help_text="Last sync that changed it.")

    class Meta:
        abstract = True


class NetTotals(TypedDict):
    """A period's RCV amounts with credit notes subtracted."""

    exento: int
    neto: int
    iva: int
    total: int


def signed_amount(field: str) -> Case:
    """SQL for an amount column with a credit note's (positive) amount negated."""
    return Case(
        When(tipo_doc__in=doctypes.CREDIT_NOTE_TYPES, then=-F(field)),
        default=F(field),
        output_field=models.BigIntegerField(),
    )


class RcvAmountsQuerySet(models.QuerySet):
    """RCV rows (documents or monthly summaries) whose amounts net out in SQL."""

    def net_totals(self) -> NetTotals:
        """Each amount summed in one query, credit notes subtracting; zeros when there are no rows."""
        sums = {
            name: Coalesce(Sum(signed_amount(f"monto_{name}")), 0, output_field=models.BigIntegerField())
            for name in RCV_AMOUNTS
        }
        totals = self.aggregate(**sums)
        return NetTotals(
            exento=totals["exento"], neto=totals["neto"], iva=totals["iva"], total=totals["total"]
        )

    def period_totals(self, *, company: "Company", period: str) -> NetTotals:
        return self.filter(company=company, period=period).net_totals()


class _HasRcvAmounts(Protocol):
    tipo_doc: int
    monto_exento: int
    monto_neto: int
    monto_iva: int
    monto_total: int


class SignedAmountsMixin:
    """The SII's amounts are positive even for credit notes: these are the ones to add up."""

    @property
    def is_credit_note(self: _HasRcvAmounts) -> bool:
        return doctypes.is_credit_note(self.tipo_doc)

    @property
    def sign(self: _HasRcvAmounts) -> int:
        return doctypes.sign(self.tipo_doc)

    @property
    def signed_exento(self: _HasRcvAmounts) -> int:
        return doctypes.sign(self.tipo_doc) * self.monto_exento

    @property
    def signed_neto(self: _HasRcvAmounts) -> int:
        return doctypes.sign(self.tipo_doc) * self.monto_neto

    @property
    def signed_iva(self: _HasRcvAmounts) -> int:
        return doctypes.sign(self.tipo_doc) * self.monto_iva

    @property
    def signed_total(self: _HasRcvAmounts) -> int:
        return doctypes.sign(self.tipo_doc) * self.monto_total


class RcvDocument(SignedAmountsMixin, SyncedRow):
    """One row of the Registro de Compras y Ventas (getDetalleCompra / getDetalleVenta)."""

    tipo_doc = models.PositiveSmallIntegerField()
    folio = models.BigIntegerField()
    counterparty_rut = models.PositiveIntegerField()
    counterparty_dv = models.CharField(max_length=1)
    counterparty_name = models.CharField(max_length=200, blank=True)
    issued_on = models.DateField(null=True)
    received_at = models.DateTimeField(null=True)
    acknowledged_at = models.DateTimeField(null=True)
    claimed_at = models.DateTimeField(null=True)
    monto_exento = models.BigIntegerField(default=0)
    monto_neto = models.BigIntegerField(default=0)
    monto_iva = models.BigIntegerField(default=0)
    monto_total = models.BigIntegerField(default=0)

    objects = RcvAmountsQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.tipo_doc} {self.folio} from {self.counterparty_rut}-{self.counterparty_dv}"


class PurchaseDocument(RcvDocument):
    """A purchase ("compra"): the counterparty is the supplier."""

    class EstadoContable(models.TextChoices):
        REGISTRO = "REGISTRO"
        PENDIENTE = "PENDIENTE"
        NO_INCLUIR = "NO_INCLUIR"
        RECLAMADO = "RECLAMADO"

    estado_contable = models.CharField(max_length=10, choices=EstadoContable.choices)
    monto_iva_no_recuperable = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tipo_doc", "counterparty_rut", "folio"], name="uniq_purchase_document"
            )
        ]
        indexes = [models.Index(fields=["company", "period"])]


class SaleDocument(RcvDocument):
    """A sale ("venta"): the counterparty is the client."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tipo_doc", "counterparty_rut", "folio"], name="uniq_sale_document"
            )
        ]
        indexes = [models.Index(fields=["company", "period"])]


class RcvSummary(SignedAmountsMixin, SyncedRow):
    """Monthly totals of a summary-only document type (boletas 39/41, ...) from getResumen."""

    class Operacion(models.TextChoices):
        COMPRA = "COMPRA"
        VENTA = "VENTA"

    operacion = models.CharField(max_length=6, choices=Operacion.choices)
    estado_contable = models.CharField(max_length=10)
    tipo_doc = models.PositiveSmallIntegerField()
    total_documentos = models.PositiveIntegerField()
    monto_exento = models.BigIntegerField(default=0)
    monto_neto = models.BigIntegerField(default=0)
    monto_iva = models.BigIntegerField(default=0)
    monto_total = models.BigIntegerField(default=0)

    objects = RcvAmountsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "RCV summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "period", "operacion", "estado_contable", "tipo_doc"],
                name="uniq_rcv_summary",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operacion} {self.tipo_doc} {self.period}: {self.total_documentos} documents"


class FeeReceipt(SyncedRow):
    """A boleta de honorarios electrónica (BHE) received or issued by the company."""

    class Direction(models.TextChoices):
        RECIBIDA = "RECIBIDA"
        EMITIDA = "EMITIDA"

    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.RECIBIDA)
    numero = models.BigIntegerField()
    issuer_rut = models.PositiveIntegerField()
    issuer_dv = models.CharField(max_length=1)
    issuer_name = models.CharField(max_length=200, blank=True)
    # The counterparty of an EMITIDA boleta (its issuer is the company); empty on a RECIBIDA one.
    receptor_rut = models.PositiveIntegerField(null=True, blank=True)
    receptor_dv = models.CharField(max_length=1, blank=True, default="")
    receptor_name = models.CharField(max_length=200, blank=True, default="")
    issued_on = models.DateField()
    monto_bruto = models.BigIntegerField()
    retencion = models.BigIntegerField()  # retencion_receptor
    retencion_emisor = models.BigIntegerField(default=0)  # only an EMITIDA boleta's issuer withholds
    monto_liquido = models.BigIntegerField()
    anulada = models.BooleanField(default=False)
    anulada_on = models.DateField(null=True)
    sociedad_profesional = models.BooleanField(default=False)
    codigo_barras = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "direction", "issuer_rut", "numero"], name="uniq_fee_receipt"
            )
        ]
        indexes = [models.Index(fields=["company", "period"])]

    def __str__(self) -> str:
        if self.direction == self.Direction.EMITIDA:
            return f"BHE {self.numero} to {self.receptor_rut}-{self.receptor_dv}"
        return f"BHE {self.numero} from {self.issuer_rut}-{self.issuer_dv}"


class F29Declaration(SyncedRow):
    """A monthly VAT declaration (formulario 29) as listed by getDeclaracionConEstados."""

    folio = models.BigIntegerField(help_text="0 when the form was only saved, not filed.")
    estado_id = models.SmallIntegerField(null=True)
    estado = models.CharField(max_length=100)
    filed_on = models.DateField(null=True)
    total_a_pagar = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "period", "folio"], name="uniq_f29_declaration")
        ]

    def __str__(self) -> str:
        return f"F29 {self.period} folio {self.folio} ({self.estado})"


class SurfaceSync(models.Model):
    """A company's last successful sync of one surface that reached the current month: when, and
    which periods it saved (empty when unknown: recorded before periods were kept)."""

    class Surface(models.TextChoices):  # the values sii_rows_synced_total's `surface` label uses
        PURCHASES = "purchases", "RCV purchases"
        SALES = "sales", "RCV sales"
        FEE_RECEIPTS = "fee_receipts", "Fee receipts"
        F29 = "f29", "F29"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="surface_syncs")
    surface = models.CharField(max_length=12, choices=Surface.choices)
    last_synced_at = models.DateTimeField()
    first_period = models.CharField(max_length=6, blank=True, help_text="Tax period YYYYMM.")
    last_period = models.CharField(max_length=6, blank=True, help_text="Tax period YYYYMM.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "surface"], name="uniq_surface_sync")]
        # The stale counts ask, per surface, which companies were synced since a moment.
        indexes = [models.Index(fields=["surface", "last_synced_at"], name="sii_surface_sync_fresh")]

    def __str__(self) -> str:
        return f"{self.company_id} {self.surface} synced {self.last_synced_at:%Y-%m-%d %H:%M}"
