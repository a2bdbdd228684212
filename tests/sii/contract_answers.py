"""SII answers in the live shapes of sii-contracts §9, built by hand: shared by the client and simulator contract tests."""

from collections.abc import Callable

import httpx

Answer = Callable[[httpx.Request], httpx.Response]

CABECERA = {
    "dcvCodigo": 10002506, "dcvRutEmisor": 76123456, "dcvDvEmisor": "0", "dcvPtributario": 202506,
    "dcvOperacion": "COMPRA", "dcvFctProp": " 1,0000", "dcvFecCreacion": "01/06/2025 00:15:03",
    "dcvFecModificacion": "03/07/2025 09:15:03", "dcvPcarga": 1, "dcvVigente": "S",
    "dcvFchUltimoCruceHadoop": None, "dcvNroCruceHadoop": None,
}  # fmt: skip


def rcv_body(code: int, data: object, message: str = "", detail: bool = True) -> dict:
    """An RCV answer with every top-level key §9 lists (detail answers: dataCabecera null, esDocPapel)."""
    body = {
        "data": data, "dataCabecera": None if detail else CABECERA, "dataReferencias": None,
        "dataEvDte": None,
        "metaData": {"namespace": None, "conversationId": None, "transactionId": None, "page": None,
                     "errors": None, "info": None},
        "respEstado": {"codRespuesta": code, "msgeRespuesta": message, "codError": None},
        "pDB": False, "tieneEmisorAgresivo": False, "verF29": False, "totDocRes": None,
    }  # fmt: skip
    return body | ({"esDocPapel": False} if detail else {})


def rcv_envelope(code: int, data: object, message: str = "", detail: bool = True) -> Answer:
    body = rcv_body(code, data, message, detail)
    return lambda request: httpx.Response(200, json=body)


def resumen_row(tipo: int = 33, **fields: object) -> dict:
    """A getResumen row with the COMPRA side's keys (§9)."""
    return {
        "rsmnTipoDocInteger": tipo, "dcvNombreTipoDoc": "Factura Electrónica", "rsmnTotDoc": 2,
        "rsmnMntExe": 0, "rsmnMntNeto": 200000, "rsmnMntIVA": 38000, "rsmnMntIVANoRec": 0,
        "rsmnIVAUsoComun": 0, "rsmnMntTotal": 238000, "rsmnLink": True, "rsmnCodigo": 33002,
        "dcvTipoIngresoDoc": "DET_ELE", "dcvCodigo": 10002506, "dcvOperacion": "COMPRA",
        "rsmnEstadoContab": "REGISTRO", "rsmnFechModificacion": None, "rsmnTotalRutEmisor": None,
        **fields,
    }  # fmt: skip


def credit_note_row(folio: int, **fields: object) -> dict:
    """A getDetalleCompra row of a tipo 61 answer as §9 saw it: null tipo and estado, nulls for
    zeros, a string tax rate, keys the client does not know."""
    return {
        "dhdrCodigo": 5724327863, "dcvCodigo": 211187209, "detCodigo": 4364187883,
        "detTipoDoc": None, "dcvEstadoContab": None, "detNroDoc": folio, "detRutDoc": 76354771,
        "detDvDoc": "k", "detRznSoc": "PROVEEDORA SUR SPA", "detFchDoc": "12/06/2025",
        "detFecRecepcion": "12/06/2025 10:31:07", "detFecAcuse": None, "detFecReclamado": None,
        "detMntExe": 0, "detMntNeto": 100000, "detMntIVA": 19000, "detMntTotal": 119000,
        "detMntIVANoRec": None, "detMntCodNoRec": None, "detAnulado": None, "detFolioDocRef": None,
        "detTipoDocRef": 33, "detIVAUsoComun": None, "detMntActFijo": None, "detMntIVAActFijo": None,
        "detMntSinCredito": None, "detTasaImp": "0", "detTpoImp": None, "detTipoTransaccion": None,
        "descTipoTransaccion": "Del Giro", "detEventoReceptor": None, "detEventoReceptorLeyenda": None,
        "detTabPuros": None, "detTabCigarrillos": None, "detTabElaborado": None, "detImpVehiculo": None,
        "detCredEc": None, "detDepEnvase": None, "detEmisorNota": None, "detPcarga": None,
        "emisorAgresivo": False, "cambiarTipoTran": False, "totalDtoiMontoImp": None,
        "totalDinrMontoIVANoR": None, "fechaActivacionAnotacion": None, **fields,
    }  # fmt: skip


def f29_row(**fields: object) -> dict:
    """A getDeclaracionConEstados row: monto a float, the date with a time part (§9)."""
    return {
        "estadoDeclaracionId": 1, "estado": "Vigente", "folio": 7814463496,
        "declFechaCreacion": "14/07/2025 09:16:18", "monto": 54321.0, "enNegocio": False,
        "codigo": 29, "tingcodingreso": 1, **fields,
    }  # fmt: skip


def bhe_page_text(declared: int, folios: range, name: str = "PEREZ SOTO JUAN", page: int = 1) -> str:
    """The received-boletas monthly page as §9 saw it: MAXFILAS and CantidadFilas, xml_values with
    cant_boletas and no total_paginas, suma_* unquoted and summed with +=, no nombre_receptor."""
    meta = {
        "anio_consulta": "2025", "mes_consulta": "06", "rut_arrastre": "76123456", "dv_arrastre": "0",
        "nombre_contribuyente": "EMPRESA DEMO ", "porcentaje_retencion": "14,50",
        "cant_boletas": str(declared), "total_boletas": str(declared), "pagina_solicitada": str(page),
        "pagina_actual": str(page), "pagina_lista": "1,2,3", "pagina_ant_codigo": "",
        "pagina_sig_codigo": "2", "pagina_med_codigo": "2",
    }  # fmt: skip
    lines = ["var MAXFILAS=100;", f"var CantidadFilas={len(folios)};", "var xml_values = new Array();"]
    lines += ["var arr_informe_mensual = new Array();"]
    lines += [f"xml_values['{key}'] = \"{value}\";" for key, value in meta.items()]
    lines += [
        f"xml_values['{key}'] = 0;" for key in ("suma_honorarios", "suma_retencion_receptor", "suma_liquido")
    ]
    for index, folio in enumerate(folios, start=1):
        lines += [
            f"arr_informe_mensual['{key}_{index}'] = \"{value}\";"
            for key, value in _boleta(folio, name).items()
        ]
        lines += ["xml_values['suma_honorarios'] += 100000;", "xml_values['suma_liquido'] += 85500;"]
        lines += ["xml_values['suma_retencion_receptor'] += 14500;"]
    return "<html><script>\n" + "\n".join(lines) + "\n</script></html>"


def _boleta(folio: int, name: str) -> dict[str, object]:
    return {
        "nroboleta": folio, "rutemisor": 12883789, "dvemisor": "2", "nombre_emisor": name,
        "fecha_boleta": "25/06/2025", "totalhonorarios": "100000", "retencion_receptor": "14500",
        "honorariosliquidos": "85500", "es_soc_profesional": "NO", "cod_comuna": "13101",
        "estado": "N", "fechaanulacion": " ", "codigobarras": "128837891000000ABCDE",
    }  # fmt: skip


def bhe_page(declared: int, folios: range, name: str = "PEREZ SOTO JUAN") -> Answer:
    """bhe_page_text as ISO-8859-1 without a declared charset."""
    page = bhe_page_text(declared, folios, name)
    return lambda request: httpx.Response(
        200, content=page.encode("iso-8859-1"), headers={"content-type": "text/html"}
    )
