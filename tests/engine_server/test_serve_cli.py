"""``python -m leancloud serve --engine-app`` / ``--engine-url``: real processes, real ports."""

import textwrap
import threading

import pytest
import requests
from werkzeug.serving import make_server

from leancloud import LeanEngineError, client
from leancloud.engine import Engine
from tests.server.test_cli import AUTH, KEYS, Server

ENGINE_MODULE = textwrap.dedent(
    """
    from leancloud import LeanEngineError
    from leancloud.engine import Engine

    engine = Engine()

    @engine.define
    def hello(name):
        return "hello " + name

    @engine.before_save("Todo")
    def check(todo):
        if not todo.get("title"):
            raise LeanEngineError(code=400, message="a title please")
        todo.set("checked", True)
    """
)


@pytest.fixture
def serve():
    started = []

    def start(cwd, *args):
        server = Server(cwd, *KEYS, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.log.close()


def post(server, path, body):
    return requests.post(server.url + path, json=body, headers=AUTH, timeout=10)


def test_engine_app_runs_in_the_server_process(tmp_path, serve):
    (tmp_path / "cloudapp.py").write_text(ENGINE_MODULE)
    server = serve(tmp_path, "--data", str(tmp_path / "data"), "--engine-app", "cloudapp:engine")
    answer = post(server, "/functions/hello", {"name": "ann"})
    assert answer.status_code == 200 and answer.json() == {"result": "hello ann"}
    created = post(server, "/classes/Todo?fetchWhenSave=true", {"title": "x"})
    assert created.status_code == 201 and created.json()["checked"] is True
    refused = post(server, "/classes/Todo", {})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 142,
        "error": "Cloud Code validation failed. Error detail : a title please",
    }


def test_engine_url_reaches_an_engine_over_http(tmp_path, serve):
    client.init("A", "K", master_key="M", hook_key="H")  # the Engine process's own keys
    engine = Engine()

    @engine.define
    def fail():
        raise LeanEngineError(code=321, message="nope", status=409)

    engine_http = make_server("127.0.0.1", 0, engine, threaded=True)
    threading.Thread(target=engine_http.serve_forever, daemon=True).start()
    try:
        server = serve(
            tmp_path,
            "--data",
            str(tmp_path),
            "--engine-url",
            f"http://127.0.0.1:{engine_http.port}",
        )
        answer = post(server, "/functions/fail", {})
        assert answer.status_code == 409 and answer.json() == {"code": 321, "error": "nope"}
    finally:
        engine_http.shutdown()


def test_an_engine_that_cannot_be_loaded_is_a_clean_error(tmp_path, capsys):
    from leancloud.__main__ import main

    assert main(["serve", "--data", str(tmp_path), *KEYS, "--engine-app", "nowhere:engine"]) == 1
    assert "cannot load the Engine nowhere:engine" in capsys.readouterr().err
