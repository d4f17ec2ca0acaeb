"""Our server as the platform of unchanged LeanEngine apps running the official SDKs.

The same app, written for the official Python SDK (``official_engine_app.py``, run in
the venv ``tests/compat`` installs) and for the official Node.js SDK
(``official_engine_app.js``, npm ``leanengine``, installed once into the same cache),
listens like a deployed app; the server reaches it with ``engine_url``. The SDK in this
process talks to the server only. Every test runs against both, and against the Python
app run unchanged on this package.
"""

import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

import leancloud
from leancloud import LeanCloudError, cloud
from leancloud.testing import _point_sdk_at, start_server
from tests.compat.conftest import (  # noqa: F401 - official_python is a fixture
    INSTALL_TIMEOUT,
    NPM_PATIENCE,
    official_python,
    prepared,
    problem,
    run,
    server_env,
)

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
STARTUP_SECONDS = 30
LEANENGINE_VERSION = "3.8.0"
STORAGE_VERSION = "4.15.2"


def _node_engine_problem(folder):
    if not (folder / "node_modules").is_dir():
        return "no node_modules"
    check = (
        "const v = require('leanengine/package.json').version;"
        f"if (v !== {LEANENGINE_VERSION!r}) throw new Error(v); require('leanengine');"
    )
    return problem(["node", "-e", check], cwd=folder)


def _build_node_engine(folder):
    manifest = {
        "private": True,
        "dependencies": {"leanengine": LEANENGINE_VERSION, "leancloud-storage": STORAGE_VERSION},
    }
    (folder / "package.json").write_text(json.dumps(manifest))
    run(
        ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", *NPM_PATIENCE],
        f"npm install leanengine@{LEANENGINE_VERSION}",
        INSTALL_TIMEOUT,
        cwd=folder,
    )


@pytest.fixture(scope="module", params=["python", "node", "ours"])
def engine_command(request):
    """The command that runs the app, and extra environment for it."""
    if request.param == "python":
        python = request.getfixturevalue("official_python")
        return [str(python), str(HERE / "official_engine_app.py")], {}
    if request.param == "ours":  # the same app, unchanged, on this package
        return [sys.executable, str(HERE / "official_engine_app.py")], {"PYTHONPATH": str(ROOT)}
    folder = prepared(f"leanengine-{LEANENGINE_VERSION}", _build_node_engine, _node_engine_problem)
    return ["node", str(HERE / "official_engine_app.js")], {
        "NODE_PATH": str(folder / "node_modules")
    }


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_ping(port, process, log):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"the official Engine exited:\n{log.read().decode()[-3000:]}")
        try:
            requests.get(f"http://127.0.0.1:{port}/__engine/1/ping", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail("the official Engine did not answer its ping")


@pytest.fixture(scope="module")
def official_engine_server(engine_command, tmp_path_factory):
    command, extra_env = engine_command
    port = free_port()
    server = start_server(
        str(tmp_path_factory.mktemp("official-engine")),
        engine_url=f"http://127.0.0.1:{port}",
        hook_timeout=5,
    )
    env = server_env(
        server,
        LEANCLOUD_APP_ID=server.app_id,
        LEANCLOUD_APP_KEY=server.app_key,
        LEANCLOUD_APP_MASTER_KEY=server.master_key,
        LEANCLOUD_APP_HOOK_KEY=server.hook_key,
        LEANCLOUD_APP_PORT=str(port),
        **extra_env,
    )
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=tempfile.gettempdir(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_ping(port, process, log)
            yield server
        finally:
            process.terminate()
            process.wait(10)
            server.stop()


@pytest.fixture
def server(official_engine_server, monkeypatch):
    _point_sdk_at(official_engine_server, monkeypatch)
    leancloud.client.use_master_key(False)  # as an app in users' hands
    return official_engine_server


def error_of(call, *args):
    with pytest.raises(LeanCloudError) as caught:
        call(*args)
    return caught.value.code, caught.value.error


def test_functions_run_as_the_calling_user(server):
    assert cloud.run("hello", name="ann") == {"greeting": "hello ann", "user": None}
    user = leancloud.User()
    user.sign_up("official-" + uuid.uuid4().hex[:8], "pw")
    # the official Engine fetched the caller from our server with the session token
    assert cloud.run("hello")["user"] == user.get_username()


def test_rpc_and_class_hooks_change_what_is_saved(server):
    note = cloud.rpc("add_note", text="hello")  # the Engine's save went through its hook
    assert isinstance(note, leancloud.Object) and note.id
    stored = leancloud.Query("OfficialNote").get(note.id)
    assert stored.get("text") == "HELLO"
    assert stored.get("audited") is True  # afterSave saved it again, without looping


def test_before_hooks_refuse_without_a_trace(server):
    Note = leancloud.Object.extend("OfficialNote")
    assert error_of(Note(text="forbidden").save) == (
        142,
        "Cloud Code validation failed. Error detail : notes may not say that",
    )
    assert leancloud.Query("OfficialNote").equal_to("text", "forbidden").count() == 0
    kept = Note(text="keep")
    kept.save()
    assert error_of(kept.destroy)[0] == 142
    assert leancloud.Query("OfficialNote").get(kept.id).get("text") == "KEEP"


def test_on_login_refuses(server):
    name = "banned-" + uuid.uuid4().hex[:8]
    leancloud.User().sign_up(name, "pw")
    assert error_of(leancloud.User().login, name, "pw") == (403, "banned here")
