"""Role: name rules, the required ACL, the users/roles relations and the wire requests."""

import json
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import responses

import leancloud
from leancloud import ACL, LeanCloudError, Object, Query, Relation, Role, User
from leancloud.role import INVALID_ROLE_NAME, RoleNameError

from .conftest import API

PUBLIC_READ = {"*": {"read": True}}


def body(call):
    return json.loads(call.request.body)


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def saved_user(object_id):
    user = User.create_without_data(object_id)
    return user


def test_role_is_the_system_role_class():
    assert Role._class_name == "_Role"
    assert Object.as_class("_Role") is Role and Object.extend("Role") is Role
    assert type(leancloud.codec.decode(pointer("_Role", "r1"))) is Role


def test_a_named_role_gets_public_read_access_only():
    role = Role("Moderators")
    assert role.get_name() == "Moderators" == role.name
    assert role.get_acl().dump() == PUBLIC_READ


def test_a_given_acl_is_kept():
    acl = ACL()
    acl.set_write_access("u1", True)
    role = Role("Moderators", acl)
    assert role.get_acl() is acl


def test_a_role_takes_an_acl_or_its_wire_form_and_nothing_else():
    # The official SDK turns the wire form into an ACL (Object.set does, for "ACL").
    assert Role("Moderators", {"*": {"read": True}}).get_acl() == ACL({"*": {"read": True}})
    with pytest.raises(TypeError):
        Role("Moderators", "public")


@pytest.mark.parametrize("name", ["Admin", "admin_2", "team-a", "Power Users", "0"])
def test_valid_names(name):
    assert Role(name).get_name() == name


@pytest.mark.parametrize("name", ["", "a.b", "a:b", "名字", "trailing\n", 42, None])
def test_invalid_names_raise_139_which_is_also_a_type_error(name):
    role = Role()
    with pytest.raises(RoleNameError) as error:
        role.set_name(name)
    assert error.value.code == INVALID_ROLE_NAME
    assert isinstance(error.value, LeanCloudError) and isinstance(error.value, TypeError)
    assert role.get_name() is None and not role.is_dirty("name")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: setattr(r, "name", "a b!"),
        lambda r: r.set("name", "x/y"),
        lambda r: r.unset("name"),
    ],
)
def test_every_way_of_changing_the_name_is_checked(change):
    with pytest.raises(RoleNameError):
        change(Role("ok"))


def test_the_constructor_checks_the_name():
    with pytest.raises(RoleNameError):
        Role("no/slashes")


def test_the_name_setter():
    role = Role("old")
    role.name = "new"
    assert role.get_name() == "new"
    assert role.set_name("newer") is role


def test_create_sends_name_and_default_acl(api):
    api.post(
        f"{API}/classes/_Role",
        json={"objectId": "r1", "createdAt": "2024-01-01T00:00:00.000Z"},
        status=201,
    )
    role = Role("Moderators")
    role.save()
    assert body(api.calls[0]) == {"name": "Moderators", "ACL": PUBLIC_READ}
    assert role.id == "r1"


def test_a_new_role_saved_without_acl_gets_the_default(api):
    api.post(f"{API}/classes/_Role", json={"objectId": "r1"}, status=201)
    role = Role()
    role.set_name("Moderators")
    assert role.get_acl() is None
    role.save()
    assert body(api.calls[0]) == {"name": "Moderators", "ACL": PUBLIC_READ}
    assert role.get_acl().dump() == PUBLIC_READ


def test_a_role_batch_saved_without_acl_gets_the_default(api):
    api.add(responses.POST, f"{API}/batch", json=[{"success": {"objectId": "r1"}}])
    role = Role()
    role.set_name("Moderators")
    Object.save_all([role])
    (item,) = body(api.calls[0])["requests"]
    assert item["body"] == {"name": "Moderators", "ACL": PUBLIC_READ}


def test_an_existing_role_never_sends_an_acl_it_was_not_given(api):
    api.put(f"{API}/classes/_Role/r1", json={"objectId": "r1"})
    role = Role.create_without_data("r1")
    assert role.get_acl() is None
    role.users.add(saved_user("u1"))
    role.save()
    assert body(api.calls[0]) == {
        "users": {"__op": "AddRelation", "objects": [pointer("_User", "u1")]}
    }


def test_a_role_from_the_server_has_only_the_servers_acl():
    role = leancloud.codec.decode(
        {"__type": "Object", "className": "_Role", "objectId": "r1", "name": "a"}
    )
    assert role.get_acl() is None and not role.is_dirty()


def test_users_and_roles_are_relations_of_the_role():
    role = Role("Moderators")
    for relation, getter, key in (
        (role.users, role.get_users, "users"),
        (role.roles, role.get_roles, "roles"),
    ):
        assert isinstance(relation, Relation)
        assert relation.parent is role and relation.key == key
        assert getter().key == key


def test_membership_changes_are_sent_as_relation_ops(api):
    api.put(f"{API}/classes/_Role/r1", json={"objectId": "r1"})
    role = Role.create_without_data("r1")
    role.users.add(saved_user("u1"), saved_user("u2"))
    role.roles.add(Role.create_without_data("r2"))
    role.save()
    assert body(api.calls[0]) == {
        "users": {
            "__op": "AddRelation",
            "objects": [pointer("_User", "u1"), pointer("_User", "u2")],
        },
        "roles": {"__op": "AddRelation", "objects": [pointer("_Role", "r2")]},
    }


def test_querying_the_users_of_a_role(api):
    api.get(
        f"{API}/classes/_Role",
        json={"results": [{"objectId": "u1", "username": "ann"}], "className": "_User"},
    )
    role = Role.create_without_data("r1")
    (user,) = role.get_users().query.find()
    sent = {k: v[0] for k, v in parse_qs(urlparse(api.calls[0].request.url).query).items()}
    assert json.loads(sent["where"]) == {
        "$relatedTo": {"object": pointer("_Role", "r1"), "key": "users"}
    }
    assert sent["redirectClassNameForKey"] == "users"
    assert type(user) is User


def test_a_role_grants_acl_access_by_name():
    acl = ACL()
    acl.set_role_read_access(Role("Moderators"), True)
    acl.set_write_access(Role("Admins"), True)
    assert acl.dump() == {"role:Moderators": {"read": True}, "role:Admins": {"write": True}}


def test_live_a_name_with_spaces_is_saved_and_a_rename_is_the_servers_139(leancloud_server):
    name = f"Power Users {uuid.uuid4().hex[:8]}"
    role = Role(name)
    role.save()
    found = Query(Role).equal_to("name", name).first()
    assert found.id == role.id and found.name == name
    found.set_name("Renamed")  # a valid name, so only the server can refuse it
    with pytest.raises(LeanCloudError) as error:
        found.save()
    assert error.value.code == INVALID_ROLE_NAME
    assert Query(Role).get(role.id).get_name() == name
