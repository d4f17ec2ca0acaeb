"""User and Role end to end: the SDK against our server over real HTTP.

The SDK acts as a client app (app key, no master key) unless a test says otherwise, so
sessions and ACLs are really enforced.
"""

import threading
import uuid

import pytest

import leancloud
from leancloud import ACL, LeanCloudError, Object, Query, Role, User, client
from leancloud.server import passwords

LivePost = Object.extend("LivePost")


@pytest.fixture(autouse=True)
def as_client_app(leancloud_server, monkeypatch):
    """Cheap password hashes (the server runs in this process), and no master key."""
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    leancloud.use_master_key(False)
    return leancloud_server


def unique(prefix="u"):
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def signed_up(**fields):
    user = User(**fields)
    user.sign_up(unique(), "s3cret")
    return user


@pytest.fixture
def as_master():
    """Run a block with the master key, then act as a client again."""

    class Master:
        def __enter__(self):
            leancloud.use_master_key(True)

        def __exit__(self, *exc):
            leancloud.use_master_key(False)

    return Master()


# -- signing up and logging in -----------------------------------------------------------


def test_sign_up_with_arguments_logs_in():
    name = unique()
    user = User(nickname="Ann")
    user.sign_up(name, "s3cret")
    assert user.id and len(user.session_token) == 25
    assert User.get_current() is user and user.is_authenticated()
    assert user.get("password") is None
    assert User.become(user.session_token).get("nickname") == "Ann"


def test_sign_up_with_fields_set_beforehand_and_email_login():
    name, email = unique(), f"{unique()}@example.com"
    user = User()
    user.set_username(name)
    user.set_password("s3cret")
    user.set_email(email)
    user.sign_up()
    User.set_current(None)
    by_email = User()
    by_email.login(email=email, password="s3cret")
    assert by_email.id == user.id and by_email.session_token == user.session_token
    assert by_email.get_username() == name and by_email.is_current


def test_sign_up_twice_with_one_username_is_202():
    name = unique()
    User().sign_up(name, "pw1")
    with pytest.raises(LeanCloudError) as error:
        User().sign_up(name, "pw2")
    assert error.value.code == 202


def test_login_with_username_then_wrong_password_is_210():
    user = signed_up()
    User.set_current(None)
    again = User()
    again.login(user.get_username(), "s3cret")
    assert again.id == user.id and again.is_current and again.get("password") is None
    with pytest.raises(LeanCloudError) as error:
        User().login(user.get_username(), "wrong")
    assert error.value.code == 210
    assert User.get_current() is again


def test_login_with_mobile_phone():
    phone = "+86138" + str(uuid.uuid4().int)[:8]
    user = signed_up(mobilePhoneNumber=phone)
    assert User.login_with_mobile_phone(phone, "s3cret").id == user.id


def test_become_and_is_authenticated():
    user = signed_up()
    User.set_current(None)
    became = User.become(user.session_token)
    assert became.id == user.id and became.get_username() == user.get_username()
    assert User.get_current() is became
    with pytest.raises(LeanCloudError) as error:
        User.become("not-a-token")
    assert error.value.code == 211
    stranger = User()
    stranger._session_token = "not-a-token"
    assert stranger.is_authenticated() is False


def test_refresh_session_token_ends_the_old_session():
    user = signed_up()
    old = User.become(user.session_token)
    user.refresh_session_token()
    assert user.session_token != old.session_token
    assert user.is_authenticated() and not old.is_authenticated()


def test_update_password_issues_a_new_token_and_the_new_password_works():
    user = signed_up()
    before = User.become(user.session_token)
    User.set_current(None)
    user.update_password("s3cret", "n3w-pass")
    assert user.session_token != before.session_token and user.is_current
    assert user.is_authenticated() and not before.is_authenticated()
    with pytest.raises(LeanCloudError) as error:
        User().login(user.get_username(), "s3cret")
    assert error.value.code == 210
    fresh = User()
    fresh.login(user.get_username(), "n3w-pass")
    assert fresh.session_token == user.session_token


def test_a_wrong_old_password_is_refused():
    user = signed_up()
    with pytest.raises(LeanCloudError) as error:
        user.update_password("wrong", "n3w-pass")
    assert error.value.code == 210


def test_saving_a_user_needs_its_own_session():
    ann, bob = signed_up(), signed_up()
    User.set_current(ann)
    ann.set("nickname", "A")
    ann.save()
    assert User.become(ann.session_token).get("nickname") == "A"
    User.set_current(ann)
    bob.set("nickname", "hacked")
    with pytest.raises(LeanCloudError) as error:
        bob.save()
    assert error.value.code in (206, 403)
    assert User.become(bob.session_token).get("nickname") is None


def test_a_new_password_saved_on_the_user_logs_in():
    user = signed_up()
    user.set_password("changed")
    user.save()
    assert user.get("password") is None
    fresh = User()
    fresh.login(user.get_username(), "changed")
    assert fresh.id == user.id


