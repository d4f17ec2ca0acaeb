"""User: the wire request of every method, the session token and password handling,
and the current user's isolation across threads, asyncio tasks and copied contexts."""

import asyncio
import contextvars
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
import responses

import leancloud
from leancloud import ACL, FriendshipQuery, LeanCloudError, Object, Role, User, context

from .conftest import API

CREATED = "2024-01-12T03:04:05.678Z"


def body(call):
    return json.loads(call.request.body)


def params(call):
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


def path_of(call):
    return urlparse(call.request.url).path


def session_of(call):
    return call.request.headers.get("X-LC-Session")


def user_json(object_id="u1", token="tok1", **fields):
    data = {"objectId": object_id, "createdAt": CREATED, "updatedAt": CREATED, **fields}
    if token is not None:
        data["sessionToken"] = token
    return data


def logged_in(object_id="u1", token="tok1", **fields):
    """A user as a log-in leaves it, without sending anything."""
    user = User()
    user._update_data(user_json(object_id, token, **fields))
    return user


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


# -- the class -----------------------------------------------------------------------


def test_user_is_the_system_user_class():
    assert User._class_name == "_User"
    assert Object.as_class("_User") is User and Object.extend("User") is User
    assert type(leancloud.codec.decode(pointer("_User", "u1"))) is User


def test_friendship_query_results_are_users(api):
    api.get(f"{API}/classes/_Follower", json={"results": [{"follower": pointer("_User", "u2")}]})
    (follower,) = User.create_follower_query("u1").find()
    assert type(follower) is User and follower.id == "u2"


# -- sign up -------------------------------------------------------------------------


def test_sign_up_posts_to_the_user_class_and_logs_in(api):
    api.post(f"{API}/classes/_User", json=user_json(), status=201)
    user = User(nickname="ann")
    user.sign_up("ann", "secret")
    call = api.calls[0]
    assert path_of(call) == "/1.1/classes/_User"
    assert params(call) == {"fetchWhenSave": "false"}
    assert body(call) == {"nickname": "ann", "username": "ann", "password": "secret"}
    assert user.id == "u1" and user.session_token == "tok1" == user.get_session_token()
    assert User.get_current() is user and user.is_current
    assert "sessionToken" not in user.attributes and user.get("password") is None
    assert not user.is_dirty()


def test_sign_up_with_fields_set_beforehand(api):
    api.post(f"{API}/classes/_User", json=user_json(), status=201)
    user = User()
    user.set_username("ann")
    user.set_password("secret")
    user.set_email("ann@example.com")
    user.sign_up()
    assert body(api.calls[0]) == {
        "username": "ann",
        "password": "secret",
        "email": "ann@example.com",
    }


@pytest.mark.parametrize(
    "username, password", [(None, "pw"), ("ann", None), ("", "pw"), ("ann", ""), (7, "pw")]
)
def test_sign_up_needs_username_and_password_before_any_request(api, username, password):
    with pytest.raises(TypeError):
        User().sign_up(username, password)
    assert User.get_current() is None


def test_failed_sign_up_keeps_the_password_to_retry(api):
    api.post(
        f"{API}/classes/_User",
        json={"code": 202, "error": "Username has already been taken."},
        status=400,
    )
    user = User()
    with pytest.raises(LeanCloudError) as error:
        user.sign_up("ann", "secret")
    assert error.value.code == 202
    assert user.get("password") == "secret" and User.get_current() is None


# -- log in --------------------------------------------------------------------------


def test_login_with_username_sends_the_credentials_once(api):
    api.post(f"{API}/login", json=user_json(username="ann", email="a@x.com"))
    user = User()
    user.login("ann", "secret")
    assert body(api.calls[0]) == {"username": "ann", "password": "secret"}
    assert User.get_current() is user and user.session_token == "tok1"
    assert user.get("email") == "a@x.com" and user.get("password") is None
    assert "sessionToken" not in user.dump() and not user.is_dirty()


def test_login_with_email(api):
    api.post(f"{API}/login", json=user_json())
    User().login(email="a@x.com", password="secret")
    assert body(api.calls[0]) == {"email": "a@x.com", "password": "secret"}


