"""Objects over HTTP: CRUD, every field operation, ACLs, conditional writes, batch."""

import json
import re
import threading

import pytest
from werkzeug.test import Client

from leancloud.server import create_app
from leancloud.server.names import INTERNAL_CLASSES
from leancloud.server.storage import StoredObject

APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY = "app-id", "app-key", "master-key", "hook-key"
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


class Api:
    def __init__(self, app):
        self.app = app
        self.client = Client(app)

    def __call__(
        self,
        method,
        path,
        body=None,
        params=None,
        master=False,
        session=None,
        headers=None,
        status=None,
    ):
        all_headers = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master" if master else APP_KEY}
        if session:
            all_headers["X-LC-Session"] = session
        all_headers.update(headers or {})
        data = None if body is None else json.dumps(body)
        response = self.client.open(
            "/1.1" + path,
            method=method,
            data=data,
            query_string=params,
            headers=all_headers,
            content_type="application/json",
        )
        if status is not None:
            assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def create(self, class_name, body, **kwargs):
        return self("POST", f"/classes/{class_name}", body, status=201, **kwargs)["objectId"]

    def get(self, class_name, object_id, **kwargs):
        return self("GET", f"/classes/{class_name}/{object_id}", status=200, **kwargs)

    def update(self, class_name, object_id, body, **kwargs):
        return self("PUT", f"/classes/{class_name}/{object_id}", body, **kwargs)

    def error(self, method, path, body=None, status=400, **kwargs):
        result = self(method, path, body, status=status, **kwargs)
        assert set(result) == {"code", "error"}
        return result["code"]

    def login(self, user_id, token):
        """A user row and its session, written straight into storage."""
        with self.app.storage.write() as tx:
            stamp = "2024-01-01T00:00:00.000Z"
            tx.insert(StoredObject("_User", user_id, stamp, stamp, {"username": user_id}))
            tx.set_session(user_id, token)
        return token


@pytest.fixture
def api(tmp_path):
    app = create_app(
        str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY, hook_key=HOOK_KEY
    )
    yield Api(app)
    app.storage.close()


# ------------------------------------------------------------------ create / get


def test_create_answers_201_with_location(api):
    response = api.client.post(
        "/1.1/classes/Post", json={"title": "hi"}, headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"objectId", "createdAt"}
    assert re.fullmatch(r"[0-9a-f]{24}", body["objectId"]) and DATE.match(body["createdAt"])
    assert response.headers["Location"] == f"/1.1/classes/Post/{body['objectId']}"


def test_get_returns_fields_and_builtins(api):
    when = {"__type": "Date", "iso": "2024-01-02T03:04:05Z"}
    object_id = api.create("Post", {"title": "hi", "tags": ["a"], "when": when, "meta": {"n": 1}})
    got = api.get("Post", object_id)
    assert got["title"] == "hi" and got["tags"] == ["a"] and got["meta"] == {"n": 1}
    assert got["when"] == {"__type": "Date", "iso": "2024-01-02T03:04:05.000Z"}
    assert (
        got["objectId"] == object_id
        and DATE.match(got["createdAt"])
        and got["createdAt"] == got["updatedAt"]
    )
    assert "ACL" not in got


def test_get_missing_object_and_missing_class(api):
    api.create("Post", {"a": 1})
    assert api.get("Post", "0" * 24) == {}
    assert api("GET", "/classes/Nothing/" + "0" * 24, status=404) == {
        "code": 101,
        "error": "Class or object doesn't exists.",
    }


def test_get_keys_include_and_acl(api):
    author = api.create("Author", {"name": "ann", "age": 3})
    post = api.create(
        "Post",
        {
            "title": "t",
            "body": "b",
            "author": {"__type": "Pointer", "className": "Author", "objectId": author},
            "ACL": {"*": {"read": True, "write": True}},
        },
    )
    got = api.get("Post", post, params={"keys": "title"})
    assert set(got) == {"title", "objectId", "createdAt", "updatedAt"}
    got = api.get("Post", post, params={"include": "author", "returnACL": "true"})
    assert got["author"]["name"] == "ann" and got["author"]["__type"] == "Pointer"
    assert got["ACL"] == {"*": {"read": True, "write": True}}


