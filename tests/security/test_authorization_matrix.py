"""Who may do what: anonymous callers, two users (alice, bob) and the master key.

Each test is an attack a hostile client could try; the assertions say it fails and
that nothing leaked or changed.
"""

from __future__ import annotations

import json

import pytest

from leancloud.server.names import SYSTEM_CLASSES

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


def assert_no_hidden_fields(answer, secrets=()):
    text = json.dumps(answer)
    for secret in secrets:
        assert secret not in text
    for obj in walk(answer):
        if obj.get("className") == "_User" or "username" in obj:
            assert not HIDDEN & set(obj), obj


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
    read = {"keys": [{"className": "Diary", "objectId": "d1"}]}
    answer = api.ok("POST", "/transactions/read", read, as_=bob["sessionToken"])
    assert "v" not in json.dumps(answer)
    assert api.ok("GET", "/classes/Diary/d1", as_="master")["v"] == 1
