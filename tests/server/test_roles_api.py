"""Roles over HTTP: ``/1.1/roles`` and ``/1.1/classes/_Role``, their rules, and role ACLs."""

import json
import threading
import uuid

import pytest
from werkzeug.test import Client

import leancloud
from leancloud import ACL, LeanCloudError, Object, Query, Role, User
from leancloud.server import create_app, passwords
from leancloud.server.storage.base import StoredObject

APP_ID, APP_KEY, MASTER_KEY = "roles-app", "roles-key", "roles-master"
PUBLIC_READ = {"*": {"read": True}}
ROLE_PATHS = ["/roles", "/classes/_Role"]


class Api:
    def __init__(self, app):
        self.app = app
        self.client = Client(app)

    def __call__(self, method, path, body=None, master=False, session=None, params=None):
        headers = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master" if master else APP_KEY}
        if session:
            headers["X-LC-Session"] = session
        response = self.client.open(
            "/1.1" + path,
            method=method,
            data=None if body is None else json.dumps(body),
            query_string=params,
            headers=headers,
            content_type="application/json",
        )
        return response.status_code, response.get_json()

    def ok(self, method, path, body=None, status=200, **kwargs):
        got_status, result = self(method, path, body, **kwargs)
        assert got_status == status, result
        return result

    def error(self, method, path, body=None, **kwargs):
        status, result = self(method, path, body, **kwargs)
        assert status >= 400 and set(result) == {"code", "error"}, (status, result)
        return status, result["code"]

    def role(self, name, path="/roles", **fields):
        body = {"name": name, "ACL": fields.pop("ACL", PUBLIC_READ), **fields}
        return self.ok("POST", path, body, status=201, master=True)["objectId"]

    def user(self, user_id):
        """A user with session ``t-<id>``, written straight into storage."""
        with self.app.storage.write() as tx:
            stamp = "2024-01-01T00:00:00.000Z"
            tx.insert(StoredObject("_User", user_id, stamp, stamp, {"username": user_id}))
            tx.set_session(user_id, "t-" + user_id)
        return "t-" + user_id


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def add(class_name, *ids):
    return {"__op": "AddRelation", "objects": [pointer(class_name, i) for i in ids]}


@pytest.fixture
def api(tmp_path):
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield Api(app)
    app.storage.close()


# ------------------------------------------------------------------ CRUD on both paths


@pytest.mark.parametrize("path", ROLE_PATHS)
def test_create_get_update_query_delete(api, path):
    response = api.client.post(
        "/1.1" + path,
        json={"name": "Editors", "ACL": {"*": {"read": True, "write": True}}},
        headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY},
    )
    assert response.status_code == 201
    role_id = response.get_json()["objectId"]
    assert response.headers["Location"] == f"/1.1/roles/{role_id}"
    got = api.ok("GET", f"{path}/{role_id}")
    assert got["name"] == "Editors"
    assert got["users"] == {"__type": "Relation", "className": "_User"}
    assert got["roles"] == {"__type": "Relation", "className": "_Role"}
    updated = api.ok("PUT", f"{path}/{role_id}", {"note": "hi", "name": "Editors"})
    assert updated["objectId"] == role_id and "updatedAt" in updated
    found = api.ok("GET", path, params={"where": json.dumps({"note": "hi"})})["results"]
    assert [r["objectId"] for r in found] == [role_id]
    assert api.ok("DELETE", f"{path}/{role_id}") == {}
    assert api.ok("GET", f"{path}/{role_id}") == {}


def test_both_paths_see_the_same_roles(api):
    role_id = api.role("Staff", path="/classes/_Role")
    assert api.ok("GET", f"/roles/{role_id}")["name"] == "Staff"
    assert [r["name"] for r in api.ok("GET", "/roles")["results"]] == ["Staff"]


def test_fetch_when_save_returns_the_role(api):
    body = {"name": "Full", "ACL": PUBLIC_READ}
    created = api.ok("POST", "/roles", body, status=201, master=True, params={"new": "true"})
    assert created["name"] == "Full" and created["users"]["__type"] == "Relation"


