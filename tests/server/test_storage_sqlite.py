"""SQLiteStorage against a real database file: operators, ACLs, output rules, transactions."""

import sqlite3
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leancloud.server.errors import ApiError
from leancloud.server.principal import ANONYMOUS, MASTER, Principal
from leancloud.server.query import parse_query, parse_where, resolve_redirect
from leancloud.server.storage import SQLiteStorage, StoredObject
from leancloud.server.storage.sqlite_where import Compiler

T0 = "2024-01-01T00:00:00.000Z"


@pytest.fixture
def storage(tmp_path):
    db = SQLiteStorage(str(tmp_path / "data.sqlite"))
    yield db
    db.close()


def put(storage, class_name, object_id, acl=None, created_at=T0, **data):
    with storage.write() as tx:
        tx.insert(StoredObject(class_name, object_id, created_at, created_at, data, acl))


def date(iso):
    return {"__type": "Date", "iso": iso}


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def find(storage, where=None, principal=MASTER, class_name="Item", **params):
    if where is not None:
        params["where"] = where
    return storage.find(
        parse_query(
            class_name,
            {k: str(v) if not isinstance(v, (dict, list)) else v for k, v in params.items()},
        ),
        principal,
    )


def ids(storage, where=None, principal=MASTER, class_name="Item", **params):
    return sorted(obj["objectId"] for obj in find(storage, where, principal, class_name, **params))


# --- equality and types ----------------------------------------------------------


@pytest.fixture
def typed(storage):
    put(storage, "Item", "num", v=1)
    put(storage, "Item", "float", v=1.5)
    put(storage, "Item", "str", v="1")
    put(storage, "Item", "true", v=True)
    put(storage, "Item", "false", v=False)
    put(storage, "Item", "null", v=None)
    put(storage, "Item", "missing")
    put(storage, "Item", "arr", v=[1, "a", True])
    put(storage, "Item", "obj", v={"a": 1, "b": [2]})
    return storage


def test_equality_is_type_correct(typed):
    assert ids(typed, {"v": 1}) == ["arr", "num"]
    assert ids(typed, {"v": "1"}) == ["str"]
    assert ids(typed, {"v": True}) == ["arr", "true"]
    assert ids(typed, {"v": False}) == ["false"]
    assert ids(typed, {"v": 1.5}) == ["float"]
    assert ids(typed, {"v": "a"}) == ["arr"]


def test_null_matches_null_and_missing_fields(typed):
    assert ids(typed, {"v": None}) == ["missing", "null"]
    assert ids(typed, {"v": {"$ne": None}}) == [
        "arr",
        "false",
        "float",
        "num",
        "obj",
        "str",
        "true",
    ]


def test_whole_object_and_array_equality_ignores_key_order(typed):
    assert ids(typed, {"v": {"b": [2], "a": 1}}) == ["obj"]
    assert ids(typed, {"v": [1, "a", True]}) == ["arr"]
    assert ids(typed, {"v": [1, "a"]}) == []


def test_ne_matches_missing_fields_and_arrays_without_the_value(typed):
    assert ids(typed, {"v": {"$ne": 1}}) == [
        "false",
        "float",
        "missing",
        "null",
        "obj",
        "str",
        "true",
    ]


def test_ordering_operators_compare_only_same_types(typed):
    assert ids(typed, {"v": {"$gte": 1}}) == ["arr", "float", "num"]
    assert ids(typed, {"v": {"$lt": 1.5}}) == ["arr", "num"]
    assert ids(typed, {"v": {"$gt": "0"}}) == ["arr", "str"]


def test_exists(typed):
    assert ids(typed, {"v": {"$exists": False}}) == ["missing"]
    assert "null" in ids(typed, {"v": {"$exists": True}})
    assert ids(typed, {"objectId": {"$exists": False}}) == []


def test_in_nin_all_size(storage):
    put(storage, "Item", "a", tags=["x", "y"], n=1)
    put(storage, "Item", "b", tags=["y", "z"], n=2)
    put(storage, "Item", "c", tags=[], n="1")
    assert ids(storage, {"n": {"$in": [1, 2]}}) == ["a", "b"]
    assert ids(storage, {"n": {"$in": ["1"]}}) == ["c"]
    assert ids(storage, {"n": {"$nin": [1, "1"]}}) == ["b"]
    assert ids(storage, {"tags": {"$in": ["x", "q"]}}) == ["a"]
    assert ids(storage, {"tags": {"$nin": ["x"]}}) == ["b", "c"]
    assert ids(storage, {"tags": {"$all": ["y", "z"]}}) == ["b"]
    assert ids(storage, {"tags": {"$all": []}}) == []
    assert ids(storage, {"tags": {"$size": 2}}) == ["a", "b"]
    assert ids(storage, {"tags": {"$size": 0}}) == ["c"]
    assert ids(storage, {"n": {"$in": []}}) == []
    assert ids(storage, {"objectId": {"$in": ["a", "c", "zz"]}}) == ["a", "c"]


def test_dotted_keys_reach_into_objects(storage):
    put(storage, "Item", "a", address={"city": "Paris", "geo": {"zip": 75}})
    put(storage, "Item", "b", address={"city": "Lyon", "geo": {"zip": 69}})
    assert ids(storage, {"address.city": "Paris"}) == ["a"]
    assert ids(storage, {"address.geo.zip": {"$lt": 70}}) == ["b"]
    assert [o["objectId"] for o in find(storage, order="-address.geo.zip")] == ["a", "b"]


