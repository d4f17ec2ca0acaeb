"""A real LeanCloud-compatible server for your tests, in the same process.

Enable the fixtures in a ``conftest.py``::

    pytest_plugins = ["leancloud.testing"]

then ask for ``leancloud_server`` in a test::

    import leancloud

    def test_save_and_fetch(leancloud_server):
        Post = leancloud.Object.extend("Post")
        post = Post(title="hi")
        post.save()
        assert Post.query.get(post.id).get("title") == "hi"

One server runs per test session, on a free loopback port, in a background thread,
with a temporary data directory; it stops when the session ends. For every test that
uses it, ``leancloud_server`` points the SDK at it (``LEANCLOUD_API_SERVER`` and
``leancloud.init(app_id, app_key, master_key=..., hook_key=...)``) and restores the
previous settings afterwards. With the master key configured the SDK signs requests
with it, as the official SDK does; call ``leancloud.use_master_key(False)`` in a
test to act as a client.

Data is shared by the tests of a session. ``leancloud_clean_server`` gives a test
an empty database on the same server instead.

Outside pytest, ``start_server(data_dir)`` returns a running ``LiveServer``; call
its ``stop()`` when done.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from leancloud import client
from leancloud.server import DATABASE_FILE, ServerApp, create_app

__all__ = [
    "LiveServer",
    "start_server",
    "leancloud_live_server",
    "leancloud_server",
    "leancloud_clean_server",
]


@dataclass
class LiveServer:
    url: str
    app_id: str
    app_key: str
    master_key: str
    hook_key: str
    data_dir: str
    app: ServerApp
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        close = getattr(self.app.storage, "close", None)
        if close is not None:
            close()


def start_server(
    data_dir: str, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> LiveServer:
    """Start ``create_app(data_dir, **options)`` on a threaded werkzeug server in the
    background; ``options`` are keys and e.g. ``engine_app=`` for a LeanEngine."""
    app = create_app(data_dir, **options)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, name="leancloud-test-server", daemon=True
    )
    thread.start()
    config = app.config
    return LiveServer(
        url=f"http://{host}:{server.port}",
        app_id=config.app_id,
        app_key=config.app_key,
        master_key=config.master_key,
        hook_key=config.hook_key,
        data_dir=config.data_dir,
        app=app,
        _server=server,
        _thread=thread,
    )


@pytest.fixture(scope="session")
def leancloud_live_server() -> Iterator[LiveServer]:
    """The session's server; most tests want ``leancloud_server``, which also sets up the SDK."""
    with tempfile.TemporaryDirectory(prefix="leancloud-test-") as data_dir:
        server = start_server(data_dir)
        try:
            yield server
        finally:
            server.stop()


def _point_sdk_at(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANCLOUD_API_SERVER", server.url)
    monkeypatch.delenv("LC_API_SERVER", raising=False)
    for name in ("APP_ID", "APP_KEY", "MASTER_KEY", "HOOK_KEY", "USE_MASTER_KEY", "app_router"):
        monkeypatch.setattr(client, name, getattr(client, name))  # restored after the test
    client.init(
        server.app_id, server.app_key, master_key=server.master_key, hook_key=server.hook_key
    )
    client.USE_MASTER_KEY = None


@pytest.fixture
def leancloud_server(
    leancloud_live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> LiveServer:
    """The running server, with the SDK pointed at it for this test."""
    _point_sdk_at(leancloud_live_server, monkeypatch)
    return leancloud_live_server


@pytest.fixture
def leancloud_clean_server(
    leancloud_server: LiveServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    """Like ``leancloud_server``, but the test sees an empty database of its own."""
    from leancloud.server.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(os.path.join(str(tmp_path), DATABASE_FILE))
    monkeypatch.setattr(leancloud_server.app, "storage", storage)
    yield leancloud_server
    storage.close()
