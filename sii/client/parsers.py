"""Pure parsing of SII answers: dates, the BHE report's JS maps, and rows into sii.client.types."""

import html as html_entities
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, SupportsInt, TypeVar
from zoneinfo import ZoneInfo

from sii.client.types import F29Row, FeeReceiptRow, JsonObject, RcvDocumentRow, RcvSummaryRow

SII_TZ = ZoneInfo("America/Santiago")  # cl_sii's SII_OFFICIAL_TZ
T = TypeVar("T")
# Types the RCV holds only as monthly totals: they have no detail rows.
SUMMARY_TYPES = frozenset({35, 38, 39, 41, 47, 48, 105, 919, 924})

_VALUE = r"""(?:formatMiles\(\s*)?(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
_XML_VALUE = re.compile(r"""xml_values\[\s*['"](\w+)['"]\s*\]\s*=\s*""" + _VALUE)
_ROW_VALUE = re.compile(r"""arr_informe_mensual\[\s*['"](\w+?)_(\d+)['"]\s*\]\s*=\s*""" + _VALUE)


def parse_date(text: str | None) -> date | None:
    """'DD/MM/YYYY' (a trailing time is ignored); blank or None gives None."""
    if text is None or not str(text).strip():
        return None
    return datetime.strptime(str(text).strip()[:10], "%d/%m/%Y").date()


def parse_datetime(text: str | None) -> datetime | None:
    """'DD/MM/YYYY HH:MM:SS' (or a bare date) as an aware datetime in America/Santiago."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    pattern = "%d/%m/%Y %H:%M:%S" if len(value) > 10 else "%d/%m/%Y"
    return datetime.strptime(value, pattern).replace(tzinfo=SII_TZ)


def to_int(value: object) -> int:
    """SII amounts: ints, digit strings, or dot-grouped strings like '1.300.000'; blank is 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, str):
        return int(value.strip().replace(".", ""))
    if isinstance(value, SupportsInt):
        return int(value)
    raise TypeError(f"not an amount: {value!r}")


@dataclass(frozen=True)
class BheReport:
    meta: dict[str, str]  # xml_values: total_boletas, suma_*, pagina_solicitada
    rows: list[dict[str, str]]  # one dict per row, keys without the index suffix

    @property
    def total(self) -> int:
        """The boletas the month holds, as the page declares them."""
        return to_int(self.meta.get("total_boletas") or self.meta.get("cant_boletas"))


def parse_bhe_report(html: str) -> BheReport:
    """Read xml_values[...] and arr_informe_mensual['<campo>_<i>'] (1-based; 0-based also works)."""
    meta = {m.group(1): _js_string(m) for m in _XML_VALUE.finditer(html)}
    rows: dict[int, dict[str, str]] = {}
    for match in _ROW_VALUE.finditer(html):
        rows.setdefault(int(match.group(2)), {})[match.group(1)] = _js_string(match, offset=1)
    return BheReport(meta=meta, rows=[rows[i] for i in sorted(rows)])


def _js_string(match: re.Match[str], offset: int = 0) -> str:
    double, single = match.group(2 + offset), match.group(3 + offset)
    value = double if double is not None else single
    # Names come with HTML entities: 'GARC&Iacute;A &amp; CIA' is 'GARCÍA & CIA'.
    return html_entities.unescape(re.sub(r"\\(.)", r"\1", value))


def summary_row(raw: JsonObject) -> RcvSummaryRow:
    tipo = int(raw["rsmnTipoDocInteger"])
    return RcvSummaryRow(
        tipo_doc=tipo,
        nombre=str(raw.get("dcvNombreTipoDoc") or "").strip(),
        total_documentos=to_int(raw.get("rsmnTotDoc")),
        monto_exento=to_int(raw.get("rsmnMntExe")),
        monto_neto=to_int(raw.get("rsmnMntNeto")),
        monto_iva=to_int(raw.get("rsmnMntIVA")),
        monto_total=to_int(raw.get("rsmnMntTotal")),
        summary_only="RESUMEN" in str(raw.get("dcvTipoIngresoDoc") or "").upper() or tipo in SUMMARY_TYPES,
        raw=raw,
    )


