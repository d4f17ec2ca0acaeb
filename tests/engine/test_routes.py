"""The Engine's HTTP surface: dispatch, every prefix, functions, RPC, errors, CORS, ping."""

import datetime as dt
import json
import logging

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

import leancloud
from leancloud import Object
from leancloud.engine import Engine, LeanEngineError
from leancloud.engine.cors import ALLOWED_HEADERS
from tests.engine.conftest import APP_HEADERS, MASTER_HEADERS, post

PREFIXES = ("/1", "/1.1", "/__engine/1", "/__engine/1.1")
UTC = dt.timezone.utc


class EngineTodo(Object):
    pass


def user_app(environ, start_response):
    return Response(f"user app: {environ['PATH_INFO']}")(environ, start_response)


@pytest.fixture
def engine():
    engine = Engine(user_app)

    @engine.define
    def hello(name="world", **params):
        return f"hello {name} {sorted(params)}"

    return engine


# -- dispatch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/1.1/classes/Todo", "/__engine", "/2/functions/x"]
)
def test_other_paths_reach_the_wrapped_app(http, path):
    response = http.get(path)
    assert response.get_data(as_text=True) == f"user app: {path}"


def test_without_a_wrapped_app_other_paths_are_404():
    response = Client(Engine()).get("/")
    assert response.status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
def test_functions_under_every_prefix(http, prefix):
    assert post(http, f"{prefix}/functions/hello", {"name": "you"}) == (
        200,
        {"result": "hello you []"},
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_rpc_under_every_prefix(http, prefix):
    assert post(http, f"{prefix}/call/hello", {"name": "rpc"}) == (200, {"result": "hello rpc []"})


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_any_method_reaches_a_function(http, method):
    response = http.open("/1.1/functions/hello", method=method, headers=APP_HEADERS)
    assert json.loads(response.get_data()) == {"result": "hello world []"}


@pytest.mark.parametrize(
    "path",
    [
        "/1.1/functions/hello/",
        "/1.1/functionsXYZ",
        "/__engine/1.1/ping",
        "/__engine/2/functions/hello",
        "/1.1/functions/a/b/c",
    ],
)
def test_unknown_cloud_paths_answer_json_404(http, path):
    status, body = post(http, path)
    assert status == 404
    assert body["code"] == 404


# -- ping ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/__engine/1/ping", "/__engine/1.1/ping/"])
def test_ping_needs_no_credentials(http, path):
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.get_data())
    assert body["version"] == leancloud.__version__
    assert body["runtime"].startswith("cpython-3.")
    assert "Access-Control-Allow-Origin" not in response.headers


# -- parameters and results ----------------------------------------------------------


def test_params_without_underscore_keys_except_type(engine, http):
    seen = {}

    @engine.define
    def echo(**params):
        seen.update(params)
        return True

    body = {"a": 1, "_ApplicationId": "x", "__sign": "y", "__type": "Object", "b": [1]}
    assert post(http, "/1.1/functions/echo", body) == (200, {"result": True})
    assert seen == {"a": 1, "__type": "Object", "b": [1]}


def test_run_params_stay_raw_and_rpc_params_are_decoded(engine, http):
    seen = []

    @engine.define
    def take(when, todo):
        seen.append((when, todo))

    date = {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"}
    pointer = {"__type": "Pointer", "className": "EngineTodo", "objectId": "t1"}
    post(http, "/1.1/functions/take", {"when": date, "todo": pointer})
    post(http, "/1.1/call/take", {"when": date, "todo": pointer})
    assert seen[0] == (date, pointer)
    when, todo = seen[1]
    assert when == dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert isinstance(todo, EngineTodo) and todo.id == "t1"


def test_results_are_encoded_with_full_objects(engine, http):
    @engine.define
    def make():
        todo = EngineTodo(title="x", due=dt.datetime(2024, 1, 1, tzinfo=UTC))
        todo._update_data({"objectId": "t1", "createdAt": "2019-04-28T08:34:12.932Z"})
        return [1, todo]

    expected = [
        1,
        {
            "__type": "Object",
            "className": "EngineTodo",
            "objectId": "t1",
            "title": "x",
            "due": {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"},
            "createdAt": "2019-04-28T08:34:12.932Z",
        },
    ]
    for kind in ("functions", "call"):
        assert post(http, f"/1.1/{kind}/make") == (200, {"result": expected})


def test_empty_body_means_no_params(engine, http):
    response = http.post("/1.1/functions/hello", headers=APP_HEADERS)
    assert json.loads(response.get_data()) == {"result": "hello world []"}


# -- errors --------------------------------------------------------------------------


def test_unknown_function_is_404(http):
    assert post(http, "/1.1/functions/nope") == (
        404,
        {"code": 404, "error": "cloud func named 'nope' not found."},
    )


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'"text"', b"12"])
def test_a_body_that_is_not_a_json_object_is_400_107(http, data):
    response = http.post("/1.1/functions/hello", data=data, headers=APP_HEADERS)
    assert response.status_code == 400
    assert json.loads(response.get_data())["code"] == 107


