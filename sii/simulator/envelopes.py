"""www4's JSON envelopes: the RCV's respEstado and the F29's metaData.errors, shared by routes and faults."""

from sii.simulator.wire import envelope_extras


def rcv_envelope(
    meta: dict,
    rows: list | None,
    code: int = 0,
    message: str | None = None,
    *,
    detail: bool = False,
    **extra: object,
) -> dict:
    """The RCV envelope: data, §9's extra keys, metaData echoed (errors and info null), respEstado."""
    return {
        "data": rows,
        **envelope_extras(detail=detail),
        **extra,
        "metaData": {**meta, "page": meta.get("page"), "errors": None, "info": None},
        "respEstado": {"codRespuesta": code, "msgeRespuesta": message, "codError": None},
    }


def f29_envelope(meta: dict, rows: list | None, error: str | None = None) -> dict:
    """The F29 envelope: errors travel in metaData.errors, not in a status code."""
    errors = [{"id": 1, "descripcion": error}] if error else None
    return {"metaData": {**meta, "errors": errors}, "data": rows}
