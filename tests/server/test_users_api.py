"""Users and sessions over HTTP, against the real server and SQLite storage in tmp_path."""

import json
import re
import threading

import pytest
from werkzeug.test import Client

from leancloud.server import create_app, passwords
from leancloud.server.services import users
from leancloud.server.storage.base import StoredObject

from .support import Clock

APP_ID, APP_KEY, MASTER_KEY = "users-app", "users-key", "users-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
HIDDEN = {"password", "salt", "sessionToken"}
TOKEN = re.compile(r"[a-z0-9]{25}\Z")
# export-format.md §5: LeanCloud's hash of "password" with this salt.
LC_SALT = "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2"
LC_HASH = "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug=="


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(users, "now", clock)
    return clock


def make_app(path):
    return create_app(
        str(path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY, hook_key="hook"
    )


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return Client(app)


def session(token):
    return {**APP, "X-LC-Session": token}


def sign_up(client, path="/1.1/users", **fields):
    body = {"username": "alice", "password": "s3cret", **fields}
    response = client.post(path, json=body, headers=APP)
    assert response.status_code == 201, response.json
    return response.json


def log_in(client, **body):
    return client.post("/1.1/login", json=body, headers=APP)


def error(response):
    return response.status_code, response.json["code"]


# --- sign-up ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/1.1/users", "/1.1/classes/_User"])
def test_sign_up_answers_the_user_with_a_session_token(client, path):
    response = client.post(
        path,
        json={"username": "alice", "password": "s3cret", "email": "a@example.com", "age": 30},
        headers=APP,
    )
    assert response.status_code == 201
    user = response.json
    assert TOKEN.match(user["sessionToken"])
    assert re.fullmatch(r"[0-9a-f]{24}", user["objectId"])
    assert user["createdAt"].endswith("Z")
    assert (user["username"], user["email"], user["age"]) == ("alice", "a@example.com", 30)
    assert user["emailVerified"] is False and user["mobilePhoneVerified"] is False
    assert "password" not in user and "salt" not in user
    assert response.headers["Location"] == f"/1.1/users/{user['objectId']}"


def test_sign_up_stores_a_scrypt_hash_never_the_password(app, client):
    user = sign_up(client)
    with app.storage.write() as tx:
        stored = tx.get("_User", user["objectId"])
    assert stored.data["password"].startswith("scrypt$")
    assert "s3cret" not in str(stored.data)
    assert stored.acl == {"*": {"read": True}, user["objectId"]: {"read": True, "write": True}}


def test_clients_cannot_set_server_fields_on_sign_up(client):
    user = sign_up(client, sessionToken="x" * 25, emailVerified=True, salt="pepper")
    assert user["sessionToken"] != "x" * 25
    assert user["emailVerified"] is False


@pytest.mark.parametrize(
    "body, status_code",
    [
        ({"password": "pw"}, 200),
        ({"username": "", "password": "pw"}, 200),
        ({"username": 5, "password": "pw"}, 200),
        ({"username": "bob"}, 201),
        ({"username": "bob", "password": ""}, 201),
        ({"username": "alice", "password": "pw"}, 202),
        ({"username": "bob", "password": "pw", "email": "a@example.com"}, 203),
        ({"username": "bob", "password": "pw", "mobilePhoneNumber": "+8613800000000"}, 214),
        ({"username": "bob", "password": "pw", "email": "not-an-email"}, 125),
        ({"username": "bob", "password": "pw", "mobilePhoneNumber": "12ab"}, 127),
    ],
)
def test_sign_up_errors(client, body, status_code):
    sign_up(client, email="a@example.com", mobilePhoneNumber="+8613800000000")
    assert error(client.post("/1.1/classes/_User", json=body, headers=APP)) == (400, status_code)


def test_concurrent_sign_ups_take_a_username_once(tmp_path):
    app = make_app(tmp_path)
    statuses = []

    def attempt(i):
        response = Client(app).post(
            "/1.1/users", json={"username": "race", "password": str(i)}, headers=APP
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [400] * 7


# --- log-in -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice"},
        {"email": "a@example.com"},
        {"mobilePhoneNumber": "+8613800000000"},
        {"username": "alice", "email": "wrong@example.com"},  # username wins
    ],
)
def test_log_in_by_username_email_or_phone_returns_the_same_token(client, credentials):
    user = sign_up(client, email="a@example.com", mobilePhoneNumber="+8613800000000")
    response = log_in(client, password="s3cret", **credentials)
    assert response.status_code == 200
    assert response.json["objectId"] == user["objectId"]
    assert response.json["sessionToken"] == user["sessionToken"]
    assert "password" not in response.json


