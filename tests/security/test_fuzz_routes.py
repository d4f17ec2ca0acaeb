"""Hostile input on every route: never a 500, never a traceback, always LeanCloud's shape.

The routes are read from the server's own routing table, so a new area is fuzzed as
soon as it exists. Examples are derandomized and bounded so the file stays fast and
deterministic; set ``LEANCLOUD_FUZZ_EXAMPLES`` to search harder locally.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leancloud.server import passwords
from tests.security.conftest import APP_ID, APP_KEY, CHEAP, MASTER_KEY, make_api

EXAMPLES = int(os.environ.get("LEANCLOUD_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Answers that are not JSON by design: file content and captcha images when found,
# and the verification pages (a browser's HTML, errors included).
RAW_ROUTES = re.compile(r"^/(files/|1\.1/captchaImage)")
PAGES = re.compile(r"^/1\.1/(verifyEmail|resetPassword)/")
PRINCIPALS = ["none", "anon", "master", "alice", "bob", "bad-session", "bad-sign", "garbage"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
QUERY_KEYS = [
    "where",
    "order",
    "keys",
    "include",
    "limit",
    "skip",
    "count",
    "cursor",
    "scan_key",
    "cql",
    "pvalues",
    "returnACL",
    "fetchWhenSave",
    "new",
    "excludeKeys",
    "to",
    "redirectClassNameForKey",
    "token",
    "session_token",
    "id",
    "className",
    "after",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server for all examples: two users, a role, rows and a file to aim at."""
    patch = pytest.MonkeyPatch()
    patch.setattr(passwords, "DEFAULT_COST", CHEAP)
    api = make_api(str(tmp_path_factory.mktemp("fuzz")))
    alice, bob = api.sign_up("alice"), api.sign_up("bob")
    row = api.ok("POST", "/classes/Thing", {"n": 1, "tags": ["a"], "o": {"x": 1}}, as_="master")
    role = api.ok("POST", "/roles", {"name": "admins", "ACL": {"*": {"read": True}}}, as_="master")
    ids = [alice["objectId"], bob["objectId"], row["objectId"], role["objectId"]]
    tokens = [alice["sessionToken"], bob["sessionToken"]]
    yield api, ids, tokens
    api.app.storage.close()
    patch.undo()


def rules(api) -> List[Tuple[str, List[str], List[str]]]:
    found = []
    for rule in api.app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        found.append((rule.rule, methods, sorted(rule.arguments)))
    return sorted(found)


# ------------------------------------------------------------------ strategies


def scalars() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=2**63 - 2, max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        st.sampled_from(
            [
                "_User",
                "_Role",
                "Thing",
                "a.b",
                "$where",
                "../../etc/passwd",
                "'; DROP TABLE x--",
                "\u0000",
                "\u202e",
                "objectId",
                "ACL",
                "__proto__",
                "*",
                "role:admins",
            ]
        ),
    )


KEYS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "__op",
            "__type",
            "objectId",
            "className",
            "ACL",
            "a.b",
            "$in",
            "$regex",
            "iso",
            "objects",
            "amount",
            "base64",
            "url",
            "name",
            "username",
            "password",
            "authData",
            "sessionToken",
            "where",
            "requests",
            "method",
            "path",
            "body",
            "params",
            "users",
            "roles",
            "__ignore_hooks",
            "key",
            "latitude",
            "longitude",
            "email",
            "_method",
            "_ApplicationId",
            "_MasterKey",
            "mobilePhoneNumber",
            "data",
            "channels",
        ]
    ),
)
OPS = st.sampled_from(
    [
        "Increment",
        "Add",
        "AddUnique",
        "Remove",
        "AddRelation",
        "RemoveRelation",
        "Delete",
        "Batch",
        "BitAnd",
        "BitOr",
        "BitXor",
        "Bogus",
        None,
        3,
        ["Add"],
        {"Add": 1},
    ]
)
TYPES = st.sampled_from(
    [
        "Pointer",
        "Date",
        "Bytes",
        "File",
        "GeoPoint",
        "Relation",
        "Object",
        "Bogus",
        None,
        7,
        ["Date"],
        {"Date": 1},
    ]
)


def json_values() -> st.SearchStrategy:
    def extend(children):
        return st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(KEYS, children, max_size=5),
            st.fixed_dictionaries(
                {"__op": OPS}, optional={"amount": children, "objects": children, "ops": children}
            ),
            st.fixed_dictionaries(
                {"__type": TYPES},
                optional={
                    "className": children,
                    "objectId": children,
                    "iso": children,
                    "base64": children,
                    "latitude": children,
                    "longitude": children,
                    "url": children,
                    "id": children,
                },
            ),
        )

    return st.recursive(scalars(), extend, max_leaves=12)


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


