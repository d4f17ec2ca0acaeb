"""The self-hosted LeanCloud-compatible REST server.

``create_app`` builds the WSGI application; run it with ``python -m leancloud serve``
or any WSGI server, e.g. ``gunicorn 'leancloud.server:create_app(data_dir="/srv/lc")'``.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from leancloud.server.config import DEFAULT_MAX_BODY_BYTES, load_config
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
) -> ServerApp:
    """A WSGI app over ``storage`` (default: SQLite in ``<data_dir>/data.sqlite3``).

    ``data_dir`` defaults to ``./.leancloud``; keys not given are read from (or
    generated into) ``<data_dir>/config.json``.
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
    return ServerApp(config, storage)