def test_login_sends_the_users_fields_so_a_phone_and_sms_code_log_in(api):
    api.post(f"{API}/login", json=user_json())
    user = User()
    user.set_mobile_phone_number("+8613800000000")
    user.set("smsCode", "123456")
    user.login()
    assert body(api.calls[0]) == {"mobilePhoneNumber": "+8613800000000", "smsCode": "123456"}
    assert user.get("smsCode") is None  # spent


def test_wrong_password_raises_210_and_keeps_no_password(api):
    api.post(
        f"{API}/login",
        json={"code": 210, "error": "The username and password mismatch."},
        status=400,
    )
    user = User()
    with pytest.raises(LeanCloudError) as error:
        user.login("ann", "wrong")
    assert error.value.code == 210
    assert user.get("password") is None and User.get_current() is None


@pytest.mark.parametrize("kwargs", [{"username": 1}, {"password": b"pw"}, {"email": ["a"]}])
def test_login_refuses_non_string_credentials(api, kwargs):
    with pytest.raises(TypeError):
        User().login(**kwargs)


def test_requests_after_login_carry_the_session_token(api):
    api.post(f"{API}/login", json=user_json(token="tokA"))
    api.get(f"{API}/classes/Post", json={"results": []})
    User().login("ann", "secret")
    leancloud.Query("Post").find()
    assert session_of(api.calls[0]) is None
    assert session_of(api.calls[1]) == "tokA"


def test_login_with_mobile_phone(api):
    api.post(f"{API}/login", json=user_json())
    user = User.login_with_mobile_phone("+8613800000000", "secret")
    assert body(api.calls[0]) == {"mobilePhoneNumber": "+8613800000000", "password": "secret"}
    assert User.get_current() is user and user.get("password") is None


def test_signup_or_login_with_mobile_phone(api):
    api.post(f"{API}/usersByMobilePhone", json=user_json(mobilePhoneNumber="+86138"))
    user = User.signup_or_login_with_mobile_phone("+86138", "123456")
    assert body(api.calls[0]) == {"mobilePhoneNumber": "+86138", "smsCode": "123456"}
    assert type(user) is User and user.is_current and user.session_token == "tok1"
    assert user.get("smsCode") is None


def test_become_asks_with_the_token_as_a_parameter(api):
    api.get(f"{API}/users/me", json=user_json(token="tokB", username="ann"))
    user = User.become("tokB")
    call = api.calls[0]
    assert params(call) == {"session_token": "tokB"}
    assert user.get_username() == "ann" and user.session_token == "tokB"
    assert User.get_current() is user


def test_become_keeps_the_token_when_the_answer_lacks_it(api):
    api.get(f"{API}/users/me", json=user_json(token=None))
    assert User.become("tokB").session_token == "tokB"


@pytest.mark.parametrize("token", [None, ""])
def test_become_without_a_token_is_user_not_found_without_a_request(api, token):
    with pytest.raises(LeanCloudError) as error:
        User.become(token)
    assert error.value.code == 211


def test_become_refuses_a_non_string_token(api):
    with pytest.raises(TypeError):
        User.become(12345)


def test_is_authenticated_without_a_token_asks_nothing(api):
    assert User().is_authenticated() is False


def test_is_authenticated_asks_the_server_with_the_users_token(api):
    api.get(f"{API}/users/me", json=user_json())
    assert logged_in(token="tok1").is_authenticated() is True
    assert params(api.calls[0]) == {"session_token": "tok1"}


def test_is_authenticated_is_false_for_a_rejected_token(api):
    api.get(f"{API}/users/me", json={"code": 211, "error": "Could not find user."}, status=400)
    assert logged_in().is_authenticated() is False


def test_is_authenticated_raises_other_errors(api):
    api.get(f"{API}/users/me", json={"code": 1, "error": "boom"}, status=500)
    with pytest.raises(LeanCloudError):
        logged_in().is_authenticated()


# -- session token and password --------------------------------------------------------


