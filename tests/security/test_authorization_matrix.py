"""Who may do what: anonymous callers, two users (alice, bob) and the master key.

Each test is an attack a hostile client could try; the assertions say it fails and
that nothing leaked or changed.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from leancloud.server.names import INTERNAL_CLASSES, SYSTEM_CLASSES
from tests.security.conftest import APP_ID, APP_KEY, HOOK_KEY, MASTER_KEY

HIDDEN = {"password", "salt", "sessionToken", "authData"}


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def walk(value):
    """Every dict inside a JSON value, itself included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def assert_no_hidden_fields(answer, secrets=(), hidden=HIDDEN):
    text = json.dumps(answer)
    for secret in secrets:
        assert secret not in text
    for obj in walk(answer):
        if obj.get("className") == "_User" or "username" in obj:
            assert not hidden & set(obj), obj


# ------------------------------------------------------------------ /entities, transactions


@pytest.mark.parametrize("class_name", sorted(SYSTEM_CLASSES))
def test_entities_cannot_write_system_classes_without_master(api, alice, class_name):
    body = {"name": "admins", "username": "admin", "password": "x", "key": "k"}
    token = alice["sessionToken"]
    for as_ in ("anon", token):
        assert api.code("PUT", f"/entities/{class_name}/chosen1", body, as_=as_) == 119
    commit = {"writes": [{"className": class_name, "objectId": "chosen1", "body": body}]}
    assert api.code("POST", "/transactions/commit", commit, as_=token) == 119
    delete = {"writes": [{"className": class_name, "objectId": alice["objectId"], "delete": True}]}
    assert api.code("POST", "/transactions/commit", delete, as_=token) == 119
    assert api.code("PUT", f"/entities/{class_name}/chosen1", {"x": 1}, as_="master") is None


def test_a_forged_role_of_the_same_name_grants_nothing(api, alice, bob):
    """Role names are unique through /roles; a raw entity must not add a second 'admins'
    with bob in it and so open everything shared with role:admins."""
    api.ok(
        "POST",
        "/roles",
        {"name": "admins", "ACL": {"*": {"read": True}}},
        as_="master",
    )
    secret = api.ok(
        "POST", "/classes/Vault", {"v": 1, "ACL": {"role:admins": {"read": True}}}, as_="master"
    )["objectId"]
    bob_token = bob["sessionToken"]
    forged = {"name": "admins", "ACL": {"*": {"read": True, "write": True}}}
    api("PUT", "/entities/_Role/forged", forged, as_=bob_token)
    join = {"users": {"__op": "AddRelation", "objects": [pointer("_User", bob["objectId"])]}}
    api("PUT", "/roles/forged", join, as_=bob_token)
    assert api.ok("GET", "/classes/Vault", as_=bob_token)["results"] == []
    assert api.ok("GET", f"/classes/Vault/{secret}", as_=bob_token) == {}


def test_entities_keep_acls_of_ordinary_classes(api, alice, bob):
    body = {"v": 1, "ACL": {alice["objectId"]: {"read": True, "write": True}}}
    api.ok("PUT", "/entities/Diary/d1", body, as_=alice["sessionToken"])
    for as_ in ("anon", bob["sessionToken"]):
        assert api.code("PUT", "/entities/Diary/d1", {"v": 2}, as_=as_) == 403
        delete = {"writes": [{"className": "Diary", "objectId": "d1", "delete": True}]}
        assert api.code("POST", "/transactions/commit", delete, as_=as_) == 403
    read = {"objects": [{"className": "Diary", "objectId": "d1"}]}
    answer = api.ok("POST", "/transactions/read", read, as_=bob["sessionToken"])
    assert answer == {"results": [{"object": None, "version": None}]}
    assert api.ok("GET", "/classes/Diary/d1", as_="master")["v"] == 1


# ------------------------------------------------------------------ master-only endpoints

MASTER_ONLY = [
    ("GET", "/schemas"),
    ("GET", "/schemas/Thing"),
    ("GET", "/scan/classes/Thing"),
    ("GET", "/outbox"),
    ("GET", "/installations"),
    ("GET", "/classes/_Installation"),
    ("GET", "/notifications"),
    ("GET", "/export/classes/Thing"),
    ("GET", "/import/files"),
    ("POST", "/import"),
    ("POST", "/classes/_Notification"),
]


