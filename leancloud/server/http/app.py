"""The WSGI application: one routing table, built once, for requests and batch items.

Each area module of this package (``misc``, ``objects``, ``batch``, ``users``, ...)
contributes its ``RULES``; a rule's endpoint is its handler (see ``http/request.py``).
Every answer is JSON: handlers' values, ``ApiError`` as ``{"code", "error"}``, and
anything unexpected as code 1 with status 500 after logging it — never a traceback or
an HTML page.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Tuple

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from leancloud.server.config import ServerConfig
from leancloud.server.errors import ApiError
from leancloud.server.hooks.accounts import engine_scope
from leancloud.server.http.auth import (
    Credentials,
    authenticate,
    credentials_from_headers,
    split_fallback_body,
)
from leancloud.server.http.request import UNPARSED, ApiRequest, Caller, Reply, parse_json

logger = logging.getLogger("leancloud.server")

JSON_TYPE = "application/json;charset=utf-8"
_BASE_HEADERS = {
    "Cache-Control": "no-cache,no-store",
    "Access-Control-Allow-Origin": "*",
}


def _area_rules() -> Iterator[Rule]:
    """Every module of this package that defines ``RULES`` is an area: adding a file adds
    its routes, with no list to keep in sync."""
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{__package__}.{info.name}")
        yield from getattr(module, "RULES", ())


def query_string_value(value: Any) -> Optional[str]:
    """How a JSON value looks as a query parameter (batch ``params``, fallback GETs)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def query_params(values: Mapping[str, Any]) -> Dict[str, str]:
    params = {str(k): query_string_value(v) for k, v in values.items()}
    return {k: v for k, v in params.items() if v is not None}


def error_reply(exc: BaseException, method: str, path: str) -> Reply:
    """LeanCloud's error shape for any exception a handler let out."""
    if isinstance(exc, ApiError):
        return Reply(exc.to_json(), exc.status)
    if isinstance(exc, HTTPException) and exc.code:
        return Reply({"code": exc.code, "error": exc.name + "."}, exc.code)
    logger.error("Unhandled error in %s %s", method, path, exc_info=exc)
    return Reply({"code": 1, "error": "Internal server error."}, 500)


class ServerApp:
    """The WSGI callable ``create_app`` returns; ``storage`` and ``config`` are public."""

    def __init__(self, config: ServerConfig, storage: Any) -> None:
        self.config = config
        self.storage = storage
        self.engine: Optional[Any] = None  # hooks.client.EngineClient, set by create_app
        # Rule.empty(): module-level rules stay unbound, so many apps can coexist.
        self.url_map = Map(
            [rule.empty() for rule in _area_rules()], strict_slashes=False, merge_slashes=False
        )
        self._urls = self.url_map.bind("localhost")

    # ------------------------------------------------------------ routing

    def match(self, method: str, path: str) -> Tuple[Callable[..., Any], Dict[str, Any]]:
        try:
            handler, values = self._urls.match(path, method)
        except MethodNotAllowed:
            raise ApiError(405, f"Method not allowed: {method} {path}.", 405) from None
        except (NotFound, RequestRedirect):
            raise ApiError(404, f"Route not found: {method} {path}.", 404) from None
        return handler, values

    def dispatch(
        self, caller: Caller, method: str, path: str, params: Mapping[str, str], body: Any
    ) -> Reply:
        """Run one request for an already authenticated caller (batch items use this)."""
        handler, values = self.match(method, path)
        return self.call(handler, values, ApiRequest(self, caller, method, path, params, body=body))

    @staticmethod
    def call(handler: Callable[..., Any], values: Dict[str, Any], request: ApiRequest) -> Reply:
        caller = request._caller  # None on public endpoints (e.g. a verification link)
        production = caller.production if caller is not None else True
        with engine_scope(request.app.engine, production):
            result = handler(request, **values)
        return result if isinstance(result, Reply) else Reply(result)

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.method == "OPTIONS":
            return self._render(self._preflight(request))(environ, start_response)
        try:  # rendering too: an answer JSON cannot encode is an error like any other
            response = self._render(self._handle(request))
        except Exception as exc:  # noqa: BLE001 - everything becomes LeanCloud's shape
            response = self._render(error_reply(exc, request.method, request.path))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Reply:
        raw = self._read_body(request)
        method, params = request.method, request.args.to_dict()
        credentials = credentials_from_headers(request.headers)
        body: Any = UNPARSED
        if method == "POST" and request.mimetype == "text/plain":
            method, credentials, params, body = self._fallback(raw, credentials, params)
        handler, values = self.match(method, request.path)
        caller = None if getattr(handler, "lc_public", False) else self._authenticate(credentials)
        api_request = ApiRequest(
            self,
            caller,
            method,
            request.path,
            params,
            body=body,
            raw_body=raw,
            headers=request.headers,
        )
        return self.call(handler, values, api_request)

    def _authenticate(self, credentials: Credentials) -> Caller:
        return authenticate(credentials, self.config, self.storage)

    def _read_body(self, request: Request) -> bytes:
        cap = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > cap:
            raise ApiError(413, "Request entity too large.", 413)
        raw = request.stream.read(cap + 1)
        if len(raw) > cap:
            raise ApiError(413, "Request entity too large.", 413)
        return raw

    @staticmethod
    def _fallback(raw: bytes, credentials: Credentials, params: Dict[str, str]):
        """Browsers that cannot send custom headers POST everything as ``text/plain``."""
        body = parse_json(raw)
        if not isinstance(body, dict):
            return "POST", credentials, params, body
        method, found, rest = split_fallback_body(body)
        merged = Credentials(
            **{k: getattr(found, k) or getattr(credentials, k) for k in vars(credentials)}
        )
        method = method or "POST"
        if method == "GET":
            return method, merged, {**params, **query_params(rest)}, None
        return method, merged, params, rest

    @staticmethod
    def _preflight(request: Request) -> Reply:
        allowed = request.headers.get("Access-Control-Request-Headers", "*")
        return Reply(
            {},
            200,
            {
                "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": allowed,
                "Access-Control-Max-Age": "86400",
            },
        )

    @staticmethod
    def _render(reply: Reply) -> Response:
        if isinstance(reply.body, bytes):  # e.g. an image; its handler sets Content-Type
            response = Response(reply.body, status=reply.status)
        else:
            data = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"))
            response = Response(data.encode("utf-8"), status=reply.status, content_type=JSON_TYPE)
        response.headers.update(_BASE_HEADERS)
        response.headers.update(reply.headers)
        return response
