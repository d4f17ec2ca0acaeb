"""Who is calling the Engine: app credentials, master key, hook key and session token.

Every credential form LeanCloud's clients and platform send is understood (``X-LC-*``,
the legacy ``X-AVOSCloud-*``/``X-Uluru-*`` spellings, ``X-LC-Sign`` with its ``master``
and ``ax-sig-1`` suffixes, ``<master key>,master`` as the app key, and the browser's
``text/plain`` body fallback). The keys they are checked against are read on every
request (``leancloud.init`` or the ``LEANCLOUD_APP_*`` environment), so an app can
configure the SDK after importing this module.

Unlike the official SDK, a request must prove it knows a key: the app id alone, or a
wrong key or signature, is refused with 401 (the official SDK let such requests in
whenever ``LEANCLOUD_APP_ANDX_KEY`` was unset). The hook key also authenticates a
request, as it is as secret as the master key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from leancloud import client
from leancloud.engine.errors import LeanEngineError

__all__ = ["Caller", "Credentials", "authenticate", "read_credentials", "same_secret"]

# Header spellings, the first non-empty one wins (the official SDK's order).
_HEADERS = {
    "app_id": ("X-AVOSCloud-Application-Id", "X-Uluru-Application-Id", "X-LC-Id"),
    "app_key": ("X-AVOSCloud-Application-Key", "X-Uluru-Application-Key", "X-LC-Key"),
    "session_token": ("X-Uluru-Session-Token", "X-AVOSCloud-Session-Token", "X-LC-Session"),
    "master_key": ("X-Uluru-Master-Key", "X-AVOSCloud-Master-Key"),
    "hook_key": ("X-LC-Hook-Key",),
    "sign": ("X-AVOSCloud-Request-Sign", "X-LC-Sign"),
}
# The browser fallback: credentials in a text/plain JSON body.
_BODY_FIELDS = {
    "_ApplicationId": "app_id",
    "_ApplicationKey": "app_key",
    "_MasterKey": "master_key",
    "_SessionToken": "session_token",
}
_MASTER_SUFFIX = ",master"


def unauthorized() -> LeanEngineError:
    return LeanEngineError(401, "Unauthorized.")


@dataclass(frozen=True)
class Credentials:
    """What the request claims, before any check."""

    app_id: Optional[str] = None
    app_key: Optional[str] = None
    master_key: Optional[str] = None
    session_token: Optional[str] = None
    hook_key: Optional[str] = None
    sign: Optional[str] = None


@dataclass(frozen=True)
class Caller:
    """An authenticated request: whether it holds the master key or the hook key."""

    master: bool = False
    hook: bool = False
    session_token: Optional[str] = None


def read_credentials(headers: Mapping[str, str], content_type: str, body: Any) -> Credentials:
    """The credentials of a request; the body counts only when no header carries any."""
    found = {
        name: next((headers[h] for h in spellings if headers.get(h)), None)
        for name, spellings in _HEADERS.items()
    }
    if any(value for name, value in found.items() if name != "sign"):
        return Credentials(**found)
    if "text/plain" in content_type and isinstance(body, dict):
        for key, name in _BODY_FIELDS.items():
            value = body.get(key)
            if isinstance(value, str) and value:
                found[name] = value
    return Credentials(**found)


def same_secret(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time equality; a missing secret never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _configured_keys() -> Dict[str, Optional[str]]:
    keys = client.get_app_info()
    keys["android_key"] = os.environ.get("LEANCLOUD_APP_ANDX_KEY")
    return keys


def _sign_matches(sign: str, keys: Dict[str, Optional[str]]) -> Optional[str]:
    """Which key ``md5(timestamp + key),timestamp[,suffix]`` was made with, if valid."""
    parts = sign.split(",")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        return None
    suffix = parts[2] if len(parts) == 3 else None
    role = {None: "app_key", "master": "master_key", "ax-sig-1": "android_key"}.get(suffix)
    key = keys.get(role) if role else None
    if not key:
        return None
    expected = hashlib.md5((parts[1] + key).encode("utf-8")).hexdigest()
    return role if same_secret(parts[0].lower(), expected) else None


def _is_master(creds: Credentials, keys: Dict[str, Optional[str]]) -> bool:
    key = creds.app_key or ""
    return (
        same_secret(creds.master_key, keys["master_key"])
        or (
            key.endswith(_MASTER_SUFFIX)
            and same_secret(key[: -len(_MASTER_SUFFIX)], keys["master_key"])
        )
        or (bool(creds.sign) and _sign_matches(creds.sign or "", keys) == "master_key")
    )


def _has_app_key(creds: Credentials, keys: Dict[str, Optional[str]]) -> bool:
    if any(same_secret(creds.app_key, keys[k]) for k in ("app_key", "android_key", "master_key")):
        return True
    return bool(creds.sign) and _sign_matches(creds.sign or "", keys) is not None


def authenticate(creds: Credentials) -> Caller:
    """Check the credentials against the configured keys; 401 unless one of them holds."""
    keys = _configured_keys()
    if not same_secret(creds.app_id, keys["app_id"]):
        raise unauthorized()
    master = _is_master(creds, keys)
    hook = same_secret(creds.hook_key, keys["hook_key"])
    if not (master or hook or _has_app_key(creds, keys)):
        raise unauthorized()
    return Caller(master=master, hook=hook, session_token=creds.session_token or None)