def test_refresh_session_token_takes_the_new_token_with_the_users_own_session(api):
    api.put(f"{API}/users/u1/refreshSessionToken", json=user_json(token="tokNew"))
    user = logged_in(token="tokOld")
    user.refresh_session_token()
    call = api.calls[0]
    assert call.request.body == b"null" and session_of(call) == "tokOld"
    assert user.session_token == "tokNew" and not user.is_current


def test_update_password_takes_the_new_token_and_makes_the_user_current(api):
    api.put(
        f"{API}/users/u1/updatePassword",
        json={"objectId": "u1", "sessionToken": "tok2", "updatedAt": CREATED},
    )
    api.get(f"{API}/classes/Post", json={"results": []})
    user = logged_in(token="tok1")
    user.update_password("old", "new")
    leancloud.Query("Post").find()
    assert body(api.calls[0]) == {"old_password": "old", "new_password": "new"}
    assert session_of(api.calls[0]) == "tok1"
    assert user.session_token == "tok2" and User.get_current() is user
    assert session_of(api.calls[1]) == "tok2"


@pytest.mark.parametrize(
    "method, args", [("refresh_session_token", ()), ("update_password", ("a", "b"))]
)
def test_token_changes_need_a_saved_user(api, method, args):
    with pytest.raises(ValueError):
        getattr(User(), method)(*args)


@pytest.mark.parametrize("old, new", [(None, "new"), ("old", ""), ("old", 5)])
def test_update_password_checks_its_arguments(api, old, new):
    with pytest.raises(TypeError):
        logged_in().update_password(old, new)


def test_save_sends_only_changes_never_the_token_or_an_unchanged_password(api):
    api.put(f"{API}/classes/_User/u1", json={"objectId": "u1", "updatedAt": CREATED})
    user = logged_in(username="ann")
    user.set("nickname", "A")
    user.save()
    assert body(api.calls[0]) == {"nickname": "A"}
    assert params(api.calls[0]) == {"fetchWhenSave": "false"}
    assert User.get_current() is None  # save() alone does not log in


def test_a_changed_password_is_sent_once_then_dropped(api):
    api.put(f"{API}/classes/_User/u1", json={"objectId": "u1", "updatedAt": CREATED})
    user = logged_in()
    user.set_password("n3w")
    user.save(make_current=True)
    assert body(api.calls[0]) == {"password": "n3w"}
    assert user.get("password") is None and "password" not in user.dump()
    assert User.get_current() is user


def test_save_passes_where_and_fetch_when_save(api):
    api.put(f"{API}/classes/_User/u1", json={"objectId": "u1", "nickname": "A"})
    user = logged_in()
    user.set("nickname", "A")
    user.save(where=User.query.equal_to("nickname", "B"), fetch_when_save=True)
    sent = params(api.calls[0])
    assert sent["fetchWhenSave"] == "true"
    assert json.loads(sent["where"]) == {"nickname": "B"}


# -- the current user ------------------------------------------------------------------


def test_logout_forgets_only_this_user(api):
    ann, bob = logged_in("u1"), logged_in("u2")
    User.set_current(ann)
    bob.logout()
    assert User.get_current() is ann
    ann.logout()
    assert User.get_current() is None and context.current_user.get() is None


def test_is_current_compares_object_ids():
    User.set_current(logged_in("u1"))
    assert logged_in("u1").is_current
    assert not logged_in("u2").is_current
    assert not User().is_current  # two unsaved users are not the same user


def test_set_current_takes_a_user_or_none():
    with pytest.raises(TypeError):
        User.set_current(Object.extend("Post")())
    User.set_current(None)
    assert User.get_current() is None


def _log_in(api, token):
    api.add(responses.POST, f"{API}/login", json=user_json(token, token))
    user = User()
    user.login(token, "pw")
    return user


def test_a_user_logged_in_in_one_thread_is_not_current_in_another(api):
    seen = {}

    def other_thread():
        seen["before"] = User.get_current()
        seen["own"] = _log_in(api, "tokT")
        seen["after"] = User.get_current()

    mine = _log_in(api, "tokM")
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen["before"] is None
    assert seen["after"] is seen["own"] and seen["own"] is not mine
    assert User.get_current() is mine


