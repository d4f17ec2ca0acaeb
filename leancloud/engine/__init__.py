"""LeanEngine: cloud functions and hooks served by the app itself, as WSGI middleware.

``Engine`` wraps the app's WSGI application (see ``engine.py`` for the paths it takes
over); ``CookieSessionMiddleware`` keeps a web app's LeanCloud user in a signed cookie;
``HttpsRedirectMiddleware`` sends production traffic to HTTPS.

Deliberate differences from the official SDK (same wire protocol otherwise) are listed
in the module that owns each behaviour: ``authorization`` (keys read per request, the
app id alone is refused), ``context`` (the user only for the request), ``app`` (errors
always as JSON), ``functions``, ``hooks``, ``cookie_session`` and ``https_redirect``.
"""

from leancloud.engine.context import current, user
from leancloud.engine.cookie_session import CookieSessionMiddleware
from leancloud.engine.engine import Engine
from leancloud.engine.errors import LeanEngineError
from leancloud.engine.https_redirect import HttpsRedirectMiddleware

__all__ = [
    "CookieSessionMiddleware",
    "Engine",
    "HttpsRedirectMiddleware",
    "LeanEngineError",
    "current",
    "user",
]
