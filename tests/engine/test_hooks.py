"""Hooks as the platform calls them: request bodies in, the shapes it expects back."""

import json
import warnings

import pytest
import responses

from leancloud import ACL, LeanCloudWarning, Object, User
from leancloud.engine import Engine, LeanEngineError
from leancloud.engine.signatures import sign_hook
from tests.conftest import API, MASTER_KEY
from tests.engine.conftest import APP_HEADERS, HOOK_HEADERS, post

CREATED = "2024-01-02T03:04:05.678Z"
DECORATORS = {
    "beforeSave": "before_save",
    "beforeUpdate": "before_update",
    "beforeDelete": "before_delete",
    "afterSave": "after_save",
    "afterUpdate": "after_update",
    "afterDelete": "after_delete",
}


class HookTodo(Object):
    pass


def hook(http, path, body, headers=HOOK_HEADERS):
    return post(http, path, body, headers=headers)


# -- beforeSave / beforeUpdate -------------------------------------------------------


def test_before_save_answers_the_modified_object(engine, http):
    seen = []

    @engine.before_save("HookTodo")
    def check(todo):
        seen.append(todo)
        todo.set("title", todo.get("title").strip())
        todo.set("checked", True)

    body = {
        "object": {
            "title": "  hi  ",
            "ACL": {"*": {"read": True}},
            "owner": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
        }
    }
    status, answer = hook(http, "/1.1/functions/HookTodo/beforeSave", body)
    assert status == 200
    assert answer == {
        "title": "hi",
        "checked": True,
        "ACL": {"*": {"read": True}},
        "owner": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
    }
    (todo,) = seen
    assert isinstance(todo, HookTodo)
    assert isinstance(todo.get("ACL"), ACL)
    assert isinstance(todo.get("owner"), User) and todo.get("owner").id == "u1"
    assert todo.updated_keys == []


def test_before_update_gets_updated_keys_and_metadata(engine, http):
    seen = []
    engine.before_update("HookTodo")(seen.append)
    body = {
        "object": {
            "objectId": "t1",
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "title": "x",
            "_updatedKeys": ["title"],
        }
    }
    status, answer = hook(http, "/1.1/functions/HookTodo/beforeUpdate", body)
    assert status == 200
    assert answer == {"objectId": "t1", "createdAt": CREATED, "updatedAt": CREATED, "title": "x"}
    (todo,) = seen
    assert todo.id == "t1" and todo.updated_keys == ["title"]
    assert todo.created_at.year == 2024


def test_user_class_hooks_get_a_user(engine, http):
    seen = []
    engine.before_save("_User")(seen.append)
    hook(http, "/1.1/functions/_User/beforeSave", {"object": {"username": "ann"}})
    assert isinstance(seen[0], User) and seen[0].get("username") == "ann"


@pytest.mark.parametrize("hook_name", DECORATORS)
def test_a_rejection_is_the_error_shape(engine, http, hook_name):
    def refuse(todo):
        raise LeanEngineError(code=400, message="title is required")

    getattr(engine, DECORATORS[hook_name])("HookTodo")(refuse)
    status, answer = hook(http, f"/1.1/functions/HookTodo/{hook_name}", {"object": {}})
    assert (status, answer) == (400, {"code": 400, "error": "title is required"})


def test_a_crashing_hook_is_141(engine, http):
    engine.before_save("HookTodo")(lambda todo: 1 / 0)
    assert hook(http, "/1.1/functions/HookTodo/beforeSave", {"object": {}}) == (
        500,
        {"code": 141, "error": "Cloud Code script had an error."},
    )


# -- other class hooks ---------------------------------------------------------------


def test_before_delete_answers_an_empty_object(engine, http):
    seen = []
    engine.before_delete("HookTodo")(seen.append)
    assert hook(http, "/1.1/functions/HookTodo/beforeDelete", {"object": {"objectId": "t1"}}) == (
        200,
        {},
    )
    assert seen[0].id == "t1"


@pytest.mark.parametrize("hook_name", ["afterSave", "afterUpdate", "afterDelete"])
def test_after_hooks_answer_ok(engine, http, hook_name):
    seen = []
    getattr(engine, DECORATORS[hook_name])("HookTodo")(seen.append)
    answer = hook(http, f"/1.1/functions/HookTodo/{hook_name}", {"object": {"objectId": "t1"}})
    assert answer == (200, {"result": "ok"})
    assert seen[0].id == "t1"


@pytest.mark.parametrize("prefix", ["/1", "/1.1", "/__engine/1", "/__engine/1.1"])
def test_hooks_under_every_prefix(engine, http, prefix):
    engine.after_save("HookTodo")(lambda todo: None)
    assert hook(http, f"{prefix}/functions/HookTodo/afterSave", {"object": {}}) == (
        200,
        {"result": "ok"},
    )


def test_unregistered_or_unknown_hooks_are_404(engine, http):
    engine.before_save("HookTodo")(lambda todo: None)
    for path in (
        "/1.1/functions/Other/beforeSave",
        "/1.1/functions/HookTodo/afterSave",
        "/1.1/functions/HookTodo/beforeFind",
    ):
        status, answer = hook(http, path, {"object": {}})
        assert status == 404 and answer["code"] == 404


