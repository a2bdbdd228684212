"""The live SII's answer shapes (sii-contracts §9): the generated data as the SII actually sends it."""

# sii.simulator.data stays the plain truth (ints, every tipo filled in) that tests compute
# expectations from; these functions only dress it as the SII does: nulls for zeros, integers
# where one expects strings, keys nobody reads. The values that carry data never change.

from datetime import datetime, timedelta
from html.entities import codepoint2name

from sii.simulator.documents import split_period
from sii.simulator.names import rng_for

# On the SII these come as null, not 0/false, whenever they hold nothing (§9).
_NULL_WHEN_EMPTY = (
    "detAnulado", "detFolioDocRef", "detIVAUsoComun", "detMntActFijo", "detMntIVAActFijo",
    "detMntIVANoRec", "detMntSinCredito", "detEventoReceptor", "detEventoReceptorLeyenda", "detFecAcuse",
)  # fmt: skip
# Part of the ~35 keys §9 saw on detail rows that the client never reads.
_DETAIL_EXTRAS = {
    "detTabPuros": None, "detTabCigarrillos": None, "detTabElaborado": None, "detImpVehiculo": None,
    "detCredEc": None, "detDepEnvase": None, "detEmisorNota": None, "detPcarga": None,
    "emisorAgresivo": False, "cambiarTipoTran": False, "totalDtoiMontoImp": None,
    "totalDinrMontoIVANoR": None, "fechaActivacionAnotacion": None,
}  # fmt: skip
# The tipo 61 getDetalleCompra answer §9 saw had these null on every row.
_NULL_ON_PURCHASE_CREDIT_NOTES = (
    "detTipoDoc", "dcvEstadoContab", "detTipoTransaccion", "detTpoImp", "detFolioDocRef",
)  # fmt: skip


def envelope_extras(*, detail: bool, tot_doc_res: int | None = None) -> dict:
    """The top-level keys every RCV answer carries besides data, metaData and respEstado."""
    extras: dict = {"dataCabecera": None, "dataReferencias": None, "dataEvDte": None}
    extras |= {"pDB": False, "tieneEmisorAgresivo": False, "verF29": True, "totDocRes": tot_doc_res}
    return extras | ({"esDocPapel": False} if detail else {})


def detail_rows(rows: list[dict], operacion: str) -> list[dict]:
    return [detail_row(row, operacion) for row in rows]


def detail_row(row: dict, operacion: str) -> dict:
    """One getDetalle* row as the SII sends it."""
    shaped = row | _DETAIL_EXTRAS | {key: row[key] or None for key in _NULL_WHEN_EMPTY}
    shaped["detTasaImp"] = str(row["detTasaImp"] if row["detMntNeto"] else 0)
    if row.get("detExpNacionalidad") is not None:
        shaped["detExpNacionalidad"] = str(row["detExpNacionalidad"])
    if operacion == "COMPRA" and row["detTipoDoc"] == 61:
        shaped |= dict.fromkeys(_NULL_ON_PURCHASE_CREDIT_NOTES)
    return shaped


def resumen_rows(rows: list[dict], operacion: str, estado: str, period: str) -> list[dict]:
    return [resumen_row(row, operacion, estado, period) for row in rows]


def resumen_row(row: dict, operacion: str, estado: str, period: str) -> dict:
    """A getResumen row: the COMPRA side's keys too, and no rsmnMntExe on some types with none."""
    tipo = row["rsmnTipoDocInteger"]
    shaped = row | {"dcvTipoIngresoDoc": row.get("dcvTipoIngresoDoc") or "DET_ELE"}
    shaped |= {"dcvCodigo": _dcv_codigo(period), "dcvOperacion": operacion, "rsmnEstadoContab": estado}
    shaped |= {"rsmnFechModificacion": None, "rsmnTotalRutEmisor": None}
    if tipo in (56, 61) and not row["rsmnMntExe"]:
        del shaped["rsmnMntExe"]  # §9: a row may lack it entirely
    return shaped


def cabecera(rut_body: int, dv: str, period: str, operacion: str) -> dict:
    """getResumen's dataCabecera: integer RUT and period, a ' 1,0000' proportionality factor."""
    year, month = split_period(period)
    created = datetime(year, month, 1, 0, 15, 3)
    modified = created + timedelta(days=rng_for("cabecera", rut_body, period).randint(20, 40), hours=9)
    return {
        "dcvCodigo": _dcv_codigo(period), "dcvRutEmisor": rut_body, "dcvDvEmisor": dv,
        "dcvPtributario": int(period), "dcvOperacion": operacion, "dcvFctProp": " 1,0000",
        "dcvFecCreacion": _stamp(created), "dcvFecModificacion": _stamp(modified),
        "dcvPcarga": 1, "dcvVigente": "S", "dcvFchUltimoCruceHadoop": None, "dcvNroCruceHadoop": None,
    }  # fmt: skip


def _dcv_codigo(period: str) -> int:
    return 10_000_000 + int(period) % 100_000


def _stamp(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M:%S")


def f29_rows(rows: list[dict]) -> list[dict]:
    """getDeclaracionConEstados rows: monto a float, every date with a time part."""
    return [row | {"monto": float(row["monto"]), "declFechaCreacion": _with_time(row)} for row in rows]


def _with_time(row: dict) -> str:
    stamp = row["declFechaCreacion"]
    if len(stamp) > 10:
        return stamp
    folio = row["folio"]  # a stable time of day without drawing from the data's generator
    return f"{stamp} {9 + folio % 14:02d}:{folio % 60:02d}:{folio // 60 % 60:02d}"


def bhe_row(row: dict) -> dict:
    """A received-boletas row: no nombre_receptor; some issuers' names as HTML entities (§9)."""
    shaped = {key: value for key, value in row.items() if key != "nombre_receptor"}
    shaped["nombre_emisor"] = html_name(row["nombre_emisor"], entities=int(row["rutemisor"]) % 2 == 1)
    return shaped


def bhe_issued_row(row: dict) -> dict:
    """An issued-boletas row: some receptors' names as HTML entities, as on the received report."""
    entities = int(row["rutreceptor"]) % 2 == 1
    return {**row, "nombrereceptor": html_name(row["nombrereceptor"], entities=entities)}


def html_name(name: str, *, entities: bool) -> str:
    """& is always &amp;; accented letters become named entities only when `entities` (the SII mixes
    both), else they stay ISO-8859-1 bytes."""
    name = name.replace("&", "&amp;")
    if not entities:
        return name
    return "".join(
        f"&{codepoint2name[ord(c)]};" if ord(c) in codepoint2name and ord(c) > 127 else c for c in name
    )