@pytest.mark.parametrize(
    "value",
    [
        {"__type": "Date"},
        {"__type": "Pointer", "objectId": "t1"},
        [{"__type": "GeoPoint", "latitude": "north"}],
    ],
)
def test_a_malformed_typed_rpc_parameter_is_400_107(engine, http, value):
    engine.define("take")(lambda value: "called")
    status, body = post(http, "/1.1/call/take", {"value": value})
    assert status == 400 and body["code"] == 107
    assert post(http, "/1.1/functions/take", {"value": value}) == (200, {"result": "called"})


DEEP = b"[" * 100_000 + b"]" * 100_000  # deeper than the JSON parser can recurse


@pytest.mark.parametrize("data", [b"{not json", DEEP])
def test_a_bad_body_from_an_unknown_caller_is_401(http, data):
    response = http.post("/1.1/functions/hello", data=data)
    assert response.status_code == 401


def test_absurdly_deep_json_is_400_107(http):
    response = http.post("/1.1/functions/hello", data=DEEP, headers=APP_HEADERS)
    assert (response.status_code, json.loads(response.get_data())["code"]) == (400, 107)


@pytest.mark.parametrize(
    "error, status, body",
    [
        (LeanEngineError(), 400, {"code": 400, "error": "error"}),
        (LeanEngineError("text"), 400, {"code": 400, "error": "text"}),
        (LeanEngineError(code=403, message="no"), 403, {"code": 403, "error": "no"}),
        (LeanEngineError(code=123, message="odd"), 400, {"code": 123, "error": "odd"}),
        (LeanEngineError(code=123, message="m", status=409), 409, {"code": 123, "error": "m"}),
        (LeanEngineError(message="m", status=418), 418, {"code": 1, "error": "m"}),
        (LeanEngineError("text", status=503), 503, {"code": 400, "error": "text"}),
        (LeanEngineError(1, "app code"), 400, {"code": 1, "error": "app code"}),
    ],
)
def test_lean_engine_error_shapes(engine, http, error, status, body):
    @engine.define
    def fail():
        raise error

    assert post(http, "/1.1/functions/fail") == (status, body)


@pytest.mark.parametrize("kind", ["functions", "call"])
def test_exceptions_in_cloud_code_are_141_without_traceback(engine, http, caplog, kind):
    @engine.define
    def boom():
        raise KeyError("secret detail")

    with caplog.at_level(logging.ERROR, logger="leancloud.engine"):
        response = http.post(f"/1.1/{kind}/boom", headers=APP_HEADERS)
    assert response.status_code == 500
    assert json.loads(response.get_data()) == {
        "code": 141,
        "error": "Cloud Code script had an error.",
    }
    assert "secret detail" not in response.get_data(as_text=True)
    assert "secret detail" in caplog.text  # the traceback goes to the log


def test_unexpected_params_and_unencodable_results_are_141(engine, http):
    @engine.define
    def strict(a):
        return object()

    assert post(http, "/1.1/functions/strict", {"b": 1})[0] == 500
    assert post(http, "/1.1/functions/strict", {"a": 1})[0] == 500


# -- metadata ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_metadatas_lists_internal_names_in_order(engine, http, prefix):
    engine.before_save("Foo")(lambda obj: None)
    engine.on_verified("sms")(lambda user: None)
    engine.on_login(lambda user: None)
    engine.on_auth_data(lambda data: data)
    engine.on_insight("end")(lambda ok, params: None)
    engine.define("_messageReceived")(lambda **params: None)
    response = http.get(f"{prefix}/functions/_ops/metadatas", headers=MASTER_HEADERS)
    assert json.loads(response.get_data()) == {
        "result": [
            "hello",
            "__before_save_for_Foo",
            "__on_verified_sms",
            "__on_login__User",
            "__on_authdata__User",
            "__on_complete_bigquery_job",
            "_messageReceived",
        ]
    }


@pytest.mark.parametrize(
    "headers", [APP_HEADERS, {"X-LC-Id": "test-app-id", "X-LC-Key": "test-master-key"}]
)
def test_metadatas_needs_the_master_key(http, headers):
    assert post(http, "/1.1/functions/_ops/metadatas", headers=headers) == (
        401,
        {"code": 401, "error": "Unauthorized."},
    )


# -- CORS ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/1.1/functions/_ops/metadatas", "/__engine/1/functions/hello", "/1/call/x"]
)
def test_preflight_is_answered_before_authentication(http, path):
    response = http.options(path, headers={"Origin": "https://web.example"})
    assert response.status_code == 200
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "https://web.example"
    assert "X-LC-Hook-Key" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Allow-Headers"] == ALLOWED_HEADERS
    assert response.headers["Access-Control-Allow-Methods"] == "PUT, GET, POST, DELETE, OPTIONS"
    assert response.headers["Access-Control-Max-Age"] == "86400"


def test_preflight_without_origin_allows_any(http):
    assert http.options("/1.1/functions/x").headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("headers", [APP_HEADERS, {}])
def test_cloud_answers_carry_cors_headers_even_errors(http, headers):
    response = http.post(
        "/1.1/functions/hello", headers={**headers, "Origin": "https://web.example"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-LC-Session" in response.headers["Access-Control-Allow-Headers"]


def test_user_app_answers_get_no_cors_headers(http):
    assert "Access-Control-Allow-Origin" not in http.get("/").headers