def test_two_asyncio_tasks_each_see_their_own_user(api):
    async def log_in_then_look(token, other_logged_in, mine_logged_in):
        user = _log_in(api, token)
        mine_logged_in.set()
        await other_logged_in.wait()  # the other task logs in meanwhile
        return user, User.get_current(), context.session_token()

    async def main():
        a_done, b_done = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(
            log_in_then_look("tokA", b_done, a_done), log_in_then_look("tokB", a_done, b_done)
        )

    (user_a, current_a, token_a), (user_b, current_b, token_b) = asyncio.run(main())
    assert current_a is user_a and token_a == "tokA"
    assert current_b is user_b and token_b == "tokB"
    assert User.get_current() is None


def test_set_current_in_a_copied_context_does_not_reach_the_parent():
    parent = logged_in("u1")
    User.set_current(parent)
    child = logged_in("u2")
    copied = contextvars.copy_context()
    copied.run(User.set_current, child)
    assert copied.run(User.get_current) is child
    assert User.get_current() is parent


def test_a_reused_worker_thread_needs_a_context_per_job_as_documented():
    """What compatibility.md says: a pooled thread keeps its context between jobs, so
    each request must run in a context of its own (Engine does this)."""
    user = logged_in("u1")

    def log_in():
        User.set_current(user)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(contextvars.copy_context().run, log_in).result()
        assert pool.submit(User.get_current).result() is None
        pool.submit(log_in).result()
        assert pool.submit(User.get_current).result() is user
    assert User.get_current() is None


# -- third-party accounts ----------------------------------------------------------------

WEIXIN = {"openid": "o1", "access_token": "at", "expires_in": 7200}


def test_login_with_signs_up_through_the_user_class(api):
    api.post(f"{API}/classes/_User", json=user_json(authData={"weixin": WEIXIN}), status=201)
    user = User.login_with("weixin", WEIXIN)
    call = api.calls[0]
    assert path_of(call) == "/1.1/classes/_User" and params(call) == {"fetchWhenSave": "false"}
    assert body(call) == {"authData": {"weixin": WEIXIN}}
    assert User.get_current() is user and user.is_linked("weixin") and not user.is_linked("qq")


def test_link_with_sends_every_provider_of_a_saved_user(api):
    api.put(f"{API}/classes/_User/u1", json={"objectId": "u1", "updatedAt": CREATED})
    user = logged_in(authData={"qq": {"openid": "q"}})
    user.link_with("weixin", WEIXIN)
    assert body(api.calls[0]) == {"authData": {"qq": {"openid": "q"}, "weixin": WEIXIN}}
    assert user.is_linked("qq") and user.is_linked("weixin") and user.is_current


def test_unlink_from_sends_the_provider_as_null_then_forgets_it(api):
    api.put(f"{API}/classes/_User/u1", json={"objectId": "u1", "updatedAt": CREATED})
    user = logged_in(authData={"qq": {"openid": "q"}, "weixin": WEIXIN})
    user.unlink_from("weixin")
    assert body(api.calls[0]) == {"authData": {"qq": {"openid": "q"}, "weixin": None}}
    assert user.get("authData") == {"qq": {"openid": "q"}}
    assert not user.is_linked("weixin")


def test_a_failed_link_leaves_the_local_auth_data_alone(api):
    api.put(f"{API}/classes/_User/u1", json={"code": 208, "error": "linked"}, status=400)
    user = logged_in(authData={"qq": {"openid": "q"}})
    original = user.get("authData")
    with pytest.raises(LeanCloudError):
        user.link_with("weixin", WEIXIN)
    assert original == {"qq": {"openid": "q"}}


@pytest.mark.parametrize("provider, data", [(None, WEIXIN), ("", WEIXIN), ("weixin", "token")])
def test_link_with_checks_its_arguments(api, provider, data):
    with pytest.raises(TypeError):
        logged_in().link_with(provider, data)


