"""Injection, traversal and resource-limit attacks on the server's inputs."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import time

import pytest

from leancloud.server import create_app
from leancloud.server.query.rest import MAX_INCLUDE_DEPTH
from leancloud.server.query.where import MAX_CONDITIONS, MAX_ORDER_KEYS
from leancloud.server.safe_json import MAX_DEPTH
from tests.security.conftest import APP_ID, APP_KEY, MASTER_KEY, Api


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
    if "(?>" in pattern and sys.version_info < (3, 11):  # atomic groups came in 3.11's re
        assert api.code("GET", "/classes/Thing", params={"where": where}) == 1
        return
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


# ------------------------------------------------------------------ SQL injection

PAYLOADS = [
    "x'; DROP TABLE objects; --",
    'x"; DELETE FROM objects; --',
    "x' OR '1'='1",
    "x) OR 1=1 --",
    "$.a' || (SELECT data FROM objects) || '",
    "a\u0000b",
    "a.b'c",
    'o."x") OR ("1',
    "*",
    "_User",
]


def _injection_requests(payload: str):
    """One request per place a client string reaches the storage adapter."""
    quoted = json.dumps(payload)
    yield "POST", f"/classes/{payload}", {"n": 1}, None
    yield "GET", f"/classes/{payload}", None, None
    yield "POST", "/classes/Thing", {payload: 1, "o": {payload: 2}}, None
    yield "GET", "/classes/Thing", None, {"where": "{%s: 1}" % quoted}
    yield "GET", "/classes/Thing", None, {"where": '{"o.%s": 1}' % payload.replace('"', "")}
    yield "GET", "/classes/Thing", None, {"where": '{"n": %s}' % quoted}
    yield "GET", "/classes/Thing", None, {"where": '{"n": {"$in": [%s]}}' % quoted}
    yield "GET", "/classes/Thing", None, {"where": '{"n": {"$regex": %s}}' % quoted}
    yield "GET", "/classes/Thing", None, {"order": payload}
    yield "GET", "/classes/Thing", None, {"keys": payload}
    yield "GET", "/classes/Thing", None, {"include": payload}
    yield "GET", "/classes/Thing", None, {"redirectClassNameForKey": payload}
    yield "GET", f"/classes/Thing/{payload}", None, None
    yield "DELETE", f"/classes/Thing/{payload},x", None, None
    yield "GET", "/scan/classes/Thing", None, {"scan_key": payload}
    yield "GET", "/scan/classes/Thing", None, {"cursor": payload}
    pointer = {"__type": "Pointer", "className": "Thing", "objectId": payload}
    yield "GET", "/classes/Thing", None, {"where": json.dumps({"p": pointer})}
    related = {"$relatedTo": {"object": pointer, "key": "rel"}}
    yield "GET", "/classes/Thing", None, {"where": json.dumps(related)}
    cql = "select * from Thing where n = ?"
    yield "GET", "/cloudQuery", None, {"cql": cql, "pvalues": json.dumps([payload])}
    yield "GET", "/cloudQuery", None, {"cql": f"select * from Thing where n = '{payload}'"}
    yield "POST", "/login", {"username": payload, "password": payload}, None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_injection_payloads_are_data_or_refused(api, payload):
    canary = api.ok("POST", "/classes/Thing", {"n": 1, "o": {"x": 1}}, as_="master")
    for method, path, body, params in _injection_requests(payload):
        response = api(method, path, body, params=params, as_="master")
        assert response.status_code < 500, (method, path, params, response.get_data())
        if response.status_code == 200 and method == "GET" and path == "/classes/Thing":
            results = response.get_json()["results"]
            assert all(r.get("n") != 1 or r["objectId"] == canary["objectId"] for r in results)
    things = api.ok("GET", "/classes/Thing", params={"where": '{"n": 1}'}, as_="master")
    assert [r["objectId"] for r in things["results"]] == [canary["objectId"]]
    assert api.ok("GET", "/users", as_="master")["results"] == []


def test_strings_stay_data_through_a_round_trip(api):
    fields = {"n": PAYLOADS[0], "o": {PAYLOADS[2]: PAYLOADS[4]}}
    thing = api.ok("POST", "/classes/Thing", fields, as_="master")["objectId"]
    got = api.ok("GET", f"/classes/Thing/{thing}", as_="master")
    assert got["n"] == PAYLOADS[0] and got["o"] == fields["o"]
    where = json.dumps({"n": PAYLOADS[0]})
    found = api.ok("GET", "/classes/Thing", params={"where": where}, as_="master")["results"]
    assert [r["objectId"] for r in found] == [thing]


# ------------------------------------------------------------------ traversal


@pytest.mark.parametrize(
    "path",
    [
        "/files/../config.json",
        "/files/..%2fconfig.json",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/../../data.sqlite3",
        "/files/files/../config.json",
        "/files/config.json",
        "/files/data.sqlite3",
    ],
)
def test_file_urls_never_reach_outside_the_content_store(api, path):
    upload = api.raw(
        "POST", "/1.1/files/a.txt", b"ok", as_="anon", content_type="application/octet-stream"
    )
    assert upload.status_code == 201
    response = api.raw("GET", path, as_="none")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


@pytest.mark.parametrize("name", ["..", ".", "\\..\\x", "..%2f..%2fx", "a\u0000b"])
def test_odd_upload_names_get_server_chosen_keys(api, name):
    response = api.raw(
        "POST", "/1.1/files/" + name, b"ok", as_="anon", content_type="application/octet-stream"
    )
    assert response.status_code in (201, 404), response.get_data(as_text=True)
    if response.status_code == 201:
        key = response.get_json()["url"].rsplit("/files/", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{32}(\.[A-Za-z0-9]+)?", key)
        assert api.raw("GET", "/files/" + key, as_="none").get_data() == b"ok"


# ------------------------------------------------------------------ resource limits


def test_bodies_over_the_cap_are_413_before_anything_else(tmp_path):
    app = create_app(
        str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY, max_body_bytes=1000
    )
    small = Api(app)
    big = b'{"s": "' + b"x" * 2000 + b'"}'
    for as_, content_type in [
        ("anon", "application/json"),
        ("none", "application/json"),
        ("none", "text/plain"),
        ("anon", "application/octet-stream"),
    ]:
        for path in ("/1.1/classes/Thing", "/1.1/batch", "/1.1/files/a.txt"):
            response = small.raw("POST", path, big, as_=as_, content_type=content_type)
            assert response.status_code == 413
            assert response.get_json() == {"code": 413, "error": "Request entity too large."}
    streamed = small.raw("POST", "/1.1/classes/Thing", input_stream=io.BytesIO(big))
    assert streamed.status_code == 413
    app.storage.close()


def test_limit_is_capped_and_cql_is_bounded(api):
    for n in range(3):
        api.ok("POST", "/classes/Thing", {"n": n}, as_="master")
    assert len(api.ok("GET", "/classes/Thing", params={"limit": "5000"})["results"]) == 3
    assert api.code("GET", "/cloudQuery", params={"cql": "select * from Thing" + " " * 5000}) == 300


def test_huge_in_lists_and_wide_ors_answer_quickly(api):
    api.ok("POST", "/classes/Thing", {"n": 7}, as_="master")
    where = json.dumps({"n": {"$in": list(range(100_000))}})
    assert len(api.ok("GET", "/classes/Thing", params={"where": where})["results"]) == 1
    where = json.dumps({"$or": [{"n": n} for n in range(MAX_CONDITIONS)]})
    assert len(api.ok("GET", "/classes/Thing", params={"where": where})["results"]) == 1


@pytest.mark.parametrize(
    "where",
    [
        {f"k{i}": i for i in range(MAX_CONDITIONS + 1)},
        {"$or": [{"n": i} for i in range(MAX_CONDITIONS + 1)]},
        {"$and": [{"n": {"$ne": i}} for i in range(10_000)]},
        {f"k{i}": {"$all": [1, 2]} for i in range(MAX_CONDITIONS // 2 + 1)},
        {
            "$or": [
                {
                    "p": {
                        "$inQuery": {"className": "Thing", "where": {f"k{j}": j for j in range(20)}}
                    }
                }
                for _ in range(80)
            ]
        },
    ],
)
def test_wheres_with_too_many_conditions_are_refused_before_sqlite_sees_them(api, where):
    """SQLite prepares a statement in time quadratic in its conditions, uninterruptibly."""
    item = {"method": "GET", "path": "/1.1/classes/Thing", "params": {"where": where}}
    answer = api.ok("POST", "/batch", {"requests": [item]})
    assert answer == [
        {"error": {"code": 1, "error": f"The query has more than {MAX_CONDITIONS} conditions."}}
    ]


def test_deep_and_wide_includes_are_answered(api):
    api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")
    for include in (".".join(["p"] * 200), ",".join(f"p{i}" for i in range(500))):
        response = api("GET", "/classes/Thing", params={"include": include})
        assert response.status_code in (200, 400), response.get_data(as_text=True)


# ------------------------------------------------------------------ odd shapes in typed values


@pytest.mark.parametrize("op", [["Increment"], {"a": 1}, 3, None, True])
def test_operations_named_by_anything_but_text_are_unknown(api, op):
    thing = api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")["objectId"]
    assert api.code("POST", "/classes/Thing", {"n": {"__op": op}}) == 1
    assert api.code("PUT", f"/classes/Thing/{thing}", {"n": {"__op": op, "amount": 1}}) == 1
    batch = {
        "requests": [
            {
                "method": "PUT",
                "path": f"/1.1/classes/Thing/{thing}",
                "body": {"r": {"__op": "Batch", "ops": [{"__op": op}]}},
            }
        ]
    }
    assert api.ok("POST", "/batch", batch)[0]["error"]["code"] == 1


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_numbers_no_double_can_hold_are_malformed_json(api, number):
    raw = '{"n": %s}' % number
    for path in ("/1.1/classes/Thing", "/1.1/classes/_Followee", "/1.1/batch"):
        response = api.raw("POST", path, raw, as_="master")
        assert response.status_code == 400
        assert response.get_json()["code"] == 107
    where = '{"n": {"$gt": %s}}' % number
    assert api.code("GET", "/classes/Thing", params={"where": where}) == 107


def _nested_where(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("path", ["/users", "/classes/_User"])
def test_deep_user_queries_are_refused_not_crashed(api, path):
    response = api("GET", path, params={"where": _nested_where(400)})
    assert response.status_code == 400
    assert response.get_json()["code"] in (1, 107)  # too deep for the parsers


@pytest.mark.parametrize(
    "method, path, as_",
    [
        ("GET", "/users", "anon"),
        ("PUT", "/classes/Thing/x", "master"),
        ("DELETE", "/classes/Thing/x", "master"),
        ("GET", "/users/x/followers", "master"),
    ],
)
def test_where_params_nested_past_the_recursion_limit_are_malformed_json(api, method, path, as_):
    body = {"n": 1} if method == "PUT" else None
    response = api(method, path, body, params={"where": _nested_where(3000)}, as_=as_)
    assert response.status_code == 400
    assert response.get_json()["code"] == 107


@pytest.mark.parametrize("cursor", ["[" * 5000, "[1]", "x", '"a"'])
def test_forged_export_cursors_are_error_1(api, cursor):
    params = {"cursor": cursor}
    assert api.code("GET", "/export/relations/Thing/rel", params=params, as_="master") == 1


def test_includes_through_a_self_pointer_are_bounded(api):
    node = api.ok("POST", "/classes/Node", {"n": 1})["objectId"]
    api.ok(
        "PUT",
        f"/classes/Node/{node}",
        {"p": {"__type": "Pointer", "className": "Node", "objectId": node}},
    )
    deepest = api.ok(
        "GET", "/classes/Node", params={"include": ".".join(["p"] * MAX_INCLUDE_DEPTH)}
    )
    level = deepest["results"][0]
    for _ in range(MAX_INCLUDE_DEPTH):
        level = level["p"]
        assert level["n"] == 1
    for depth in (MAX_INCLUDE_DEPTH + 1, 1000):
        params = {"include": ".".join(["p"] * depth)}
        assert api.code("GET", "/classes/Node", params=params) == 1
        cql = "select include " + ".".join(["p"] * depth) + ", * from Node"
        assert api.code("GET", "/cloudQuery", params={"cql": cql}) == 1


@pytest.mark.parametrize("name, mime", [("x.html", "text/html"), ("x.svg", "image/svg+xml")])
def test_uploaded_active_content_is_served_sandboxed(api, name, mime):
    script = b"<script>alert(document.cookie)</script>"
    upload = api.raw("POST", f"/1.1/files/{name}", script, as_="anon", content_type=mime)
    served = api.raw("GET", upload.get_json()["url"].split("localhost", 1)[1], as_="none")
    assert served.get_data() == script
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_sort_keys_are_bounded(api):
    api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")
    fine = ",".join(f"-f{i}" for i in range(MAX_ORDER_KEYS))
    assert len(api.ok("GET", "/classes/Thing", params={"order": fine})["results"]) == 1
    for count in (MAX_ORDER_KEYS + 1, 5000):  # 5000 overflowed SQLite's ORDER BY: a 500
        order = ",".join(f"f{i}" for i in range(count))
        assert api.code("GET", "/classes/Thing", params={"order": order}) == 1
        item = {"method": "GET", "path": "/1.1/classes/Thing", "params": {"order": order}}
        assert api.ok("POST", "/batch", {"requests": [item]})[0]["error"]["code"] == 1


@pytest.mark.xfail(
    run=False,
    strict=True,
    reason="polynomial backtracking is not bounded: '.*a.*b' over 10,000 stored 'a's takes "
    "over two minutes in Python's re, inside a SQLite function the query deadline cannot "
    "interrupt. Needs a time-bounded engine (e.g. the optional 'regex' module's timeout) or "
    "a cap on the text a $regex scans; not run, since it would hang the suite",
)
def test_polynomial_regexes_are_bounded_in_time(api):
    api.ok("POST", "/classes/Thing", {"s": "a" * 10_000}, as_="master")
    where = json.dumps({"s": {"$regex": ".*a.*b"}})
    started = time.monotonic()
    response = api("GET", "/classes/Thing", params={"where": where})
    assert time.monotonic() - started < 5
    assert response.status_code in (200, 400)
