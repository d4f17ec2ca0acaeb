"""What the server sends an Engine, byte for byte where it matters, against a fake Engine
that records every request (called in-process, no sockets)."""

import json
import socket
import threading
import time

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from leancloud.server import create_app

KEYS = {"app_id": "A", "app_key": "K", "master_key": "M", "hook_key": "H"}
APP = {"X-LC-Id": "A", "X-LC-Key": "K"}
MASTER = {"X-LC-Id": "A", "X-LC-Key": "M,master"}
METADATAS = "/1.1/functions/_ops/metadatas"


class FakeEngine:
    """Answers the metadata with ``names`` and each path with ``answers[path]`` (else 404)."""

    def __init__(self, *names):
        self.names = list(names)
        self.metadata_status = 200
        self.answers = {}
        self.calls = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append((request.path, request.headers, request.get_json(silent=True)))
        if request.path == METADATAS:
            status, answer = self.metadata_status, {"result": self.names}
        else:
            status, answer = self.answers.get(request.path, (404, {"code": 404, "error": "no"}))
        return Response(json.dumps(answer), status, content_type="application/json")(
            environ, start_response
        )

    def paths(self):
        return [path for path, _, _ in self.calls if path != METADATAS]

    def last(self, path):
        return [call for call in self.calls if call[0] == path][-1]


@pytest.fixture
def engine():
    return FakeEngine("hello", "__before_save_for_Todo")


@pytest.fixture
def http(tmp_path, engine):
    return Client(create_app(str(tmp_path), engine_app=engine, hook_timeout=1, **KEYS))


def sign_up(http):
    answer = http.post("/1.1/users", json={"username": "ann", "password": "pw"}, headers=APP)
    return answer.json


def test_the_registry_is_read_on_start_with_the_master_key(engine, http):
    path, headers, _ = engine.calls[0]
    assert path == METADATAS
    assert headers["X-LC-Id"] == "A" and headers["X-LC-Key"] == "M,master"


def test_a_function_call_carries_the_callers_session_and_environment(engine, http):
    engine.answers["/1.1/functions/hello"] = (200, {"result": "hi"})
    user = sign_up(http)
    headers = {**APP, "X-LC-Session": user["sessionToken"], "X-LC-Prod": "0"}
    answer = http.post("/1.1/functions/hello", json={"a": [1, {"__type": "Date"}]}, headers=headers)
    assert answer.status_code == 200 and answer.json == {"result": "hi"}
    _, sent, body = engine.last("/1.1/functions/hello")
    assert body == {"a": [1, {"__type": "Date"}]}
    assert sent["X-LC-Id"] == "A" and sent["X-LC-Key"] == "K"
    assert sent["X-LC-Session"] == user["sessionToken"] and sent["X-LC-Prod"] == "0"
    assert "X-LC-Hook-Key" not in sent


def test_a_master_caller_calls_with_the_master_key(engine, http):
    engine.answers["/1.1/call/hello"] = (200, {"result": None})
    assert http.post("/1.1/call/hello", json={}, headers=MASTER).status_code == 200
    assert engine.last("/1.1/call/hello")[1]["X-LC-Key"] == "M,master"


def test_a_hook_call_is_signed_with_the_hook_key_and_names_the_user(engine, http):
    engine.answers["/1.1/functions/Todo/beforeSave"] = (200, {"title": "changed"})
    user = sign_up(http)
    headers = {**APP, "X-LC-Session": user["sessionToken"]}
    created = http.post("/1.1/classes/Todo", json={"title": "given"}, headers=headers)
    assert created.status_code == 201
    _, sent, body = engine.last("/1.1/functions/Todo/beforeSave")
    assert sent["X-LC-Hook-Key"] == "H" and sent["X-LC-Prod"] == "1"
    assert body["object"] == {"title": "given"}
    assert body["user"]["objectId"] == user["objectId"]
    assert body["user"]["sessionToken"] == user["sessionToken"]
    assert "password" not in body["user"]
    stored = http.get(f"/1.1/classes/Todo/{created.json['objectId']}", headers=APP).json
    assert stored["title"] == "changed"


def test_hooks_the_engine_does_not_define_are_not_called(engine, http):
    assert http.post("/1.1/classes/Other", json={"n": 1}, headers=APP).status_code == 201
    assert engine.paths() == []


def test_a_404_makes_the_registry_be_read_again(engine, http):
    engine.names.append("__after_save_for_Todo")  # deployed after the server started
    engine.answers["/1.1/functions/Todo/beforeSave"] = (200, {"n": 1})
    http.post("/1.1/classes/Todo", json={"n": 1}, headers=APP)
    assert "/1.1/functions/Todo/afterSave" not in engine.paths()
    http.post("/1.1/functions/missing", json={}, headers=APP)  # 404: read the registry again
    http.post("/1.1/classes/Todo", json={"n": 2}, headers=APP)
    assert engine.paths()[-1] == "/1.1/functions/Todo/afterSave"