def test_log_in_with_get_and_query_parameters(client):
    user = sign_up(client)
    response = client.get("/1.1/login?username=alice&password=s3cret", headers=APP)
    assert response.status_code == 200
    assert response.json["sessionToken"] == user["sessionToken"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"username": "alice", "password": "wrong"}, 210),
        ({"username": "nobody", "password": "s3cret"}, 211),
        ({"email": "nobody@example.com", "password": "s3cret"}, 211),
        ({"password": "s3cret"}, 200),
        ({"username": "alice"}, 201),
    ],
)
def test_log_in_errors(client, body, code):
    sign_up(client)
    assert error(log_in(client, **body)) == (400, code)


def test_user_without_a_password_cannot_log_in_with_an_empty_one(app, client):
    user = sign_up(client)
    with app.storage.write() as tx:
        stored = tx.get("_User", user["objectId"])
        stored.data["password"] = ""
        tx.update(stored)
    assert error(log_in(client, username="alice", password="")) == (400, 201)
    assert error(log_in(client, username="alice", password="s3cret")) == (400, 210)


# --- lockout ------------------------------------------------------------------------


def fail(client, times):
    for _ in range(times):
        assert error(log_in(client, username="alice", password="wrong")) == (400, 210)


def test_six_failures_lock_the_account_for_fifteen_minutes_after_the_last(client, clock):
    sign_up(client)
    fail(client, 5)
    clock.advance(60)
    fail(client, 1)
    assert error(log_in(client, username="alice", password="s3cret")) == (400, 219)
    assert error(log_in(client, username="alice", password="wrong")) == (400, 219)
    clock.advance(15 * 60 - 1)
    assert error(log_in(client, username="alice", password="s3cret")) == (400, 219)
    clock.advance(1)
    assert log_in(client, username="alice", password="s3cret").status_code == 200


def test_lockout_counts_only_failures_within_fifteen_minutes(client, clock):
    sign_up(client)
    fail(client, 5)
    clock.advance(15 * 60 + 1)
    fail(client, 5)  # the first five have expired: still not locked
    assert log_in(client, username="alice", password="s3cret").status_code == 200


def test_successful_log_in_clears_the_failures(client, clock):
    sign_up(client)
    fail(client, 5)
    assert log_in(client, username="alice", password="s3cret").status_code == 200
    fail(client, 5)
    assert log_in(client, username="alice", password="s3cret").status_code == 200


def test_lockout_survives_a_restart_and_is_hidden_from_clients(tmp_path, clock):
    client = Client(make_app(tmp_path))
    user = sign_up(client)
    fail(client, 6)
    restarted = Client(make_app(tmp_path))
    assert error(log_in(restarted, username="alice", password="s3cret")) == (400, 219)
    assert restarted.get("/1.1/classes/_LoginFailure", headers=APP).json == {"results": []}
    assert restarted.get(f"/1.1/classes/_LoginFailure/{user['objectId']}", headers=APP).json == {}


def test_parallel_guesses_cannot_slip_past_the_lockout(app, clock):
    sign_up(Client(app))
    codes = []

    def guess():
        response = log_in(Client(app), username="alice", password="wrong")
        codes.append(response.json["code"])

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [210] * 6 + [219] * 6


