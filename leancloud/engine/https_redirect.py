"""``HttpsRedirectMiddleware``: send browsers on plain HTTP to the HTTPS address.

Active only when the app runs in LeanEngine's production environment
(``LEANCLOUD_APP_ENV=production``, read on each request). The platform terminates TLS
and tells the app the original scheme in ``X-Forwarded-Proto``; anything but ``https``
gets a 302 to ``https://<host><path>[?<query>]``. The platform's own calls are never
redirected: the metadata listing (as in the official SDK) and the health check (which
the official SDK redirected).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable

from werkzeug.utils import redirect
from werkzeug.wrappers import Request

__all__ = ["HttpsRedirectMiddleware"]

_PLATFORM_PATHS = frozenset(
    [
        prefix + "/functions/_ops/metadatas"
        for prefix in ("/1", "/1.1", "/__engine/1", "/__engine/1.1")
    ]
    + ["/__engine/1/ping", "/__engine/1.1/ping/"]
)


class HttpsRedirectMiddleware:
    """Wrap any WSGI app; in production, plain-HTTP requests get a 302 to HTTPS."""

    def __init__(self, wsgi_app: Any) -> None:
        self.origin_app = wsgi_app

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if _needs_redirect(request):
            location = "https://" + request.url.split("://", 1)[1]
            return redirect(location, 302)(environ, start_response)
        return self.origin_app(environ, start_response)


def _needs_redirect(request: Request) -> bool:
    return (
        os.environ.get("LEANCLOUD_APP_ENV") == "production"
        and request.headers.get("X-Forwarded-Proto") != "https"
        and request.path not in _PLATFORM_PATHS
    )
