"""The basic user flows through the SDK: sign up, log in, become, log out, and the current
user's session deciding what ACL-protected objects the SDK may read and write."""

import pytest

from leancloud import ACL, Object, Query, User, client

from .conftest import error_code, sign_up, unique

Note = Object.extend("Note")

pytestmark = pytest.mark.usefixtures("as_client")


def private_note(owner, text):
    acl = ACL()
    acl.set_read_access(owner.id, True)
    acl.set_write_access(owner.id, True)
    note = Note(text=text)
    note.set_acl(acl)
    note.save()
    return note


def visible_texts():
    return sorted(note.get("text") for note in Query(Note).find())


def test_sign_up_gives_a_session_and_makes_the_user_current():
    name = unique()
    user = User(nickname="Ann")
    user.sign_up(name, "s3cret")
    assert user.id and user.session_token and user.is_authenticated()
    assert User.get_current() is user and user.is_current
    assert user.get("password") is None
    me = client.get("/users/me").json()  # the SDK sends the current user's session
    assert (me["objectId"], me["username"], me["nickname"]) == (user.id, name, "Ann")


def test_sign_up_refuses_a_taken_username():
    user = sign_up()
    assert error_code(lambda: User().sign_up(user.get_username(), "other")) == 202


def test_login_with_the_right_password_only():
    user = sign_up(password="right")
    User.set_current(None)
    assert error_code(lambda: User().login(user.get_username(), "wrong")) == 210
    assert User.get_current() is None
    again = User()
    again.login(user.get_username(), "right")
    assert again.id == user.id and again.session_token == user.session_token
    assert User.get_current() is again


def test_become_resumes_a_session_and_refuses_an_unknown_token():
    user = sign_up(nickname="Bo")
    User.set_current(None)
    became = User.become(user.session_token)
    assert (became.id, became.get("nickname")) == (user.id, "Bo")
    assert User.get_current() is became
    assert error_code(lambda: User.become("no-such-token")) == 211
    assert User.get_current() is became


def test_logout_drops_the_current_user_and_its_access():
    user = sign_up()
    private_note(user, "mine")
    assert visible_texts() == ["mine"]
    user.logout()
    assert User.get_current() is None
    assert visible_texts() == []
    assert error_code(lambda: client.get("/users/me")) == 211


def test_switching_the_current_user_switches_whose_objects_are_visible():
    ann, bob = sign_up(), sign_up()
    User.set_current(ann)
    ann_note = private_note(ann, "ann's")
    User.set_current(bob)
    bob_note = private_note(bob, "bob's")
    assert visible_texts() == ["bob's"]
    User.set_current(ann)
    assert visible_texts() == ["ann's"]
    bob_note.set("text", "defaced by ann")
    assert error_code(bob_note.save) == 403
    User.set_current(None)
    assert visible_texts() == []
    User.become(bob.session_token)
    assert visible_texts() == ["bob's"]
    assert Query(Note).get(bob_note.id).get("text") == "bob's"
    assert Query(Note).get(ann_note.id).get("text") is None
    bob_note.set("text", "edited by bob")
    bob_note.save()
    assert Query(Note).get(bob_note.id).get("text") == "edited by bob"


def test_a_user_may_change_only_its_own_record():
    ann, bob = sign_up(), sign_up()
    User.set_current(ann)
    ann.set("nickname", "A")
    ann.save()
    bob.set("nickname", "hacked")
    assert error_code(bob.save) in (206, 403)
    User.set_current(bob)
    assert User.become(bob.session_token).get("nickname") is None
    assert User.become(ann.session_token).get("nickname") == "A"