# -- third-party accounts ------------------------------------------------------------------


def test_login_with_signs_up_once_then_logs_in_and_links_and_unlinks():
    uid = unique("wx")
    first = User.login_with("weixin", {"uid": uid, "access_token": "t"})
    assert first.id and first.session_token and first.is_linked("weixin")
    User.set_current(None)
    second = User.login_with("weixin", {"uid": uid, "access_token": "t2"})
    assert second.id == first.id and second.is_current
    second.link_with("qq", {"uid": unique("qq"), "access_token": "q"})
    assert second.is_linked("qq") and second.is_linked("weixin")
    second.unlink_from("weixin")
    assert not second.is_linked("weixin")
    fetched = User.become(second.session_token)
    assert set(fetched.get("authData")) == {"qq"}


# -- the current user across threads --------------------------------------------------------


def test_a_user_logged_in_in_one_thread_does_not_act_in_another():
    ann = signed_up()
    seen = {}

    def other_thread():
        seen["current"] = User.get_current()
        try:
            client.get("/users/me")
        except LeanCloudError as error:
            seen["code"] = error.code

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == {"current": None, "code": 211}
    assert client.get("/users/me").json()["objectId"] == ann.id


def test_threads_log_in_in_parallel_and_each_acts_as_itself():
    users = [signed_up() for _ in range(4)]
    User.set_current(None)
    results = {}

    def act_as(user):
        User.become(user.session_token)
        for _ in range(3):
            results.setdefault(user.id, set()).add(client.get("/users/me").json()["objectId"])

    threads = [threading.Thread(target=act_as, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {user.id: {user.id} for user in users}
    assert User.get_current() is None


# -- ACLs and roles -------------------------------------------------------------------------


def private_post(owner, **fields):
    acl = ACL()
    acl.set_read_access(owner, True)
    acl.set_write_access(owner, True)
    post = LivePost(**fields)
    post.set_acl(acl)
    post.save()
    return post


def readable(post_id):
    return [post.id for post in Query(LivePost).equal_to("objectId", post_id).find()]


def test_an_object_with_an_owner_acl_is_only_the_owners():
    ann = signed_up()
    post = private_post(ann, title="secret")
    assert Query(LivePost).get(post.id).get("title") == "secret"
    assert readable(post.id) == [post.id]
    signed_up()  # bob is now the current user
    assert readable(post.id) == []
    post.set("title", "defaced")
    with pytest.raises(LeanCloudError) as error:
        post.save()
    assert error.value.code == 403
    User.set_current(None)
    assert readable(post.id) == []
    User.set_current(ann)
    assert Query(LivePost).get(post.id).get("title") == "secret"


def test_roles_grant_access_to_their_users_and_inheriting_roles(as_master):
    ann, bob, carol = signed_up(), signed_up(), signed_up()
    editors_name, chiefs_name = unique("Editors "), unique("Chiefs-")
    with as_master:
        editors = Role(editors_name)
        editors.users.add(ann)
        editors.save()
        chiefs = Role(chiefs_name)
        chiefs.users.add(carol)
        chiefs.save()
        editors.roles.add(chiefs)  # chiefs inherit what editors are granted
        editors.save()
    acl = ACL()
    acl.set_role_read_access(editors, True)
    post = LivePost(title="for editors")
    post.set_acl(acl)
    User.set_current(bob)
    post.save()
    assert readable(post.id) == []
    User.set_current(ann)
    assert readable(post.id) == [post.id]
    User.set_current(carol)
    assert readable(post.id) == [post.id]
    assert [role.get_name() for role in ann.get_roles()] == [editors_name]
    assert type(ann.get_roles()[0]) is Role


def test_a_role_gets_public_read_and_no_write_by_default(as_master):
    with as_master:
        role = Role(unique("Readers"))
        role.save()
    fetched = Query(Role).get(role.id)
    assert fetched.get_name() == role.get_name()
    fetched.set("note", "changed")
    with pytest.raises(LeanCloudError) as error:
        fetched.save()  # nobody may write it without the master key
    assert error.value.code == 403


def test_role_users_can_be_queried(as_master):
    ann = signed_up()
    with as_master:
        role = Role(unique("Members"))
        role.users.add(ann)
        role.save()
        members = role.get_users().query.find()
    assert [(type(user), user.id) for user in members] == [(User, ann.id)]


# -- friendship ---------------------------------------------------------------------------


def test_follow_shows_in_both_friendship_queries_until_unfollowed():
    ann, bob = signed_up(), signed_up()
    ann.follow(bob.id)
    assert [user.id for user in User.create_follower_query(bob.id).find()] == [ann.id]
    assert [user.id for user in User.create_followee_query(ann.id).find()] == [bob.id]
    followee = User.create_followee_query(ann.id).include("followee").first()
    assert type(followee) is User and followee.get_username() == bob.get_username()
    ann.unfollow(bob.id)
    assert User.create_follower_query(bob.id).find() == []
