"""Injection, traversal and resource-limit attacks on the server's inputs."""

from __future__ import annotations

import base64
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


# ------------------------------------------------------------------ regular expressions


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(\\w+\\s?)*!", "(.*a){20}", "(?:x|(a*))+$"])
def test_exponential_regexes_are_refused_before_they_run(api, pattern):
    """Python's engine cannot be interrupted mid-match: (a+)+ over 40 a's never returns."""
    api.ok("POST", "/classes/Thing", {"s": "a" * 40 + "!"}, as_="master")
    where = json.dumps({"s": {"$regex": pattern}})
    assert api.code("GET", "/classes/Thing", params={"where": where}) == 1


@pytest.mark.parametrize("negate", ["", "not "])
def test_exponential_regexes_are_refused_in_cql(api, negate):
    api.ok("POST", "/classes/Thing", {"s": "a" * 40 + "!"}, as_="master")
    cql = f"select * from Thing where s {negate}regexp '^(a+)+$'"
    assert api.code("GET", "/cloudQuery", params={"cql": cql}) == 1


@pytest.mark.parametrize(
    "pattern", ["^a+!$", "(\\d{1,3}\\.){3}", "(aa|a)+!", "(?>a+)+!", "(a{2})+", "[a!]+"]
)
def test_ordinary_regexes_still_match(api, pattern):
    api.ok("POST", "/classes/Thing", {"s": "aaaa!", "ip": "10.0.0.1"}, as_="master")
    field = "ip" if "\\d" in pattern else "s"
    where = json.dumps({field: {"$regex": pattern}})
    assert len(api.ok("GET", "/classes/Thing", params={"where": where})["results"]) == 1


# ------------------------------------------------------------------ numbers SQLite cannot bind

HUGE = 2**70


@pytest.mark.parametrize(
    "where",
    [
        {"n": HUGE},
        {"n": {"$gte": HUGE}},
        {"n": {"$ne": -HUGE}},
        {"arr": {"$all": [HUGE]}},
        {"n": {"$in": [HUGE, 1]}},
    ],
)
def test_integers_beyond_64_bits_in_queries_compare_as_numbers(api, where):
    api.ok("POST", "/classes/Thing", {"n": 1, "arr": [1]}, as_="master")
    big = api.ok("POST", "/classes/Thing", {"n": HUGE, "arr": [HUGE]}, as_="master")
    results = api.ok("GET", "/classes/Thing", params={"where": json.dumps(where)})["results"]
    if "$in" in str(where) or "$ne" in str(where):
        assert len(results) == 2
    else:
        assert [r["objectId"] for r in results] == [big["objectId"]]


@pytest.mark.parametrize(
    "params",
    [
        {"skip": str(HUGE)},
        {"where": json.dumps({"arr": {"$size": HUGE}})},
        {"where": '{"n": 1' + "0" * 400 + "}"},
    ],
)
def test_out_of_range_numbers_in_queries_are_client_errors(api, params):
    api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")
    response = api("GET", "/classes/Thing", params=params)
    assert response.status_code == 400
    assert response.get_json()["code"] in (1, 107)


def test_an_increment_that_overflows_to_infinity_is_refused(api):
    thing = api.ok("POST", "/classes/Thing", {"n": 1e308}, as_="master")["objectId"]
    increment = {"n": {"__op": "Increment", "amount": 1e308}}
    assert api.code("PUT", f"/classes/Thing/{thing}", increment) == 111
    assert api.ok("GET", f"/classes/Thing/{thing}")["n"] == 1e308


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], HUGE, "not base64!"])
def test_forged_scan_cursors_are_error_1(api, value):
    api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")
    text = value if isinstance(value, str) else json.dumps(value)
    cursor = text if isinstance(value, str) else base64.urlsafe_b64encode(text.encode()).decode()
    response = api("GET", "/scan/classes/Thing", params={"cursor": cursor}, as_="master")
    assert response.status_code == 400
    assert response.get_json()["code"] == 1