def test_password_checks_never_hold_the_write_lock(app, client, monkeypatch):
    verify, checked = passwords.verify_password, []

    def verify_outside_a_transaction(*args):
        with app.storage.write():  # storage refuses to nest: this fails inside a write
            checked.append(True)
        return verify(*args)

    monkeypatch.setattr(passwords, "verify_password", verify_outside_a_transaction)
    alice = sign_up(client)
    assert log_in(client, username="alice", password="s3cret").status_code == 200
    url = f"/1.1/users/{alice['objectId']}/updatePassword"
    body = {"old_password": "s3cret", "new_password": "n3w"}
    assert client.put(url, json=body, headers=session(alice["sessionToken"])).status_code == 200
    assert len(checked) == 2


# --- the current user ---------------------------------------------------------------


def test_me_with_the_session_header_or_the_query_parameter(client):
    user = sign_up(client)
    by_header = client.get("/1.1/users/me", headers=session(user["sessionToken"]))
    by_param = client.get(f"/1.1/users/me?session_token={user['sessionToken']}", headers=APP)
    for response in (by_header, by_param):
        assert response.status_code == 200
        assert response.json["objectId"] == user["objectId"]
        assert response.json["sessionToken"] == user["sessionToken"]
        assert "password" not in response.json


@pytest.mark.parametrize(
    "url, headers",
    [
        ("/1.1/users/me", session("0" * 25)),
        ("/1.1/users/me?session_token=bogus", APP),
        ("/1.1/users/me", APP),
    ],
)
def test_me_with_a_bad_or_missing_token_is_211(client, url, headers):
    sign_up(client)
    assert error(client.get(url, headers=headers)) == (400, 211)


# --- reading users: hidden fields ---------------------------------------------------


def assert_public(user):
    assert user.get("objectId")
    assert not HIDDEN & set(user), user


def test_hidden_fields_never_leave_through_get_query_or_include(app, client):
    user = sign_up(client)
    with app.storage.write() as tx:  # an imported user still carrying LeanCloud's salt
        stored = tx.get("_User", user["objectId"])
        stored.data["salt"] = LC_SALT
        tx.update(stored)
    uid = user["objectId"]
    pointer = {"__type": "Pointer", "className": "_User", "objectId": uid}
    post = client.post(
        "/1.1/classes/Post", json={"author": pointer, "authors": [pointer]}, headers=APP
    ).json
    reads = [
        client.get(f"/1.1/users/{uid}", headers=APP).json,
        client.get(f"/1.1/classes/_User/{uid}", headers=session(user["sessionToken"])).json,
        *client.get("/1.1/users", headers=MASTER).json["results"],
        *client.get('/1.1/classes/_User?where={"username":"alice"}', headers=MASTER).json[
            "results"
        ],
    ]
    included = client.get(
        f"/1.1/classes/Post/{post['objectId']}?include=author,authors", headers=APP
    ).json
    reads += [included["author"], included["authors"][0]]
    for read in reads:
        assert_public(read)
        assert read["username"] == "alice"


@pytest.mark.parametrize(
    "query",
    [
        'where={"sessionToken":"%s"}',
        'where={"$or":[{"password":{"$regex":"^scrypt"}}],"x":"%s"}',
        'where={"salt":{"$exists":false}}&x=%s',
        "order=-sessionToken&x=%s",
        'where={"authData.weixin.access_token":{"$regex":"^a"}}&x=%s',
        "order=username,authData.weixin.uid&x=%s",
    ],
)
@pytest.mark.parametrize("path", ["/1.1/users", "/1.1/classes/_User"])
def test_clients_cannot_query_or_sort_on_hidden_fields(client, path, query):
    user = sign_up(client)
    url = f"{path}?" + query % user["sessionToken"]
    assert error(client.get(url, headers=APP)) == (400, 105)
    assert client.get(url, headers=MASTER).status_code == 200


def test_hidden_fields_cannot_be_probed_through_a_subquery_from_another_class(client):
    user = sign_up(client)
    pointer = {"__type": "Pointer", "className": "_User", "objectId": user["objectId"]}
    client.post("/1.1/classes/Post", json={"author": pointer}, headers=APP)
    prefix = user["sessionToken"][0]
    probe = {"className": "_User", "where": {"sessionToken": {"$regex": "^" + prefix}}}
    where = json.dumps({"author": {"$inQuery": probe}})
    response = client.get("/1.1/classes/Post", query_string={"where": where}, headers=APP)
    assert response.status_code == 400 or response.json["results"] == []


