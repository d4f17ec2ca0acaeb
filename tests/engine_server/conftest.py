"""A live server wired to a LeanEngine, in-process (WSGI) or over loopback HTTP.

``engine_server(engine, mode)`` starts (once per engine and mode) a server whose hooks
and functions go to ``engine``; the ``mode`` ``"http"`` first serves the Engine on a port
of its own, as ``--engine-url`` would reach it. The SDK is pointed at the server for the
test, with all four keys, as an Engine process has them.
"""

import tempfile
import threading

import pytest
from werkzeug.serving import make_server

from leancloud.server import passwords
from leancloud.testing import _point_sdk_at, start_server

HOOK_TIMEOUT = 1.0


class _Servers:
    def __init__(self):
        self.running = {}
        self.cleanups = []

    def get(self, engine, mode):
        key = (id(engine), mode)
        if key not in self.running:
            self.running[key] = self._start(engine, mode)
        return self.running[key]

    def _start(self, engine, mode):
        data_dir = tempfile.TemporaryDirectory(prefix="leancloud-engine-")
        self.cleanups.append(data_dir.cleanup)
        if mode == "http":
            engine_http = make_server("127.0.0.1", 0, engine, threaded=True)
            thread = threading.Thread(target=engine_http.serve_forever, daemon=True)
            thread.start()
            self.cleanups.append(engine_http.shutdown)
            options = {"engine_url": f"http://127.0.0.1:{engine_http.port}"}
        else:
            options = {"engine_app": engine}
        server = start_server(data_dir.name, hook_timeout=HOOK_TIMEOUT, **options)
        self.cleanups.append(server.stop)
        return server

    def stop(self):
        for cleanup in reversed(self.cleanups):
            cleanup()


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


@pytest.fixture(scope="session")
def _engine_servers():
    servers = _Servers()
    yield servers
    servers.stop()


@pytest.fixture
def engine_server(_engine_servers, monkeypatch):
    """``engine_server(engine, mode)``: the running server, with the SDK pointed at it."""

    def start(engine, mode):
        server = _engine_servers.get(engine, mode)
        _point_sdk_at(server, monkeypatch)
        return server

    return start