@pytest.mark.parametrize("body", [{}, {"object": None}, {"object": [1]}])
def test_a_hook_without_an_object_is_400(engine, http, body):
    engine.before_save("HookTodo")(lambda todo: None)
    status, answer = hook(http, "/1.1/functions/HookTodo/beforeSave", body)
    assert status == 400 and answer["code"] == 107


# -- loop prevention: __ignore_hooks or the platform's signature ---------------------


def saved_body(api):
    return json.loads(api.calls[-1].request.body)


def test_saving_in_a_before_hook_skips_the_before_hooks(engine, http, api):
    api.add(responses.PUT, f"{API}/classes/HookTodo/t1", json={"updatedAt": CREATED})

    @engine.before_update("HookTodo")
    def save_again(todo):
        todo.set("n", 2)
        todo.save()

    hook(http, "/1.1/functions/HookTodo/beforeUpdate", {"object": {"objectId": "t1", "n": 1}})
    assert saved_body(api) == {
        "n": 2,
        "__ignore_hooks": ["beforeSave", "beforeUpdate", "beforeDelete"],
    }


def test_saving_in_an_after_hook_skips_the_after_hooks(engine, http, api):
    api.add(responses.PUT, f"{API}/classes/HookTodo/t1", json={"updatedAt": CREATED})

    @engine.after_save("HookTodo")
    def count(todo):
        todo.increment("views")
        todo.save()

    hook(http, "/1.1/functions/HookTodo/afterSave", {"object": {"objectId": "t1"}})
    assert saved_body(api)["__ignore_hooks"] == ["afterSave", "afterUpdate", "afterDelete"]


def test_a_valid_before_signature_is_echoed_instead(engine, http, api):
    api.add(responses.PUT, f"{API}/classes/HookTodo/t1", json={"updatedAt": CREATED})
    signature = sign_hook("__before_for_HookTodo", MASTER_KEY)

    @engine.before_save("HookTodo")
    def save_again(todo):
        todo.save()

    body = {"object": {"objectId": "t1", "__before": signature}}
    status, answer = hook(http, "/1.1/functions/HookTodo/beforeSave", body, headers=APP_HEADERS)
    assert status == 200
    assert answer["__before"] == signature
    assert saved_body(api) == {"__before": signature}


def test_a_valid_after_signature_authenticates_after_hooks(engine, http):
    engine.after_save("HookTodo")(lambda todo: None)
    signed = {"object": {"__after": sign_hook("__after_for_HookTodo", MASTER_KEY)}}
    assert hook(http, "/1.1/functions/HookTodo/afterSave", signed, headers=APP_HEADERS)[0] == 200


@pytest.mark.parametrize(
    "hook_name, field, signed_as",
    [
        ("beforeSave", "__before", "__before_for_Other"),
        ("beforeSave", "__before", "__after_for_HookTodo"),
        ("afterSave", "__after", "__before_for_HookTodo"),
        ("beforeSave", "__before", "not a signature"),
    ],
)
def test_wrong_signatures_are_refused(engine, http, hook_name, field, signed_as):
    engine.before_save("HookTodo")(lambda todo: None)
    engine.after_save("HookTodo")(lambda todo: None)
    value = sign_hook(signed_as, MASTER_KEY) if signed_as != "not a signature" else signed_as
    body = {"object": {field: value}}
    for headers in (APP_HEADERS, HOOK_HEADERS):
        status, _ = hook(http, f"/1.1/functions/HookTodo/{hook_name}", body, headers=headers)
        assert status == 401


# -- the user who triggered the hook -------------------------------------------------


def test_the_hook_user_from_the_platform_is_current(engine, http):
    seen = []

    @engine.before_save("HookTodo")
    def who(todo):
        seen.append((engine.current.user, engine.current.session_token, User.get_current()))

    body = {"object": {}, "user": {"objectId": "u1", "username": "ann", "sessionToken": "st1"}}
    hook(http, "/1.1/functions/HookTodo/beforeSave", body)
    user, token, current = seen[0]
    assert user is current
    assert (user.id, user.get("username"), user.session_token, token) == ("u1", "ann", "st1", "st1")
    assert User.get_current() is None


def test_a_client_cannot_pick_its_user_through_the_body(engine, http):
    seen = []

    @engine.define
    def who(**params):
        seen.append((engine.current.user, params))

    post(http, "/1.1/functions/who", {"user": {"objectId": "admin", "sessionToken": "x"}})
    user, params = seen[0]
    assert user is None
    assert params == {"user": {"objectId": "admin", "sessionToken": "x"}}


# -- user hooks ----------------------------------------------------------------------