def test_dates_compare_in_time_order_whatever_their_offset(storage):
    put(storage, "Item", "early", at=date("2020-01-01T08:00:00+08:00"))  # = 00:00Z
    put(storage, "Item", "late", at=date("2020-01-01T01:00:00.5Z"))
    put(storage, "Item", "text", at="2020-01-01T00:30:00.000Z")
    assert ids(storage, {"at": date("2020-01-01T00:00:00Z")}) == ["early"]
    assert ids(storage, {"at": {"$gt": date("2020-01-01T00:30:00Z")}}) == ["late"]
    assert ids(storage, {"at": {"$lte": date("2020-01-01T00:30:00Z")}}) == ["early"]
    assert [o["objectId"] for o in find(storage, order="-at")] == ["late", "text", "early"]
    with storage.write() as tx:
        tx.ensure_fields("Item", {"at": {"type": "Date"}})  # a known Date column sorts the same
    assert [o["objectId"] for o in find(storage, order="at")] == ["early", "text", "late"]
    stored = find(storage, {"objectId": "late"})[0]["at"]
    assert stored == date("2020-01-01T01:00:00.500Z")


def test_created_at_and_object_id_queries_use_their_columns(storage):
    put(storage, "Item", "a", created_at="2020-01-01T00:00:00.000Z")
    put(storage, "Item", "b", created_at="2021-01-01T00:00:00.000Z")
    assert ids(storage, {"createdAt": {"$gte": date("2020-06-01T00:00:00Z")}}) == ["b"]
    assert ids(storage, {"updatedAt": {"$lt": date("2020-06-01T00:00:00Z")}}) == ["a"]
    assert ids(storage, {"objectId": "a"}) == ["a"]
    assert ids(storage, {"objectId": {"$ne": "a"}}) == ["b"]
    assert ids(storage, {"objectId": 1}) == []
    assert [o["objectId"] for o in find(storage, order="-createdAt")] == ["b", "a"]


def test_pointer_equality_uses_class_and_id(storage):
    put(storage, "Item", "a", owner=pointer("_User", "u1"))
    put(storage, "Item", "b", owner=pointer("Other", "u1"))
    put(storage, "Item", "c", owner=[pointer("_User", "u1"), pointer("_User", "u2")])
    put(storage, "Item", "d", owner={"className": "_User", "objectId": "u1"})
    assert ids(storage, {"owner": pointer("_User", "u1")}) == ["a", "c"]
    assert ids(storage, {"owner": {"$in": [pointer("Other", "u1"), pointer("_User", "u2")]}}) == [
        "b",
        "c",
    ]


def test_regex_with_flags_and_pcre_literals(storage):
    put(storage, "Item", "a", name="Hello.World")
    put(storage, "Item", "b", name="helloXworld\nsecond")
    put(storage, "Item", "c", name=["nope", "HELLO"])
    put(storage, "Item", "d", name=42)
    assert ids(storage, {"name": {"$regex": "^hello"}}) == ["b"]
    assert ids(storage, {"name": {"$regex": "^hello", "$options": "i"}}) == ["a", "b", "c"]
    assert ids(storage, {"name": {"$regex": r"\Qo.W\E"}}) == ["a"]
    assert ids(storage, {"name": {"$regex": "^second$"}}) == []
    assert ids(storage, {"name": {"$regex": "^second$", "$options": "m"}}) == ["b"]
    assert ids(storage, {"name": {"$regex": "world.second", "$options": "s"}}) == ["b"]
    assert ids(storage, {"name": {"$regex": "h e l l o # comment", "$options": "xi"}}) == [
        "a",
        "b",
        "c",
    ]
    assert ids(storage, {"name": {"$regex": "4"}}) == []
    assert ids(storage, {"objectId": {"$regex": "^[ab]$"}}) == ["a", "b"]


def test_or_and(storage):
    put(storage, "Item", "a", n=1, s="x")
    put(storage, "Item", "b", n=2, s="y")
    put(storage, "Item", "c", n=3, s="x")
    assert ids(storage, {"$or": [{"n": 1}, {"n": 3}]}) == ["a", "c"]
    assert ids(storage, {"$and": [{"s": "x"}, {"n": {"$gt": 1}}]}) == ["c"]
    assert ids(storage, [{"s": "x"}, {"$or": [{"n": 1}, {"n": 2}]}]) == ["a"]


# --- order, limit, skip, count, keys ---------------------------------------------------


def test_order_on_several_keys_limit_skip_and_count(storage):
    for i, (group, n) in enumerate([("b", 1), ("a", 2), ("b", 3), ("a", 1), ("c", 5)]):
        put(storage, "Item", f"o{i}", group=group, n=n)
    ordered = [o["objectId"] for o in find(storage, order="group,-n")]
    assert ordered == ["o1", "o3", "o2", "o0", "o4"]
    assert [o["objectId"] for o in find(storage, order="group,-n", limit=2, skip=1)] == ["o3", "o2"]
    query = parse_query("Item", {"where": '{"n": {"$lt": 5}}', "limit": "1"})
    assert storage.count(query, MASTER) == 4
    assert find(storage, limit=0) == []


def test_keys_projection_and_exclusion(storage):
    put(storage, "Item", "a", title="t", body="b", meta={"x": 1, "y": 2})
    obj = find(storage, keys="title,meta.x")[0]
    assert obj == {
        "objectId": "a",
        "createdAt": T0,
        "updatedAt": T0,
        "title": "t",
        "meta": {"x": 1},
    }
    obj = find(storage, keys="-body,-meta.y")[0]
    assert obj["meta"] == {"x": 1} and "body" not in obj and obj["title"] == "t"
    assert find(storage, keys="meta,meta.x")[0]["meta"] == {"x": 1, "y": 2}