def test_fetch_when_save_on_create(api):
    for flag in ("fetchWhenSave", "new"):
        body = api(
            "POST",
            "/classes/Post",
            {"n": {"__op": "Increment", "amount": 2}, "s": "x"},
            params={flag: "true"},
            status=201,
        )
        assert (
            body["n"] == 2
            and body["s"] == "x"
            and DATE.match(body["updatedAt"])
            and body["objectId"]
        )


def test_reserved_fields_are_ignored(api):
    object_id = api.create(
        "Post", {"objectId": "mine", "createdAt": "x", "updatedAt": "y", "className": "Z", "a": 1}
    )
    assert object_id != "mine"
    got = api.get("Post", object_id)
    assert got["a"] == 1 and DATE.match(got["createdAt"])
    api.update(
        "Post",
        object_id,
        {"objectId": {"__op": "Delete"}, "createdAt": {"__op": "Delete"}},
        status=200,
    )
    assert api.get("Post", object_id)["objectId"] == object_id


# ------------------------------------------------------------------ update / delete


def test_update_answers_updated_at_and_object_id(api):
    object_id = api.create("Post", {"a": 1})
    result = api.update("Post", object_id, {"a": 2, "b": "x"}, status=200)
    assert set(result) == {"updatedAt", "objectId"} and result["objectId"] == object_id
    got = api.get("Post", object_id)
    assert got["a"] == 2 and got["b"] == "x" and got["updatedAt"] == result["updatedAt"]


def test_update_fetch_when_save_returns_written_fields(api):
    object_id = api.create("Post", {"views": 7, "other": "o"})
    for flag in ("new", "fetchWhenSave"):
        result = api.update(
            "Post",
            object_id,
            {"views": {"__op": "Increment", "amount": 1}},
            params={flag: "true"},
            status=200,
        )
        assert set(result) == {"views", "updatedAt", "objectId"}
    assert result["views"] == 9


def test_update_missing_object(api):
    api.create("Post", {"a": 1})
    assert api.error("PUT", "/classes/Post/nope", {"a": 1}, status=404) == 1


def test_delete(api):
    object_id = api.create("Post", {"a": 1})
    assert api("DELETE", f"/classes/Post/{object_id}", status=200) == {}
    assert api.get("Post", object_id) == {}
    assert api("DELETE", f"/classes/Post/{object_id}", status=200) == {}


def test_delete_comma_joined_ids(api):
    ids = [api.create("Post", {"i": i}) for i in range(3)]
    assert api("DELETE", f"/classes/Post/{ids[0]},{ids[1]}", status=200) == {}
    assert [api.get("Post", i) != {} for i in ids] == [False, False, True]


# ------------------------------------------------------------------ field operations


@pytest.mark.parametrize(
    "start, op, expected",
    [
        ({"n": 1}, {"__op": "Increment", "amount": 2}, 3),
        ({}, {"__op": "Increment", "amount": 2}, 2),
        ({"n": 1.5}, {"__op": "Increment", "amount": -1}, 0.5),
        ({"n": 5}, {"__op": "Decrement", "amount": 2}, 3),
        ({"n": [1, 2]}, {"__op": "Add", "objects": [2]}, [1, 2, 2]),
        ({}, {"__op": "Add", "objects": [1]}, [1]),
        ({"n": [1, 2]}, {"__op": "AddUnique", "objects": [2, 3]}, [1, 2, 3]),
        ({"n": [1, True]}, {"__op": "AddUnique", "objects": [True, 1]}, [1, True]),
        ({"n": [1, 2, 1]}, {"__op": "Remove", "objects": [1]}, [2]),
        ({"n": [1, True]}, {"__op": "Remove", "objects": [True]}, [1]),
        ({}, {"__op": "Remove", "objects": [1]}, None),
        ({"n": None}, {"__op": "Remove", "objects": [1]}, []),
        ({"n": 6}, {"__op": "BitAnd", "value": 3}, 2),
        ({"n": 6}, {"__op": "BitOr", "value": 3}, 7),
        ({"n": 6}, {"__op": "BitXor", "value": 3}, 5),
        ({}, {"__op": "BitAnd", "value": 3}, 0),
        ({}, {"__op": "BitOr", "value": 3}, 3),
        ({}, {"__op": "BitXor", "value": 3}, 3),
        ({"n": 1}, {"__op": "Delete"}, None),
    ],
)
def test_field_operations(api, start, op, expected):
    object_id = api.create("Ops", start)
    api.update("Ops", object_id, {"n": op}, status=200)
    got = api.get("Ops", object_id)
    assert got.get("n") == expected and ("n" in got) == (expected is not None)