BODIES = st.one_of(
    json_values().map(lambda v: json.dumps(v).encode()),
    st.dictionaries(KEYS, json_values(), max_size=6).map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"null",
            b"{",
            b"NaN",
            b'{"n": NaN}',
            b'{"n": Infinity}',
            b"\xff\xfe",
            b'{"n": 1e999}',
            b"[" * 5000 + b"]" * 5000,
            json.dumps(deep(400)).encode(),
            b'{"requests": 5}',
            b'{"a": "\\ud800"}',
            b'{"n": ' + b"9" * 5000 + b"}",
        ]
    ),
    st.binary(max_size=40),
)


WHERE_OPS = st.sampled_from(
    [
        "$eq",
        "$ne",
        "$lt",
        "$gte",
        "$in",
        "$nin",
        "$all",
        "$size",
        "$exists",
        "$regex",
        "$options",
        "$inQuery",
        "$notInQuery",
        "$select",
        "$dontSelect",
        "$nearSphere",
        "$within",
        "$maxDistanceInKilometers",
        "$relatedTo",
        "$or",
        "$and",
        "$bogus",
    ]
)
FIELDS = st.sampled_from(
    [
        "n",
        "tags",
        "o.x",
        "owner",
        "objectId",
        "createdAt",
        "ACL",
        "password",
        "authData.weixin.uid",
        "a.b.c.d",
        "$or",
        "1bad",
    ]
)


def wheres() -> st.SearchStrategy:
    """``where`` objects shaped like real ones, with hostile operands."""
    operand = json_values()
    condition = st.one_of(operand, st.dictionaries(WHERE_OPS, operand, min_size=1, max_size=2))
    return st.dictionaries(FIELDS, condition, min_size=1, max_size=3)


def cursors() -> st.SearchStrategy:
    return json_values().map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode())


def param_values() -> st.SearchStrategy:
    return st.one_of(
        st.text(max_size=10),
        json_values().map(json.dumps),
        wheres().map(json.dumps),
        cursors(),
        st.sampled_from(
            [
                "-1",
                "0",
                "99999999999999999999",
                "1e3",
                "NaN",
                "true",
                "{",
                "[]",
                "null",
                "-createdAt,objectId",
                "a.b.c",
                "$x",
                "n.__proto__",
                "owner.owner.owner.owner",
                '{"n":{"$regex":"(a+)+$"}}',
                '{"$or":[{"n":1},{"$and":{}}]}',
                '{"n":{"$in":' + json.dumps(list(range(2000))) + "}}",
                '{"o.x":{"$gt":1}}',
                '{"n":{"$select":{"query":{}}}}',
                "select * from Thing",
                "select n from _User where password = 'x'",
                "insert into Thing(n) values(?)",
                '{"a":' * 3000 + "1" + "}" * 3000,
                "[" * 5000,
                '{"n": 1e999}',
                '{"n": ' + str(2**70) + "}",
                "\u0000",
            ]
        ),
    )


@st.composite
def requests(draw, world):
    api, ids, tokens = world
    path_rule, methods, arguments = draw(st.sampled_from(rules(api)))
    wrong_method = draw(st.integers(0, 9)) == 0
    method = draw(st.sampled_from(METHODS if wrong_method else methods))
    path = path_rule
    for name in arguments:
        value = draw(
            st.one_of(
                st.sampled_from(ids + ["_User", "Thing", "_Role", "me", "..", "%2e%2e", "x" * 300]),
                st.text(
                    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12
                ).filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
            )
        )
        path = re.sub(r"<(?:[^:>]+:)?%s>" % name, lambda _, v=value: v, path)
    params = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), param_values(), max_size=4))
    # Mostly callers that get past authentication, so handlers see the garbage.
    who = draw(st.sampled_from(["master", "alice", "anon"] * 3 + PRINCIPALS))
    headers = _headers(who, tokens)
    content_type = draw(
        st.sampled_from(
            [
                "application/json",
                "application/json",
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "image/png",
                "",
            ]
        )
    )
    body = draw(BODIES)
    if content_type == "text/plain" and draw(st.booleans()):
        body = _fallback(draw, api, who, tokens)
    return method, path, params, headers, content_type, body


