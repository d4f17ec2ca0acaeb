"""Bad input never crashes the server: every answer is LeanCloud's JSON error shape."""

import json
import logging

import pytest
from werkzeug.routing import Rule
from werkzeug.test import Client

from leancloud.server import create_app
from leancloud.server.errors import ApiError

HEADERS = {"X-LC-Id": "app-id", "X-LC-Key": "app-key"}


class NoSessions:
    def session_user(self, token):
        return None

    def role_names(self, user_id):
        return frozenset()


def boom(request):
    raise RuntimeError("secret internals")


def refuse(request):
    raise ApiError(142, "Cloud Code validation failed.", 400)


def echo(request):
    return {"body": request.json_object()}


@pytest.fixture
def client(tmp_path):
    app = create_app(
        str(tmp_path),
        app_id="app-id",
        app_key="app-key",
        master_key="master-key",
        hook_key="hook-key",
        storage=NoSessions(),
        max_body_bytes=1000,
    )
    app.url_map.add(Rule("/1.1/boom", methods=["GET"], endpoint=boom))
    app.url_map.add(Rule("/1.1/refuse", methods=["GET"], endpoint=refuse))
    app.url_map.add(Rule("/1.1/echo", methods=["POST", "PUT", "DELETE"], endpoint=echo))
    return Client(app)


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache,no-store"
    body = response.get_json()
    assert (
        set(body) == {"code", "error"} and body["code"] == code and isinstance(body["error"], str)
    )
    return body


def test_unknown_route(client):
    assert_error(client.get("/1.1/nope", headers=HEADERS), 404, 404)
    assert_error(client.get("/", headers=HEADERS), 404, 404)


def test_wrong_method(client):
    assert_error(client.put("/1.1/date", headers=HEADERS), 405, 405)


def test_api_error_keeps_code_and_status(client):
    assert (
        assert_error(client.get("/1.1/refuse", headers=HEADERS), 400, 142)["error"]
        == "Cloud Code validation failed."
    )


def test_unexpected_exception_is_logged_and_hidden(client, caplog):
    with caplog.at_level(logging.ERROR, logger="leancloud.server"):
        body = assert_error(client.get("/1.1/boom", headers=HEADERS), 500, 1)
    assert "secret" not in body["error"] and "Traceback" not in body["error"]
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "data", [b"{", b"{'a': 1}", b"\xff\xfe", b'{"a": NaN}', b'{"a": Infinity}']
)
def test_malformed_json(client, data):
    assert_error(
        client.post("/1.1/echo", data=data, headers=HEADERS, content_type="application/json"),
        400,
        107,
    )


@pytest.mark.parametrize("data", [b"[1]", b'"text"', b"3", b"true"])
def test_non_object_body(client, data):
    assert_error(
        client.post("/1.1/echo", data=data, headers=HEADERS, content_type="application/json"),
        400,
        107,
    )


@pytest.mark.parametrize("data", [b"", b"null", b"  "])
def test_null_or_empty_body_counts_as_empty_object(client, data):
    for method in ("POST", "PUT", "DELETE"):
        response = client.open(
            "/1.1/echo", method=method, data=data, headers=HEADERS, content_type="application/json"
        )
        assert response.status_code == 200 and response.get_json() == {"body": {}}


def test_delete_with_body(client):
    response = client.delete(
        "/1.1/echo", data=json.dumps({"x": "é"}), headers=HEADERS, content_type="application/json"
    )
    assert response.get_json() == {"body": {"x": "é"}}


def test_body_over_the_cap(client):
    big = json.dumps({"a": "x" * 2000})
    assert_error(
        client.post("/1.1/echo", data=big, headers=HEADERS, content_type="application/json"),
        413,
        413,
    )


def test_chunked_body_over_the_cap(client):
    big = json.dumps({"a": "x" * 2000}).encode()
    response = client.post(
        "/1.1/echo",
        input_stream=__import__("io").BytesIO(big),
        headers={**HEADERS, "Transfer-Encoding": "chunked"},
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, 413)


def test_bad_batch_shapes(client):
    for body in ({}, {"requests": {}}, {"requests": "x"}):
        assert_error(client.post("/1.1/batch", json=body, headers=HEADERS), 400, 107)


def test_bad_batch_items_fail_alone(client):
    items = [
        1,
        {"method": "PATCH", "path": "/1.1/echo"},
        {"method": "POST", "path": "echo"},
        {"method": "POST", "path": "/1.1/echo", "params": "x"},
        {"method": "POST", "path": "/1.1/batch", "body": {"requests": []}},
        {"method": "GET", "path": "/1.1/nowhere"},
        {"method": "GET", "path": "/1.1/boom"},
        {"method": "POST", "path": "/1.1/echo", "body": {"ok": 1}},
    ]
    response = client.post("/1.1/batch", json={"requests": items}, headers=HEADERS)
    assert response.status_code == 200
    results = response.get_json()
    assert [r.get("error", {}).get("code") for r in results] == [
        107,
        107,
        107,
        107,
        107,
        404,
        1,
        None,
    ]
    assert results[-1] == {"success": {"body": {"ok": 1}}}


def test_cors_preflight(client):
    response = client.options(
        "/1.1/classes/Post", headers={"Access-Control-Request-Headers": "X-LC-Id, X-LC-Sign"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "X-LC-Id, X-LC-Sign"
