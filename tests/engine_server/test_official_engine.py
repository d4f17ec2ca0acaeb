"""Our server as the platform of an unchanged LeanEngine app running the official SDK.

``official_engine_app.py`` runs in the official Python SDK's venv (the one the
compatibility tests install, ``tests/compat``) and listens like a deployed app; the
server reaches it with ``engine_url``. The SDK in this process talks to the server only.
"""

import os
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

import leancloud
from leancloud import LeanCloudError, cloud
from leancloud.testing import _point_sdk_at, start_server
from tests.compat.conftest import official_python  # noqa: F401 - the venv fixture

APP = Path(__file__).with_name("official_engine_app.py")
STARTUP_SECONDS = 30


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
def official_engine_server(official_python, tmp_path_factory):  # noqa: F811
    port = free_port()
    server = start_server(
        str(tmp_path_factory.mktemp("official-engine")),
        engine_url=f"http://127.0.0.1:{port}",
        hook_timeout=5,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith(("LEANCLOUD_", "LC_"))
    }
    env.update(
        LEANCLOUD_APP_ID=server.app_id,
        LEANCLOUD_APP_KEY=server.app_key,
        LEANCLOUD_APP_MASTER_KEY=server.master_key,
        LEANCLOUD_APP_HOOK_KEY=server.hook_key,
        LEANCLOUD_APP_PORT=str(port),
        LEANCLOUD_API_SERVER=server.url,
    )
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(official_python), str(APP)],
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