@pytest.mark.parametrize("method, path", MASTER_ONLY)
def test_master_only_endpoints_refuse_every_other_caller(api, alice, method, path):
    api.ok("POST", "/classes/Thing", {"n": 1}, as_="master")
    for as_ in ("none", "anon", alice["sessionToken"], "no-such-session"):
        assert api.code(method, path, {}, as_=as_) == 401, (as_, method, path)
        item = {"method": method, "path": "/1.1" + path, "body": {}}
        if as_ != "none":
            answer = api.ok("POST", "/batch", {"requests": [item]}, as_=as_)
            assert answer == [{"error": {"code": 401, "error": "Unauthorized."}}]


def test_client_push_is_off_by_default(api, alice):
    push = {"data": {"alert": "hi"}}
    for as_ in ("anon", alice["sessionToken"]):
        assert api.code("POST", "/push", push, as_=as_) == 119
        batch = {"requests": [{"method": "POST", "path": "/1.1/push", "body": push}]}
        assert api.ok("POST", "/batch", batch, as_=as_)[0]["error"]["code"] == 119
    assert api.ok("GET", "/notifications", as_="master")["results"] == []
    notification = api.ok("POST", "/push", push, as_="master")["objectId"]
    for path in (f"/notifications/{notification}",):
        assert api.code("GET", path, as_=alice["sessionToken"]) == 401
        assert api.code("DELETE", path, as_=alice["sessionToken"]) == 401
    assert api.ok("GET", f"/tables/Notifications/{notification}", as_="anon") == {}


# ------------------------------------------------------------------ object ACLs on every path


@pytest.fixture
def diary(api, alice):
    """Alice's private row, and a public row only alice may change."""
    token = alice["sessionToken"]
    mine = {alice["objectId"]: {"read": True, "write": True}}
    private = api.ok("POST", "/classes/Diary", {"v": 1, "ACL": mine}, as_=token)["objectId"]
    public_acl = {"*": {"read": True}, alice["objectId"]: {"write": True}}
    public = api.ok("POST", "/classes/Diary", {"v": 2, "ACL": public_acl}, as_=token)["objectId"]
    return private, public


def _reads(api, as_, private):
    yield api.ok("GET", f"/classes/Diary/{private}", as_=as_)
    yield api.ok("GET", "/classes/Diary", params={"where": '{"v": 1}'}, as_=as_)
    yield api.ok("GET", "/cloudQuery", params={"cql": "select * from Diary where v = 1"}, as_=as_)
    batch = {"requests": [{"method": "GET", "path": f"/1.1/classes/Diary/{private}"}]}
    yield api.ok("POST", "/batch", batch, as_=as_)
    sub = {"v": {"$inQuery": {"className": "Diary", "where": {"v": 1}}}}
    yield api.ok("GET", "/classes/Diary", params={"where": json.dumps(sub)}, as_=as_)


def test_private_rows_are_invisible_on_every_read_path(api, alice, bob, diary):
    private, _ = diary
    for as_ in ("anon", bob["sessionToken"], "no-such-session"):
        for answer in _reads(api, as_, private):
            assert private not in json.dumps(answer), answer
    count = api.ok("GET", "/classes/Diary", params={"count": "1", "limit": "0"}, as_="anon")
    assert count["count"] == 1
    assert any(private in json.dumps(a) for a in _reads(api, alice["sessionToken"], private))


def _writes(api, as_, row):
    path = f"/classes/Diary/{row}"
    yield api("PUT", path, {"v": 9}, as_=as_)
    yield api("PUT", path, {"ACL": {"*": {"read": True, "write": True}}}, as_=as_)
    yield api("PUT", path, {"v": 9}, params={"where": '{"v": 2}'}, as_=as_)
    yield api("DELETE", path, as_=as_)
    yield api("DELETE", f"/classes/Diary/{row},{row}", as_=as_)
    yield api("PUT", f"/entities/Diary/{row}", {"v": 9}, as_=as_)
    for cql in (
        f"update Diary set v = 9 where objectId = '{row}'",
        f"delete from Diary where objectId = '{row}'",
    ):
        yield api("GET", "/cloudQuery", params={"cql": cql}, as_=as_)