def test_remove_and_add_unique_compare_pointers_by_id(api):
    ptr = {"__type": "Pointer", "className": "A", "objectId": "1"}
    object_id = api.create("Ops", {"list": [ptr]})
    api.update(
        "Ops",
        object_id,
        {"list": {"__op": "AddUnique", "objects": [dict(ptr, extra=1)]}},
        status=200,
    )
    assert api.get("Ops", object_id)["list"] == [ptr]
    api.update("Ops", object_id, {"list": {"__op": "Remove", "objects": [ptr]}}, status=200)
    assert api.get("Ops", object_id)["list"] == []


@pytest.mark.parametrize(
    "op",
    [{"__op": "BitAnd", "value": 3}, {"__op": "BitOr", "value": 3}, {"__op": "BitXor", "value": 3}],
)
def test_bit_ops_on_create(api, op):
    body = api("POST", "/classes/Ops", {"n": op}, params={"new": "true"}, status=201)
    assert body["n"] == (0 if op["__op"] == "BitAnd" else 3)


def test_ops_on_create(api):
    body = api(
        "POST",
        "/classes/Ops",
        {
            "a": {"__op": "Add", "objects": [1]},
            "r": {"__op": "Remove", "objects": [1]},
            "d": {"__op": "Delete"},
        },
        params={"fetchWhenSave": "true"},
        status=201,
    )
    assert body["a"] == [1] and "r" not in body and "d" not in body


def test_dotted_keys_on_update(api):
    object_id = api.create("Person", {"job": {"title": "dev", "tags": ["a"], "old": 1}})
    api.update(
        "Person",
        object_id,
        {
            "job.title": "boss",
            "job.tags": {"__op": "AddUnique", "objects": ["b"]},
            "job.old": {"__op": "Delete"},
            "job.level.n": {"__op": "Increment", "amount": 1},
            "fresh.x": 1,
        },
        status=200,
    )
    got = api.get("Person", object_id)
    assert got["job"] == {"title": "boss", "tags": ["a", "b"], "level": {"n": 1}}
    assert got["fresh"] == {"x": 1}
    result = api.update(
        "Person", object_id, {"job.title": "ceo"}, params={"new": "true"}, status=200
    )
    assert result["job"]["title"] == "ceo"


def test_removing_a_nested_key_of_a_missing_field_creates_nothing(api):
    object_id = api.create("Person", {"job": None})
    body = {
        "gone.x": {"__op": "Delete"},
        "job.x": {"__op": "Delete"},
        "lost.y": {"__op": "Remove", "objects": [1]},
    }
    api.update("Person", object_id, body, status=200)
    got = api.get("Person", object_id)
    assert "gone" not in got and "lost" not in got and got["job"] is None


def test_dotted_key_through_a_non_object(api):
    object_id = api.create("Person", {"job": "dev"})
    assert api.error("PUT", f"/classes/Person/{object_id}", {"job.title": "x"}) == 111