@pytest.mark.parametrize("path", ["/1.1/users/", "/1.1/classes/_User/"])
def test_missing_user_is_211(client, path):
    assert error(client.get(path + "0123456789abcdef01234567", headers=APP)) == (400, 211)
    sign_up(client)
    assert error(client.get(path + "0123456789abcdef01234567", headers=APP)) == (400, 211)


# --- migrated LeanCloud users -------------------------------------------------------


def import_leancloud_user(storage):
    stamp = "2020-01-01T00:00:00.000Z"
    data = {"username": "migrated", "password": LC_HASH, "salt": LC_SALT, "email": "m@example.com"}
    with storage.write() as tx:
        tx.ensure_fields("_User", {"username": {"type": "String"}, "email": {"type": "String"}})
        tx.insert(
            StoredObject(
                "_User", "5cc6abe117b54d7448151efc", stamp, stamp, data, {"*": {"read": True}}
            )
        )


def stored_user(storage, user_id="5cc6abe117b54d7448151efc"):
    with storage.write() as tx:
        return tx.get("_User", user_id)


def test_a_migrated_leancloud_hash_logs_in_and_is_upgraded(app, client):
    import_leancloud_user(app.storage)
    assert error(log_in(client, username="migrated", password="Password")) == (400, 210)
    assert stored_user(app.storage).data["password"] == LC_HASH  # a failure changes nothing

    response = log_in(client, email="m@example.com", password="password")
    assert response.status_code == 200
    assert TOKEN.match(response.json["sessionToken"])
    upgraded = stored_user(app.storage)
    assert upgraded.data["password"].startswith("scrypt$")
    assert "salt" not in upgraded.data
    assert upgraded.updated_at == "2020-01-01T00:00:00.000Z"

    again = log_in(client, username="migrated", password="password")
    assert again.json["sessionToken"] == response.json["sessionToken"]
    assert (
        client.get("/1.1/users/me", headers=session(again.json["sessionToken"])).status_code == 200
    )


# --- writes: only the user itself or master -----------------------------------------


def test_update_needs_the_users_own_session_or_master(client):
    alice = sign_up(client)
    bob = sign_up(client, username="bob")
    url = f"/1.1/users/{alice['objectId']}"
    assert error(client.put(url, json={"age": 1}, headers=APP)) == (403, 206)
    assert error(client.put(url, json={"age": 1}, headers=session(bob["sessionToken"]))) == (
        403,
        206,
    )
    assert (
        client.put(url, json={"age": 1}, headers=session(alice["sessionToken"])).status_code == 200
    )
    increment = {"age": {"__op": "Increment", "amount": 2}}
    response = client.put(
        f"/1.1/classes/_User/{alice['objectId']}?fetchWhenSave=true", json=increment, headers=MASTER
    )
    assert response.json["age"] == 3


@pytest.mark.parametrize(
    "change, code",
    [
        ({"username": "bob"}, 202),
        ({"email": "b@example.com"}, 203),
        ({"mobilePhoneNumber": "13800000001"}, 214),
        ({"email": "nope"}, 125),
        ({"username": ""}, 200),
        ({"password": ""}, 201),
    ],
)
def test_update_keeps_usernames_emails_and_phones_unique_and_valid(client, change, code):
    alice = sign_up(client)
    sign_up(client, username="bob", email="b@example.com", mobilePhoneNumber="13800000001")
    response = client.put(
        f"/1.1/users/{alice['objectId']}", json=change, headers=session(alice["sessionToken"])
    )
    assert error(response) == (400, code)


def test_update_may_keep_its_own_username_and_change_the_password(client):
    alice = sign_up(client, email="a@example.com")
    url = f"/1.1/users/{alice['objectId']}"
    body = {"username": "alice", "email": "a@example.com", "password": "n3w"}
    assert client.put(url, json=body, headers=session(alice["sessionToken"])).status_code == 200
    assert error(log_in(client, username="alice", password="s3cret")) == (400, 210)
    assert (
        log_in(client, username="alice", password="n3w").json["sessionToken"]
        == alice["sessionToken"]
    )