def test_rows_only_their_writers_may_change_on_every_write_path(api, alice, bob, diary):
    private, public = diary
    for row in (private, public):
        for as_ in ("anon", bob["sessionToken"], "no-such-session"):
            for response in _writes(api, as_, row):
                assert response.status_code in (403, 404), response.get_data(as_text=True)
            items = [
                {"method": "PUT", "path": f"/1.1/classes/Diary/{row}", "body": {"v": 9}},
                {"method": "DELETE", "path": f"/1.1/classes/Diary/{row}"},
            ]
            for result in api.ok("POST", "/batch", {"requests": items}, as_=as_):
                assert result["error"]["code"] in (403, 101)
    assert api.ok("GET", f"/classes/Diary/{private}", as_="master")["v"] == 1
    assert api.ok("GET", f"/classes/Diary/{public}", as_="master")["v"] == 2
    assert api.code("PUT", f"/classes/Diary/{public}", {"v": 3}, as_=alice["sessionToken"]) is None


def test_ignoring_hooks_needs_the_master_or_hook_key(api, alice):
    token = alice["sessionToken"]
    body = {"v": 1, "__ignore_hooks": ["beforeSave"]}
    for method, path in [
        ("POST", "/classes/Diary"),
        ("PUT", f"/users/{alice['objectId']}"),
        ("POST", "/roles"),
        ("POST", "/installations"),
        ("PUT", "/entities/Diary/chosen"),
    ]:
        assert api.code(method, path, body, as_=token) == 403
    batch = {"requests": [{"method": "POST", "path": "/1.1/classes/Diary", "body": body}]}
    assert api.ok("POST", "/batch", batch, as_=token)[0]["error"]["code"] == 403
    assert api.code("POST", "/classes/Diary", body, as_="master") is None
    hook = {"X-LC-Hook-Key": "sec-hook"}
    assert api.code("POST", "/classes/Diary", body, as_=token, headers=hook) is None


# ------------------------------------------------------------------ _User


def test_only_the_user_or_master_may_change_a_user(api, alice, bob):
    victim = alice["objectId"]
    attacks = [
        ("PUT", f"/users/{victim}", {"username": "pwned"}),
        ("PUT", f"/classes/_User/{victim}", {"email": "evil@x.test"}),
        ("DELETE", f"/users/{victim}", None),
        ("DELETE", f"/classes/_User/{victim}", None),
        ("PUT", f"/users/{victim}/refreshSessionToken", None),
        ("PUT", f"/users/{victim}/updatePassword", {"old_password": "x", "new_password": "y"}),
        ("POST", f"/users/{victim}/friendship/{bob['objectId']}", {}),
    ]
    for as_ in ("anon", bob["sessionToken"]):
        for method, path, body in attacks:
            assert api.code(method, path, body, as_=as_) == 206, (as_, method, path)
            item = {"method": method, "path": "/1.1" + path, "body": body}
            answer = api.ok("POST", "/batch", {"requests": [item]}, as_=as_)
            assert answer[0]["error"]["code"] == 206
        for cql in (
            f"update _User set username = 'pwned' where objectId = '{victim}'",
            f"delete from _User where objectId = '{victim}'",
        ):
            assert api.code("GET", "/cloudQuery", params={"cql": cql}, as_=as_) == 206
    login = {"username": "alice", "password": "pw-alice"}
    assert api.ok("POST", "/login", login)["objectId"] == victim


def test_clients_cannot_set_a_users_server_fields(api, alice):
    token = alice["sessionToken"]
    forged = {"sessionToken": "chosen", "salt": "s", "emailVerified": True}
    api.ok("PUT", f"/users/{alice['objectId']}", forged, as_=token)
    assert api.code("GET", "/users/me", as_="chosen") == 211
    assert api.ok("GET", "/users/me", as_=token)["emailVerified"] is False
    signup = {
        "username": "carol",
        "password": "p",
        "sessionToken": "chosen2",
        "emailVerified": True,
    }
    carol = api.ok("POST", "/users", signup)
    assert carol["sessionToken"] != "chosen2" and carol["emailVerified"] is False


