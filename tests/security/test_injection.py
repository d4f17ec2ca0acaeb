"""Injection, traversal and resource-limit attacks on the server's inputs."""

from __future__ import annotations

import json

import pytest

from leancloud.server.safe_json import MAX_DEPTH


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


# ------------------------------------------------------------------ nesting


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_deeply_nested_bodies_are_malformed_json_not_a_crash(api, depth):
    raw = "[" * depth + "]" * depth
    for path in ("/classes/Thing", "/batch", "/users", "/roles"):
        response = api.raw("POST", "/1.1" + path, '{"n": %s}' % raw, as_="master")
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["code"] == 107


def test_nesting_up_to_the_limit_is_stored(api):
    body = {"n": nested(MAX_DEPTH - 2)}
    created = api.ok("POST", "/classes/Thing", body, as_="master")
    got = api.ok("GET", "/classes/Thing/" + created["objectId"], as_="master")
    assert got["n"] == body["n"]


def test_deeply_nested_query_parameters_are_refused(api):
    where = json.dumps({"n": nested(MAX_DEPTH + 1)})
    assert api.code("GET", "/classes/Thing", params={"where": where}) == 107
    pvalues = json.dumps([nested(MAX_DEPTH + 1)])
    cql = {"cql": "select * from Thing where n = ?", "pvalues": pvalues}
    assert api.code("GET", "/cloudQuery", params=cql) == 107


def test_text_plain_fallback_bodies_are_bounded_too(api):
    raw = "[" * 3000 + "]" * 3000
    response = api.raw("POST", "/1.1/classes/Thing", raw, as_="none", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["code"] == 107
