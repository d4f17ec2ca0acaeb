"""The server runs an app's LeanEngine: functions, class hooks and account hooks, end to end.

Every test runs twice: with the Engine called in-process through WSGI
(``engine_app=``) and with it served on another loopback port (``engine_url=``). The
SDK talks to the server only; the server calls the Engine defined below.
"""

import re
import threading
import time
import uuid

import pytest
import requests

import leancloud
from leancloud import LeanCloudError, LeanEngineError, client, cloud
from leancloud.engine import Engine
from leancloud.server.services import messaging

engine = Engine()
after_saves = []  # (objectId, the title as stored when afterSave ran)
after_updates = []  # (objectId, the title as stored when afterUpdate ran)
after_deletes = []  # (objectId, whether the object was already gone)
counter_after_updates = []
verified = []
user_hook_saw = []  # the fields a _User beforeSave was shown
user_after_saves = []
user_after_updates = []  # (objectId, updated keys)
user_after_deletes = []
release_slow = threading.Event()


@engine.define
def whoami(**params):
    user = engine.current.user
    return {"user": user.get("username") if user else None, "params": params}


@engine.define
def refuse(**params):
    raise LeanEngineError(code=123, message="not today")


@engine.define
def echo_object(todo, when):
    # rpc decodes both: an Object and a datetime
    return {"title": todo.get("title"), "year": when.year, "todo": todo}


@engine.before_save("Todo")
def todo_before_save(todo):
    title = todo.get("title")
    if title == "forbidden":
        raise LeanEngineError(code=400, message="this title is not allowed")
    todo.set("title", title.strip().capitalize())


@engine.after_save("Todo")
def todo_after_save(todo):
    stored = leancloud.Query("Todo").get(todo.id)  # committed before afterSave runs
    after_saves.append((todo.id, stored.get("title")))


@engine.before_update("Todo")
def todo_before_update(todo):
    if "title" in todo.updated_keys:
        if todo.get("title") == "forbidden":
            raise LeanEngineError(code=400, message="no renaming to that")
        todo.set("title", todo.get("title").upper())


@engine.after_update("Todo")
def todo_after_update(todo):
    stored = leancloud.Query("Todo").get(todo.id)  # committed before afterUpdate runs
    after_updates.append((todo.id, stored.get("title")))


@engine.before_delete("Todo")
def todo_before_delete(todo):
    if todo.get("pinned"):
        raise LeanEngineError(code=400, message="pinned todos stay")


@engine.after_delete("Todo")
def todo_after_delete(todo):
    gone = not leancloud.Query("Todo").equal_to("objectId", todo.id).find()
    after_deletes.append((todo.id, gone))


@engine.after_save("Counter")
def counter_after_save(counter):
    counter.set("stamped", True)
    counter.save()  # an update from inside the hook: Counter's after hooks must not rerun


@engine.after_update("Counter")
def counter_after_update(counter):
    counter_after_updates.append(counter.id)


@engine.before_save("Refused")
def refused_before_save(obj):
    raise LeanEngineError(code=400, message="never")


@engine.before_save("Slow")
def slow_before_save(obj):
    release_slow.wait(10)


@engine.before_save("_User")
def user_before_save(user):
    user_hook_saw.append(dict(user.dump()))
    user.set("nickname", "member")


@engine.after_save("_User")
def user_after_save(user):
    user_after_saves.append(user.id)


@engine.before_update("_User")
def user_before_update(user):
    if "nickname" in user.updated_keys:
        if user.get("nickname") == "admin":
            raise LeanEngineError(code=400, message="reserved nickname")
        user.set("nickname", user.get("nickname").strip())


@engine.after_update("_User")
def user_after_update(user):
    user_after_updates.append((user.id, user.updated_keys))


@engine.before_delete("_User")
def user_before_delete(user):
    if user.get("protected"):
        raise LeanEngineError(code=400, message="protected user")


@engine.after_delete("_User")
def user_after_delete(user):
    user_after_deletes.append(user.id)


@engine.on_login
def on_login(user):
    if user.get("banned"):
        raise LeanEngineError(code=403, message="banned user")
    # writing to the server from onLogin must not wait on the log-in's own transaction
    leancloud.Object.extend("LoginLog")(username=user.get("username")).save()


@engine.on_auth_data
def on_auth_data(auth_data):
    weixin = auth_data.get("weixin")
    if weixin and weixin.get("uid") == "blocked":
        raise LeanEngineError(code=400, message="blocked account")
    if weixin:
        weixin["uid"] = weixin["uid"].lower()
    return auth_data


@engine.on_verified("sms")
def on_verified_sms(user):
    verified.append(("sms", user.id))


@engine.on_verified("email")
def on_verified_email(user):
    verified.append(("email", user.id))


