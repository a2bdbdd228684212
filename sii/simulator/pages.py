"""The SII's HTML pages the client must recognise: login results, the login wall, errors, the BHE report."""

from html import escape

from sii.rut import check_digit

BAD_CREDENTIALS = (
    'La Clave Tributaria ingresada no es correcta, verifique que su teclado no está con opción "mayúsculas" '
    "activada.<br>El código de este mensaje es 01.01.203.500.720.20"
)
UNAVAILABLE = "Por el momento no se puede responder a sus requerimientos. Por favor, inténtelo más tarde."


def _page(title: str, body: str) -> str:
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        f"<title>{title}</title></head><body>{body}</body></html>"
    )


def login_message(message: str) -> str:
    """What CAutInicio.cgi answers on a failed login: HTTP 200, still on zeusr."""
    return _page("SII | Servicios online", f'<div class="alert">{message}</div>')


def login_wall() -> str:
    """zeusr's IngresoRutClave form: what any session-protected page shows without a session."""
    form = (
        '<form name="myform" method="post" action="/cgi_AUT2000/CAutInicio.cgi">'
        '<input type="text" name="rutcntr"><input type="password" name="clave">'
        '<input type="hidden" name="rut"><input type="hidden" name="dv"><input type="hidden" name="411">'
        '<input type="hidden" name="referencia"></form>'
    )
    return _page("SII | Autenticación", f"<!-- AUT2000/InicioAutenticacion/IngresoRutClave.html -->{form}")


def logged_out() -> str:
    return _page("SII | Término de sesión", "<p>Su sesión ha finalizado.</p>")


def jboss_error(status: int) -> str:
    return _page(
        "JBoss Web - Error report",
        f"<h1>HTTP Status {status} - </h1><hr><p><b>type</b> Status report</p><h3>JBoss Web</h3>",
    )


def bhe_not_authorized(rut_body: str) -> str:
    """The non-report page for a RUT other than the session's. [I] The real page was never captured."""
    rut = f"{rut_body}-{check_digit(int(rut_body))}" if rut_body.isdigit() else escape(rut_body)
    return _page("Boletas de Honorarios", f"<p>Usuario no está autorizado para consultar el RUT {rut}.</p>")


def bhe_host_undefined() -> str:
    """Without a browser User-Agent and a Referer the CGIs answer this."""
    return _page("Error", "<p>I082:host no definido</p>")


def bhe_report(meta: dict[str, str], rows: list[dict[str, str]], *, issued: bool = False) -> str:
    """The monthly report as §9 saw it: MAXFILAS and CantidadFilas, xml_values strings, suma_* as
    unquoted numbers summed with += row by row, 1-based row indices, amounts through formatMiles.
    No charset is declared: the caller sends ISO-8859-1 bytes."""
    lines = ["var MAXFILAS=100;", f"var CantidadFilas={len(rows)};"]
    lines += ["var xml_values = new Array();", "var arr_informe_mensual = new Array();"]
    lines += [f"xml_values['{key}'] = {_quoted(value)};" for key, value in meta.items()]
    lines += [f"xml_values['{key}'] = 0;" for key in _SUMS]
    for index, row in enumerate(rows, start=1):
        lines += [f"arr_informe_mensual['{key}_{index}'] = {_js_value(key, v)};" for key, v in row.items()]
        if row["estado"] == "N":
            lines += [f"xml_values['{key}'] += {int(row[field])};" for key, field in _SUMS.items()]
    script = "\n".join(lines)
    title = f"<title>Informe Mensual de Boletas de Honorarios {'Emitidas' if issued else 'Recibidas'}</title>"
    return f"<html><head>{title}</head><body><script>\n{script}\n</script></body></html>"


_AMOUNTS = frozenset({"totalhonorarios", "honorariosliquidos", "retencion_receptor", "retencion_emisor"})
# [I] The issued report's xml_values totals are assumed to carry the received report's keys: no
# capture of the issued page's totals was found (sii-contracts §2.1, §9).
_SUMS = {
    "suma_honorarios": "totalhonorarios",
    "suma_retencion_receptor": "retencion_receptor",
    "suma_liquido": "honorariosliquidos",
}


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _js_value(key: str, value: str) -> str:
    return f"formatMiles({_quoted(value)},'.')" if key in _AMOUNTS else _quoted(value)