def test_auth_data_updates_merge_per_provider(client):
    alice = sign_up(client, authData={"test": {"uid": "t1"}})
    url = f"/1.1/classes/_User/{alice['objectId']}"
    headers = session(alice["sessionToken"])
    client.put(url, json={"authData": {"weixin": {"openid": "w1"}}}, headers=headers)
    assert client.get("/1.1/users/me", headers=headers).json["authData"] == {
        "test": {"uid": "t1"},
        "weixin": {"openid": "w1"},
    }
    client.put(url, json={"authData": {"test": None}}, headers=headers)
    assert client.get("/1.1/users/me", headers=headers).json["authData"] == {
        "weixin": {"openid": "w1"}
    }


def test_delete_needs_the_users_session_and_ends_it(client):
    alice = sign_up(client)
    url = f"/1.1/users/{alice['objectId']}"
    assert error(client.delete(url, headers=APP)) == (403, 206)
    assert client.delete(url, headers=session(alice["sessionToken"])).json == {}
    assert error(client.get("/1.1/users/me", headers=session(alice["sessionToken"]))) == (400, 211)
    assert error(log_in(client, username="alice", password="s3cret")) == (400, 211)


def test_refresh_session_token_replaces_the_old_one(client):
    alice = sign_up(client)
    url = f"/1.1/users/{alice['objectId']}/refreshSessionToken"
    assert error(client.put(url, headers=APP)) == (403, 206)
    response = client.put(url, data="null", headers=session(alice["sessionToken"]))
    assert response.status_code == 200
    token = response.json["sessionToken"]
    assert TOKEN.match(token) and token != alice["sessionToken"]
    assert error(client.get("/1.1/users/me", headers=session(alice["sessionToken"]))) == (400, 211)
    assert client.get("/1.1/users/me", headers=session(token)).json["objectId"] == alice["objectId"]
    assert log_in(client, username="alice", password="s3cret").json["sessionToken"] == token


def test_update_password_checks_the_old_one_and_issues_a_new_token(client):
    alice = sign_up(client)
    url = f"/1.1/users/{alice['objectId']}/updatePassword"
    headers = session(alice["sessionToken"])
    assert error(
        client.put(url, json={"old_password": "x", "new_password": "n3w"}, headers=headers)
    ) == (400, 210)
    assert error(
        client.put(url, json={"old_password": "s3cret", "new_password": ""}, headers=headers)
    ) == (400, 201)
    response = client.put(
        url, json={"old_password": "s3cret", "new_password": "n3w"}, headers=headers
    )
    assert response.status_code == 200
    assert set(response.json) == {"updatedAt", "objectId", "sessionToken"}
    assert response.json["sessionToken"] != alice["sessionToken"]
    assert (
        log_in(client, username="alice", password="n3w").json["sessionToken"]
        == response.json["sessionToken"]
    )


def test_batch_items_go_through_the_user_rules(client):
    alice = sign_up(client)
    requests = [
        {
            "method": "POST",
            "path": "/1.1/classes/_User",
            "body": {"username": "b", "password": "p"},
        },
        {"method": "PUT", "path": f"/1.1/classes/_User/{alice['objectId']}", "body": {"age": 1}},
        {
            "method": "GET",
            "path": "/1.1/users",
            "params": {"where": {"password": {"$exists": True}}},
        },
    ]
    results = client.post("/1.1/batch", json={"requests": requests}, headers=APP).json
    assert TOKEN.match(results[0]["success"]["sessionToken"])
    assert results[1]["error"]["code"] == 206
    assert results[2]["error"]["code"] == 105


# --- authData log-in ----------------------------------------------------------------


def test_auth_data_signs_up_once_then_logs_in(client):
    body = {"authData": {"weixin": {"openid": "o-1", "access_token": "a"}}}
    first = client.post("/1.1/classes/_User", json=body, headers=APP)
    assert first.status_code == 201
    assert TOKEN.match(first.json["username"]) and TOKEN.match(first.json["sessionToken"])
    second = client.post("/1.1/users", json=body, headers=APP)
    assert second.status_code == 200
    assert (second.json["objectId"], second.json["sessionToken"]) == (
        first.json["objectId"],
        first.json["sessionToken"],
    )