@pytest.fixture(params=["wsgi", "http"])
def server(request, engine_server):
    return engine_server(engine, request.param)


def unique(prefix="u"):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def as_client():
    """Sign requests with the app key only, as an app in users' hands does."""
    client.use_master_key(False)


def sign_up(username=None, password="pw", **fields):
    user = leancloud.User()
    user.set_username(username or unique())
    user.set_password(password)
    for name, value in fields.items():
        user.set(name, value)
    user.sign_up()
    return user


def error_of(call, *args, **kwargs):
    with pytest.raises(LeanCloudError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.error


# --- cloud functions --------------------------------------------------------------


def test_run_reaches_the_engine_as_the_calling_user(server):
    as_client()
    assert cloud.run("whoami", answer=42) == {"user": None, "params": {"answer": 42}}
    user = sign_up("Ann" + unique())
    assert cloud.run("whoami")["user"] == user.get_username()


def test_rpc_carries_objects_and_dates_both_ways(server):
    import datetime as dt

    todo = leancloud.Object.extend("Todo")(title="write tests")
    todo.save()
    when = dt.datetime(2024, 5, 6, tzinfo=dt.timezone.utc)
    result = cloud.rpc("echo_object", todo=todo, when=when)
    assert result["title"] == todo.get("title") and result["year"] == 2024
    assert isinstance(result["todo"], leancloud.Object) and result["todo"].id == todo.id


def test_function_errors_pass_through_with_their_code(server):
    assert error_of(cloud.run, "refuse") == (123, "not today")


def test_an_unknown_function_is_leanclouds_not_found(server):
    code, message = error_of(cloud.run, "nothing_here")
    assert code == 1 and "LeanEngine not found function named 'nothing_here'" in message


@pytest.mark.parametrize(
    "path", ["/functions/Todo/beforeSave", "/functions/_User/onLogin", "/functions/_ops/metadatas"]
)
def test_hooks_are_not_exposed_to_clients(server, path):
    code, _ = error_of(client.post, path, {"object": {"title": "x"}})
    assert code == 404


# --- class hooks ------------------------------------------------------------------


def test_before_save_changes_the_saved_object_and_after_save_sees_it_committed(server):
    as_client()
    todo = leancloud.Object.extend("Todo")(title="  buy milk ")
    todo.save()
    assert leancloud.Query("Todo").get(todo.id).get("title") == "Buy milk"
    assert (todo.id, "Buy milk") in after_saves


def test_a_refused_save_leaves_no_trace(server):
    as_client()
    Refused = leancloud.Object.extend("Refused")
    code, message = error_of(Refused(secret="x").save)
    assert code == 142
    assert message == "Cloud Code validation failed. Error detail : never"
    assert not server.app.storage.class_exists("Refused")
    todo = leancloud.Object.extend("Todo")(title="forbidden", extra=1)
    assert error_of(todo.save)[0] == 142
    assert "extra" not in server.app.storage.schema("Todo").get("Todo", {})


def test_before_update_can_change_or_refuse_the_updated_keys(server):
    todo = leancloud.Object.extend("Todo")(title="first")
    todo.save()
    todo.set("title", "second")
    todo.save()
    assert leancloud.Query("Todo").get(todo.id).get("title") == "SECOND"
    assert (todo.id, "SECOND") in after_updates
    todo.set("title", "forbidden")
    assert error_of(todo.save) == (
        142,
        "Cloud Code validation failed. Error detail : no renaming to that",
    )
    assert leancloud.Query("Todo").get(todo.id).get("title") == "SECOND"
    assert [title for oid, title in after_updates if oid == todo.id] == ["SECOND"]


def test_before_delete_refuses_and_after_delete_records(server):
    Todo = leancloud.Object.extend("Todo")
    pinned, loose = Todo(title="pinned", pinned=True), Todo(title="loose")
    leancloud.Object.save_all([pinned, loose])
    assert error_of(pinned.destroy)[0] == 142
    assert leancloud.Query("Todo").get(pinned.id).id == pinned.id
    loose.destroy()
    assert (loose.id, True) in after_deletes  # afterDelete runs once the delete is committed
    assert pinned.id not in [object_id for object_id, _ in after_deletes]


def test_a_save_inside_an_after_hook_does_not_run_the_after_hooks_again(server):
    as_client()  # the hook's own save then skips hooks through the hook key
    counter = leancloud.Object.extend("Counter")(n=1)
    counter.save()
    assert leancloud.Query("Counter").get(counter.id).get("stamped") is True
    assert counter.id not in counter_after_updates
    counter.set("n", 2)
    counter.save()  # a client's update still runs afterUpdate
    assert counter_after_updates.count(counter.id) == 1


def test_batch_items_run_the_hooks_one_by_one(server):
    Todo = leancloud.Object.extend("Todo")
    good, bad = Todo(title="batched"), Todo(title="forbidden")
    with pytest.raises(LeanCloudError):
        leancloud.Object.save_all([good, bad])
    assert good.id is not None and bad.id is None
    assert leancloud.Query("Todo").get(good.id).get("title") == "Batched"


def test_ignore_hooks_needs_the_master_or_the_hook_key(server):
    todo = leancloud.Object.extend("Todo")(title="forbidden")
    todo.ignore_hook("beforeSave")
    todo.save()  # with the master key the hook is skipped
    assert leancloud.Query("Todo").get(todo.id).get("title") == "forbidden"
    as_client()
    client.init(server.app_id, server.app_key)  # no master key, no hook key
    response = client.session.post(
        server.url + "/1.1/classes/Todo",
        json={"title": "forbidden", "__ignore_hooks": ["beforeSave"]},
        headers={"X-LC-Id": server.app_id, "X-LC-Key": server.app_key},
    )
    assert response.status_code == 403
    hooked = client.session.post(
        server.url + "/1.1/classes/Todo",
        json={"title": "forbidden", "__ignore_hooks": ["beforeSave"]},
        headers={
            "X-LC-Id": server.app_id,
            "X-LC-Key": server.app_key,
            "X-LC-Hook-Key": server.hook_key,
        },
    )
    assert hooked.status_code == 201


def test_a_hook_that_hangs_times_out(server):
    release_slow.clear()
    started = time.monotonic()
    try:
        code, message = error_of(leancloud.Object.extend("Slow")(n=1).save)
    finally:
        release_slow.set()
    assert code == 141 and "timed out" in message
    assert time.monotonic() - started < 5
    assert not server.app.storage.class_exists("Slow")


# --- account hooks ----------------------------------------------------------------


def test_sign_up_runs_the_user_hooks_without_showing_the_password(server):
    name = unique()
    user = sign_up(name, password="s3cret")
    assert leancloud.Query("_User").get(user.id).get("nickname") == "member"
    assert user.id in user_after_saves
    seen = [fields for fields in user_hook_saw if fields.get("username") == name]
    assert seen and "password" not in seen[0] and "s3cret" not in repr(seen)
    leancloud.User().login(name, "s3cret")  # the write's own password was kept


def test_user_updates_and_deletes_run_the_user_hooks(server):
    user = sign_up()
    user.set("nickname", "  bob ")
    user.save()
    assert leancloud.Query("_User").get(user.id).get("nickname") == "bob"
    assert (user.id, ["nickname"]) in user_after_updates
    user.set("nickname", "admin")
    assert error_of(user.save) == (
        142,
        "Cloud Code validation failed. Error detail : reserved nickname",
    )
    assert leancloud.Query("_User").get(user.id).get("nickname") == "bob"
    protected, plain = sign_up(protected=True), sign_up()
    assert error_of(protected.destroy)[0] == 142
    assert leancloud.Query("_User").get(protected.id).id == protected.id
    plain.destroy()
    assert plain.id in user_after_deletes and protected.id not in user_after_deletes


def test_on_login_refuses_a_banned_user(server):
    name = unique()
    user = sign_up(name)
    leancloud.User().login(name, "pw")  # not banned yet
    user.set("banned", True)
    user.save()
    assert error_of(leancloud.User().login, name, "pw") == (403, "banned user")
    logged = leancloud.Query("LoginLog").equal_to("username", name).find()
    assert len(logged) == 1  # the refused log-in got no further


def test_on_auth_data_changes_or_refuses_the_auth_data(server):
    as_client()
    uid = unique("WX")
    user = leancloud.User.login_with("weixin", {"uid": uid, "access_token": "t"})
    assert user.get("authData")["weixin"]["uid"] == uid.lower()
    code, message = error_of(
        leancloud.User.login_with, "weixin", {"uid": "blocked", "access_token": "t"}
    )
    assert (code, message) == (400, "blocked account")


def test_on_verified_runs_after_a_phone_is_verified(server):
    phone = "+86186" + str(uuid.uuid4().int)[:8]
    user = sign_up(mobilePhoneNumber=phone)
    leancloud.User.request_mobile_phone_verify(phone)
    [message] = messaging.outbox(server.app.storage, phone, 1)
    leancloud.User.verify_mobile_phone_number(message["details"]["code"], phone)
    assert ("sms", user.id) in verified


def test_on_verified_runs_after_an_email_is_verified(server):
    email = unique("mail") + "@example.com"
    user = sign_up(email=email)
    [mail] = [m for m in messaging.outbox(server.app.storage, email) if m["kind"] == "verify"]
    link = re.search(r"https?://\S+", mail["text"]).group(0)
    assert ("email", user.id) not in verified
    assert requests.get(link, timeout=10).status_code == 200  # a browser opens the link
    assert ("email", user.id) in verified