def test_on_login_gets_the_user_and_may_refuse(engine, http):
    seen = []

    @engine.on_login
    def check(user):
        seen.append(user)
        if user.get("username") == "banned":
            raise LeanEngineError(code=403, message="banned")

    answer = hook(
        http, "/1.1/functions/_User/onLogin", {"object": {"objectId": "u1", "username": "ann"}}
    )
    assert answer == (200, {"result": None})
    assert isinstance(seen[0], User) and seen[0].id == "u1"
    refused = hook(http, "/1.1/functions/_User/onLogin", {"object": {"username": "banned"}})
    assert refused == (403, {"code": 403, "error": "banned"})


@pytest.mark.parametrize("verify_type", ["sms", "email"])
def test_on_verified(engine, http, verify_type):
    seen = []

    @engine.on_verified(verify_type)
    def verified(user):
        seen.append(user)
        return "done"

    path = f"/1.1/functions/onVerified/{verify_type}"
    assert hook(http, path, {"object": {"objectId": "u1"}}) == (200, {"result": "done"})
    assert isinstance(seen[0], User) and seen[0].id == "u1"


def test_user_hooks_accept_their_legacy_signature(engine, http):
    engine.on_verified("sms")(lambda user: "sms")
    engine.on_login(lambda user: "login")
    cases = [
        ("/1.1/functions/onVerified/sms", "__on_verified_sms", "sms"),
        ("/1.1/functions/_User/onLogin", "__on_login__User", "login"),
    ]
    for path, name, result in cases:
        signed = {"object": {"objectId": "u1", "__sign": sign_hook(name, MASTER_KEY)}}
        assert hook(http, path, signed, headers=APP_HEADERS) == (200, {"result": result})
        wrong = {"object": {"__sign": sign_hook("__on_verified_email", MASTER_KEY)}}
        assert hook(http, path, wrong, headers=APP_HEADERS)[0] == 401


def test_on_auth_data_may_change_the_auth_data(engine, http):
    @engine.on_auth_data
    def rewrite(auth_data):
        auth_data["weixin"]["checked"] = True
        return auth_data

    body = {"authData": {"weixin": {"openid": "o1"}}}
    answer = hook(http, "/1.1/functions/_User/onAuthData", body)
    assert answer == (200, {"result": {"weixin": {"openid": "o1", "checked": True}}})


@pytest.mark.parametrize(
    "path, body",
    [
        ("/1.1/functions/_User/onLogin", {"object": {}}),
        ("/1.1/functions/_User/onAuthData", {"authData": {}}),
        ("/1.1/functions/onVerified/email", {"object": {}}),
        ("/1.1/functions/onVerified/other", {"object": {}}),
        ("/1.1/functions/BigQuery/onComplete", {"status": "OK"}),
    ],
)
def test_unregistered_user_hooks_answer_null(http, path, body):
    assert hook(http, path, body) == (200, {"result": None})


def test_insight_job_completion(engine, http):
    seen = []

    @engine.on_insight("end")
    def done(ok, params):
        seen.append((ok, params))
        return "noted"

    body = {"id": "job1", "status": "OK", "message": "fine"}
    for path in ("/1.1/functions/BigQuery/onComplete", "/1/functions/BigQuery/onComplete"):
        assert hook(http, path, body) == (200, {"result": "noted"})
    failed = {"id": "job2", "status": "ERROR", "message": "bad"}
    hook(http, "/1.1/functions/BigQuery/onComplete", failed)
    assert hook(http, "/1.1/functions/BigQuery/onOther", body) == (200, {"result": None})
    signed = {**body, "__sign": sign_hook("__on_complete_bigquery_job", MASTER_KEY)}
    assert hook(http, "/1.1/functions/BigQuery/onComplete", signed, headers=APP_HEADERS)[0] == 200
    assert seen[:3] == [(True, body), (True, body), (False, failed)]
    assert seen[3] == (True, body)  # the signature is not a parameter


# -- registration --------------------------------------------------------------------


def test_decorators_return_the_function(engine):
    def f(obj):
        return None

    assert engine.before_save("A")(f) is f
    assert engine.after_delete("A")(f) is f
    assert engine.on_verified("email")(f) is f
    assert engine.on_login(f) is f
    assert engine.on_auth_data(f) is f
    assert engine.on_insight("end")(f) is f


def test_a_hook_is_registered_once(engine):
    engine.before_save("A")(lambda obj: None)
    with pytest.raises(RuntimeError):
        engine.before_save("A")
    engine.on_login(lambda user: None)
    with pytest.raises(RuntimeError):
        engine.on_login(lambda user: None)


def test_bad_hook_arguments():
    engine = Engine()
    with pytest.raises(ValueError):
        engine.on_verified("phone")
    with pytest.raises(ValueError):
        engine.on_insight("start")
    with pytest.raises(TypeError):
        engine.before_save("")
    with pytest.raises(TypeError):
        engine.after_save(HookTodo)
    with pytest.raises(TypeError):
        engine.on_login("not callable")


def test_on_bigquery_is_a_deprecated_alias(engine):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine.on_bigquery("end")(lambda ok, params: None)
    assert caught[0].category is LeanCloudWarning
    assert "__on_complete_bigquery_job" in engine._registry.names()
