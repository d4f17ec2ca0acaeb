"""What an endpoint receives and may return.

An area module (``http/objects.py``, ``http/users.py``, ...) exposes ``RULES``: a list
of werkzeug ``Rule`` objects whose ``endpoint`` is the handler itself::

    def get_thing(request: ApiRequest, thing_id: str) -> Any: ...
    RULES = [Rule("/1.1/things/<thing_id>", methods=["GET"], endpoint=get_thing)]

A handler returns a JSON value (sent with status 200) or a ``Reply``, and raises
``ApiError`` for LeanCloud errors. Batch items go through the same handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, TypeVar

from leancloud.server import safe_json
from leancloud.server.errors import ApiError
from leancloud.server.principal import Principal

if TYPE_CHECKING:  # pragma: no cover
    from leancloud.server.config import ServerConfig
    from leancloud.server.http.app import ServerApp
    from leancloud.server.storage.base import Storage

NOT_OBJECT = "Malformed json object. A json dictionary is expected."
_TRUE = frozenset({"true", "1", "True"})
UNPARSED: Any = object()  # the body has not been decoded yet
# A Host header we are willing to put into links we hand out (no injection).
# Hosts a laptop reaches its own server by: safe to put into mailed links unconfigured.
_LOOPBACK = re.compile(r"(localhost|127(\.[0-9]{1,3}){3}|\[::1\])(:[0-9]{1,5})?\Z")
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?\Z")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller; one per HTTP request, shared by its batch items."""

    principal: Principal
    session_token: Optional[str] = None
    hook_key: bool = False  # a valid X-LC-Hook-Key came with the request
    production: bool = True  # X-LC-Prod: which LeanEngine environment runs hooks

    @property
    def may_ignore_hooks(self) -> bool:
        return self.principal.master or self.hook_key


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)


def parse_json(raw: bytes) -> Any:
    """Decode a JSON body; NaN/Infinity and absurd nesting are refused like any garbage."""
    if not raw.strip():
        return None
    try:
        return safe_json.loads(raw)
    except safe_json.JsonInputError as exc:
        raise ApiError(107, f"Malformed json: {exc}.") from None


class ApiRequest:
    """One call to a handler: method, path, query params (strings), body, caller."""

    def __init__(
        self,
        app: ServerApp,
        caller: Optional[Caller],
        method: str,
        path: str,
        params: Mapping[str, str],
        body: Any = UNPARSED,
        raw_body: bytes = b"",
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.app = app
        self._caller = caller
        self.method = method
        self.path = path
        self.params = params
        self.raw_body = raw_body
        self.headers: Mapping[str, str] = headers or {}
        self._body = body

    def public_url(self) -> str:
        """This server's base URL for links it hands out (file URLs, mailed links, captcha
        images): ``config.public_url``, else the scheme and host this request reached.

        The Host header is validated, so a forged one cannot poison a password-reset link.
        """
        if self.config.public_url:
            return self.config.public_url
        host = self.headers.get("Host") or ""
        if not _HOST.match(host):
            raise ApiError(1, "Cannot tell this server's URL: set LEANCLOUD_PUBLIC_URL.")
        scheme = self.headers.get("X-Forwarded-Proto", "http").split(",")[0].strip()
        return f"{'https' if scheme == 'https' else 'http'}://{host}"

    def mail_url(self) -> str:
        """The base URL of links mailed to users (email verification, password reset).

        Stricter than ``public_url``: the Host header is the caller's to forge, and a
        forged one would send a victim's reset token to another site. So without
        ``config.public_url`` only a loopback host (a server on a laptop) is trusted.
        """
        if self.config.public_url:
            return self.config.public_url
        host = self.headers.get("Host") or ""
        if _LOOPBACK.match(host):
            return f"http://{host}"
        raise ApiError(1, "Set LEANCLOUD_PUBLIC_URL so mailed links point at this server.")

    @property
    def caller(self) -> Caller:
        if self._caller is None:  # only public endpoints run without one
            raise ApiError(401, "Unauthorized.", 401)
        return self._caller

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    @property
    def storage(self) -> Storage:
        return self.app.storage

    @property
    def config(self) -> ServerConfig:
        return self.app.config

    @property
    def body(self) -> Any:
        """The JSON body, decoded on first use (GETs never pay for it)."""
        if self._body is UNPARSED:
            self._body = parse_json(self.raw_body)
        return self._body

    def json_object(self) -> Dict[str, Any]:
        """The body as a JSON object; an absent or ``null`` body counts as ``{}``."""
        body = self.body
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(107, NOT_OBJECT)
        return body

    def flag(self, name: str) -> bool:
        return self.params.get(name, "") in _TRUE

    def require_master(self) -> None:
        if not self.principal.master:
            raise ApiError(401, "Unauthorized.", 401)


Handler = TypeVar("Handler", bound=Callable[..., Any])


def public(handler: Handler) -> Handler:
    """Mark a handler that answers without credentials (``/1.1/date``)."""
    handler.lc_public = True  # type: ignore[attr-defined]
    return handler