def test_a_failed_registry_read_keeps_the_names_last_read(engine, http):
    engine.metadata_status = 500
    http.post("/1.1/functions/missing", json={}, headers=APP)  # stale, and the read fails
    assert http.post("/1.1/classes/Other", json={"n": 1}, headers=APP).status_code == 201
    assert "/1.1/functions/Other/beforeSave" not in engine.paths()
    engine.answers["/1.1/functions/Todo/beforeSave"] = (400, {"code": 1, "error": "no"})
    assert http.post("/1.1/classes/Todo", json={"n": 1}, headers=APP).json["code"] == 142


def test_unknown_functions_get_leanclouds_answer(engine, http):
    answer = http.post("/1.1/functions/missing", json={}, headers=APP)
    assert answer.status_code == 404
    assert answer.json == {
        "code": 1,
        "error": "LeanEngine not found function named 'missing' for app 'A' on production.",
    }


def test_without_an_engine_every_function_is_unknown(tmp_path):
    http = Client(create_app(str(tmp_path), **KEYS))
    answer = http.post("/1.1/call/hello", json={}, headers={**APP, "X-LC-Prod": "0"})
    assert answer.status_code == 404
    assert answer.json["code"] == 1
    assert answer.json["error"].endswith("'hello' for app 'A' on staging.")


def test_an_unreachable_engine_refuses_the_writes_its_hooks_guard(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    app = create_app(str(tmp_path), engine_url=f"http://127.0.0.1:{port}", **KEYS)
    http = Client(app)
    answer = http.post("/1.1/functions/hello", json={}, headers=APP)
    assert answer.status_code == 502 and answer.json["code"] == 141
    refused = http.post("/1.1/classes/Todo", json={"n": 1}, headers=APP)
    assert refused.status_code == 502
    assert not app.storage.class_exists("Todo")


def test_engine_options_are_checked(tmp_path, engine):
    with pytest.raises(ValueError):
        create_app(str(tmp_path), engine_url="http://x", engine_app=engine, **KEYS)
    with pytest.raises(ValueError):
        create_app(str(tmp_path), engine_app=engine, hook_timeout=0, **KEYS)


def test_a_function_that_hangs_times_out_with_leanclouds_error(tmp_path):
    release = threading.Event()

    def hanging_engine(environ, start_response):
        if Request(environ).path != METADATAS:
            release.wait(5)
        return Response(json.dumps({"result": []}), content_type="application/json")(
            environ, start_response
        )

    http = Client(create_app(str(tmp_path), engine_app=hanging_engine, hook_timeout=0.2, **KEYS))
    started = time.monotonic()
    try:
        answer = http.post("/1.1/functions/slow", json={}, headers=APP)
    finally:
        release.set()
    assert answer.status_code == 503
    assert answer.json == {"code": 141, "error": "The request timed out on the server."}
    assert time.monotonic() - started < 2


def test_an_on_login_refusal_answers_401_with_the_hooks_code_and_message(engine, http):
    engine.names.append("__on_login__User")
    engine.answers["/1.1/functions/_User/onLogin"] = (400, {"code": 1, "error": "Forbidden"})
    http.post("/1.1/functions/missing", json={}, headers=APP)  # the registry is read again
    sign_up(http)
    answer = http.post("/1.1/login", json={"username": "ann", "password": "pw"}, headers=APP)
    assert answer.status_code == 401
    assert answer.json == {"code": 1, "error": "Forbidden"}
    _, sent, body = engine.last("/1.1/functions/_User/onLogin")
    assert sent["X-LC-Hook-Key"] == "H"
    assert body["object"]["username"] == "ann" and "password" not in body["object"]


def test_the_environment_names_the_engine_and_the_timeout(tmp_path, monkeypatch, engine):
    monkeypatch.setenv("LEANCLOUD_ENGINE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("LEANCLOUD_HOOK_TIMEOUT", "2.5")
    from_env = create_app(str(tmp_path), **KEYS).engine
    assert from_env.transport.base_url == "http://127.0.0.1:1" and from_env.timeout == 2.5
    explicit = create_app(str(tmp_path), engine_app=engine, hook_timeout=1, **KEYS).engine
    assert explicit.transport.app is engine and explicit.timeout == 1
    monkeypatch.setenv("LEANCLOUD_HOOK_TIMEOUT", "soon")
    with pytest.raises(ValueError):
        create_app(str(tmp_path), **KEYS)
