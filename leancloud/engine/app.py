"""The Engine's cloud application: CORS, authentication, routing and error handling.

Every route exists under the four prefixes the platform and the SDKs use: ``/1``,
``/1.1``, ``/__engine/1`` and ``/__engine/1.1``; any HTTP method reaches it. Every
failure is answered in LeanCloud's JSON shape ``{"code": ..., "error": ...}``, never
with a traceback:

* no or wrong credentials, or a hook call without the hook key, the master key or a
  valid legacy signature: 401, code 401 ``Unauthorized.``;
* a body that is not a JSON object, or a malformed typed RPC parameter: 400, code 107;
* an invalid session token: 401, code 211;
* an unknown path, function or class hook: 404, code 404;
* ``LeanEngineError`` raised by cloud code: its status, code and message;
* any other exception raised by cloud code: 500, code 141
  ``Cloud Code script had an error.`` (the traceback goes to the ``leancloud.engine`` log).
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any, Callable, Dict, Iterable, List, Tuple

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from leancloud.engine import functions, hooks
from leancloud.engine.authorization import authenticate, read_credentials
from leancloud.engine.cors import add_cors_headers, preflight_response
from leancloud.engine.errors import (
    SCRIPT_ERROR,
    SCRIPT_ERROR_MESSAGE,
    LeanEngineError,
    error_response,
    json_response,
)
from leancloud.engine.registry import Registry
from leancloud.engine.request import INVALID_JSON, Call

__all__ = ["PREFIXES", "CloudApp"]

log = logging.getLogger("leancloud.engine")

PREFIXES = ("/1", "/1.1", "/__engine/1", "/__engine/1.1")

Handler = Callable[..., Any]
_ROUTES: List[Tuple[str, Handler]] = [
    ("/functions/<func_name>", partial(functions.handle_function, rpc=False)),
    ("/call/<func_name>", partial(functions.handle_function, rpc=True)),
    ("/functions/<class_name>/<hook_name>", hooks.handle_class_hook),
    ("/functions/_User/onLogin", hooks.handle_on_login),
    ("/functions/_User/onAuthData", hooks.handle_auth_data),
    ("/functions/onVerified/<verify_type>", hooks.handle_on_verified),
    ("/functions/BigQuery/<event>", hooks.handle_insight),
    ("/functions/_ops/metadatas", hooks.handle_metadatas),
]
# More specific (static) rules win over <class_name>/<hook_name>: werkzeug sorts them so.
_URL_MAP = Map(
    [Rule(prefix + path, endpoint=handler) for prefix in PREFIXES for path, handler in _ROUTES]
)


class _BadBody:
    """A body that is not JSON; refused once the caller is known to be genuine."""


def _read_body(request: Request) -> Any:
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return _BadBody()


def _remote_address(request: Request) -> Any:
    headers = request.headers
    return headers.get("X-Real-IP") or headers.get("X-Forwarded-For") or request.remote_addr


class CloudApp:
    """The WSGI app behind the Engine's cloud paths."""

    def __init__(self, registry: Registry, fetch_user: bool) -> None:
        self.registry = registry
        self.fetch_user = fetch_user

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.method == "OPTIONS":
            return preflight_response(request)(environ, start_response)
        response = add_cors_headers(self._respond(request))
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        try:
            return json_response(self._dispatch(request))
        except LeanEngineError as error:
            return error_response(error.code, error.message, error.status)
        except Exception:
            log.exception("cloud code failed: %s %s", request.method, request.path)
            return error_response(SCRIPT_ERROR, SCRIPT_ERROR_MESSAGE, 500)

    def _dispatch(self, request: Request) -> Any:
        body = _read_body(request)
        credentials = read_credentials(request.headers, request.content_type or "", body)
        caller = authenticate(credentials)
        if not isinstance(body, dict):
            raise LeanEngineError(INVALID_JSON, "The body must be a JSON object.", status=400)
        try:
            handler, values = _URL_MAP.bind_to_environ(request.environ).match()
        except HTTPException:
            raise LeanEngineError(404, f"Not found: {request.path}") from None
        meta = {"remote_address": _remote_address(request)}
        call = Call(caller, body, self.registry, self.fetch_user, meta)
        return handler(call, **values)