def test_relations(api):
    tags = [api.create("Tag", {"i": i}) for i in range(3)]
    ptrs = [{"__type": "Pointer", "className": "Tag", "objectId": t} for t in tags]
    post = api.create("Post", {"tags": {"__op": "AddRelation", "objects": ptrs[:2]}})

    def related():
        where = {
            "$relatedTo": {
                "object": {"__type": "Pointer", "className": "Post", "objectId": post},
                "key": "tags",
            }
        }
        return sorted(
            r["objectId"]
            for r in api("GET", "/classes/Tag", params={"where": json.dumps(where)})["results"]
        )

    assert related() == sorted(tags[:2])
    api.update(
        "Post",
        post,
        {
            "tags": {
                "__op": "Batch",
                "ops": [
                    {"__op": "AddRelation", "objects": [ptrs[2]]},
                    {"__op": "RemoveRelation", "objects": [ptrs[0]]},
                ],
            }
        },
        status=200,
    )
    assert related() == sorted(tags[1:])
    api.update("Post", post, {"tags": {"__op": "RemoveRelation", "objects": [ptrs[1]]}}, status=200)
    assert related() == [tags[2]]
    assert api.get("Post", post)["tags"] == {"__type": "Relation", "className": "Tag"}
    schema = api("GET", "/schemas/Post", master=True, status=200)
    assert schema["tags"] == {"type": "Relation", "className": "Tag"}


@pytest.mark.parametrize(
    "start, body, code",
    [
        ({"n": "text"}, {"n": {"__op": "Increment", "amount": 1}}, 111),
        ({"n": 1}, {"n": {"__op": "Add", "objects": [1]}}, 111),
        ({"n": 1.5}, {"n": {"__op": "BitOr", "value": 1}}, 111),
        ({"n": 1}, {"n": "now a string"}, 111),
        ({}, {"n": {"__op": "Increment"}}, 1),
        ({}, {"n": {"__op": "Increment", "amount": "1"}}, 1),
        ({}, {"n": {"__op": "Add", "objects": 1}}, 1),
        ({}, {"n": {"__op": "BitAnd", "value": True}}, 1),
        ({}, {"n": {"__op": "Frobnicate"}}, 1),
        ({}, {"n": {"__op": "AddRelation", "objects": []}}, 128),
        ({}, {"n": {"__op": "AddRelation", "objects": [1]}}, 128),
        ({}, {"n": {"__op": "Batch", "ops": [{"__op": "Add", "objects": [1]}]}}, 1),
        ({}, {"bad-name": 1}, 105),
        ({}, {"_hidden": 1}, 105),
        ({}, {"ACL.x": 1}, 105),
        ({}, {"n": {"$set": 1}}, 121),
        ({}, {"n": {"a.b": 1}}, 121),
        ({}, {"n": {"__type": "Pointer", "className": "A"}}, 106),
        ({}, {"n": {"__type": "GeoPoint", "latitude": 91, "longitude": 0}}, 302),
        ({}, {"n": {"__type": "Date", "iso": "yesterday"}}, 111),
        ({}, {"n": {"__type": "Mystery"}}, 111),
        ({}, {"n": {"nested": {"__op": "Increment", "amount": 1}}}, 111),
        ({}, {"ACL": {"*": {"read": "yes"}}}, 123),
        ({}, {"ACL": []}, 123),
    ],
)
def test_bad_updates(api, start, body, code):
    object_id = api.create("Ops", start)
    assert api.error("PUT", f"/classes/Ops/{object_id}", body) == code
    assert api.get("Ops", object_id).get("n") == start.get("n")  # nothing was written


def test_bad_creates(api):
    assert api.error("POST", "/classes/Post", {"a.b": 1}) == 105
    assert api.error("POST", "/classes/bad-class", {"a": 1}) == 103
    assert api.error("POST", "/classes/_Secret", {"a": 1}) == 103
    assert api.error("POST", "/classes/Post", [1, 2]) == 107
    assert api.error("GET", "/classes/bad-class/x") == 103


def test_types_are_kept_per_field(api):
    api.create("Typed", {"n": 1})
    assert api.error("POST", "/classes/Typed", {"n": "one"}) == 111
    api.create("Typed", {"n": None})