# --- ACL ---------------------------------------------------------------------------


@pytest.fixture
def guarded(storage):
    put(storage, "Item", "open")
    put(storage, "Item", "public", acl={"*": {"read": True}})
    put(storage, "Item", "mine", acl={"u1": {"read": True, "write": True}})
    put(storage, "Item", "writeonly", acl={"u1": {"write": True}})
    put(storage, "Item", "admins", acl={"role:Admin": {"read": True}})
    put(storage, "Item", "nobody", acl={})
    return storage


def test_acl_filters_rows_for_every_principal(guarded):
    everyone = ["open", "public"]
    assert ids(guarded, principal=ANONYMOUS) == everyone
    assert ids(guarded, principal=Principal(user_id="u1")) == sorted(everyone + ["mine"])
    assert ids(guarded, principal=Principal(user_id="u2", roles=frozenset({"Admin"}))) == sorted(
        everyone + ["admins"]
    )
    assert len(ids(guarded, principal=MASTER)) == 6
    assert guarded.count(parse_query("Item", {}), ANONYMOUS) == 2
    assert guarded.count(parse_query("Item", {}), Principal(user_id="u1")) == 3
    # limit applies after the ACL filter, not before
    assert len(find(guarded, principal=ANONYMOUS, limit=2, order="-objectId")) == 2


def test_principal_acl_keys():
    assert ANONYMOUS.acl_keys() == ("*",)
    member = Principal(user_id="u1", roles=frozenset({"B", "A"}))
    assert member.acl_keys() == ("*", "u1", "role:A", "role:B")


def test_acl_changes_on_update_are_applied(guarded):
    with guarded.write() as tx:
        obj = tx.get("Item", "mine")
        obj.acl = {"u2": {"read": True}}
        tx.update(obj)
    assert "mine" not in ids(guarded, principal=Principal(user_id="u1"))
    assert "mine" in ids(guarded, principal=Principal(user_id="u2"))


def test_return_acl(guarded):
    obj = find(guarded, {"objectId": "mine"}, returnACL="true")[0]
    assert obj["ACL"] == {"u1": {"read": True, "write": True}}
    assert "ACL" not in find(guarded, {"objectId": "mine"})[0]


# --- transactions and schema ---------------------------------------------------------------


def test_get_update_delete(storage):
    put(storage, "Item", "a", n=1, acl={"u": {"read": True}})
    with storage.write() as tx:
        obj = tx.get("Item", "a")
        assert (obj.data, obj.acl, obj.created_at) == ({"n": 1}, {"u": {"read": True}}, T0)
        obj.data["n"] = 2
        obj.updated_at = "2024-02-02T00:00:00.000Z"
        tx.update(obj)
        assert tx.find(parse_query("Item", {}), MASTER)[0]["n"] == 2  # reads see the transaction
        assert tx.count(parse_query("Item", {}), MASTER) == 1
    assert find(storage)[0]["updatedAt"] == "2024-02-02T00:00:00.000Z"
    with storage.write() as tx:
        tx.delete("Item", "a")
        assert tx.get("Item", "a") is None
        with pytest.raises(ApiError) as info:
            tx.update(obj)
        assert info.value.code == 101
    assert find(storage) == []


def test_duplicate_object_id_is_refused(storage):
    put(storage, "Item", "a")
    with pytest.raises(ApiError) as info:
        put(storage, "Item", "a")
    assert info.value.code == 137


def test_transaction_rolls_back_on_exception(storage):
    put(storage, "Item", "a", n=1)
    with pytest.raises(RuntimeError), storage.write() as tx:
        tx.insert(StoredObject("Item", "b", T0, T0, {}, None))
        tx.ensure_fields("Fresh", {"x": {"type": "String"}})
        tx.delete("Item", "a")
        raise RuntimeError("boom")
    assert ids(storage) == ["a"]
    assert not storage.class_exists("Fresh")


def test_writes_do_not_nest(storage):
    with storage.write(), pytest.raises(RuntimeError), storage.write():
        pass


def test_conditional_write_match(storage):
    put(storage, "Item", "a", n=5)
    with storage.write() as tx:
        assert tx.matches("Item", "a", parse_where("Item", {"n": {"$gt": 3}}))
        assert not tx.matches("Item", "a", parse_where("Item", {"n": {"$gt": 5}}))
        assert not tx.matches("Item", "zz", None)
        assert tx.matches("Item", "a", None)


def test_concurrent_increments_lose_nothing(storage):
    put(storage, "Item", "counter", n=0)

    def work():
        for _ in range(20):
            with storage.write() as tx:
                obj = tx.get("Item", "counter")
                obj.data["n"] += 1
                tx.update(obj)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert find(storage)[0]["n"] == 160


def test_schema_types_and_conflicts(storage):
    with storage.write() as tx:
        tx.ensure_fields(
            "Item",
            {
                "n": {"type": "Number"},
                "x": {"type": "Null"},
                "p": {"type": "Pointer", "className": "_User"},
            },
        )
        tx.ensure_fields("Item", {"n": {"type": "Number"}, "x": {"type": "String"}})
    schema = storage.schema("Item")["Item"]
    assert schema["n"] == {"type": "Number"} and schema["x"] == {"type": "String"}
    assert schema["p"] == {"type": "Pointer", "className": "_User"}
    assert schema["objectId"] == {"type": "String"} and schema["createdAt"] == {"type": "Date"}
    for bad in (
        {"n": {"type": "String"}},
        {"p": {"type": "Pointer", "className": "Other"}},
        {"createdAt": {"type": "Number"}},
    ):
        with pytest.raises(ApiError) as info, storage.write() as tx:
            tx.ensure_fields("Item", bad)
        assert info.value.code == 111
    with pytest.raises(ApiError) as info, storage.write() as tx:
        tx.ensure_fields("Item", {"n": {"type": "String"}})
    assert info.value.message == "Invalid value type for field 'n' expected Number but got String."
    with pytest.raises(ApiError) as info, storage.write() as tx:
        tx.ensure_fields("_User", {"username": {"type": "Number"}})
    assert info.value.code == 111