# ------------------------------------------------------------------ name and ACL rules


@pytest.mark.parametrize("path", ROLE_PATHS)
def test_role_without_acl_is_refused(api, path):
    assert api("POST", path, {"name": "NoAcl"}) == (
        400,
        {"code": 1, "error": "Role ACL is required."},
    )
    assert api.error("POST", path, {"name": "NullAcl", "ACL": None}) == (400, 1)
    assert api.ok("GET", "/roles")["results"] == []


@pytest.mark.parametrize(
    "name", [None, "", "a.b", "a/b", "rôle", "x;drop", 7, {"__op": "Delete"}, ["a"]]
)
def test_bad_role_names_are_139(api, name):
    body = {"ACL": PUBLIC_READ} if name is None else {"name": name, "ACL": PUBLIC_READ}
    assert api.error("POST", "/roles", body, master=True) == (400, 139)


def test_good_role_names(api):
    for name in ["Admins", "a_b", "a-b", "Chief editors 2"]:
        assert api.role(name)


@pytest.mark.parametrize("path", ROLE_PATHS)
def test_role_names_are_unique(api, path):
    api.role("Admins")
    assert api.error("POST", path, {"name": "Admins", "ACL": PUBLIC_READ}, master=True) == (
        400,
        137,
    )
    assert len(api.ok("GET", "/roles")["results"]) == 1


def test_concurrent_creates_of_one_name_make_one_role(api):
    statuses = []

    def create():
        status, _ = api("POST", "/roles", {"name": "Race", "ACL": PUBLIC_READ}, master=True)
        statuses.append(status)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [400] * 7
    assert len(api.ok("GET", "/roles")["results"]) == 1


def test_name_is_immutable_and_acl_cannot_be_removed(api):
    role_id = api.role("Fixed")
    assert api.error("PUT", f"/roles/{role_id}", {"name": "Other"}, master=True) == (400, 139)
    assert api.error(
        "PUT", f"/classes/_Role/{role_id}", {"name": {"__op": "Delete"}}, master=True
    ) == (400, 139)
    assert api.error("PUT", f"/roles/{role_id}", {"ACL": None}, master=True) == (400, 1)
    assert api.error("PUT", f"/roles/{role_id}", {"ACL": {"__op": "Delete"}}, master=True) == (
        400,
        1,
    )
    assert api.ok("GET", f"/roles/{role_id}", params={"returnACL": "true"})["ACL"] == PUBLIC_READ
    assert api.ok("GET", f"/roles/{role_id}")["name"] == "Fixed"


def test_update_of_a_missing_role_is_not_found(api):
    api.role("Exists")
    status, code = api.error("PUT", "/roles/" + "0" * 24, {"name": "X"}, master=True)
    assert (status, code) == (404, 1)


def test_role_acl_guards_writes(api):
    role_id = api.role("Locked")  # public read, nobody writes
    assert api.error("PUT", f"/roles/{role_id}", {"note": "x"}) == (403, 403)
    assert api.error("DELETE", f"/roles/{role_id}") == (403, 403)
    assert api.ok("PUT", f"/roles/{role_id}", {"note": "x"}, master=True)
    assert api.ok("DELETE", f"/roles/{role_id}", master=True) == {}


# ------------------------------------------------------------------ relations and ACLs


def test_users_and_roles_relations_add_and_remove(api):
    bob = api.user("bob")
    api.user("ann")
    child = api.role("Child")
    parent = api.role("Parent", users=add("_User", "ann", "bob"), roles=add("_Role", child))
    members = api.ok(
        "GET",
        "/classes/_User",
        master=True,
        params={
            "where": json.dumps(
                {"$relatedTo": {"object": pointer("_Role", parent), "key": "users"}}
            )
        },
    )["results"]
    assert sorted(u["objectId"] for u in members) == ["ann", "bob"]
    remove = {"__op": "RemoveRelation", "objects": [pointer("_User", "bob")]}
    api.ok("PUT", f"/roles/{parent}", {"users": remove}, master=True)
    where = json.dumps({"users": pointer("_User", "ann")})
    assert [r["name"] for r in api.ok("GET", "/roles", params={"where": where})["results"]] == [
        "Parent"
    ]
    where = json.dumps({"users": pointer("_User", "bob")})
    assert api.ok("GET", "/roles", params={"where": where}, session=bob)["results"] == []