def document_row(raw: JsonObject, *, tipo_doc: int, estado: str | None) -> RcvDocumentRow:
    """A getDetalle* row. The SII may send detTipoDoc and dcvEstadoContab as null (every row of a
    tipo 61 answer, very recent purchases): they are the request's `tipo_doc` and `estado`. A field
    that cannot be read raises ValueError naming the field and the folio."""
    field = _RowField(raw)
    return RcvDocumentRow(
        tipo_doc=tipo_doc if raw.get("detTipoDoc") is None else field("detTipoDoc", to_int),
        folio=field("detNroDoc", _required_int),
        counterparty_rut=field("detRutDoc", _required_int),
        counterparty_dv=str(raw.get("detDvDoc") or "").strip().upper(),
        counterparty_name=str(raw.get("detRznSoc") or "").strip(),
        issued_on=field("detFchDoc", parse_date),
        received_at=field("detFecRecepcion", parse_datetime),
        acknowledged_at=field("detFecAcuse", parse_datetime),
        claimed_at=field("detFecReclamado", parse_datetime),
        monto_exento=field("detMntExe", to_int),
        monto_neto=field("detMntNeto", to_int),
        monto_iva=field("detMntIVA", to_int),
        monto_total=field("detMntTotal", to_int),
        monto_iva_no_recuperable=field("detMntIVANoRec", to_int),
        estado_contable=raw.get("dcvEstadoContab") or estado,
        raw=raw,
    )


class _RowField:
    """Reads one field of a row, turning a failure into one that names the field and the folio."""

    def __init__(self, raw: JsonObject) -> None:
        self.raw = raw

    def __call__(self, name: str, parse: Callable[[Any], T]) -> T:
        try:
            return parse(self.raw.get(name))
        except (TypeError, ValueError) as exc:
            folio = self.raw.get("detNroDoc")
            raise ValueError(f"field {name} = {self.raw.get(name)!r} of folio {folio!r}: {exc}") from exc


def _required_int(value: object) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("missing")
    return to_int(value)


def fee_receipt_row(raw: dict[str, str]) -> FeeReceiptRow:
    """A row of the received-boletas report: the issuer is the row's rutemisor."""
    return _fee_receipt(
        raw,
        issuer=(to_int(raw["rutemisor"]), raw.get("dvemisor", ""), raw.get("nombre_emisor", "")),
        receptor=(None, "", ""),
    )


def issued_fee_receipt_row(raw: dict[str, str], *, issuer: tuple[int, str, str]) -> FeeReceiptRow:
    """A row of the issued-boletas report: the rows name no issuer, which is the session's company
    (`issuer` = RUT body, DV, name); the counterparty is rutreceptor/dvreceptor/nombrereceptor."""
    receptor = (to_int(raw["rutreceptor"]), raw.get("dvreceptor", ""), raw.get("nombrereceptor", ""))
    return _fee_receipt(raw, issuer=issuer, receptor=receptor)


def _fee_receipt(
    raw: dict[str, str], *, issuer: tuple[int, str, str], receptor: tuple[int | None, str, str]
) -> FeeReceiptRow:
    issued_on = parse_date(raw.get("fecha_boleta"))
    if issued_on is None:
        raise ValueError("a boleta without fecha_boleta")
    return FeeReceiptRow(
        numero=to_int(raw["nroboleta"]),
        issuer_rut=issuer[0],
        issuer_dv=issuer[1].strip().upper(),
        issuer_name=issuer[2].strip(),
        receptor_rut=receptor[0],
        receptor_dv=receptor[1].strip().upper(),
        receptor_name=receptor[2].strip(),
        issued_on=issued_on,
        monto_bruto=to_int(raw.get("totalhonorarios")),
        retencion=to_int(raw.get("retencion_receptor")),
        retencion_emisor=to_int(raw.get("retencion_emisor")),
        monto_liquido=to_int(raw.get("honorariosliquidos")),
        anulada=raw.get("estado", "").strip().upper() in ("S", "ANUL"),
        anulada_on=parse_date(raw.get("fechaanulacion")),
        sociedad_profesional=raw.get("es_soc_profesional", "").strip().upper() == "SI",
        codigo_barras=raw.get("codigobarras", "").strip(),
        raw=raw,
    )


def f29_row(raw: JsonObject) -> F29Row:
    estado_id, monto = raw.get("estadoDeclaracionId"), raw.get("monto")
    return F29Row(
        folio=to_int(raw.get("folio")),
        estado_id=None if estado_id in (None, "") else int(estado_id),
        estado=str(raw.get("estado") or "").strip(),
        filed_on=parse_date(raw.get("declFechaCreacion")),
        total_a_pagar=None if monto in (None, "") else to_int(monto),
        raw=raw,
    )