def test_schema_lists_builtin_classes_and_new_classes(storage):
    assert storage.class_exists("_User") and not storage.class_exists("Item")
    put(storage, "Item", "a")
    assert storage.class_exists("Item")
    schema = storage.schema()
    assert schema["_Role"]["users"] == {"type": "Relation", "className": "_User"}
    assert set(schema["Item"]) == {"objectId", "createdAt", "updatedAt", "ACL"}
    assert storage.schema("Missing") == {}


def test_injection_in_field_names_is_rejected_and_values_are_bound(storage):
    put(storage, "Item", "a", name="x")
    with pytest.raises(ApiError) as info:
        find(storage, {"name') OR 1=1 --": "x"})
    assert info.value.code == 105
    assert ids(storage, {"name": "x' OR '1'='1"}) == []
    assert ids(storage, {"name": {"$in": ["x') OR 1=1 --"]}}) == []
    assert ids(storage, {"name": "x"}) == ["a"]


# --- subqueries ------------------------------------------------------------------------


@pytest.fixture
def blog(storage):
    put(storage, "Author", "al", name="Al", rank=1)
    put(storage, "Author", "bo", name="Bo", rank=2)
    put(storage, "Author", "cy", name="Cy", rank=3, acl={"u1": {"read": True}})
    put(storage, "Post", "p1", author=pointer("Author", "al"), city="Paris")
    put(storage, "Post", "p2", author=pointer("Author", "bo"), city="Lyon")
    put(storage, "Post", "p3", author=pointer("Author", "cy"), city="Nice")
    put(storage, "Post", "p4", author=[pointer("Author", "bo")], city="Nice")
    put(storage, "Team", "t1", home="Paris", wins=5)
    put(storage, "Team", "t2", home="Nice", wins=1)
    return storage


def test_in_query_and_not_in_query(blog):
    sub = {"className": "Author", "where": {"rank": {"$gte": 2}}}
    assert ids(blog, {"author": {"$inQuery": sub}}, class_name="Post") == ["p2", "p3", "p4"]
    assert ids(blog, {"author": {"$notInQuery": sub}}, class_name="Post") == ["p1"]
    limited = {**sub, "order": "rank", "limit": 1}
    assert ids(blog, {"author": {"$inQuery": limited}}, class_name="Post") == ["p2", "p4"]
    other_class = {"className": "Team", "where": {}}
    assert ids(blog, {"author": {"$inQuery": other_class}}, class_name="Post") == []


def test_subqueries_obey_the_read_acl(blog):
    sub = {"className": "Author", "where": {"rank": 3}}
    assert ids(blog, {"author": {"$inQuery": sub}}, ANONYMOUS, class_name="Post") == []
    assert ids(blog, {"author": {"$inQuery": sub}}, Principal(user_id="u1"), class_name="Post") == [
        "p3"
    ]


def test_select_and_dont_select(blog):
    select = {"query": {"className": "Team", "where": {"wins": {"$gt": 2}}}, "key": "home"}
    assert ids(blog, {"city": {"$select": select}}, class_name="Post") == ["p1"]
    assert ids(blog, {"city": {"$dontSelect": select}}, class_name="Post") == ["p2", "p3", "p4"]
    every_team = {"query": {"className": "Team"}, "key": "home"}
    assert ids(blog, {"city": {"$select": every_team}}, class_name="Post") == ["p1", "p3", "p4"]


# --- include, files, output rules ---------------------------------------------------------


def test_include_nested_paths_and_arrays(blog):
    put(
        blog,
        "Comment",
        "c1",
        post=pointer("Post", "p1"),
        posts=[pointer("Post", "p2"), pointer("Post", "p4")],
    )
    obj = find(blog, class_name="Comment", include="post.author, posts")[0]
    assert obj["post"]["__type"] == "Pointer" and obj["post"]["className"] == "Post"
    assert obj["post"]["city"] == "Paris" and obj["post"]["createdAt"] == T0
    assert obj["post"]["author"] == {
        **pointer("Author", "al"),
        "createdAt": T0,
        "updatedAt": T0,
        "name": "Al",
        "rank": 1,
    }
    assert [p["city"] for p in obj["posts"]] == ["Lyon", "Nice"]
    assert obj["posts"][0]["author"] == pointer("Author", "bo")  # not asked for
    keyed = find(blog, class_name="Comment", include="post", keys="post.city")[0]
    assert keyed["post"] == {
        **pointer("Post", "p1"),
        "createdAt": T0,
        "updatedAt": T0,
        "city": "Paris",
    }


def test_include_obeys_the_read_acl(blog):
    assert find(blog, {"objectId": "p3"}, ANONYMOUS, "Post", include="author")[0][
        "author"
    ] == pointer("Author", "cy")
    assert (
        find(blog, {"objectId": "p3"}, Principal(user_id="u1"), "Post", include="author")[0][
            "author"
        ]["name"]
        == "Cy"
    )


