"""The self-hosted LeanCloud-compatible REST server.

``create_app`` builds the WSGI application; run it with ``python -m leancloud serve``
or any WSGI server, e.g. ``gunicorn 'leancloud.server:create_app(data_dir="/srv/lc")'``.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Union

from leancloud.server.config import DEFAULT_MAX_BODY_BYTES, ServerConfig, load_config
from leancloud.server.hooks import accounts
from leancloud.server.hooks.client import (
    EngineClient,
    HttpTransport,
    Transport,
    WsgiTransport,
    load_engine_app,
)
from leancloud.server.http.app import ServerApp

__all__ = ["create_app", "ServerApp", "DATABASE_FILE"]

DATABASE_FILE = "data.sqlite3"


def create_app(
    data_dir: Optional[str] = None,
    app_id: Optional[str] = None,
    app_key: Optional[str] = None,
    master_key: Optional[str] = None,
    hook_key: Optional[str] = None,
    storage: Any = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    engine_url: Optional[str] = None,
    engine_app: Union[str, Any, None] = None,
    hook_timeout: Optional[float] = None,
) -> ServerApp:
    """A WSGI app over ``storage`` (default: SQLite in ``<data_dir>/data.sqlite3``).

    ``data_dir`` defaults to ``./.leancloud``; keys not given are read from (or
    generated into) ``<data_dir>/config.json``.

    LeanEngine (cloud functions and hooks): ``engine_url`` is an Engine listening over
    HTTP; ``engine_app`` a WSGI Engine in this process (a ``leancloud.Engine``, or its
    ``"package.module:engine"`` name), called without sockets; it shares this process's
    SDK configuration (``leancloud.init``), which must hold this server's keys.
    ``hook_timeout``: seconds a function or hook may take (LeanCloud's 15 by default).
    Without arguments, ``LEANCLOUD_ENGINE_URL`` and ``LEANCLOUD_HOOK_TIMEOUT`` apply.
    """
    config = load_config(
        data_dir,
        app_id=app_id,
        app_key=app_key,
        master_key=master_key,
        hook_key=hook_key,
        max_body_bytes=max_body_bytes,
    )
    if storage is None:
        from leancloud.server.storage.sqlite import SQLiteStorage

        storage = SQLiteStorage(os.path.join(config.data_dir, DATABASE_FILE))
    app = ServerApp(config, storage)
    if engine_url is None and engine_app is None:
        engine_url = config.engine_url
    timeout = config.hook_timeout if hook_timeout is None else hook_timeout
    app.engine = _engine_client(config, engine_url, engine_app, timeout)
    return app


def _engine_client(
    config: ServerConfig, engine_url: Optional[str], engine_app: Any, timeout: float
) -> Optional[EngineClient]:
    if engine_url and engine_app is not None:
        raise ValueError("give engine_url or engine_app, not both")
    transport: Transport
    if engine_url:
        transport = HttpTransport(engine_url)
    elif engine_app is not None:
        app = load_engine_app(engine_app) if isinstance(engine_app, str) else engine_app
        transport = WsgiTransport(app)
    else:
        return None
    client = EngineClient(transport, config, timeout)
    accounts.install()
    client.refresh()  # an Engine that is not up yet is asked again on the first need
    return client
