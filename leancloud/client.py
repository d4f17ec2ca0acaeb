"""The SDK's only HTTP client: configuration, signing, the pooled session, retries, errors.

Every REST call of the SDK goes through ``request`` (or the ``get``/``post``/``put``/
``delete`` shorthands, which keep the official SDK's signatures and return the
``requests.Response``). The module-level settings below are the ones real apps read
and assign, so they stay plain module attributes.
"""
import datetime
import hashlib
import json
import os
import platform
import time
from typing import Any, Dict, Mapping, Optional
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from leancloud import codec, context
from leancloud._version import __version__
from leancloud.app_router import AppRouter, service_for_path
from leancloud.errors import BAD_RESPONSE, CONNECTION_FAILED, TIMEOUT, LeanCloudError

APP_ID: Optional[str] = None
APP_KEY: Optional[str] = None
MASTER_KEY: Optional[str] = None
HOOK_KEY: Optional[str] = None
# None: sign with the master key whenever one is configured (the official default).
USE_MASTER_KEY: Optional[bool] = None


def _production_from_env() -> str:
    """``X-LC-Prod`` by LeanCloud's environment rules: staging on a ``stage`` instance,
    and locally when the CLI says the app has a staging environment."""
    env = os.environ.get("LEANCLOUD_APP_ENV")
    if env == "stage":
        return "0"
    if env != "production" and os.environ.get("LEAN_CLI_HAVE_STAGING") == "true":
        return "0"
    return "1"


USE_PRODUCTION: str = _production_from_env()
USE_HTTPS = True
REGION = "CN"
SERVER_VERSION = "1.1"
TIMEOUT_SECONDS: float = 15
REGIONS = ("CN", "US")
# requests hooks applied to every call, e.g. {"response": [log_response]}.
request_hooks: Dict[str, Any] = {}

USER_AGENT = f"leancloud-python/{__version__} (Python {platform.python_version()})"

app_router: Optional[AppRouter] = None

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# The longest Retry-After pause honoured before a retry, in seconds.
RETRY_AFTER_MAX = 2.0


class _Retry(Retry):
    """urllib3's Retry with Retry-After capped: a server asking for an hour's pause
    must not hold a call far beyond ``TIMEOUT_SECONDS``."""

    def get_retry_after(self, response: Any) -> Optional[float]:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, RETRY_AFTER_MAX)


def _make_session() -> requests.Session:
    """A keep-alive session whose retries never repeat a write the server may have seen.

    Connection failures (nothing was sent) are retried for every method; read errors and
    502/503/504 answers only for idempotent methods.
    """
    retry = _Retry(
        total=3,
        connect=3,
        read=2,
        status=2,
        other=0,
        allowed_methods=_IDEMPOTENT,
        status_forcelist=(502, 503, 504),
        backoff_factor=0.2,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    new_session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=retry)
    new_session.mount("https://", adapter)
    new_session.mount("http://", adapter)
    return new_session


session: requests.Session = _make_session()


def init(
    app_id: str,
    app_key: Optional[str] = None,
    master_key: Optional[str] = None,
    hook_key: Optional[str] = None,
) -> None:
    """Configure the app's credentials; at least one of app_key and master_key is needed."""
    if not app_key and not master_key:
        raise RuntimeError("app_key or master_key must be specified")
    global APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY, app_router
    APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY = app_id, app_key, master_key, hook_key
    app_router = None


def use_master_key(flag: bool = True) -> None:
    """Sign requests with the master key (``flag=True``) or the app key."""
    global USE_MASTER_KEY
    if flag and not _master_key():
        raise RuntimeError("LeanCloud SDK master key not specified")
    USE_MASTER_KEY = bool(flag)


def use_production(flag: bool) -> None:
    """Call the production (True) or staging (False) LeanEngine environment."""
    global USE_PRODUCTION
    USE_PRODUCTION = "1" if flag else "0"


def use_region(region: str) -> None:
    """Choose the LeanCloud region, ``"CN"`` or ``"US"``."""
    if region not in REGIONS:
        raise ValueError(f"currently no nodes in the region {region!r}")
    global REGION, app_router
    REGION = region
    app_router = None


def _app_id() -> Optional[str]:
    return APP_ID or os.environ.get("LEANCLOUD_APP_ID")


def _app_key() -> Optional[str]:
    return APP_KEY or os.environ.get("LEANCLOUD_APP_KEY")


def _master_key() -> Optional[str]:
    return MASTER_KEY or os.environ.get("LEANCLOUD_APP_MASTER_KEY")


def _hook_key() -> Optional[str]:
    return HOOK_KEY or os.environ.get("LEANCLOUD_APP_HOOK_KEY")


def get_app_info() -> Dict[str, Optional[str]]:
    """The credentials in effect (from ``init`` or the ``LEANCLOUD_APP_*`` environment)."""
    return {
        "app_id": _app_id(),
        "app_key": _app_key(),
        "master_key": _master_key(),
        "hook_key": _hook_key(),
    }


def signing_master_key() -> bool:
    """Whether requests are signed with the master key right now.

    By default only a master key the app configured counts: after ``init(id, key)``
    a ``LEANCLOUD_APP_MASTER_KEY`` in the environment (LeanEngine always sets one)
    must not silently turn every request into a master request.
    """
    if USE_MASTER_KEY is None:
        return bool(MASTER_KEY if APP_ID else _master_key())
    return USE_MASTER_KEY


def sign(key: str, master: bool = False, timestamp: Optional[int] = None) -> str:
    """The ``X-LC-Sign`` value: md5(timestamp + key), the timestamp, and ``master``."""
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    digest = hashlib.md5((ts + key).encode("utf-8")).hexdigest()
    return f"{digest},{ts},master" if master else f"{digest},{ts}"


