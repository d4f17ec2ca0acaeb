"""``Engine``: LeanEngine as WSGI middleware around an app's own WSGI application.

Requests for ``/__engine/...``, ``/1[.1]/functions...`` and ``/1[.1]/call...`` go to
the cloud application (functions, hooks, metadata); ``/__engine/1/ping`` and
``/__engine/1.1/ping/`` answer the platform's health check; everything else goes to the
wrapped app.

The Engine is itself the in-process entry point: call it as a WSGI app (for instance
``werkzeug.test.Client(engine)`` or ``werkzeug.test.run_wsgi_app(engine, environ)``
with an environ from ``werkzeug.test.EnvironBuilder``), with the headers the platform
sends (``X-LC-Id`` + a key or signature, ``X-LC-Hook-Key`` for hooks, ``X-LC-Session``).
"""

from __future__ import annotations

import logging
import os
import platform
import warnings
from typing import Any, Callable, Dict, Iterable, Optional, TypeVar, Union

from werkzeug.exceptions import NotFound
from werkzeug.serving import BaseWSGIServer, make_server, run_simple
from werkzeug.wrappers import Request, Response

from leancloud import client, cloud
from leancloud._version import __version__
from leancloud.engine import registry as names
from leancloud.engine.app import CloudApp
from leancloud.engine.context import Current, current
from leancloud.engine.errors import json_response
from leancloud.engine.functions import run_local
from leancloud.engine.registry import Registry
from leancloud.errors import LeanCloudWarning
from leancloud.user import User

__all__ = ["Engine"]

log = logging.getLogger("leancloud.engine")

F = TypeVar("F", bound=Callable[..., Any])
WSGIApp = Callable[[Dict[str, Any], Any], Iterable[bytes]]

PING_PATHS = ("/__engine/1/ping", "/__engine/1.1/ping/")
CLOUD_PREFIXES = ("/__engine/", "/1/functions", "/1.1/functions", "/1/call", "/1.1/call")
DEFAULT_PORT = 3000


def _ping() -> Response:
    runtime = f"{platform.python_implementation().lower()}-{platform.python_version()}"
    return json_response({"version": __version__, "runtime": runtime})