def test_relation_of_the_wrong_class_is_refused(api):
    role_id = api.role("Typed")
    status, code = api.error(
        "PUT", f"/roles/{role_id}", {"users": add("_Role", role_id)}, master=True
    )
    assert (status, code) == (400, 111)


def test_inherited_role_grants_read_and_write(api):
    """ann is in B, B is in A's ``roles``: an ACL for role:A lets ann read and write."""
    ann, bob = api.user("ann"), api.user("bob")
    role_b = api.role("B", users=add("_User", "ann"))
    api.role("A", roles=add("_Role", role_b))
    acl = {"role:A": {"read": True, "write": True}}
    post = api.ok("POST", "/classes/Post", {"title": "t", "ACL": acl}, status=201)["objectId"]
    assert api.ok("GET", f"/classes/Post/{post}", session=ann)["title"] == "t"
    assert api.ok("GET", f"/classes/Post/{post}", session=bob) == {}
    assert api.ok("GET", f"/classes/Post/{post}") == {}
    assert api.error("PUT", f"/classes/Post/{post}", {"title": "x"}, session=bob) == (403, 403)
    assert api.ok("PUT", f"/classes/Post/{post}", {"title": "by ann"}, session=ann)
    assert api.ok("GET", f"/classes/Post/{post}", master=True)["title"] == "by ann"


def test_batch_items_obey_the_role_rules(api):
    requests = [
        {"method": "POST", "path": "/1.1/roles", "body": {"name": "Batched"}},
        {"method": "POST", "path": "/1.1/classes/_Role", "body": {"name": "b.ad", "ACL": {}}},
        {"method": "POST", "path": "/1.1/roles", "body": {"name": "Ok", "ACL": {}}},
    ]
    results = api.ok("POST", "/batch", {"requests": requests}, master=True)
    assert results[0] == {"error": {"code": 1, "error": "Role ACL is required."}}
    assert results[1]["error"]["code"] == 139
    assert "objectId" in results[2]["success"]


# ------------------------------------------------------------------ through the SDK


@pytest.fixture
def sdk(leancloud_server, monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    leancloud.use_master_key(False)
    yield leancloud_server
    User.set_current(None)


def _signed_up():
    user = User()
    user.sign_up("u" + uuid.uuid4().hex[:12], "pw")
    return user


def test_sdk_role_shares_an_object_with_its_users(sdk):
    ann, bob = _signed_up(), _signed_up()
    leancloud.use_master_key(True)
    name = "Team " + uuid.uuid4().hex[:8]
    team = Role(name)
    team.users.add(ann)
    team.save()
    leancloud.use_master_key(False)
    Doc = Object.extend("RoleDoc")
    acl = ACL()
    acl.set_role_read_access(name, True)
    acl.set_role_write_access(name, True)
    doc = Doc(text="shared")
    doc.set_acl(acl)
    doc.save()
    User.set_current(ann)
    mine = Query(Doc).get(doc.id)
    mine.set("text", "edited by ann")
    mine.save()
    User.set_current(bob)
    assert Query(Doc).equal_to("objectId", doc.id).find() == []
    doc.set("text", "edited by bob")
    with pytest.raises(LeanCloudError) as error:
        doc.save()
    assert error.value.code == 403
    assert [r.get_name() for r in ann.get_roles()] == [name]


def test_sdk_role_rules_surface_as_errors(sdk):
    leancloud.use_master_key(True)
    name = "Dup" + uuid.uuid4().hex[:8]
    Role(name).save()
    with pytest.raises(LeanCloudError) as error:
        Role(name).save()
    assert error.value.code == 137
    role = Query(Role).equal_to("name", name).first()
    role.set("note", "x")
    role.save()
    assert Query(Role).get(role.id).get("note") == "x"
    role.destroy()
    assert Query(Role).equal_to("name", name).find() == []
