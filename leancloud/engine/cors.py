"""CORS for the Engine's cloud paths, so browsers can call cloud functions directly.

A preflight (``OPTIONS``) is answered before authentication, echoing the request's
``Origin``. The allowed headers include ``X-LC-Hook-Key``: lean-cli probes
``OPTIONS /1.1/functions/_ops/metadatas`` for it to choose how it authenticates hooks.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

__all__ = ["ALLOWED_HEADERS", "add_cors_headers", "preflight_response"]

ALLOWED_HEADERS = ", ".join(
    (
        "Content-Type",
        "X-AVOSCloud-Application-Id",
        "X-AVOSCloud-Application-Key",
        "X-AVOSCloud-Application-Production",
        "X-AVOSCloud-Client-Version",
        "X-AVOSCloud-Request-sign",
        "X-AVOSCloud-Session-Token",
        "X-AVOSCloud-Super-Key",
        "X-Requested-With",
        "X-Uluru-Application-Id",
        "X-Uluru-Application-Key",
        "X-Uluru-Application-Production",
        "X-Uluru-Client-Version",
        "X-Uluru-Session-Token",
        "X-LC-Hook-Key",
        "X-LC-Id",
        "X-LC-Key",
        "X-LC-Prod",
        "X-LC-Session",
        "X-LC-Sign",
        "X-LC-UA",
    )
)
ALLOWED_METHODS = "PUT, GET, POST, DELETE, OPTIONS"
MAX_AGE = "86400"


def add_cors_headers(response: Response, origin: str = "*") -> Response:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def preflight_response(request: Request) -> Response:
    """200 with no body; the origin is echoed so credentials may be sent."""
    response = Response(status=200)
    del response.headers["Content-Type"]
    return add_cors_headers(response, request.headers.get("Origin") or "*")