def test_unlink_needs_a_saved_user(api):
    with pytest.raises(ValueError):
        User().unlink_from("weixin")


def test_is_linked_without_auth_data():
    assert User().is_linked("weixin") is False


def test_a_provider_kept_as_none_is_not_linked():
    assert logged_in(authData={"qq": None, "weixin": WEIXIN}).is_linked("qq") is False


# -- fields, roles and friendship --------------------------------------------------------


def test_field_accessors():
    user = User()
    assert user.set_username("ann") is user
    user.set_email("a@x.com").set_mobile_phone_number("+86138").set_password("pw")
    assert (user.get_username(), user.get_email(), user.get_mobile_phone_number()) == (
        "ann",
        "a@x.com",
        "+86138",
    )
    assert user.get("password") == "pw" and user.is_dirty("password")


def test_get_roles_queries_roles_holding_the_user(api):
    api.get(f"{API}/classes/_Role", json={"results": [{"objectId": "r1", "name": "admin"}]})
    (role,) = logged_in().get_roles()
    assert json.loads(params(api.calls[0])["where"]) == {"users": pointer("_User", "u1")}
    assert type(role) is Role and role.get_name() == "admin"


@pytest.mark.parametrize("method, verb", [("follow", "POST"), ("unfollow", "DELETE")])
def test_follow_and_unfollow_act_as_the_user(api, method, verb):
    api.add(verb, f"{API}/users/u1/friendship/u2", json={})
    getattr(logged_in(token="tok1"), method)("u2")
    call = api.calls[0]
    assert call.request.body == b"null" and session_of(call) == "tok1"


@pytest.mark.parametrize("method, verb", [("follow", "POST"), ("unfollow", "DELETE")])
def test_the_target_id_is_escaped_in_the_path(api, method, verb):
    api.add(verb, f"{API}/users/u1/friendship/a%2Fb", json={})
    getattr(logged_in(), method)("a/b")
    assert api.calls[0].request.path_url == "/1.1/users/u1/friendship/a%2Fb"


@pytest.mark.parametrize("method", ["follow", "unfollow"])
def test_follow_needs_a_saved_user_and_a_target(api, method):
    with pytest.raises(ValueError):
        getattr(User(), method)("u2")
    with pytest.raises(TypeError):
        getattr(logged_in(), method)("")


@pytest.mark.parametrize(
    "factory, class_name",
    [("create_follower_query", "_Follower"), ("create_followee_query", "_Followee")],
)
def test_friendship_queries(factory, class_name):
    query = getattr(User, factory)("u1")
    assert isinstance(query, FriendshipQuery) and query._class_name == class_name
    assert query.dump()["where"] == {"user": pointer("_User", "u1")}
    with pytest.raises(TypeError):
        getattr(User, factory)("")


# -- password, email and phone flows -----------------------------------------------------


