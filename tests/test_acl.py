"""ACL: permissions by user id, role and public, in LeanCloud's wire form."""

import pytest

from leancloud import ACL, Object, codec

# The registered classes (whatever leancloud.user/role define), not new ones.
_User = Object.as_class("_User")
_Role = Object.as_class("_Role")


def test_empty_acl_dumps_empty_dict():
    assert ACL().dump() == {}


def test_public_user_and_role_access():
    acl = ACL()
    acl.set_public_read_access(True)
    acl.set_read_access("u1", True)
    acl.set_write_access("u1", True)
    acl.set_role_write_access("Admin", True)
    assert acl.dump() == {
        "*": {"read": True},
        "u1": {"read": True, "write": True},
        "role:Admin": {"write": True},
    }
    assert acl.get_public_read_access() is True
    assert acl.get_public_write_access() is False
    assert acl.get_write_access("u1") is True
    assert acl.get_role_write_access("Admin") is True
    assert acl.get_role_read_access("Admin") is False
    assert acl.get_read_access("nobody") is False


def test_revoking_removes_keys_instead_of_storing_false():
    acl = ACL({"u1": {"read": True, "write": True}})
    acl.set_write_access("u1", False)
    assert acl.dump() == {"u1": {"read": True}}
    acl.set_read_access("u1", False)
    assert acl.dump() == {}
    acl.set_public_write_access(False)  # nothing to revoke: no key appears
    assert acl.dump() == {}


def test_users_and_roles_as_objects():
    user = _User.create_without_data("u9")
    role = _Role(name="Editors")
    acl = ACL()
    acl.set_read_access(user, True)
    acl.set_role_read_access(role, True)
    acl.set_write_access(role, True)  # a Role given to the user methods means the role
    assert acl.dump() == {"u9": {"read": True}, "role:Editors": {"read": True, "write": True}}
    assert acl.get_read_access(user) is True


def test_bad_principals_are_refused():
    with pytest.raises(TypeError):
        ACL().set_role_read_access(3, True)
    with pytest.raises(ValueError):
        ACL().set_read_access(_User(), True)  # unsaved user has no id
    with pytest.raises(TypeError):
        ACL(["not", "a", "dict"])


def test_loading_copies_the_wire_dict_and_equality():
    wire = {"*": {"read": True}}
    acl = ACL(wire)
    acl.set_public_write_access(True)
    assert wire == {"*": {"read": True}}
    assert acl == ACL({"*": {"read": True, "write": True}})
    assert acl != ACL()
    dumped = acl.dump()
    dumped["*"]["read"] = False
    assert acl.get_public_read_access() is True


def test_codec_encodes_acl():
    assert codec.encode({"ACL": ACL({"*": {"read": True}})}) == {"ACL": {"*": {"read": True}}}