def test_concurrent_increments_are_never_lost(api):
    object_id = api.create("Counter", {"n": 0})
    app = api.app

    def bump():
        client = Client(app)
        for _ in range(10):
            response = client.put(
                f"/1.1/classes/Counter/{object_id}",
                json={"n": {"__op": "Increment", "amount": 1}},
                headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY},
            )
            assert response.status_code == 200

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert api.get("Counter", object_id)["n"] == 80


# ------------------------------------------------------------------ conditional writes


def test_conditional_update_and_delete(api):
    object_id = api.create("Account", {"balance": 10})
    where = json.dumps({"balance": {"$gte": 30}})
    body = {"balance": {"__op": "Decrement", "amount": 30}}
    assert api(
        "PUT", f"/classes/Account/{object_id}", body, params={"where": where}, status=400
    ) == {"code": 305, "error": "No effect on updating/deleting a document."}
    assert api.get("Account", object_id)["balance"] == 10
    api.update(
        "Account",
        object_id,
        body,
        params={"where": json.dumps({"balance": {"$gte": 10}})},
        status=200,
    )
    assert api.get("Account", object_id)["balance"] == -20
    assert api.error("DELETE", f"/classes/Account/{object_id}", params={"where": where}) == 305
    assert api.error("DELETE", "/classes/Account/missing", params={"where": where}) == 305
    assert (
        api(
            "DELETE",
            f"/classes/Account/{object_id}",
            params={"where": json.dumps({"balance": -20})},
            status=200,
        )
        == {}
    )
    assert api.get("Account", object_id) == {}


def test_conditional_update_with_bad_where(api):
    object_id = api.create("Account", {"balance": 10})
    assert api.error("PUT", f"/classes/Account/{object_id}", {"a": 1}, params={"where": "{"}) == 107


# ------------------------------------------------------------------ ACL and users


def test_acl_write_checks(api):
    token = api.login("u1", "tok1")
    api.login("u2", "tok2")
    acl = {"*": {"read": True}, "u1": {"write": True}}
    object_id = api.create("Doc", {"v": 1, "ACL": acl})
    forbidden = {"code": 403, "error": "Forbidden writing by object's ACL."}
    assert api.update("Doc", object_id, {"v": 2}, status=403) == forbidden
    assert api.update("Doc", object_id, {"v": 2}, session="tok2", status=403) == forbidden
    assert api("DELETE", f"/classes/Doc/{object_id}", status=403) == forbidden
    api.update("Doc", object_id, {"v": 3}, session=token, status=200)
    api.update("Doc", object_id, {"v": 4}, master=True, status=200)
    assert api.get("Doc", object_id)["v"] == 4
    assert api("DELETE", f"/classes/Doc/{object_id}", session=token, status=200) == {}


def test_acl_by_role(api):
    token = api.login("u1", "tok1")
    role = api.create("_Role", {"name": "Editors", "ACL": {"*": {"read": True}}}, master=True)
    api.update(
        "_Role",
        role,
        {
            "users": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "_User", "objectId": "u1"}],
            }
        },
        master=True,
        status=200,
    )
    object_id = api.create("Doc", {"v": 1, "ACL": {"role:Editors": {"read": True, "write": True}}})
    assert api.get("Doc", object_id) == {}
    assert api.get("Doc", object_id, session=token)["v"] == 1
    api.update("Doc", object_id, {"v": 2}, session=token, status=200)


def test_acl_can_be_changed_and_removed(api):
    token = api.login("u1", "tok1")
    object_id = api.create("Doc", {"v": 1, "ACL": {"u1": {"read": True, "write": True}}})
    assert api.get("Doc", object_id) == {}
    api.update("Doc", object_id, {"ACL": {"__op": "Delete"}}, session=token, status=200)
    assert api.get("Doc", object_id)["v"] == 1
    api.update("Doc", object_id, {"ACL": {"*": {"read": True, "write": False}}}, status=200)
    assert api.get("Doc", object_id, params={"returnACL": "true"})["ACL"] == {"*": {"read": True}}
    assert api.update("Doc", object_id, {"v": 2}, status=403)["code"] == 403