def test_hidden_user_fields_never_leave_the_server(api, alice, bob):
    weixin = {"weixin": {"openid": "OPENID1", "access_token": "WX-SECRET"}}
    wei = api.ok("POST", "/users", {"authData": weixin})
    user = pointer("_User", wei["objectId"])
    post = api.ok("POST", "/classes/Post", {"u": user, "us": [user]}, as_="master")["objectId"]
    secrets = ["WX-SECRET", "scrypt$", alice["sessionToken"], wei["sessionToken"]]
    as_ = bob["sessionToken"]
    reads = [
        api.ok("GET", f"/users/{wei['objectId']}", as_=as_),
        api.ok("GET", "/users", params={"keys": "password,salt,sessionToken,authData"}, as_=as_),
        api.ok("GET", "/users", params={"returnACL": "1"}, as_=as_),
        api.ok("GET", "/classes/Post", params={"include": "u,us"}, as_=as_),
        api.ok(
            "GET", f"/classes/Post/{post}", params={"include": "u", "keys": "u.authData"}, as_=as_
        ),
        api.ok(
            "GET", "/cloudQuery", params={"cql": "select authData, password from _User"}, as_=as_
        ),
        api.ok("GET", "/cloudQuery", params={"cql": "select include u, * from Post"}, as_=as_),
        api.ok(
            "POST",
            "/transactions/read",
            {"objects": [{"className": "_User", "objectId": wei["objectId"]}]},
            as_=as_,
        ),
        api.ok(
            "POST",
            "/batch",
            {"requests": [{"method": "GET", "path": f"/1.1/classes/_User/{alice['objectId']}"}]},
            as_=as_,
        ),
        api.ok("GET", "/users", as_="master"),
        api.ok("GET", "/scan/classes/_User", as_="master"),
        api.ok(
            "PUT",
            f"/users/{alice['objectId']}",
            {"nick": "a"},
            params={"fetchWhenSave": "1"},
            as_="master",
        ),
    ]
    assert reads[7]["results"][0]["object"]["objectId"] == wei["objectId"]
    for answer in reads[:9]:
        assert_no_hidden_fields(answer, secrets)
    for answer in reads[9:]:  # master sees authData, never a password or a session
        assert_no_hidden_fields(answer, secrets[1:3], hidden=HIDDEN - {"authData"})


@pytest.mark.parametrize(
    "where",
    [
        {"password": {"$exists": True}},
        {"sessionToken": {"$regex": "^a"}},
        {"authData.weixin.openid": "OPENID1"},
        {"$or": [{"salt": {"$gt": ""}}, {"username": "x"}]},
    ],
)
def test_hidden_user_fields_cannot_be_probed_by_queries(api, bob, where):
    as_ = bob["sessionToken"]
    assert api.code("GET", "/users", params={"where": json.dumps(where)}, as_=as_) == 105
    sub = {"u": {"$inQuery": {"className": "_User", "where": where}}}
    assert api.code("GET", "/classes/Post", params={"where": json.dumps(sub)}, as_=as_) == 105
    order = next(iter(where)).lstrip("$") if not next(iter(where)).startswith("$") else "salt"
    assert api.code("GET", "/users", params={"order": order}, as_=as_) == 105
    select = {"x": {"$select": {"query": {"className": "_User", "where": {}}, "key": "password"}}}
    assert api.code("GET", "/classes/Post", params={"where": json.dumps(select)}, as_=as_) == 105
    cql = "select * from _User where sessionToken > ''"
    assert api.code("GET", "/cloudQuery", params={"cql": cql}, as_=as_) == 105


# ------------------------------------------------------------------ internal classes