def _auth_headers() -> Dict[str, str]:
    app_id = _app_id()
    if not app_id:
        raise RuntimeError("LeanCloud SDK must be initialized")
    if signing_master_key():
        signature = sign(_master_key() or "", master=True)
    else:
        key = _app_key()
        if not key:
            raise RuntimeError("app_key or master_key must be specified")
        signature = sign(key)
    headers = {"X-LC-Id": app_id, "X-LC-Sign": signature, "X-LC-Prod": USE_PRODUCTION}
    hook_key = _hook_key()
    if hook_key:
        headers["X-LC-Hook-Key"] = hook_key
    token = context.session_token()
    if token:
        headers["X-LC-Session"] = token
    return headers


def _base_url(path: str) -> str:
    server = os.environ.get("LEANCLOUD_API_SERVER") or os.environ.get("LC_API_SERVER")
    if server:
        return f"{server.rstrip('/')}/{SERVER_VERSION}"
    global app_router
    app_id = _app_id()
    if not app_id:
        raise RuntimeError("LeanCloud SDK must be initialized")
    if app_router is None or app_router.app_id != app_id or app_router.region != REGION:
        app_router = AppRouter(app_id, REGION, session)
    scheme = "https" if USE_HTTPS else "http"
    return f"{scheme}://{app_router.get(service_for_path(path))}/{SERVER_VERSION}"


def segment(value: Any) -> str:
    """One URL path segment made from an id: percent-encoded, so an id that came from
    user input (``../../classes/_User/x``) cannot retarget the request."""
    return quote(str(value), safe="")


def url_for(path: str) -> str:
    """The absolute URL of a REST path such as ``/classes/Post``."""
    return _base_url(path) + path


def _json(value: Any) -> str:
    """Compact JSON; NaN and infinities raise ValueError here, before any request,
    instead of going out as tokens no JSON parser (or LeanCloud) accepts."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"cannot encode the request as JSON: {exc}") from None


def _encode_params(params: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    encoded: Dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, (dict, list)):
            value = _json(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        encoded[key] = value
    return encoded


def _send(method: str, path: str, params: Any, body: Any, headers: Dict[str, str]) -> requests.Response:
    data = None
    if method != "GET":
        data = _json(body).encode("utf-8")
    try:
        return session.request(
            method,
            url_for(path),
            params=_encode_params(params),
            data=data,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            hooks=request_hooks or None,
        )
    except requests.Timeout as exc:
        raise LeanCloudError(TIMEOUT, f"Request timed out: {method} {path}") from exc
    except requests.ConnectionError as exc:
        raise LeanCloudError(CONNECTION_FAILED, f"Could not connect to the server: {exc}") from exc
    except requests.RequestException as exc:  # a broken answer, a bad server URL, ...
        raise LeanCloudError(CONNECTION_FAILED, f"Request failed: {method} {path}: {exc}") from exc


def check_response(response: requests.Response) -> Any:
    """The decoded JSON body, or ``LeanCloudError`` with LeanCloud's code."""
    status = response.status_code
    try:
        content = response.json() if response.content else None
    except ValueError:
        snippet = response.text[:200].strip()
        raise LeanCloudError(BAD_RESPONSE, f"Bad response (HTTP {status}): {snippet}") from None
    if isinstance(content, dict) and "error" in content:
        raise LeanCloudError(content.get("code") or 1, str(content["error"]))
    if status >= 400:
        raise LeanCloudError(status, f"HTTP {status}: {response.reason or 'error'}")
    if content is None and status != 204:
        raise LeanCloudError(BAD_RESPONSE, f"Empty response (HTTP {status})")
    return content


def request(
    method: str,
    path: str,
    params: Optional[Mapping[str, Any]] = None,
    body: Any = None,
    headers: Optional[Mapping[str, str]] = None,
) -> requests.Response:
    """Send one signed REST call and raise ``LeanCloudError`` unless it succeeded."""
    all_headers = {
        "Content-Type": "application/json;charset=utf-8",
        "User-Agent": USER_AGENT,
        **_auth_headers(),
        **(headers or {}),
    }
    response = _send(method, path, params, body, all_headers)
    if response.status_code == 307 and app_router is not None:
        app_router.update(check_response(response))
        response = _send(method, path, params, body, all_headers)
    check_response(response)
    return response


_Headers = Optional[Mapping[str, str]]
_Params = Optional[Mapping[str, Any]]


def get(url: str, params: _Params = None, headers: _Headers = None) -> requests.Response:
    """The official SDK's ``client.get``: ``params`` is the query string."""
    return request("GET", url, params=params, headers=headers)


def post(url: str, params: Any, headers: _Headers = None, query: _Params = None) -> requests.Response:
    """The official SDK's ``client.post``: ``params`` is the JSON body."""
    return request("POST", url, params=query, body=params, headers=headers)


def put(url: str, params: Any, headers: _Headers = None, query: _Params = None) -> requests.Response:
    """The official SDK's ``client.put``: ``params`` is the JSON body."""
    return request("PUT", url, params=query, body=params, headers=headers)


def delete(
    url: str, params: Any = None, headers: _Headers = None, query: _Params = None
) -> requests.Response:
    """The official SDK's ``client.delete``: ``params`` is the JSON body (flags)."""
    return request("DELETE", url, params=query, body=params, headers=headers)


def get_server_time() -> datetime.datetime:
    """The server's clock, asked without credentials as the official SDK does."""
    response = _send("GET", "/date", None, None, {"User-Agent": USER_AGENT})
    return codec.decode(check_response(response))
