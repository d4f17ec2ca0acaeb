"""Registering functions, combining engines, local calls and serving."""

import datetime as dt
import json
import socket
import threading
import time
import urllib.request
import warnings

import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from leancloud import LeanCloudWarning, Object, User, cloud
from leancloud.engine import Engine, LeanEngineError
from tests.engine.conftest import APP_HEADERS, HOOK_HEADERS, post

UTC = dt.timezone.utc


class LocalTodo(Object):
    pass


def user_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"user app"]


# -- define --------------------------------------------------------------------------


def test_define_forms(engine, http):
    @engine.define
    def plain():
        return "plain"

    @engine.define("renamed")
    def original():
        return "renamed"

    @engine.define()
    def empty_call():
        return "empty"

    @engine.define(fetch_user=False)
    def options_only():
        return "options"

    assert (plain.__name__, original.__name__) == ("plain", "original")  # functions are kept
    for name in ("plain", "renamed", "empty_call", "options_only"):
        assert post(http, f"/1.1/functions/{name}")[0] == 200
    assert post(http, "/1.1/functions/original")[0] == 404


def test_define_refuses_duplicates_and_bad_names(engine):
    engine.define("hello")(lambda: 1)
    with pytest.raises(RuntimeError):
        engine.define("hello")(lambda: 2)
    with pytest.raises(TypeError):
        engine.define(123)
    with pytest.raises(TypeError):
        engine.define("")


# -- register and wrap ---------------------------------------------------------------


def test_register_takes_the_other_engines_functions(engine, http):
    other = Engine()
    other.define("from_other")(lambda: "other")
    other.before_save("LocalTodo")(lambda obj: None)
    engine.register(other)
    assert post(http, "/1.1/functions/from_other") == (200, {"result": "other"})
    assert engine._registry.names() == ["from_other", "__before_save_for_LocalTodo"]


def test_register_refuses_overlaps_without_taking_anything(engine):
    engine.define("a")(lambda: 1)
    other = Engine()
    other.define("b")(lambda: 2)
    other.define("a")(lambda: 3)
    with pytest.raises(RuntimeError, match="a"):
        engine.register(other)
    assert engine._registry.names() == ["a"]
    with pytest.raises(TypeError):
        engine.register(object())


def test_wrap_returns_the_engine_and_wraps_once():
    engine = Engine()
    assert engine.wrap(user_app) is engine
    assert Client(engine).get("/").get_data() == b"user app"
    with pytest.raises(RuntimeError):
        engine.wrap(user_app)
    with pytest.raises(RuntimeError):
        Engine(user_app).wrap(user_app)


# -- local calls ---------------------------------------------------------------------


def test_run_calls_a_function_in_process(engine):
    @engine.define
    def add(a, b):
        return a + b

    assert engine.run("add", a=1, b=2) == 3
    with pytest.raises(LeanEngineError) as info:
        engine.run("missing")
    assert info.value.code == 404


def test_cloud_run_local_reaches_the_wrapping_engine():
    assert cloud.run.local("add", a=1, b=2) is None  # no engine yet: the official behaviour
    engine = Engine(user_app)
    seen = []

    @engine.define
    def add(a, b):
        seen.append(User.get_current())
        return {"sum": a + b}

    current = User()
    User.set_current(current)
    assert cloud.run.local("add", a=1, b=2) == {"sum": 3}
    assert seen == [current]  # the caller's user, nothing changed
    with pytest.raises(LeanEngineError) as info:
        cloud.run.local("missing")
    assert info.value.code == 404


def test_run_local_passes_values_untouched_and_rpc_local_round_trips():
    engine = Engine().wrap(user_app)
    seen = []

    @engine.define
    def echo(todo, when):
        seen.append((todo, when))
        return [todo, when]

    todo = LocalTodo(title="t")
    todo.id = "t1"
    when = dt.datetime(2024, 1, 2, tzinfo=UTC)
    result = cloud.run.local("echo", todo=todo, when=when)
    assert seen[0] == (todo, when) and result == [todo, when]
    result = cloud.rpc.local("echo", todo=todo, when=when)
    copy, got_when = seen[1]
    assert isinstance(copy, LocalTodo) and copy is not todo
    assert (copy.id, copy.get("title"), got_when) == ("t1", "t", when)
    assert isinstance(result[0], LocalTodo) and result[0].get("title") == "t"
    assert result[1] == when


def test_realtime_hooks_cannot_be_run_locally():
    engine = Engine(user_app)
    engine.define("_messageReceived")(lambda **params: None)
    with pytest.raises(LeanEngineError) as info:
        cloud.run.local("_messageReceived")
    assert info.value.code == 401


def test_the_deprecated_current_user(engine):
    User.set_current(None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert engine.current_user is None
    assert caught[0].category is LeanCloudWarning


# -- serving -------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url):
    deadline = time.monotonic() + 5
    while True:
        try:
            return urllib.request.urlopen(url, timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_start_serves_until_stop(monkeypatch):
    port = free_port()
    monkeypatch.setenv("LEANCLOUD_APP_PORT", str(port))
    engine = Engine()
    engine.define("hello")(lambda: "hi")
    thread = threading.Thread(target=engine.start)
    thread.start()
    try:
        ping = json.load(wait_for(f"http://127.0.0.1:{port}/__engine/1/ping"))
        assert ping["runtime"].startswith("cpython-")
        home = wait_for(f"http://127.0.0.1:{port}/").read()
        assert home == b"This is a LeanEngine application."
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/1.1/functions/hello", data=b"{}", headers=APP_HEADERS
        )
        assert json.load(urllib.request.urlopen(request, timeout=5)) == {"result": "hi"}
    finally:
        engine.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_start_needs_an_app_id(monkeypatch):
    from leancloud import client

    monkeypatch.setattr(client, "APP_ID", None)
    with pytest.raises(RuntimeError, match="LEANCLOUD_APP_ID"):
        Engine().start()


def test_run_with_server_arguments_is_werkzeugs_run_simple(engine, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "leancloud.engine.engine.run_simple", lambda *a, **kw: calls.append((a, kw))
    )
    engine.run("0.0.0.0", 3000, user_app)
    engine.run("localhost", port=3000, application=user_app)
    assert calls == [
        (("0.0.0.0", 3000, user_app), {}),
        (("localhost",), {"port": 3000, "application": user_app}),
    ]


def test_in_process_call_as_the_server_makes_it():
    """The self-hosted server calls the Engine as a WSGI app, without a socket."""
    engine = Engine(fetch_user=False)
    engine.before_save("LocalTodo")(lambda todo: todo.set("checked", True))
    environ = EnvironBuilder(
        path="/1.1/functions/LocalTodo/beforeSave",
        method="POST",
        json={"object": {"title": "t"}, "user": {"objectId": "u1", "sessionToken": "st1"}},
        headers=HOOK_HEADERS,
    ).get_environ()
    body, status, headers = run_wsgi_app(engine, environ)
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(b"".join(body)) == {"title": "t", "checked": True}
    assert User.get_current() is None