@pytest.mark.parametrize("class_name", sorted(INTERNAL_CLASSES))
def test_internal_classes_are_closed_to_clients(api, alice, class_name):
    token = alice["sessionToken"]
    api.code("POST", "/login", {"username": "alice", "password": "wrong"})  # a _LoginFailure
    api.code("POST", "/requestSmsCode", {"mobilePhoneNumber": "+8613800000000"})
    api.ok("POST", "/fileTokens", {"name": "a.txt"}, as_=token)  # a _FileUpload
    rows = api.ok("GET", f"/classes/{class_name}", as_="master")["results"]
    if class_name in ("_LoginFailure", "_FileUpload", "_SmsCode", "_OutboxMessage"):
        assert rows
    for as_ in ("anon", token):
        assert api.ok("GET", f"/classes/{class_name}", as_=as_)["results"] == []
        assert api.code("POST", f"/classes/{class_name}", {"x": 1}, as_=as_) == 119
        cql = f"select * from {class_name}"
        assert api.ok("GET", "/cloudQuery", params={"cql": cql}, as_=as_)["results"] == []
        for row in rows:
            path = f"/classes/{class_name}/{row['objectId']}"
            assert api.ok("GET", path, as_=as_) == {}
            assert api.code("PUT", path, {"count": 0}, as_=as_) == 119
            assert api.code("DELETE", path, as_=as_) == 119
    assert api.ok("GET", f"/classes/{class_name}", as_="master")["results"] == rows


# ------------------------------------------------------------------ roles


def test_roles_cannot_be_joined_forged_or_inherited_without_write_access(api, alice, bob):
    admins = api.ok(
        "POST",
        "/roles",
        {
            "name": "admins",
            "ACL": {"*": {"read": True}},
            "users": {"__op": "AddRelation", "objects": [pointer("_User", alice["objectId"])]},
        },
        as_="master",
    )["objectId"]
    vault_acl = {"role:admins": {"read": True, "write": True}}
    vault = api.ok("POST", "/classes/Vault", {"v": 1, "ACL": vault_acl}, as_="master")["objectId"]
    token = bob["sessionToken"]
    join = {"users": {"__op": "AddRelation", "objects": [pointer("_User", bob["objectId"])]}}
    for path in (f"/roles/{admins}", f"/classes/_Role/{admins}"):
        assert api.code("PUT", path, join, as_=token) == 403
    batch = {"requests": [{"method": "PUT", "path": f"/1.1/roles/{admins}", "body": join}]}
    assert api.ok("POST", "/batch", batch, as_=token)[0]["error"]["code"] == 403
    # bob's own role, with admins among its child roles: admins' members inherit
    # bob's role, not the other way round
    own = {
        "name": "bobs",
        "ACL": {bob["objectId"]: {"read": True, "write": True}},
        **join,
        "roles": {"__op": "AddRelation", "objects": [pointer("_Role", admins)]},
    }
    bobs = api.ok("POST", "/roles", own, as_=token)["objectId"]
    into_admins = {"roles": {"__op": "AddRelation", "objects": [pointer("_Role", bobs)]}}
    assert api.code("PUT", f"/roles/{admins}", into_admins, as_=token) == 403
    assert api.code("POST", "/roles", {"name": "admins", "ACL": {}}, as_=token) == 137
    assert api.code("PUT", f"/roles/{bobs}", {"name": "admins"}, as_=token) == 139
    cql = "insert into _Role(name, ACL) values('admins', ?)"
    params = {"cql": cql, "pvalues": json.dumps([{"*": {"read": True}}])}
    assert api.code("GET", "/cloudQuery", params=params, as_=token) == 137
    assert api.code("DELETE", f"/roles/{admins}", as_=token) == 403
    assert api.ok("GET", f"/classes/Vault/{vault}", as_=token) == {}
    assert api.ok("GET", f"/classes/Vault/{vault}", as_=alice["sessionToken"])["v"] == 1


# ------------------------------------------------------------------ files


