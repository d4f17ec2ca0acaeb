"""Who is calling: app credentials (key, signature or master key) and the session.

Accepted, in the order LeanCloud's clients use them:

* ``X-LC-Id`` + ``X-LC-Sign: md5(timestamp + key),timestamp[,master]``
* ``X-LC-Id`` + ``X-LC-Key: <app key>`` or ``<master key>,master``
* the legacy ``X-AVOSCloud-*`` / ``X-Uluru-*`` spellings of the same headers,
  including the master key in clear (``X-AVOSCloud-Master-Key``)
* the browser fallback: a ``text/plain`` POST whose JSON body carries ``_method``,
  ``_ApplicationId``, ``_ApplicationKey``, ``_MasterKey``, ``_SessionToken``.

The signature's timestamp is not checked for freshness, as LeanEngine does not.
An unknown session token makes the caller anonymous (not an error): ACL-protected
operations then answer 403, and ``/users/me`` answers 211.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from leancloud.server.config import ServerConfig
from leancloud.server.errors import ApiError
from leancloud.server.http.request import Caller
from leancloud.server.principal import Principal

_HEADERS = {
    "app_id": ("X-LC-Id", "X-AVOSCloud-Application-Id", "X-Uluru-Application-Id"),
    "key": ("X-LC-Key", "X-AVOSCloud-Application-Key", "X-Uluru-Application-Key"),
    "sign": ("X-LC-Sign", "X-AVOSCloud-Request-Sign"),
    "master_key": ("X-AVOSCloud-Master-Key", "X-Uluru-Master-Key"),
    "session_token": ("X-LC-Session", "X-AVOSCloud-Session-Token", "X-Uluru-Session-Token"),
    "hook_key": ("X-LC-Hook-Key",),
    "production": ("X-LC-Prod", "X-AVOSCloud-Application-Production"),
}
_FALLBACK_FIELDS = {
    "_ApplicationId": "app_id",
    "_ApplicationKey": "key",
    "_MasterKey": "master_key",
    "_SessionToken": "session_token",
}
# Other bookkeeping keys the JS SDK's fallback adds; none of them is data.
_FALLBACK_EXTRA = frozenset(
    {"_method", "_ClientVersion", "_InstallationId", "_JavaScriptKey", "_ApplicationProduction"}
)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized.", 401)


@dataclass(frozen=True)
class Credentials:
    app_id: Optional[str] = None
    key: Optional[str] = None
    sign: Optional[str] = None
    master_key: Optional[str] = None
    session_token: Optional[str] = None
    hook_key: Optional[str] = None
    production: Optional[str] = None


def credentials_from_headers(headers: Mapping[str, str]) -> Credentials:
    found: Dict[str, Optional[str]] = {}
    for name, spellings in _HEADERS.items():
        found[name] = next((headers[h] for h in spellings if headers.get(h)), None)
    return Credentials(**found)


def split_fallback_body(body: Dict[str, Any]) -> Tuple[Optional[str], Credentials, Dict[str, Any]]:
    """``(method, credentials, real body)`` from a ``text/plain`` fallback body."""
    found = {field: body.get(key) for key, field in _FALLBACK_FIELDS.items()}
    found = {k: v for k, v in found.items() if isinstance(v, str) and v}
    production = body.get("_ApplicationProduction")
    if production is not None:
        found["production"] = "1" if production in (1, True, "1") else "0"
    method = body.get("_method")
    rest = {k: v for k, v in body.items() if k not in _FALLBACK_FIELDS and k not in _FALLBACK_EXTRA}
    return (method.upper() if isinstance(method, str) else None), Credentials(**found), rest


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _check_sign(sign: str, config: ServerConfig) -> bool:
    """Verify ``X-LC-Sign``; returns whether it was signed with the master key."""
    parts = sign.split(",")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise unauthorized()
    if len(parts) == 3 and parts[2] != "master":
        raise unauthorized()
    master = len(parts) == 3
    key = config.master_key if master else config.app_key
    expected = hashlib.md5((parts[1] + key).encode("utf-8")).hexdigest()
    if not _same(parts[0], expected):
        raise unauthorized()
    return master


def _check_key(value: str, config: ServerConfig) -> bool:
    """Verify ``X-LC-Key``; returns whether it is the master key."""
    if value.endswith(",master"):
        if _same(value[: -len(",master")], config.master_key):
            return True
    elif _same(value, config.app_key):
        return False
    raise unauthorized()


def is_master(credentials: Credentials, config: ServerConfig) -> bool:
    """Check the app credentials (401 unless valid) and say whether they grant master."""
    if credentials.app_id is None or not _same(credentials.app_id, config.app_id):
        raise unauthorized()
    if credentials.sign:
        return _check_sign(credentials.sign, config)
    if credentials.key:
        return _check_key(credentials.key, config)
    if credentials.master_key and _same(credentials.master_key, config.master_key):
        return True
    raise unauthorized()


def authenticate(credentials: Credentials, config: ServerConfig, storage: Any) -> Caller:
    """Resolve the credentials into a ``Caller`` (one storage lookup per session)."""
    master = is_master(credentials, config)
    token = credentials.session_token
    user_id = storage.session_user(token) if token else None
    roles = frozenset(storage.role_names(user_id)) if user_id and not master else frozenset()
    return Caller(
        principal=Principal(master=master, user_id=user_id, roles=roles),
        session_token=token,
        hook_key=bool(credentials.hook_key) and _same(credentials.hook_key or "", config.hook_key),
        production=credentials.production != "0",
    )
