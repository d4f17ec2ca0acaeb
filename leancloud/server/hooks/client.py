"""How the server reaches an app's LeanEngine: over HTTP, or in-process through WSGI.

Requests look exactly like the LeanCloud platform's, so an unchanged Node.js or Python
LeanEngine app answers them: ``POST /1.1/functions/...`` or ``/1.1/call/...`` with
``X-LC-Id``, ``X-LC-Key`` (the app key, or ``<master key>,master``), ``X-LC-Hook-Key``
for hooks, ``X-LC-Session`` for a calling user and ``X-LC-Prod``.

The registry of what the Engine defines comes from ``/1.1/functions/_ops/metadatas``
(read with the master key): on start, and again on the next need after the Engine
answered 404 or a read failed. Hooks the Engine does not define are not called, so
writes to classes without hooks cost no round trip. A failed read keeps the names last
read; before any read succeeded, every hook is assumed defined (an Engine that is down
then refuses guarded writes rather than letting them skip their hooks).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Iterable, Optional

import requests
from werkzeug.test import EnvironBuilder, run_wsgi_app

from leancloud import client
from leancloud.server.config import ServerConfig
from leancloud.server.errors import ApiError

__all__ = [
    "EngineClient",
    "EngineReply",
    "HttpTransport",
    "Transport",
    "WsgiTransport",
    "load_engine_app",
    "share_sdk_with_engine",
]

log = logging.getLogger("leancloud.server.engine")

METADATAS_PATH = "/1.1/functions/_ops/metadatas"
SCRIPT_ERROR = 141
TIMEOUT_STATUS = 503

WSGIApp = Callable[[Dict[str, Any], Any], Iterable[bytes]]


@dataclass(frozen=True)
class EngineReply:
    status: int
    body: Any  # decoded JSON; None when the Engine did not answer JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def timed_out() -> ApiError:
    return ApiError(SCRIPT_ERROR, "The request timed out on the server.", TIMEOUT_STATUS)


def unreachable(reason: Any) -> ApiError:
    return ApiError(SCRIPT_ERROR, f"LeanEngine is not reachable: {reason}", 502)


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8")) if data.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None


class Transport:
    """Sends one POST to the Engine; raises ``ApiError`` on timeout or when unreachable."""

    def post(self, path: str, headers: Dict[str, str], data: bytes, timeout: float) -> EngineReply:
        raise NotImplementedError


class HttpTransport(Transport):
    """An Engine listening at ``base_url``, through one pooled ``requests`` session."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def post(self, path: str, headers: Dict[str, str], data: bytes, timeout: float) -> EngineReply:
        try:
            response = self.session.post(
                self.base_url + path, data=data, headers=headers, timeout=timeout
            )
        except requests.Timeout:
            raise timed_out() from None
        except requests.RequestException as exc:
            raise unreachable(exc) from None
        return EngineReply(response.status_code, _decode(response.content))


class WsgiTransport(Transport):
    """A WSGI Engine in this process: no socket, but the same requests as over HTTP.

    Each call runs on a thread of its own so that a hanging hook times out like a
    remote one (the thread is left to finish on its own), and so that the Engine's
    per-request state never mixes with the server's.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def post(self, path: str, headers: Dict[str, str], data: bytes, timeout: float) -> EngineReply:
        environ = EnvironBuilder(
            path=path, method="POST", headers=headers, data=data, base_url="http://engine.local"
        ).get_environ()
        outcome: Dict[str, Any] = {}

        def run() -> None:
            try:
                body, status, _ = run_wsgi_app(self.app, environ, buffered=True)
                outcome["reply"] = EngineReply(int(status.split()[0]), _decode(b"".join(body)))
            except Exception as exc:  # noqa: BLE001 - reported to the caller below
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="leancloud-engine-call", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise timed_out()
        if "error" in outcome:
            log.error("in-process Engine failed on %s", path, exc_info=outcome["error"])
            raise unreachable(outcome["error"])
        return outcome["reply"]


class EngineClient:
    """The app's LeanEngine as the server sees it: calls plus the registry of names."""

    def __init__(self, transport: Transport, config: ServerConfig, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError(f"the hook timeout must be positive, not {timeout!r}")
        self.transport = transport
        self.config = config
        self.timeout = timeout
        self._names: Optional[FrozenSet[str]] = None  # None: never read yet
        self._stale = True
        self._lock = threading.Lock()

    def headers(
        self,
        *,
        hook: bool = False,
        master: bool = False,
        session_token: Optional[str] = None,
        production: bool = True,
    ) -> Dict[str, str]:
        config = self.config
        key = f"{config.master_key},master" if master else config.app_key
        headers = {
            "Content-Type": "application/json;charset=utf-8",
            "X-LC-Id": config.app_id,
            "X-LC-Key": key,
            "X-LC-Prod": "1" if production else "0",
        }
        if hook:
            headers["X-LC-Hook-Key"] = config.hook_key
        if session_token:
            headers["X-LC-Session"] = session_token
        return headers

    def post(self, path: str, body: Any, **header_options: Any) -> EngineReply:
        """POST ``body`` (JSON) to ``path``; a 404 makes the registry be read again."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        reply = self.transport.post(path, self.headers(**header_options), data, self.timeout)
        if reply.status == 404:
            self._stale = True
        return reply

    # -- the registry ------------------------------------------------------------

    def refresh(self) -> Optional[FrozenSet[str]]:
        """Read the Engine's names now; on failure keep the last ones (and retry later)."""
        self._stale = False
        names = self._read_names()
        with self._lock:
            if names is None:
                self._stale = True
            else:
                self._names = names
            return self._names

    def _read_names(self) -> Optional[FrozenSet[str]]:
        try:
            reply = self.post(METADATAS_PATH, {}, master=True)
        except ApiError as exc:
            log.warning("cannot read the Engine's functions: %s", exc.message)
            return None
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        if not reply.ok or not isinstance(result, list):
            log.warning("the Engine's %s answered %s %r", METADATAS_PATH, reply.status, reply.body)
            return None
        return frozenset(name for name in result if isinstance(name, str))

    def defines(self, name: str) -> bool:
        """Whether the Engine defines ``name``; when that was never learnt, assume it does
        (the call itself then tells: 404 means it does not)."""
        names = self.refresh() if self._stale else self._names
        return names is None or name in names


def load_engine_app(spec: str) -> WSGIApp:
    """``package.module:attribute`` (``--engine-app``): the object, which must be callable.

    The current directory is importable, as for WSGI servers' ``module:app`` arguments.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--engine-app must look like package.module:engine, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load the Engine {spec}: {exc}") from None
    if not callable(target):
        raise ValueError(f"{spec} is not a WSGI application")
    return target


def share_sdk_with_engine(url: str, config: ServerConfig) -> None:
    """Let an in-process Engine's SDK reach this server: the Engine checks the platform's
    calls against the SDK's keys, and its own requests go to ``LEANCLOUD_API_SERVER``.
    A configuration the Engine's module made itself is kept."""
    if not client.get_app_info()["app_id"]:
        client.init(
            config.app_id, config.app_key, master_key=config.master_key, hook_key=config.hook_key
        )
    os.environ.setdefault("LEANCLOUD_API_SERVER", url)