def upload(api, as_, content=b"secret"):
    response = api.raw(
        "POST", "/1.1/files/a.txt", content, as_=as_, content_type="application/octet-stream"
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def content_of(api, url):
    return api.raw("GET", url.split("localhost", 1)[1], as_="none")


def test_only_the_master_key_ties_a_file_record_to_content(api, alice, bob):
    mine = upload(api, alice["sessionToken"])
    key = mine["url"].rsplit("/files/", 1)[1]
    token = bob["sessionToken"]
    forged = {"name": "x", "url": "http://x.test/x", "key": key, "bucket": "local"}
    assert api.code("POST", "/files", forged, as_=token) == 1
    assert api.code("POST", "/classes/_File", forged, as_=token) == 1
    assert api.code("POST", "/fileTokens", {"name": "x", "key": key}, as_=token) == 1
    for path in (f"/files/{mine['objectId']}", f"/classes/_File/{mine['objectId']}"):
        for field in ("url", "key", "bucket", "provider", "key.x"):
            assert api.code("PUT", path, {field: "x"}, as_=alice["sessionToken"]) == 1
    cql = f"update _File set key = 'x' where objectId = '{mine['objectId']}'"
    assert api.code("GET", "/cloudQuery", params={"cql": cql}, as_=token) == 1
    # an external record naming this server's URL is only a link: deleting it keeps the content
    external = api.ok("POST", "/files", {"name": "x", "url": mine["url"]}, as_=token)
    api.ok("DELETE", f"/files/{external['objectId']}", as_=token)
    assert content_of(api, mine["url"]).get_data() == b"secret"


def test_a_file_with_an_acl_is_deleted_by_its_writers_only(api, alice, bob):
    acl = {"*": {"read": True}, alice["objectId"]: {"write": True}}
    token = api.ok("POST", "/fileTokens", {"name": "a.txt", "ACL": acl}, as_=alice["sessionToken"])
    api.raw("PUT", token["upload_url"].split("localhost", 1)[1], b"data", as_="none")
    file_id = token["objectId"]
    for as_ in ("anon", bob["sessionToken"]):
        for path in (f"/files/{file_id}", f"/classes/_File/{file_id}"):
            assert api.code("DELETE", path, as_=as_) == 403
    assert content_of(api, token["url"]).get_data() == b"data"
    api.ok("DELETE", f"/files/{file_id}", as_=alice["sessionToken"])
    assert content_of(api, token["url"]).status_code == 404


# ------------------------------------------------------------------ friendships


def test_follow_rows_cannot_be_forged_or_repointed(api, alice, bob):
    carol = api.sign_up("carol")
    token = bob["sessionToken"]
    api.ok("POST", f"/users/{bob['objectId']}/friendship/{alice['objectId']}", {}, as_=token)
    for as_ in ("anon", token):
        forged = {"user": pointer("_User", alice["objectId"])}
        assert api.code("POST", f"/users/{carol['objectId']}/friendship/x", {}, as_=as_) == 206
        assert api.code("POST", "/classes/_Follower", forged, as_=as_) == 119
    rows = {
        "_Followee": api.ok("GET", "/classes/_Followee", as_="master")["results"],
        "_Follower": api.ok("GET", "/classes/_Follower", as_="master")["results"],
    }
    repoint = pointer("_User", carol["objectId"])
    for class_name, found in rows.items():
        (row,) = found
        path = f"/classes/{class_name}/{row['objectId']}"
        other = "followee" if class_name == "_Followee" else "follower"
        for field in ("user", other, f"{other}.objectId"):
            assert api.code("PUT", path, {field: repoint}, as_=token) == 119
            item = {"method": "PUT", "path": "/1.1" + path, "body": {field: repoint}}
            assert (
                api.ok("POST", "/batch", {"requests": [item]}, as_=token)[0]["error"]["code"] == 119
            )
        assert api.code("PUT", path, {"note": "close friends"}, as_=token) is None
    followers = api.ok("GET", f"/users/{alice['objectId']}/followers", as_="master")["results"]
    assert [f["follower"]["objectId"] for f in followers] == [bob["objectId"]]
    assert api.ok("GET", f"/users/{carol['objectId']}/followees", as_="master")["results"] == []


# ------------------------------------------------------------------ credentials


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


CREDENTIALS = {
    # name: (headers, may read a class, is master)
    "master key": ({"X-LC-Key": MASTER_KEY + ",master"}, True, True),
    "master signature": ({"X-LC-Sign": _md5("123" + MASTER_KEY) + ",123,master"}, True, True),
    "legacy master header": ({"X-AVOSCloud-Master-Key": MASTER_KEY}, True, True),
    "app key": ({"X-LC-Key": APP_KEY}, True, False),
    "app signature": ({"X-LC-Sign": _md5("9" + APP_KEY) + ",9"}, True, False),
    "master key without the suffix": ({"X-LC-Key": MASTER_KEY}, False, False),
    "app key claiming master": ({"X-LC-Key": APP_KEY + ",master"}, False, False),
    "app signature claiming master": (
        {"X-LC-Sign": _md5("123" + APP_KEY) + ",123,master"},
        False,
        False,
    ),
    "master signature without the flag": (
        {"X-LC-Sign": _md5("123" + MASTER_KEY) + ",123"},
        False,
        False,
    ),
    "garbled signature": ({"X-LC-Sign": "zz,abc,master"}, False, False),
    "app key beside a wrong master header": (
        {"X-LC-Key": APP_KEY, "X-AVOSCloud-Master-Key": "nope"},
        True,
        False,
    ),
    "hook key alone": ({"X-LC-Hook-Key": HOOK_KEY}, False, False),
}


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_credentials_grant_exactly_what_they_should(api, name):
    headers, may_read, master = CREDENTIALS[name]
    for app_id, expected in ((APP_ID, (may_read, master)), ("other-app", (False, False))):
        all_headers = {"X-LC-Id": app_id, **headers}
        read = api.client.get("/1.1/classes/Thing", headers=all_headers)
        schemas = api.client.get("/1.1/schemas", headers=all_headers)
        assert (read.status_code == 200, schemas.status_code == 200) == expected
        if not expected[0]:
            assert read.get_json() == {"code": 401, "error": "Unauthorized."}


# ------------------------------------------------------------------ links the server mails


def test_a_forged_host_header_cannot_poison_password_reset_links(api, alice):
    """Without a configured public URL, a reset link must not take a stranger's Host:
    the victim would hand its token to that host by clicking it."""
    forged = {"Host": "attacker.example"}
    response = api("POST", "/requestPasswordReset", {"email": "alice@x.test"}, headers=forged)
    mails = api.ok("GET", "/outbox", params={"to": "alice@x.test"}, as_="master")["results"]
    resets = [m["text"] for m in mails if m.get("kind") == "reset"]
    assert not any("attacker.example" in text for text in resets)
    if response.status_code == 200:
        assert resets
    else:
        assert response.get_json()["code"] == 1 and not resets
    api.ok("POST", "/requestPasswordReset", {"email": "alice@x.test"})  # Host: localhost
    mails = api.ok("GET", "/outbox", params={"to": "alice@x.test"}, as_="master")["results"]
    assert any("http://localhost/1.1/resetPassword/" in m["text"] for m in mails)


# ------------------------------------------------------------------ installations


def test_installations_are_listed_by_the_master_key_only(api, alice):
    """Device rows hold push tokens: readable by objectId (as on LeanCloud), never
    searchable by clients, not even one regex at a time through a subquery."""
    device = {"deviceType": "android", "installationId": "device-1", "deviceToken": "tok"}
    api.ok("POST", "/installations", device, as_=alice["sessionToken"])
    api.ok("POST", "/classes/Thing", {"x": "android"}, as_="master")
    devices = {"className": "_Installation", "where": {"deviceToken": {"$regex": "^t"}}}
    probes = [
        {"x": {"$select": {"query": devices, "key": "deviceType"}}},
        {"x": {"$dontSelect": {"query": devices, "key": "deviceType"}}},
        {"p": {"$inQuery": devices}},
        {"p": {"$notInQuery": devices}},
    ]
    seen = {"master": [1, 0, 0, 1], "anon": [0, 1, 0, 1], alice["sessionToken"]: [0, 1, 0, 1]}
    for as_, expected in seen.items():
        found = [
            len(
                api.ok("GET", "/classes/Thing", params={"where": json.dumps(p)}, as_=as_)["results"]
            )
            for p in probes
        ]
        assert found == expected, as_
        if as_ != "master":
            cql = {"cql": "select * from _Installation"}
            assert api.code("GET", "/cloudQuery", params=cql, as_=as_) == 401
    listed = api.ok("GET", "/installations", as_="master")["results"]
    assert [d["installationId"] for d in listed] == ["device-1"]