def _placeholder_app(environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """What ``start()`` serves when the Engine wraps no app of its own."""
    return Response("This is a LeanEngine application.")(environ, start_response)


class Engine:
    """LeanEngine middleware: cloud functions and hooks in front of ``wsgi_app``.

    ``fetch_user``: fetch the calling user's data (one ``/users/me`` request per call
    with a session token); with False, ``current.user`` only carries the token.
    """

    def __init__(self, wsgi_app: Optional[WSGIApp] = None, fetch_user: bool = True) -> None:
        self.current: Current = current
        self.origin_app: Optional[WSGIApp] = None
        self.server: Optional[BaseWSGIServer] = None
        self._registry = Registry()
        self.cloud_app = CloudApp(self._registry, fetch_user)
        if wsgi_app is not None:
            self.wrap(wsgi_app)

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """WSGI: LeanEngine's paths are answered here, every other path by the wrapped app."""
        path = Request(environ).path
        if path in PING_PATHS:
            return _ping()(environ, start_response)
        if path.startswith(CLOUD_PREFIXES):
            return self.cloud_app(environ, start_response)
        if self.origin_app is None:
            return NotFound()(environ, start_response)
        return self.origin_app(environ, start_response)

    # -- the app around it and other engines -------------------------------------

    def wrap(self, wsgi_app: WSGIApp) -> Engine:
        """Serve ``wsgi_app`` for every path that is not LeanEngine's.

        The Engine also becomes the one ``cloud.run.local``/``rpc.local`` reach.
        """
        if self.origin_app is not None:
            raise RuntimeError("this Engine already wraps a WSGI app")
        self.origin_app = wsgi_app
        cloud.set_local_runner(self._run_local)
        return self

    def register(self, engine: Engine) -> None:
        """Serve the functions and hooks ``engine`` has now (a name may be served once)."""
        if not isinstance(engine, Engine):
            raise TypeError("Please specify an Engine instance")
        self._registry.merge(engine._registry)

    @property
    def current_user(self) -> Optional[User]:
        """Deprecated (kept for old apps): the request's user, as ``current.user``."""
        warnings.warn(
            "Engine.current_user is deprecated, please use Engine.current.user instead",
            LeanCloudWarning,
            stacklevel=2,
        )
        return self.current.user

    # -- functions and hooks -----------------------------------------------------

    def define(
        self,
        name_or_func: Union[str, Callable[..., Any], None] = None,
        *,
        fetch_user: Optional[bool] = None,
    ) -> Any:
        """Register a cloud function: ``@define``, ``@define("name")``, ``@define(fetch_user=...)``.

        ``fetch_user`` overrides the Engine's setting for this function.
        """
        if callable(name_or_func):
            return self._registry.add(name_or_func.__name__, name_or_func, fetch_user)
        if name_or_func is not None and (not isinstance(name_or_func, str) or not name_or_func):
            raise TypeError(
                f"a cloud function name must be a non-empty string, not {name_or_func!r}"
            )

        def decorator(func: F) -> F:
            return self._registry.add(name_or_func or func.__name__, func, fetch_user)

        return decorator

    def _hook(self, name: str) -> Callable[[F], F]:
        self._registry.check_free(name)  # fail at the decorator line, as the official SDK

        def decorator(func: F) -> F:
            return self._registry.add(name, func)

        return decorator

    def before_save(self, class_name: str) -> Callable[[F], F]:
        """``@engine.before_save("Todo")``: check or change an object before it is created."""
        return self._hook(names.class_hook_name(class_name, "beforeSave"))

    def after_save(self, class_name: str) -> Callable[[F], F]:
        """React to a created object; the write is already committed, errors are ignored."""
        return self._hook(names.class_hook_name(class_name, "afterSave"))

    def before_update(self, class_name: str) -> Callable[[F], F]:
        """Refuse an update by raising; changes made to the object are not saved."""
        return self._hook(names.class_hook_name(class_name, "beforeUpdate"))

    def after_update(self, class_name: str) -> Callable[[F], F]:
        """React to an update (``obj.updated_keys`` names the changed keys); already committed."""
        return self._hook(names.class_hook_name(class_name, "afterUpdate"))

    def before_delete(self, class_name: str) -> Callable[[F], F]:
        """Refuse a delete by raising ``LeanEngineError``."""
        return self._hook(names.class_hook_name(class_name, "beforeDelete"))

    def after_delete(self, class_name: str) -> Callable[[F], F]:
        """React to a delete, e.g. clean up what pointed at the object; already committed."""
        return self._hook(names.class_hook_name(class_name, "afterDelete"))

    def on_verified(self, verify_type: str) -> Callable[[F], F]:
        """``@engine.on_verified("sms"|"email")``: called with the user once verified."""
        return self._hook(names.on_verified_name(verify_type))

    def on_login(self, func: F) -> F:
        """``@engine.on_login``: called with the user logging in; raise to refuse."""
        return self._registry.add(names.ON_LOGIN, func)

    def on_auth_data(self, func: F) -> F:
        """``@engine.on_auth_data``: called with third-party authData; returns it (changed)."""
        return self._registry.add(names.ON_AUTH_DATA, func)

    def on_insight(self, event: str) -> Callable[[F], F]:
        """``@engine.on_insight("end")``: called with ``(ok, params)`` when an Insight job ends."""
        if event != "end":
            raise ValueError(f"the only Insight event is 'end', not {event!r}")
        return self._hook(names.ON_INSIGHT)

    def on_bigquery(self, event: str) -> Callable[[F], F]:
        """Deprecated alias of ``on_insight`` (Insight was once called BigQuery)."""
        warnings.warn(
            "on_bigquery is deprecated, please use on_insight instead",
            LeanCloudWarning,
            stacklevel=2,
        )
        return self.on_insight(event)

    # -- running -----------------------------------------------------------------

    def _run_local(self, name: str, params: Dict[str, Any], rpc: bool) -> Any:
        return run_local(self._registry, name, params, rpc)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Call a function of this Engine in-process: ``engine.run("hello", name="x")``.

        With the official SDK's arguments (``hostname, port, application, ...``) it
        serves with werkzeug's ``run_simple`` instead, as the official ``run`` did.
        """
        if len(args) == 1 and isinstance(args[0], str) and "application" not in kwargs:
            return run_local(self._registry, args[0], kwargs, rpc=False)
        return run_simple(*args, **kwargs)

    def start(self) -> None:
        """Serve on ``0.0.0.0:$LEANCLOUD_APP_PORT`` (3000 if unset) until ``stop()``.

        The app's keys come from ``leancloud.init`` or the ``LEANCLOUD_APP_*`` environment
        the platform provides.
        """
        if not client.get_app_info()["app_id"]:
            raise RuntimeError("set LEANCLOUD_APP_ID or call leancloud.init() before start()")
        if self.origin_app is None:
            self.wrap(_placeholder_app)
        port = int(os.environ.get("LEANCLOUD_APP_PORT") or DEFAULT_PORT)
        self.server = make_server("0.0.0.0", port, self, threaded=True)
        log.info("LeanEngine app is listening on port %d", self.server.port)
        try:
            self.server.serve_forever()
        finally:
            self.server.server_close()

    def stop(self) -> None:
        """Stop the server ``start()`` runs (from another thread)."""
        if self.server is not None:
            self.server.shutdown()