def test_users_are_writable_only_by_themselves(api):
    token = api.login("u1", "tok1")
    api.login("u2", "tok2")
    assert api.update("_User", "u1", {"nick": "x"}, status=403)["code"] == 206
    assert api.update("_User", "u1", {"nick": "x"}, session="tok2", status=403)["code"] == 206
    api.update("_User", "u1", {"nick": "me"}, session=token, status=200)
    api.update("_User", "u1", {"nick": "master"}, master=True, status=200)
    assert api.get("_User", "u1")["nick"] == "master"


def test_ignore_hooks_needs_master_or_hook_key(api):
    body = {"a": 1, "__ignore_hooks": ["beforeSave"]}
    assert api("POST", "/classes/Post", body, status=403)["code"] == 403
    api("POST", "/classes/Post", body, master=True, status=201)
    object_id = api("POST", "/classes/Post", body, headers={"X-LC-Hook-Key": HOOK_KEY}, status=201)[
        "objectId"
    ]
    assert "__ignore_hooks" not in api.get("Post", object_id)
    assert (
        api(
            "DELETE", f"/classes/Post/{object_id}", {"__ignore_hooks": ["beforeDelete"]}, status=403
        )["code"]
        == 403
    )


# ------------------------------------------------------------------ queries, scan, schemas


def test_query_with_count(api):
    for i in range(5):
        api.create("Item", {"i": i})
    where = json.dumps({"i": {"$gte": 2}})
    result = api(
        "GET",
        "/classes/Item",
        params={"where": where, "order": "-i", "limit": "2", "count": "1"},
        status=200,
    )
    assert [r["i"] for r in result["results"]] == [4, 3] and result["count"] == 3
    assert api("GET", "/classes/Item", params={"limit": "0", "count": "1"}, status=200) == {
        "results": [],
        "count": 5,
    }
    assert api("GET", "/classes/Unknown", status=200) == {"results": []}
    assert api.error("GET", "/classes/Item", params={"where": "{"}) == 107