def test_include_costs_one_statement_per_level(tmp_path):
    statements = []
    storage = SQLiteStorage(
        str(tmp_path / "traced.sqlite"),
        on_connect=lambda conn: conn.set_trace_callback(statements.append),
    )
    put(storage, "_File", "f1", name="a.png", url="http://files/a.png")

    def selects(**params):
        statements.clear()
        results = find(storage, class_name="Post", **params)
        return results, [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    for n in (2, 20):
        for i in range(n):
            avatar = {"__type": "File", "id": "f1"}
            put(storage, "Author", f"a{n}-{i}", boss=pointer("Author", f"a{n}-0"), avatar=avatar)
            author, likers = pointer("Author", f"a{n}-{i}"), [pointer("Author", f"a{n}-1")]
            put(storage, "Post", f"p{n}-{i}", author=author, likers=likers)
        results, sql = selects(include="author")
        assert len(sql) == 3  # posts, authors, the authors' files
        assert results[-1]["author"]["avatar"]["url"] == "http://files/a.png"
        results, sql = selects(include="author.boss,likers")
        assert len(sql) == 5  # posts, authors (both keys), their files, bosses, their files
        assert results[-1]["author"]["boss"]["avatar"]["name"] == "a.png"
        assert len(selects()[1]) == 1
    storage.close()


def test_files_come_back_expanded(storage):
    put(
        storage,
        "_File",
        "f1",
        name="a.txt",
        url="http://files/a.txt",
        mime_type="text/plain",
        metaData={"size": 3},
    )
    put(
        storage,
        "Item",
        "a",
        file={"__type": "File", "id": "f1"},
        files=[{"__type": "File", "objectId": "f1"}],
        gone={"__type": "File", "id": "nope"},
    )
    obj = find(storage)[0]
    expanded = {
        "__type": "File",
        "objectId": "f1",
        "createdAt": T0,
        "updatedAt": T0,
        "name": "a.txt",
        "url": "http://files/a.txt",
        "mime_type": "text/plain",
        "metaData": {"size": 3},
    }
    assert obj["file"] == expanded and obj["files"] == [expanded]
    assert obj["gone"] == {"__type": "File", "id": "nope"}
    assert ids(storage, {"file": {"__type": "File", "id": "f1"}}) == ["a"]


def test_relation_columns_show_their_placeholder(storage):
    put(storage, "Item", "a", n=1)
    with storage.write() as tx:
        tx.ensure_fields("Item", {"likes": {"type": "Relation", "className": "_User"}})
    assert find(storage)[0]["likes"] == {"__type": "Relation", "className": "_User"}


def test_hidden_user_fields_never_leave_storage(storage):
    put(
        storage,
        "_User",
        "u1",
        username="al",
        password="hash",
        salt="s",
        sessionToken="t",
        authData={"x": {"uid": "1"}},
    )
    put(storage, "Item", "a", owner=pointer("_User", "u1"))
    for principal in (MASTER, Principal(user_id="u1"), Principal(user_id="u2")):
        user = find(storage, principal=principal, class_name="_User")[0]
        assert not {"password", "salt", "sessionToken"} & set(user)
        assert ("authData" in user) == (principal.master or principal.user_id == "u1")
        included = find(storage, principal=principal, include="owner")[0]["owner"]
        assert included["username"] == "al" and "password" not in included
    with storage.write() as tx:
        assert tx.get("_User", "u1").data["password"] == "hash"


def test_user_lookups_by_login_fields(storage):
    put(storage, "_User", "u1", username="al", email="al@x.org", mobilePhoneNumber="+8613800000000")
    put(storage, "_User", "u2", username="bo")
    assert ids(storage, {"username": "al"}, class_name="_User") == ["u1"]
    assert ids(storage, {"email": "al@x.org"}, class_name="_User") == ["u1"]
    assert ids(storage, {"mobilePhoneNumber": "+8613800000000"}, class_name="_User") == ["u1"]


# --- relations, roles, sessions --------------------------------------------------------------


def test_related_to_and_reverse_relation_queries(storage):
    for name in ("a", "b", "c"):
        put(storage, "Item", name)
    put(storage, "Post", "p1")
    put(storage, "Post", "p2")
    with storage.write() as tx:
        tx.ensure_fields("Post", {"likes": {"type": "Relation", "className": "Item"}})
        tx.relation_add("Post", "likes", "p1", "Item", ["a", "b"])
        tx.relation_add("Post", "likes", "p2", "Item", ["b"])
    related = {"$relatedTo": {"object": pointer("Post", "p1"), "key": "likes"}}
    assert ids(storage, related) == ["a", "b"]
    assert ids(storage, {"likes": pointer("Item", "b")}, class_name="Post") == ["p1", "p2"]
    with storage.write() as tx:
        tx.relation_remove("Post", "likes", "p1", ["a"])
        tx.delete("Post", "p2")
    assert ids(storage, related) == ["b"]
    assert ids(storage, {"likes": pointer("Item", "b")}, class_name="Post") == ["p1"]


def test_role_names_follow_inheritance(storage):
    for role in ("Admin", "Moderator", "Member", "Other"):
        put(storage, "_Role", role.lower(), name=role)
    with storage.write() as tx:
        tx.relation_add("_Role", "users", "admin", "_User", ["u1"])
        tx.relation_add("_Role", "roles", "moderator", "_Role", ["admin"])  # admins are moderators
        tx.relation_add(
            "_Role", "roles", "member", "_Role", ["moderator"]
        )  # moderators are members
        tx.relation_add("_Role", "roles", "admin", "_Role", ["member"])  # a cycle must not loop
        tx.relation_add("_Role", "users", "other", "_User", ["u2"])
    assert storage.role_names("u1") == frozenset({"Admin", "Moderator", "Member"})
    assert storage.role_names("u2") == frozenset({"Other"})
    assert storage.role_names("nobody") == frozenset()


def test_sessions_one_token_per_user(storage):
    with storage.write() as tx:
        tx.set_session("u1", "t1")
    assert storage.session_user("t1") == "u1"
    with storage.write() as tx:
        tx.set_session("u1", "t2")
    assert storage.session_user("t1") is None and storage.session_user("t2") == "u1"
    put(storage, "_User", "u1", username="al")
    with storage.write() as tx:
        tx.delete("_User", "u1")
    assert storage.session_user("t2") is None


# --- geo ----------------------------------------------------------------------------------------


def geo(lat, lng):
    return {"__type": "GeoPoint", "latitude": lat, "longitude": lng}


@pytest.fixture
def places(storage):
    put(storage, "Item", "beijing", loc=geo(39.9, 116.4))
    put(storage, "Item", "tianjin", loc=geo(39.1, 117.2))  # ~110 km from Beijing
    put(storage, "Item", "shanghai", loc=geo(31.2, 121.5))  # ~1070 km
    put(storage, "Item", "sydney", loc=geo(-33.9, 151.2))
    put(storage, "Item", "nowhere", loc="39.9,116.4")
    return storage


def test_near_sphere_sorts_by_distance_and_filters_by_radius(places):
    here = geo(39.9, 116.4)
    nearest = [o["objectId"] for o in find(places, {"loc": {"$nearSphere": here}})]
    assert nearest == ["beijing", "tianjin", "shanghai", "sydney"]
    within = {"loc": {"$nearSphere": here, "$maxDistanceInKilometers": 500}}
    assert [o["objectId"] for o in find(places, within)] == ["beijing", "tianjin"]
    ring = {
        "loc": {"$nearSphere": here, "$minDistanceInKilometers": 50, "$maxDistanceInMiles": 1000}
    }
    assert [o["objectId"] for o in find(places, ring)] == ["tianjin", "shanghai"]
    radians = {"loc": {"$nearSphere": here, "$maxDistance": 200 / 6371.0}}
    assert [o["objectId"] for o in find(places, radians)] == ["beijing", "tianjin"]
    ordered = [
        o["objectId"] for o in find(places, {"loc": {"$nearSphere": here}}, order="-objectId")
    ]
    assert ordered == ["tianjin", "sydney", "shanghai", "beijing"]


def test_within_box(places):
    assert ids(places, {"loc": {"$within": {"$box": [geo(30, 110), geo(40, 120)]}}}) == [
        "beijing",
        "tianjin",
    ]
    assert ids(places, {"loc": {"$within": {"$box": [[-40, 150], [-30, 152]]}}}) == ["sydney"]
    assert ids(places, {"loc": {"$within": {"$box": [[-40, 150], [40, -170]]}}}) == [
        "sydney"
    ]  # across 180°


# --- scan ------------------------------------------------------------------------------------------


def scan(storage, limit, scan_key, cursor=None, principal=MASTER, **params):
    query = parse_query("Item", {"limit": str(limit), **params})
    return storage.scan(query, scan_key, cursor, principal)


def test_scan_pages_with_a_cursor_and_obeys_where_keys_and_acl(storage):
    for i in range(7):
        put(
            storage,
            "Item",
            f"o{i}",
            n=i,
            parity=i % 2,
            acl=None if i != 3 else {"u1": {"read": True}},
        )
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = scan(storage, 2, "objectId", cursor, where={"parity": 1}, keys="n")
        seen += rows
        pages += 1
        if cursor is None:
            break
    assert [r["objectId"] for r in seen] == ["o1", "o3", "o5"] and pages == 2
    assert set(seen[0]) == {"objectId", "createdAt", "updatedAt", "n"}
    rows, cursor = scan(storage, 10, "-n", principal=ANONYMOUS)
    assert [r["n"] for r in rows] == [6, 5, 4, 2, 1, 0] and cursor is None
    rows, cursor = scan(storage, 3, "-n")
    rows, cursor = scan(storage, 3, "-n", cursor)
    assert [r["n"] for r in rows] == [3, 2, 1]
    with pytest.raises(ApiError):
        scan(storage, 3, "n", "%%%not-a-cursor")


def test_scan_returns_the_acl_only_when_asked_and_honours_excluded_keys(storage):
    put(storage, "Item", "a", n=1, parity=1, acl={"u1": {"read": True, "write": True}})
    put(storage, "Item", "b", n=2, parity=0)
    rows, cursor = scan(storage, 1, "n", returnACL="true", keys="-parity")
    assert rows == [
        {
            "objectId": "a",
            "createdAt": rows[0]["createdAt"],
            "updatedAt": rows[0]["updatedAt"],
            "n": 1,
            "ACL": {"u1": {"read": True, "write": True}},
        }
    ]
    rows, _ = scan(storage, 1, "n", cursor, returnACL="true")
    assert rows[0]["ACL"] == {"*": {"read": True, "write": True}} and rows[0]["parity"] == 0
    rows, _ = scan(storage, 5, "n")
    assert [set(row) & {"ACL"} for row in rows] == [set(), set()]


def test_redirect_class_name_for_key_queries_the_relation_target(storage):
    put(storage, "Item", "a")
    put(storage, "Post", "p1")
    with storage.write() as tx:
        tx.ensure_fields("Post", {"likes": {"type": "Relation", "className": "Item"}})
        tx.relation_add("Post", "likes", "p1", "Item", ["a"])
    where = {"$relatedTo": {"object": pointer("Post", "p1"), "key": "likes"}}
    query = parse_query("Post", {"where": where, "redirectClassNameForKey": "likes"})
    assert [o["objectId"] for o in storage.find(query, MASTER)] == ["a"]
    assert storage.count(query, MASTER) == 1
    assert resolve_redirect(query, lambda c, f: storage.schema(c)[c].get(f)).class_name == "Item"


def test_builtin_fields_in_data_are_not_stored_twice(storage):
    put(storage, "Item", "a", objectId="forged", createdAt="x", ACL={"*": {}}, n=1)
    assert find(storage) == [{"objectId": "a", "createdAt": T0, "updatedAt": T0, "n": 1}]


def test_schema_changes_from_another_process_are_seen(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    first, second = SQLiteStorage(path), SQLiteStorage(path)  # two processes' caches
    assert not second.class_exists("Item")
    with first.write() as tx:
        tx.ensure_fields("Item", {"n": {"type": "Number"}})
    assert second.class_exists("Item")
    with pytest.raises(ApiError) as info, second.write() as tx:
        tx.ensure_fields("Item", {"n": {"type": "String"}})
    assert info.value.code == 111
    assert "m" not in second.schema("Item")["Item"]  # second's cache is now loaded
    with first.write() as tx:
        tx.ensure_fields("Item", {"m": {"type": "String"}})
    with pytest.raises(ApiError) as info, second.write() as tx:
        tx.ensure_fields("Item", {"m": {"type": "Number"}})  # unknown to second's cache
    assert info.value.code == 111
    with second.write() as tx:
        tx.ensure_fields("Item", {"m": {"type": "String"}})
    assert second.schema("Item")["Item"]["m"] == {"type": "String"}
    first.close()
    second.close()


def test_user_login_lookups_use_their_indexes(tmp_path):
    connections = []
    storage = SQLiteStorage(str(tmp_path / "plan.sqlite"), on_connect=connections.append)
    compiler = Compiler(
        None, lambda class_name, field: storage.schema(class_name)[class_name].get(field)
    )
    for field in ("username", "email", "mobilePhoneNumber"):
        query = parse_query("_User", {"where": {field: "x"}})
        sql, params = compiler.select(query, "o", ("o.id", []))
        plan = " ".join(
            row[3] for row in connections[0].execute("EXPLAIN QUERY PLAN " + sql, params)
        )
        assert "USING INDEX objects_user_" in plan
    storage.close()


def test_in_memory_databases_are_refused():
    with pytest.raises(ValueError):
        SQLiteStorage(":memory:")


def test_typed_values_compare_whatever_their_key_order(storage):
    reordered = {"objectId": "u1", "className": "_User", "__type": "Pointer"}
    put(storage, "Item", "a", owner=reordered, at=date("2020-01-01T00:00:00Z"), where=geo(1, 2))
    put(
        storage,
        "Item",
        "b",
        owner=pointer("_User", "u2"),
        blob={"__type": "Bytes", "base64": "AAE="},
    )
    put(storage, "Fan", "f", user=pointer("_User", "u1"))
    select = {"query": {"className": "Fan"}, "key": "user"}
    assert ids(storage, {"owner": {"$select": select}}) == ["a"]
    assert ids(storage, {"where": geo(1, 2)}) == ["a"]
    assert ids(storage, {"blob": {"__type": "Bytes", "base64": "AAE="}}) == ["b"]
    assert ids(storage, {"at": {"$in": [date("2020-01-01T00:00:00.000Z")]}}) == ["a"]
    assert ids(storage, {"at": {"$ne": date("2020-01-01T00:00:00Z")}}) == ["b"]


def test_eq_operator_means_equality(storage):
    put(storage, "Item", "a", tags=["x"], owner=pointer("_User", "u1"))
    put(storage, "Item", "b", tags=["y"])
    assert ids(storage, {"tags": {"$eq": "x"}}) == ["a"]
    assert ids(storage, {"owner": {"$eq": pointer("_User", "u1")}}) == ["a"]


def test_builtin_dates_are_normalised_on_write(storage):
    put(storage, "Item", "a", created_at="2020-01-01T08:00:00+08:00")
    obj = find(storage)[0]
    assert obj["createdAt"] == obj["updatedAt"] == "2020-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "class_name, params",
    [
        ("_User", {"where": {"password": {"$regex": "^s"}}}),
        ("_User", {"where": {"$or": [{"sessionToken": "t"}, {"username": "al"}]}}),
        ("_User", {"where": {"authData.x.uid": "1"}}),
        ("_User", {"order": "-salt"}),
        (
            "Item",
            {"where": {"owner": {"$inQuery": {"className": "_User", "where": {"salt": "s"}}}}},
        ),
        (
            "Item",
            {"where": {"k": {"$select": {"query": {"className": "_User"}, "key": "password"}}}},
        ),
    ],
)
def test_hidden_fields_cannot_be_probed_except_by_master(storage, class_name, params):
    put(storage, "_User", "u1", username="al", password="secret", salt="s", sessionToken="t")
    query = parse_query(class_name, params)
    for principal in (ANONYMOUS, Principal(user_id="u1")):
        with pytest.raises(ApiError) as info:
            storage.find(query, principal)
        assert info.value.code == 105
        if query.where is not None:  # a count does not sort
            with pytest.raises(ApiError):
                storage.count(query, principal)
    storage.find(query, MASTER)


# --- the compiled SQL against a reference model of the operators ---------------------------

_SCALARS = [0, 1, 1.0, 2.5, -3, "", "1", "a", "b", True, False, None]
_VALUES = _SCALARS + [[1, "a"], [True], [None], [], [2.5, "b", False]]


def _same(a, b):
    """Type-strict equality: booleans are not numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _ordered(a, b, op):
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if not numbers and not (isinstance(a, str) and isinstance(b, str)):
        return False
    return {"$lt": a < b, "$lte": a <= b, "$gt": a > b, "$gte": a >= b}[op]


def _model(doc, op, arg):
    present = "v" in doc
    value = doc.get("v")
    items = [value] + (value if isinstance(value, list) else [])

    def eq(wanted):
        if wanted is None and not present:
            return True
        return any(_same(item, wanted) for item in items if present)

    if op == "eq":
        return eq(arg)
    if op == "$ne":
        return not eq(arg)
    if op == "$in":
        return any(eq(a) for a in arg)
    if op == "$nin":
        return not any(eq(a) for a in arg)
    if op == "$exists":
        return present == arg
    return present and any(_ordered(item, arg, op) for item in items)


def test_operators_agree_with_the_reference_model(tmp_path):
    storage = SQLiteStorage(str(tmp_path / "model.sqlite"), synchronous="OFF")
    docs = {f"d{i}": {"v": value} for i, value in enumerate(_VALUES)}
    docs["missing"] = {}
    for object_id, doc in docs.items():
        put(storage, "Item", object_id, **doc)
    scalar = st.sampled_from(_SCALARS)
    orderable = st.sampled_from([0, 1, 1.5, -3, "", "1", "a", "b"])
    condition = st.one_of(
        st.tuples(st.just("eq"), scalar),
        st.tuples(st.just("$ne"), scalar),
        st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(scalar, max_size=3)),
        st.tuples(st.just("$exists"), st.booleans()),
        st.tuples(st.sampled_from(["$lt", "$lte", "$gt", "$gte"]), orderable),
    )

    @settings(max_examples=150, deadline=None)
    @given(condition)
    def check(cond):
        op, arg = cond
        where = {"v": arg} if op == "eq" else {"v": {op: arg}}
        expected = sorted(k for k, doc in docs.items() if _model(doc, op, arg))
        assert ids(storage, where) == expected, where

    check()
    storage.close()


def test_wide_queries_stay_within_sqlite_limits(storage):
    put(storage, "Item", "a", n=1)
    put(storage, "Item", "b", n=1199)
    with storage.write() as tx:
        tx.ensure_fields("Item", {"n": {"type": "Number"}})  # no array branch: a lighter query
    branches = [{"n": i} for i in range(1200)]  # flat, 1200 ORs pass SQLite's depth limit
    assert ids(storage, {"$or": branches}) == ["a", "b"]
    assert ids(storage, {"n": {"$in": list(range(50000))}}) == ["a", "b"]


def test_reads_past_the_query_timeout_fail_with_124(tmp_path):
    storage = SQLiteStorage(str(tmp_path / "slow.sqlite"), query_timeout=0.0)
    with storage.write() as tx:
        for i in range(3000):  # enough SQLite steps to reach a deadline check
            tx.insert(StoredObject("Item", f"o{i}", T0, T0, {"name": f"n{i}"}, None))
    with pytest.raises(ApiError) as info:
        find(storage, {"name": {"$regex": "^n1"}}, order="name")
    assert info.value.code == 124
    storage.query_timeout = 10.0
    assert len(find(storage, {"name": {"$regex": "^n1"}}, order="name", limit=1000)) == 1000
    storage.close()


def test_schema_typed_fields_still_compare_type_correctly(storage):
    with storage.write() as tx:
        tx.ensure_fields("Item", {"n": {"type": "Number"}, "s": {"type": "String"}})
    put(storage, "Item", "a", n=1, s="1")
    put(storage, "Item", "b", n=5, s="x")
    put(storage, "Item", "c")
    assert ids(storage, {"s": {"$gt": 0}}) == []  # text never orders against numbers
    assert ids(storage, {"n": {"$lt": "z"}}) == []
    assert ids(storage, {"n": "1"}) == [] and ids(storage, {"s": 1}) == []
    assert ids(storage, {"n": {"$ne": "1"}}) == ["a", "b", "c"]
    assert ids(storage, {"n": {"$gte": 1}}) == ["a", "b"]
    assert ids(storage, {"s": {"$in": ["x", 1]}}) == ["b"]
    assert ids(storage, {"s": {"$regex": "^[0-9]"}}) == ["a"]


def test_sorted_pages_obey_acl_skip_limit_and_return_acl(storage):
    for i in range(10):
        acl = {"*": {"read": True}} if i % 3 else {"u1": {"read": True}}
        put(storage, "Item", f"o{i}", acl=acl, n=i % 4, s=str(i))
    page = find(storage, principal=ANONYMOUS, order="-n,s", skip=1, limit=3, returnACL="true")
    # readable: o1 o2 o4 o5 o7 o8 -> (3,7) (2,2) (1,1) (1,5) (0,4) (0,8); skip one, take three
    assert [(o["n"], o["s"]) for o in page] == [(2, "2"), (1, "1"), (1, "5")]
    assert page[0]["ACL"] == {"*": {"read": True}}


@pytest.mark.parametrize("synchronous, level", [("FULL", 2), ("NORMAL", 1)])
def test_the_database_is_in_wal_mode_and_syncs_as_configured(tmp_path, synchronous, level):
    connections = []
    path = str(tmp_path / "durable.sqlite")
    storage = SQLiteStorage(path, synchronous=synchronous, on_connect=connections.append)
    put(storage, "Item", "a", n=1)
    assert connections[0].execute("PRAGMA synchronous").fetchone()[0] == level
    storage.close()
    raw = sqlite3.connect(path)  # WAL is a property of the file, not of a connection
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