def _headers(who: str, tokens: List[str]) -> Dict[str, str]:
    if who == "none":
        return {}
    if who == "master":
        return {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
    if who == "bad-sign":
        return {"X-LC-Id": APP_ID, "X-LC-Sign": "zz,notanumber,master"}
    if who == "garbage":
        return {
            "X-LC-Id": "é" * 50,
            "X-LC-Key": ",master",
            "X-LC-Session": "x" * 5000,
            "X-LC-Prod": "maybe",
            "X-LC-Hook-Key": "\u00e9",
        }
    headers = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
    if who in ("alice", "bob"):
        headers["X-LC-Session"] = tokens[0 if who == "alice" else 1]
    elif who == "bad-session":
        headers["X-LC-Session"] = "no-such-token"
    return headers


def _fallback(draw, api, who, tokens) -> bytes:
    body = draw(st.dictionaries(KEYS, json_values(), max_size=4))
    body["_method"] = draw(st.one_of(st.sampled_from(METHODS), scalars()))
    body["_ApplicationId"] = draw(st.sampled_from([APP_ID, 5, None, ["x"]]))
    body["_ApplicationKey"] = draw(st.sampled_from([APP_KEY, {"a": 1}, ""]))
    if who == "master":
        body["_MasterKey"] = draw(st.sampled_from([MASTER_KEY, 7]))
    if who in ("alice", "bob"):
        body["_SessionToken"] = tokens[0]
    return json.dumps(body).encode()


# ------------------------------------------------------------------ the property


def check_answer(response, method: str, path: str) -> None:
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, text
    assert "Traceback" not in text
    if method == "HEAD":  # no body to look at
        return
    if PAGES.match(path) or (RAW_ROUTES.match(path) and status < 400):
        return
    assert response.mimetype == "application/json", (response.mimetype, text[:200])
    body = json.loads(text) if text else None
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"code", "error"}, text
        assert isinstance(body["code"], int) and not isinstance(body["code"], bool)
        assert isinstance(body["error"], str)


@FUZZ
@given(data=st.data())
def test_no_route_answers_500_or_a_traceback(world, data):
    api = world[0]
    method, path, params, headers, content_type, body = data.draw(requests(world))
    response = api.client.open(
        path,
        method=method,
        query_string=params,
        headers=headers,
        content_type=content_type or None,
        data=body,
    )
    check_answer(response, method, path)


# ------------------------------------------------------------------ the object routes, deeper

FIELD_NAMES = st.sampled_from(["n", "tags", "o", "o.x", "owner", "rel", "f", "ACL", "when"])


def field_ops() -> st.SearchStrategy:
    """A field's new value or an operation on it, most of them well formed."""
    values = json_values()
    pointers = st.fixed_dictionaries(
        {
            "__type": st.just("Pointer"),
            "className": st.sampled_from(["Thing", "_User", "X"]),
            "objectId": st.text(max_size=5),
        }
    )
    return st.one_of(
        values,
        st.fixed_dictionaries(
            {
                "__op": st.sampled_from(["Increment", "Decrement"]),
                "amount": st.one_of(
                    st.integers(), st.floats(allow_nan=False, allow_infinity=False)
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "__op": st.sampled_from(["Add", "AddUnique", "Remove"]),
                "objects": st.lists(values, max_size=3),
            }
        ),
        st.fixed_dictionaries(
            {
                "__op": st.sampled_from(["AddRelation", "RemoveRelation"]),
                "objects": st.lists(pointers, max_size=2),
            }
        ),
        st.fixed_dictionaries(
            {"__op": st.sampled_from(["BitAnd", "BitOr", "BitXor"]), "value": st.integers()}
        ),
        st.just({"__op": "Delete"}),
    )


@FUZZ
@given(data=st.data())
def test_object_writes_and_queries_never_answer_500(world, data):
    api, ids, tokens = world
    as_ = data.draw(st.sampled_from(["master", "anon", tokens[0]]))
    body = data.draw(st.dictionaries(FIELD_NAMES, field_ops(), max_size=3))
    target = data.draw(st.sampled_from(["POST", "PUT", "BATCH", "QUERY"]))
    if target == "POST":
        response = api("POST", "/classes/Thing", body, as_=as_)
    elif target == "PUT":
        response = api("PUT", f"/classes/Thing/{ids[2]}", body, as_=as_)
    elif target == "BATCH":
        item = {"method": "PUT", "path": f"/1.1/classes/Thing/{ids[2]}", "body": body}
        response = api(
            "POST",
            "/batch",
            {
                "requests": [
                    item,
                    {
                        "method": "GET",
                        "path": "/1.1/classes/Thing",
                        "params": {"where": data.draw(wheres())},
                    },
                ]
            },
            as_=as_,
        )
    else:
        params = {
            "where": json.dumps(data.draw(wheres())),
            "order": data.draw(st.sampled_from(["n", "-o.x,tags", "owner", "ACL", ""])),
            "include": data.draw(st.sampled_from(["owner", "", "owner.owner", "n"])),
        }
        response = api("GET", "/classes/Thing", params=params, as_=as_)
    check_answer(response, "GET", "/1.1/classes/Thing")


def test_an_answer_json_cannot_encode_is_a_json_500_not_a_crash(tmp_path, caplog):
    api = make_api(str(tmp_path))
    (rule,) = [r for r in api.app.url_map.iter_rules() if r.rule == "/1.1/date"]
    rule.endpoint = lambda request: {"oops": {1, 2}}  # a set: not JSON
    response = api.client.get("/1.1/date", headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY})
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert response.get_json() == {"code": 1, "error": "Internal server error."}
    assert "Unhandled error in GET /1.1/date" in caplog.text
    api.app.storage.close()