def test_scan_pages_with_a_cursor(api):
    ids = sorted(api.create("Item", {"i": i}) for i in range(5))
    assert api("GET", "/scan/classes/Item", status=401) == {"code": 401, "error": "Unauthorized."}
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api("GET", "/scan/classes/Item", params=params, master=True, status=200)
        assert set(page) == {"results", "cursor"}
        seen += [r["objectId"] for r in page["results"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == ids
    page = api(
        "GET", "/scan/classes/Item", params={"where": json.dumps({"i": 1})}, master=True, status=200
    )
    assert [r["i"] for r in page["results"]] == [1] and page["cursor"] is None
    assert (
        api.error("GET", "/scan/classes/Item", params={"scan_key": "bad-key"}, master=True) == 105
    )


def test_scan_answers_acls_with_return_acl(api):
    acl = {"*": {"read": True}, "u1": {"write": True}}
    api.create("Item", {"i": 1, "ACL": acl})
    params = {"returnACL": "true", "keys": "-i"}
    page = api("GET", "/scan/classes/Item", params=params, master=True, status=200)
    assert [row["ACL"] for row in page["results"]] == [acl]
    assert "i" not in page["results"][0]
    page = api("GET", "/scan/classes/Item", master=True, status=200)
    assert "ACL" not in page["results"][0] and page["results"][0]["i"] == 1


def test_schemas_need_the_master_key(api):
    api.create(
        "Post",
        {"title": "t", "n": 1, "p": {"__type": "Pointer", "className": "A", "objectId": "x"}},
    )
    assert api("GET", "/schemas", status=401)["code"] == 401
    assert api("GET", "/schemas/Post", status=401)["code"] == 401
    everything = api("GET", "/schemas", master=True, status=200)
    assert everything["Post"]["title"] == {"type": "String"}
    post = api("GET", "/schemas/Post", master=True, status=200)
    assert post["n"] == {"type": "Number"} and post["p"] == {"type": "Pointer", "className": "A"}
    assert api.error("GET", "/schemas/Nothing", master=True, status=404) == 101


# ------------------------------------------------------------------ batch


def test_batch_mixed_items(api):
    keep = api.create("Person", {"age": 1})
    gone = [api.create("Person", {"age": 2}), api.create("Person", {"age": 3})]
    requests = [
        {"method": "PUT", "path": "/1.1/classes/Person/nope", "body": {"age": 30}},
        {"method": "POST", "path": "/1.1/classes/Person", "body": {"age": 40}},
        {"method": "GET", "path": "/1.1/classes/Person/nope2"},
        {"method": "DELETE", "path": f"/1.1/classes/Person/{gone[0]},{gone[1]}", "body": {}},
        {"method": "GET", "path": f"/1.1/classes/Person/{keep}", "params": {"keys": "age"}},
        {
            "method": "GET",
            "path": "/1.1/classes/Person",
            "params": {"where": {"age": {"$gte": 30}}, "count": 1},
        },
        {
            "method": "PUT",
            "path": f"/1.1/classes/Person/{keep}",
            "body": {"age": {"__op": "Increment", "amount": 1}},
            "params": {"fetchWhenSave": True},
        },
        {"method": "GET", "path": "/1.1/classes/Nothing/x"},
    ]
    results = api("POST", "/batch", {"requests": requests}, status=200)
    assert results[0] == {
        "error": {"code": 1, "error": "Could not find object by id 'nope' for class 'Person'."}
    }
    assert set(results[1]["success"]) == {"objectId", "createdAt"}
    assert results[2] == {"success": None}
    assert results[3] == {"success": {}}
    assert results[4]["success"]["age"] == 1
    assert results[5]["success"]["count"] == 1 and results[5]["success"]["results"][0]["age"] == 40
    assert results[6]["success"]["age"] == 2
    assert results[7] == {"error": {"code": 101, "error": "Class or object doesn't exists."}}
    assert [api.get("Person", g) for g in gone] == [{}, {}]


def test_batch_items_use_the_outer_credentials(api):
    object_id = api.create("Doc", {"v": 1, "ACL": {"*": {"read": True}}})
    item = {"method": "PUT", "path": f"/1.1/classes/Doc/{object_id}", "body": {"v": 2}}
    assert api("POST", "/batch", {"requests": [item]}, status=200)[0]["error"]["code"] == 403
    assert "success" in api("POST", "/batch", {"requests": [item]}, master=True, status=200)[0]
    schema = {"method": "GET", "path": "/1.1/schemas"}
    assert api("POST", "/batch", {"requests": [schema]}, status=200)[0]["error"]["code"] == 401


@pytest.mark.parametrize("class_name", sorted(INTERNAL_CLASSES))
def test_internal_classes_are_closed_to_clients(api, class_name):
    """The server's bookkeeping (failed log-ins, SMS codes, captchas, ...) is master-only
    whatever the ACL of its rows: no client create, update, delete, read or subquery."""
    object_id = api.create(class_name, {"a": 1}, master=True)
    path = f"/classes/{class_name}"
    assert api.error("POST", path, {"a": 2}, status=403) == 119
    assert api.error("PUT", f"{path}/{object_id}", {"a": 2}, status=403) == 119
    assert api.error("DELETE", f"{path}/{object_id}", status=403) == 119
    assert api("GET", path, status=200) == {"results": []}
    assert api.get(class_name, object_id) == {}
    pointer = {"__type": "Pointer", "className": class_name, "objectId": object_id}
    api.create("Probe", {"x": pointer})
    probe = {"x": {"$inQuery": {"className": class_name, "where": {"a": 1}}}}
    assert api("GET", "/classes/Probe", params={"where": json.dumps(probe)}) == {"results": []}
    found = api("GET", "/classes/Probe", params={"where": json.dumps(probe)}, master=True)
    assert len(found["results"]) == 1
    assert api.get(class_name, object_id, master=True)["a"] == 1
