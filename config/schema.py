"""The answers every API operation may give whatever its view: gunicorn's 414 and 431, the outage 503."""

from typing import Any

ERROR_DETAIL = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}}
EDGE_RESPONSES = {
    "414": {
        "description": (
            "The request line (method, path and query string) is longer than the web server reads; "
            "`detail` names the limit in bytes. The web server (gunicorn) answers it, and closes "
            "the connection, before the API sees the request."
        ),
        "content": ERROR_DETAIL,
    },
    "431": {
        "description": (
            "More request header fields, or a larger one, than the web server reads; `detail` names "
            "the limits (fields, and bytes per field). Answered by the web server, like 414."
        ),
        "content": ERROR_DETAIL,
    },
    "503": {
        "description": "The database is unavailable: try again after `Retry-After` seconds.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        },
        "content": ERROR_DETAIL,
    },
}


def edge_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """A drf-spectacular postprocessing hook: these answers come from the web server and the
    outage middleware, not from views, so each operation gets them here rather than in its
    extend_schema (where the views' own errors stay)."""
    for path_item in result["paths"].values():
        for operation in path_item.values():
            operation["responses"] = dict(sorted({**operation["responses"], **EDGE_RESPONSES}.items()))
    return result