@pytest.mark.parametrize(
    "call, verb, path, expected",
    [
        (
            lambda: User.request_password_reset("a@x.com"),
            "POST",
            "/requestPasswordReset",
            {"email": "a@x.com"},
        ),
        (
            lambda: User.request_email_verify("a@x.com"),
            "POST",
            "/requestEmailVerify",
            {"email": "a@x.com"},
        ),
        (
            lambda: User.request_mobile_phone_verify("138"),
            "POST",
            "/requestMobilePhoneVerify",
            {"mobilePhoneNumber": "138"},
        ),
        (
            lambda: User.request_mobile_phone_verify("138", "vt"),
            "POST",
            "/requestMobilePhoneVerify",
            {"mobilePhoneNumber": "138", "validate_token": "vt"},
        ),
        (
            lambda: User.verify_mobile_phone_number("123456", "138"),
            "POST",
            "/verifyMobilePhone/123456",
            {"mobilePhoneNumber": "138"},
        ),
        (
            lambda: User.verify_mobile_phone_number("123456"),
            "POST",
            "/verifyMobilePhone/123456",
            {},
        ),
        (
            lambda: User.request_login_sms_code("138"),
            "POST",
            "/requestLoginSmsCode",
            {"mobilePhoneNumber": "138"},
        ),
        (
            lambda: User.request_login_sms_code("138", validate_token="vt"),
            "POST",
            "/requestLoginSmsCode",
            {"mobilePhoneNumber": "138", "validate_token": "vt"},
        ),
        (
            lambda: User.request_password_reset_by_sms_code("138"),
            "POST",
            "/requestPasswordResetBySmsCode",
            {"mobilePhoneNumber": "138"},
        ),
        (
            lambda: User.request_password_reset_by_sms_code("138", "vt"),
            "POST",
            "/requestPasswordResetBySmsCode",
            {"mobilePhoneNumber": "138", "validate_token": "vt"},
        ),
        (
            lambda: User.reset_password_by_sms_code("123456", "new", "138"),
            "PUT",
            "/resetPasswordBySmsCode/123456",
            {"password": "new", "mobilePhoneNumber": "138"},
        ),
        (
            lambda: User.reset_password_by_sms_code("123456", "new"),
            "PUT",
            "/resetPasswordBySmsCode/123456",
            {"password": "new"},
        ),
        (
            lambda: User.request_change_phone_number("139"),
            "POST",
            "/requestChangePhoneNumber",
            {"mobilePhoneNumber": "139"},
        ),
        (
            lambda: User.request_change_phone_number("139", ttl=10, validate_token="vt"),
            "POST",
            "/requestChangePhoneNumber",
            {"mobilePhoneNumber": "139", "ttl": 10, "validate_token": "vt"},
        ),
        (
            lambda: User.change_phone_number("123456", "139"),
            "POST",
            "/changePhoneNumber",
            {"mobilePhoneNumber": "139", "code": "123456"},
        ),
    ],
)
def test_account_flow_requests(api, call, verb, path, expected):
    api.add(verb, f"{API}{path}", json={})
    assert call() is None
    assert body(api.calls[0]) == expected


def test_account_flows_send_the_current_users_session(api):
    api.post(f"{API}/requestChangePhoneNumber", json={})
    User.set_current(logged_in(token="tok1"))
    User.request_change_phone_number("139")
    assert session_of(api.calls[0]) == "tok1"


def test_sms_codes_are_escaped_in_paths(api):
    api.post(f"{API}/verifyMobilePhone/a%2Fb", json={})
    User.verify_mobile_phone_number("a/b")
    assert api.calls[0].request.path_url == "/1.1/verifyMobilePhone/a%2Fb"


@pytest.mark.parametrize(
    "call",
    [
        lambda: User.request_password_reset(""),
        lambda: User.request_email_verify(None),
        lambda: User.request_mobile_phone_verify(138),
        lambda: User.request_login_sms_code("138", validate_token=1),
        lambda: User.verify_mobile_phone_number("", "138"),
        lambda: User.reset_password_by_sms_code("123456", None),
        lambda: User.request_change_phone_number("139", ttl="10"),
        lambda: User.request_change_phone_number("139", ttl=0),
        lambda: User.request_change_phone_number("139", validate_token=7),
        lambda: User.request_mobile_phone_verify("138", validate_token=b"vt"),
        lambda: User.request_password_reset_by_sms_code("138", validate_token=[]),
        lambda: User.change_phone_number(None, "139"),
        lambda: User.signup_or_login_with_mobile_phone("138", ""),
        lambda: User.login_with_mobile_phone("138", None),
    ],
)
def test_account_flows_check_arguments_before_any_request(api, call):
    with pytest.raises(TypeError):
        call()


def test_a_user_can_be_granted_acl_access():
    acl = ACL()
    acl.set_read_access(logged_in("u7"), True)
    assert acl.dump() == {"u7": {"read": True}}


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("login", {"username": "ann", "password": 1}),
        ("sign_up", {"username": "ann", "password": 1}),
    ],
)
def test_bad_credentials_change_nothing(api, method, kwargs):
    user = User()
    with pytest.raises(TypeError):
        getattr(user, method)(**kwargs)
    assert user.attributes == {} and not user.is_dirty("username")