def test_auth_data_with_fail_on_not_exist_is_211_for_a_new_account(client):
    body = {"authData": {"anonymous": {"id": "3f1c"}}}
    assert error(client.post("/1.1/users?failOnNotExist=true", json=body, headers=APP)) == (
        400,
        211,
    )
    assert error(client.post("/1.1/users", json={"authData": {"qq": {}}}, headers=APP)) == (
        400,
        250,
    )


# --- the SDK's own requests over real HTTP ------------------------------------------


def test_the_sdks_user_requests_work_against_the_live_server(leancloud_clean_server):
    from leancloud import client as sdk
    from leancloud.errors import LeanCloudError

    signed_up = sdk.post(
        "/classes/_User", {"username": "live", "password": "pw"}, query={"fetchWhenSave": False}
    ).json()
    token = signed_up["sessionToken"]
    assert (
        sdk.post("/login", {"username": "live", "password": "pw"}).json()["sessionToken"] == token
    )
    assert (
        sdk.get("/users/me", {"session_token": token}).json()["objectId"] == signed_up["objectId"]
    )
    refreshed = sdk.put(
        f"/users/{signed_up['objectId']}/refreshSessionToken", None, headers={"X-LC-Session": token}
    ).json()
    assert refreshed["sessionToken"] != token
    with pytest.raises(LeanCloudError) as wrong:
        sdk.post("/login", {"username": "live", "password": "nope"})
    assert wrong.value.code == 210
    with pytest.raises(LeanCloudError) as stale:
        sdk.get("/users/me", {"session_token": token})
    assert stale.value.code == 211


def test_sdk_user_destroy_ends_the_account_and_needs_its_own_session(leancloud_clean_server):
    import leancloud
    from leancloud import LeanCloudError, User

    leancloud.use_master_key(False)
    bob = User()
    bob.sign_up("bob", "pw-b")
    ann = User()
    ann.sign_up("ann", "pw-a")  # ann is now the current user
    with pytest.raises(LeanCloudError) as refused:
        User.create_without_data(bob.id).destroy()
    assert refused.value.code == 206
    token = ann.session_token
    ann.destroy()
    for gone in (lambda: User().login("ann", "pw-a"), lambda: User.become(token)):
        with pytest.raises(LeanCloudError) as missing:
            gone()
        assert missing.value.code == 211
    again = User()
    again.login("bob", "pw-b")
    assert again.id == bob.id


def test_log_in_skips_empty_or_non_text_identifiers(client):
    client.post(
        "/1.1/users", json={"username": "ann", "password": "pw", "email": "a@x.io"}, headers=APP
    )
    by_email = client.post(
        "/1.1/login", json={"username": "", "email": "a@x.io", "password": "pw"}, headers=APP
    )
    assert by_email.status_code == 200 and by_email.json["username"] == "ann"
    odd = client.post("/1.1/login", json={"username": 5, "password": "pw"}, headers=APP)
    assert (odd.status_code, odd.json["code"]) == (400, 200)


def test_conditional_user_update_and_acl_removal(client):
    alice = sign_up(client, nickname="al")
    path = f"/1.1/classes/_User/{alice['objectId']}"
    mine = session(alice["sessionToken"])
    unmet = client.put(
        path, json={"nickname": "x"}, headers=mine, query_string={"where": '{"nickname": "bo"}'}
    )
    assert error(unmet) == (400, 305)
    met = client.put(
        path, json={"nickname": "x"}, headers=mine, query_string={"where": '{"nickname": "al"}'}
    )
    assert met.status_code == 200
    assert (
        client.put(
            path, json={"ACL": {alice["objectId"]: {"read": True}}}, headers=mine
        ).status_code
        == 200
    )
    assert client.put(path, json={"ACL": {"__op": "Delete"}}, headers=mine).status_code == 200
    row = client.get(path, headers=MASTER, query_string={"returnACL": "true"}).json
    assert row["nickname"] == "x" and row["ACL"] == {"*": {"read": True, "write": True}}
