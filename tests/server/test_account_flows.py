"""Email and phone account flows over HTTP (werkzeug's client, SQLite in tmp_path), with
the codes and links read from the outbox as a user would read them from mail or SMS."""

import re
from urllib.parse import quote, urlparse

import pytest
from werkzeug.test import Client

from leancloud.server import create_app, passwords
from leancloud.server.services import messaging, sms, users, verification

from .support import Clock

APP_ID, APP_KEY, MASTER_KEY = "flows-app", "flows-key", "flows-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
PHONE = "+8618612345678"
EMAIL = "ann@example.com"
LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


@pytest.fixture
def clock(monkeypatch):
    """One fake clock for SMS codes and mail links, so tests step past throttles and expiry."""
    clock = Clock()
    monkeypatch.setattr(sms, "now", clock)
    monkeypatch.setattr(verification, "now", clock)
    return clock


@pytest.fixture
def app(tmp_path, clock):
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield app
    app.storage.close()


@pytest.fixture
def client(app):
    return Client(app)


def session(token):
    return {**APP, "X-LC-Session": token}


def sign_up(client, **fields):
    body = {"username": "ann", "password": "s3cret", **fields}
    response = client.post("/1.1/users", json=body, headers=APP)
    assert response.status_code == 201, response.json
    return response.json


def post(client, path, headers=APP, **body):
    return client.post("/1.1/" + path, json=body, headers=headers)


def error_of(response, status=400):
    assert response.status_code == status, response.json
    return response.json["code"]


def mails(app, to=EMAIL):
    return [m for m in messaging.outbox(app.storage, to) if m["channel"] == "mail"]


def link_path(app, to=EMAIL):
    """The path of the link in the newest mail to ``to``."""
    url = LINK.search(mails(app, to)[0]["text"]).group(0)
    return urlparse(url).path


def last_code(app, phone=PHONE):
    return messaging.outbox(app.storage, messaging.normalize_phone(phone), 1)[0]["details"]["code"]


def sms_count(app, phone=PHONE):
    return len(messaging.outbox(app.storage, messaging.normalize_phone(phone)))


def user_row(app, user_id):
    with app.storage.write() as tx:
        return tx.get("_User", user_id).data


def me(client, token):
    return client.get("/1.1/users/me", headers=session(token))


def log_in(client, **body):
    return client.post("/1.1/login", json=body, headers=APP)


# --- email verification -----------------------------------------------------------


def test_sign_up_with_an_email_mails_a_link_that_verifies_it(app, client):
    user = sign_up(client, email=EMAIL)
    assert user["emailVerified"] is False
    [mail] = mails(app)
    assert mail["kind"] == "verify" and EMAIL in mail["text"]
    assert LINK.search(mail["text"]).group(0).startswith("http://localhost/1.1/verifyEmail/")
    page = client.get(link_path(app))  # a browser: no LeanCloud headers
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert EMAIL in page.get_data(as_text=True)
    assert me(client, user["sessionToken"]).json["emailVerified"] is True
    assert client.get(link_path(app)).status_code == 200  # opening it again is harmless


def test_sign_up_without_an_email_or_with_the_option_off_sends_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_VERIFY_EMAIL_ON_SIGN_UP", "0")
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    client = Client(app)
    sign_up(client, email=EMAIL)
    sign_up(client, username="bob")
    assert messaging.outbox(app.storage) == []
    assert post(client, "requestEmailVerify", email=EMAIL).status_code == 200  # still on request
    assert len(mails(app)) == 1


def test_sign_up_succeeds_when_the_verification_mail_cannot_go_out(app, client, monkeypatch):
    class Broken:
        def send(self, storage, message):
            raise OSError("relay down")

    monkeypatch.setattr(messaging, "mail_sender", lambda: Broken())
    user = sign_up(client, email=EMAIL)
    assert me(client, user["sessionToken"]).status_code == 200
    assert error_of(post(client, "requestEmailVerify", email=EMAIL)) == 1


def test_request_email_verify(app, client):
    sign_up(client, email=EMAIL)
    assert post(client, "requestEmailVerify", email=EMAIL).json == {}
    assert len(mails(app)) == 2
    assert error_of(post(client, "requestEmailVerify")) == 204
    assert error_of(post(client, "requestEmailVerify", email="nobody@example.com")) == 205


def test_changing_the_email_unverifies_it_and_mails_the_new_address(app, client):
    user = sign_up(client, email=EMAIL)
    client.get(link_path(app))
    old_link = link_path(app)
    response = client.put(
        f"/1.1/users/{user['objectId']}",
        json={"email": "new@example.com"},
        headers=session(user["sessionToken"]),
    )
    assert response.status_code == 200
    assert me(client, user["sessionToken"]).json["emailVerified"] is False
    assert client.get(old_link).status_code == 400  # the link was for the old address
    assert client.get(link_path(app, "new@example.com")).status_code == 200
    assert me(client, user["sessionToken"]).json["emailVerified"] is True


@pytest.mark.parametrize("mangle", ["payload", "signature", "truncated", "unicode"])
def test_forged_verification_links_are_refused(app, client, mangle):
    user = sign_up(client, email=EMAIL)
    path = link_path(app)
    payload, signature = path.rsplit("/", 1)[1].split(".")
    forged = {
        "payload": f"{payload[:-2]}xx.{signature}",
        "signature": f"{payload}.{signature[:-2]}xx",
        "truncated": payload,
        "unicode": f"é{payload}.{signature}",
    }[mangle]
    page = client.get("/1.1/verifyEmail/" + quote(forged))
    assert page.status_code == 400 and "invalid" in page.get_data(as_text=True)
    assert me(client, user["sessionToken"]).json["emailVerified"] is False


def test_verification_links_expire_after_a_week(app, client, clock):
    user = sign_up(client, email=EMAIL)
    clock.advance(7 * 24 * 3600 + 1)
    assert client.get(link_path(app)).status_code == 400
    assert me(client, user["sessionToken"]).json["emailVerified"] is False
    post(client, "requestEmailVerify", email=EMAIL)
    clock.advance(7 * 24 * 3600 - 60)
    assert client.get(link_path(app)).status_code == 200
    assert me(client, user["sessionToken"]).json["emailVerified"] is True


def test_links_use_the_configured_public_url(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_PUBLIC_URL", "https://api.example.com/")
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    sign_up(Client(app), email=EMAIL)
    assert "https://api.example.com/1.1/verifyEmail/" in mails(app)[0]["text"]


def test_log_in_may_require_a_verified_email(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("LEANCLOUD_LOG_IN_REQUIRES_VERIFIED_EMAIL", "1")
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    client = Client(app)
    sign_up(client, email=EMAIL)
    sign_up(client, username="bob")
    assert error_of(log_in(client, username="ann", password="wrong")) == 210
    assert error_of(log_in(client, username="ann", password="s3cret")) == 216
    assert log_in(client, username="bob", password="s3cret").status_code == 200  # no email
    client.get(link_path(app))
    assert log_in(client, username="ann", password="s3cret").status_code == 200


# --- password reset by email ------------------------------------------------------


def test_password_reset_by_email_through_the_form(app, client):
    user = sign_up(client, email=EMAIL)
    assert post(client, "requestPasswordReset", email=EMAIL).json == {}
    path = link_path(app)
    assert path.startswith("/1.1/resetPassword/")
    form = client.get(path)
    assert form.status_code == 200 and '<form method="post">' in form.get_data(as_text=True)
    done = client.post(path, data={"password": "n3w"})  # as the browser posts the form
    assert done.status_code == 200 and "set" in done.get_data(as_text=True)
    assert error_of(me(client, user["sessionToken"])) == 211  # every old session ended
    assert error_of(log_in(client, username="ann", password="s3cret")) == 210
    assert log_in(client, username="ann", password="n3w").status_code == 200
    assert client.post(path, data={"password": "again"}).status_code == 400  # spent
    assert log_in(client, username="ann", password="n3w").status_code == 200


def test_password_reset_form_asks_again_for_an_empty_password(app, client):
    sign_up(client, email=EMAIL)
    post(client, "requestPasswordReset", email=EMAIL)
    page = client.post(link_path(app), data={"password": ""})
    assert page.status_code == 400 and "<form" in page.get_data(as_text=True)
    assert log_in(client, username="ann", password="s3cret").status_code == 200


def test_a_bad_reset_link_with_an_empty_password_answers_the_link_error(client):
    page = client.post("/1.1/resetPassword/nonsense.token", data={"password": ""})
    assert page.status_code == 400 and "invalid" in page.get_data(as_text=True)
    assert page.headers["Content-Type"].startswith("text/html")


def test_password_reset_accepts_json_and_clears_a_lockout(app, client):
    user = sign_up(client, email=EMAIL)
    for _ in range(users.LOCKOUT_FAILURES):
        log_in(client, username="ann", password="wrong")
    assert error_of(log_in(client, username="ann", password="s3cret")) == 219
    post(client, "requestPasswordReset", email=EMAIL)
    assert client.post(link_path(app), json={"password": "n3w"}).status_code == 200
    answer = log_in(client, username="ann", password="n3w")
    assert answer.status_code == 200 and answer.json["sessionToken"] != user["sessionToken"]


def test_request_password_reset_errors(client):
    sign_up(client, email=EMAIL)
    assert error_of(post(client, "requestPasswordReset")) == 204
    assert error_of(post(client, "requestPasswordReset", email="nobody@example.com")) == 205


def test_reset_links_expire_and_are_not_verification_links(app, client, clock):
    sign_up(client, email=EMAIL)
    verify_token = link_path(app).rsplit("/", 1)[1]
    assert client.get("/1.1/resetPassword/" + verify_token).status_code == 400
    post(client, "requestPasswordReset", email=EMAIL)
    clock.advance(24 * 3600 + 1)  # a reset link lasts a day
    assert client.get(link_path(app)).status_code == 400
    post(client, "requestPasswordReset", email=EMAIL)
    clock.advance(24 * 3600 - 60)
    assert client.get(link_path(app)).status_code == 200


# --- phone verification -----------------------------------------------------------


def test_mobile_phone_verification(app, client):
    user = sign_up(client, mobilePhoneNumber=PHONE)
    assert post(client, "requestMobilePhoneVerify", mobilePhoneNumber=PHONE).json == {}
    assert error_of(post(client, "verifyMobilePhone/000000", mobilePhoneNumber=PHONE)) == 603
    answer = post(client, f"verifyMobilePhone/{last_code(app)}", mobilePhoneNumber=PHONE)
    assert answer.status_code == 200
    assert set(answer.json) == {"updatedAt", "objectId"}
    assert answer.json["objectId"] == user["objectId"]
    assert me(client, user["sessionToken"]).json["mobilePhoneVerified"] is True


def test_verification_without_a_number_uses_the_logged_in_users(app, client):
    user = sign_up(client, mobilePhoneNumber=PHONE)
    post(client, "requestMobilePhoneVerify", mobilePhoneNumber=PHONE)
    headers = session(user["sessionToken"])
    assert post(client, f"verifyMobilePhone/{last_code(app)}", headers).status_code == 200
    assert me(client, user["sessionToken"]).json["mobilePhoneVerified"] is True


def test_a_verified_number_gets_no_more_verification_codes(app, client, clock):
    sign_up(client, mobilePhoneNumber=PHONE)
    post(client, "requestMobilePhoneVerify", mobilePhoneNumber=PHONE)
    post(client, f"verifyMobilePhone/{last_code(app)}", mobilePhoneNumber=PHONE)
    clock.advance(120)
    assert post(client, "requestMobilePhoneVerify", mobilePhoneNumber=PHONE).status_code == 200
    assert sms_count(app) == 1


@pytest.mark.parametrize(
    "path, body, code",
    [
        ("requestMobilePhoneVerify", {}, 212),
        ("requestMobilePhoneVerify", {"mobilePhoneNumber": "+8613900000000"}, 213),
        ("requestMobilePhoneVerify", {"mobilePhoneNumber": "12ab"}, 127),
        ("verifyMobilePhone/123456", {}, 212),
        ("requestLoginSmsCode", {}, 212),
        ("requestLoginSmsCode", {"mobilePhoneNumber": "+8613900000000"}, 213),
        ("requestPasswordResetBySmsCode", {"mobilePhoneNumber": "+8613900000000"}, 213),
    ],
)
def test_phone_request_errors(client, path, body, code):
    sign_up(client, mobilePhoneNumber=PHONE)
    assert error_of(post(client, path, **body)) == code


def test_a_number_stored_without_the_country_code_is_found(app, client):
    user = sign_up(client, mobilePhoneNumber="18612345678")
    post(client, "requestMobilePhoneVerify", mobilePhoneNumber="+8618612345678")
    post(client, f"verifyMobilePhone/{last_code(app)}", mobilePhoneNumber="18612345678")
    assert me(client, user["sessionToken"]).json["mobilePhoneVerified"] is True


def verified_user(app, client, clock, **fields):
    user = sign_up(client, mobilePhoneNumber=PHONE, **fields)
    post(client, "requestMobilePhoneVerify", mobilePhoneNumber=PHONE)
    post(client, f"verifyMobilePhone/{last_code(app)}", mobilePhoneNumber=PHONE)
    clock.advance(61)  # past the one-minute throttle
    return user


# --- SMS log-in -------------------------------------------------------------------


def test_sms_log_in(app, client, clock):
    user = verified_user(app, client, clock)
    assert post(client, "requestLoginSmsCode", mobilePhoneNumber=PHONE).json == {}
    code = last_code(app)
    assert error_of(log_in(client, mobilePhoneNumber=PHONE, smsCode="000000")) == 603
    answer = log_in(client, mobilePhoneNumber=PHONE, smsCode=code)
    assert answer.status_code == 200
    assert answer.json["objectId"] == user["objectId"]
    assert answer.json["sessionToken"] == user["sessionToken"]
    assert error_of(log_in(client, mobilePhoneNumber=PHONE, smsCode=code)) == 603  # used up


def test_sms_log_in_needs_a_verified_number(app, client):
    sign_up(client, mobilePhoneNumber=PHONE)
    assert error_of(post(client, "requestLoginSmsCode", mobilePhoneNumber=PHONE)) == 215
    assert sms_count(app) == 0


def test_a_code_for_another_purpose_does_not_log_in(app, client, clock):
    verified_user(app, client, clock)
    post(client, "requestPasswordResetBySmsCode", mobilePhoneNumber=PHONE)
    assert error_of(log_in(client, mobilePhoneNumber=PHONE, smsCode=last_code(app))) == 603


def test_sms_requests_are_throttled(app, client, clock):
    verified_user(app, client, clock)
    post(client, "requestLoginSmsCode", mobilePhoneNumber=PHONE)
    assert error_of(post(client, "requestLoginSmsCode", mobilePhoneNumber=PHONE)) == 601


# --- sign-up or log-in by phone ---------------------------------------------------


def test_users_by_mobile_phone_signs_up_then_logs_in(app, client, clock):
    post(client, "requestSmsCode", mobilePhoneNumber=PHONE)
    created = post(client, "usersByMobilePhone", mobilePhoneNumber=PHONE, smsCode=last_code(app))
    assert created.status_code == 201
    user = created.json
    assert user["username"] == PHONE and user["mobilePhoneNumber"] == PHONE
    assert user["mobilePhoneVerified"] is True and len(user["sessionToken"]) == 25
    assert "smsCode" not in user and "password" not in user
    clock.advance(61)
    post(client, "requestLoginSmsCode", mobilePhoneNumber=PHONE)
    again = post(client, "usersByMobilePhone", mobilePhoneNumber=PHONE, smsCode=last_code(app))
    assert again.status_code == 200
    assert (again.json["objectId"], again.json["sessionToken"]) == (
        user["objectId"],
        user["sessionToken"],
    )


def test_users_by_mobile_phone_with_a_username_and_password(app, client):
    post(client, "requestSmsCode", mobilePhoneNumber=PHONE)
    body = {"mobilePhoneNumber": PHONE, "smsCode": last_code(app)}
    created = post(
        client, "usersByMobilePhone", username="ann", password="s3cret", nick="A", **body
    )
    assert created.status_code == 201 and created.json["nick"] == "A"
    assert log_in(client, username="ann", password="s3cret").status_code == 200


def test_users_by_mobile_phone_verifies_an_existing_users_number(app, client):
    user = sign_up(client, mobilePhoneNumber=PHONE)
    post(client, "requestSmsCode", mobilePhoneNumber=PHONE)
    answer = post(client, "usersByMobilePhone", mobilePhoneNumber=PHONE, smsCode=last_code(app))
    assert answer.status_code == 200 and answer.json["objectId"] == user["objectId"]
    assert answer.json["mobilePhoneVerified"] is True


@pytest.mark.parametrize(
    "body, code",
    [
        ({"mobilePhoneNumber": PHONE, "smsCode": "000000"}, 603),
        ({"mobilePhoneNumber": PHONE}, 603),
        ({"smsCode": "123456"}, 212),
        ({"mobilePhoneNumber": "12ab", "smsCode": "123456"}, 127),
    ],
)
def test_users_by_mobile_phone_errors(app, client, body, code):
    post(client, "requestSmsCode", mobilePhoneNumber=PHONE)
    assert error_of(post(client, "usersByMobilePhone", **body)) == code
    assert error_of(log_in(client, mobilePhoneNumber=PHONE, password="x")) == 211  # no user


# --- password reset by SMS --------------------------------------------------------


def test_password_reset_by_sms_code(app, client, clock):
    user = verified_user(app, client, clock)
    assert post(client, "requestPasswordResetBySmsCode", mobilePhoneNumber=PHONE).json == {}
    path = f"/1.1/resetPasswordBySmsCode/{last_code(app)}"
    body = {"password": "n3w", "mobilePhoneNumber": PHONE}
    assert client.put(path, json=body, headers=APP).json == {}
    assert error_of(me(client, user["sessionToken"])) == 211
    assert log_in(client, mobilePhoneNumber=PHONE, password="n3w").status_code == 200
    assert error_of(client.put(path, json=body, headers=APP)) == 603  # used up


def test_password_reset_by_sms_needs_a_verified_number_and_a_password(app, client, clock):
    sign_up(client, mobilePhoneNumber=PHONE)
    assert error_of(post(client, "requestPasswordResetBySmsCode", mobilePhoneNumber=PHONE)) == 215
    assert sms_count(app) == 0
    put = client.put(
        "/1.1/resetPasswordBySmsCode/123456", json={"mobilePhoneNumber": PHONE}, headers=APP
    )
    assert error_of(put) == 201


# --- changing the phone number ----------------------------------------------------


NEW_PHONE = "+8613911112222"


def test_change_phone_number(app, client, clock):
    user = verified_user(app, client, clock)
    token = user["sessionToken"]
    body = {"mobilePhoneNumber": NEW_PHONE}
    assert post(client, "requestChangePhoneNumber", session(token), **body).json == {}
    code = last_code(app, NEW_PHONE)
    assert error_of(post(client, "changePhoneNumber", session(token), code="000000", **body)) == 603
    assert post(client, "changePhoneNumber", session(token), code=code, **body).json == {}
    now = me(client, token).json
    assert (now["mobilePhoneNumber"], now["mobilePhoneVerified"]) == (NEW_PHONE, True)
    assert log_in(client, mobilePhoneNumber=NEW_PHONE, password="s3cret").status_code == 200


def test_change_phone_number_needs_the_users_session(app, client, clock):
    user = verified_user(app, client, clock)
    body = {"mobilePhoneNumber": NEW_PHONE}
    assert error_of(post(client, "requestChangePhoneNumber", **body), 403) == 206
    post(client, "requestChangePhoneNumber", session(user["sessionToken"]), **body)
    code = last_code(app, NEW_PHONE)
    other = sign_up(client, username="eve")
    stolen = post(client, "changePhoneNumber", session(other["sessionToken"]), code=code, **body)
    assert error_of(stolen) == 603  # the code was sent for ann, not for eve


def test_change_phone_number_to_a_taken_number_is_214(app, client, clock):
    user = verified_user(app, client, clock)
    sign_up(client, username="bob", mobilePhoneNumber=NEW_PHONE)
    body = {"mobilePhoneNumber": NEW_PHONE}
    answer = post(client, "requestChangePhoneNumber", session(user["sessionToken"]), **body)
    assert error_of(answer) == 214
    assert sms_count(app, NEW_PHONE) == 0


def test_change_phone_number_codes_last_six_minutes_by_default(app, client, clock):
    user = verified_user(app, client, clock)
    token = user["sessionToken"]
    body = {"mobilePhoneNumber": NEW_PHONE}
    post(client, "requestChangePhoneNumber", session(token), **body)
    clock.advance(6 * 60 + 1)
    code = last_code(app, NEW_PHONE)
    assert error_of(post(client, "changePhoneNumber", session(token), code=code, **body)) == 603
    post(client, "requestChangePhoneNumber", session(token), **body)
    clock.advance(5 * 60)
    code = last_code(app, NEW_PHONE)
    assert post(client, "changePhoneNumber", session(token), code=code, **body).json == {}


def test_change_phone_number_with_a_ttl(app, client, clock):
    user = verified_user(app, client, clock)
    token = user["sessionToken"]
    body = {"mobilePhoneNumber": NEW_PHONE}
    post(client, "requestChangePhoneNumber", session(token), ttl=2, **body)
    clock.advance(3 * 60)
    code = last_code(app, NEW_PHONE)
    assert error_of(post(client, "changePhoneNumber", session(token), code=code, **body)) == 603


def test_setting_a_new_number_directly_unverifies_it(app, client, clock):
    user = verified_user(app, client, clock)
    client.put(
        f"/1.1/users/{user['objectId']}",
        json={"mobilePhoneNumber": NEW_PHONE},
        headers=session(user["sessionToken"]),
    )
    assert me(client, user["sessionToken"]).json["mobilePhoneVerified"] is False


# --- authData ---------------------------------------------------------------------


def test_linking_an_account_linked_to_another_user_is_208(client):
    ann = sign_up(client)
    bob = sign_up(client, username="bob")
    weibo = {"weibo": {"uid": "w1", "access_token": "t"}}
    assert (
        client.put(
            f"/1.1/users/{ann['objectId']}",
            json={"authData": weibo},
            headers=session(ann["sessionToken"]),
        ).status_code
        == 200
    )
    taken = client.put(
        f"/1.1/users/{bob['objectId']}",
        json={"authData": weibo},
        headers=session(bob["sessionToken"]),
    )
    assert error_of(taken) == 208
    again = client.put(
        f"/1.1/users/{ann['objectId']}",
        json={"authData": weibo},
        headers=session(ann["sessionToken"]),
    )
    assert again.status_code == 200  # relinking one's own account is fine


def test_anonymous_log_in(client):
    body = {"authData": {"anonymous": {"id": "7f3c8a0e-6b1d-4c44-9a57-0d5f0e2b9c11"}}}
    first = client.post("/1.1/users", json=body, headers=APP)
    assert first.status_code == 201
    second = client.post("/1.1/users", json=body, headers=APP)
    assert second.status_code == 200
    assert second.json["objectId"] == first.json["objectId"]


def test_signing_up_with_an_account_linked_to_another_user_is_208(client):
    weibo = {"weibo": {"uid": "w1", "access_token": "t"}}
    assert client.post("/1.1/users", json={"authData": weibo}, headers=APP).status_code == 201
    body = {"username": "bob", "password": "pw", "authData": weibo}
    assert error_of(client.post("/1.1/users", json=body, headers=APP)) == 208


def test_unlink_with_a_delete_op_on_the_dotted_provider(client):
    weibo = {"weibo": {"uid": "w1"}, "qq": {"openid": "q1"}}
    user = client.post("/1.1/users", json={"authData": weibo}, headers=APP).json
    path, headers = f"/1.1/users/{user['objectId']}", session(user["sessionToken"])
    body = {"authData.weibo": {"__op": "Delete"}}
    assert client.put(path, json=body, headers=headers).status_code == 200
    assert set(me(client, user["sessionToken"]).json["authData"]) == {"qq"}


def union_auth(provider, openid, main=False):
    data = {"openid": openid, "access_token": "t", "platform": "weixin", "unionid": "U1"}
    return {"authData": {provider: {**data, "main_account": main}}}


def test_unionid_links_the_platforms_of_one_account(app, client):
    first = client.post("/1.1/users", json=union_auth("wxapp", "o1", main=True), headers=APP)
    assert first.status_code == 201
    user_id = first.json["objectId"]
    assert user_row(app, user_id)["authData"]["_weixin_unionid"] == {"uid": "U1"}
    second = client.post("/1.1/users", json=union_auth("wxweb", "o2"), headers=APP)
    assert second.status_code == 200 and second.json["objectId"] == user_id
    assert set(user_row(app, user_id)["authData"]) == {"wxapp", "wxweb", "_weixin_unionid"}
    third = client.post("/1.1/users", json=union_auth("wxweb", "o2"), headers=APP)
    assert third.json["objectId"] == user_id  # now found by the provider itself


def test_unionid_without_main_account_is_not_claimed(app, client):
    first = client.post("/1.1/users", json=union_auth("wxapp", "o1"), headers=APP).json
    assert "_weixin_unionid" not in user_row(app, first["objectId"])["authData"]
    second = client.post("/1.1/users", json=union_auth("wxweb", "o2"), headers=APP)
    assert second.status_code == 201 and second.json["objectId"] != first["objectId"]
    fail = client.post("/1.1/users?failOnNotExist=true", json=union_auth("qq", "o3"), headers=APP)
    assert error_of(fail) == 211


def test_main_account_does_not_take_a_unionid_another_user_holds(app, client):
    holder = client.post("/1.1/users", json=union_auth("wxapp", "o1", main=True), headers=APP)
    other = client.post("/1.1/users", json={"authData": {"wxweb": {"openid": "o2"}}}, headers=APP)
    assert other.status_code == 201
    again = client.post("/1.1/users", json=union_auth("wxweb", "o2", main=True), headers=APP)
    assert again.json["objectId"] == other.json["objectId"]  # found by its own provider
    assert "_weixin_unionid" not in user_row(app, other.json["objectId"])["authData"]
    holds = user_row(app, holder.json["objectId"])["authData"]["_weixin_unionid"]
    assert holds == {"uid": "U1"}


# --- the LeanEngine seam ----------------------------------------------------------


class Recorder(users.UserHooks):
    def __init__(self, refuse=False):
        self.calls = []
        self.refuse = refuse

    def before_log_in(self, reader, user_id):
        self.calls.append(("login", user_id))
        if self.refuse:
            raise users.ApiError(142, "Cloud Code validation failed. Error detail : no")

    def after_verified(self, reader, user_id, kind):
        self.calls.append((kind, user_id))


def test_hooks_seam_sees_log_ins_and_verifications(app, client, clock, monkeypatch):
    hooks = Recorder()
    monkeypatch.setattr(users, "hooks", hooks)
    user = verified_user(app, client, clock, email=EMAIL)
    client.get(link_path(app))
    log_in(client, username="ann", password="s3cret")
    uid = user["objectId"]
    assert hooks.calls == [("sms", uid), ("email", uid), ("login", uid)]


def test_hooks_seam_may_refuse_a_log_in(client, monkeypatch):
    sign_up(client)
    monkeypatch.setattr(users, "hooks", Recorder(refuse=True))
    assert error_of(log_in(client, username="ann", password="s3cret")) == 142


def test_change_phone_number_without_a_session_moves_the_requester(app, client, clock):
    user = verified_user(app, client, clock)
    body = {"mobilePhoneNumber": NEW_PHONE}
    post(client, "requestChangePhoneNumber", session(user["sessionToken"]), **body)
    assert post(client, "changePhoneNumber", code=last_code(app, NEW_PHONE), **body).json == {}
    assert me(client, user["sessionToken"]).json["mobilePhoneNumber"] == NEW_PHONE


# --- through the SDK, against the live server ---------------------------------------


@pytest.fixture
def sdk(leancloud_clean_server, clock):
    """The SDK as a client app against a fresh database; the outbox is read directly."""
    import leancloud

    leancloud.use_master_key(False)
    return leancloud_clean_server


def sdk_code(server, phone=PHONE):
    rows = messaging.outbox(server.app.storage, messaging.normalize_phone(phone), 1)
    return rows[0]["details"]["code"]


def test_sdk_acceptance_sign_up_verify_by_sms_and_log_in(sdk, clock):
    from leancloud import User

    user = User(mobilePhoneNumber=PHONE)
    user.sign_up("ann", "s3cret")
    assert user.get("mobilePhoneVerified") is False
    User.request_mobile_phone_verify(PHONE)
    User.verify_mobile_phone_number(sdk_code(sdk), PHONE)
    user.fetch()
    assert user.get("mobilePhoneVerified") is True
    user.logout()
    again = User.login_with_mobile_phone(PHONE, "s3cret")
    assert again.id == user.id and User.get_current() is again
    clock.advance(61)
    User.request_login_sms_code(PHONE)
    by_code = User(mobilePhoneNumber=PHONE, smsCode=sdk_code(sdk))
    by_code.login()
    assert by_code.id == user.id and by_code.session_token == again.session_token


def test_sdk_sign_up_or_log_in_with_mobile_phone(sdk, clock):
    from leancloud import User, cloud

    cloud.request_sms_code(PHONE)
    user = User.signup_or_login_with_mobile_phone(PHONE, sdk_code(sdk))
    assert user.get_username() == PHONE and user.get("mobilePhoneVerified") is True
    clock.advance(61)
    User.request_login_sms_code(PHONE)
    same = User.signup_or_login_with_mobile_phone(PHONE, sdk_code(sdk))
    assert same.id == user.id


def test_sdk_password_reset_by_sms_and_phone_change(sdk, clock):
    from leancloud import LeanCloudError, User

    user = User(mobilePhoneNumber=PHONE)
    user.sign_up("ann", "s3cret")
    User.request_mobile_phone_verify(PHONE)
    User.verify_mobile_phone_number(sdk_code(sdk), PHONE)
    clock.advance(61)
    User.request_password_reset_by_sms_code(PHONE)
    User.reset_password_by_sms_code(sdk_code(sdk), "n3w", PHONE)
    with pytest.raises(LeanCloudError) as exc:
        User.login_with_mobile_phone(PHONE, "s3cret")
    assert exc.value.code == 210
    User.login_with_mobile_phone(PHONE, "n3w")  # the current user again
    User.request_change_phone_number(NEW_PHONE, ttl=5)
    User.change_phone_number(sdk_code(sdk, NEW_PHONE), NEW_PHONE)
    assert User.become(User.get_current().session_token).get_mobile_phone_number() == NEW_PHONE


def test_sdk_email_verification_and_reset_requests(sdk):
    import requests

    from leancloud import LeanCloudError, User

    user = User(email=EMAIL)
    user.sign_up("ann", "s3cret")
    User.request_email_verify(EMAIL)
    verify_mails = [m for m in messaging.outbox(sdk.app.storage, EMAIL) if m["kind"] == "verify"]
    assert len(verify_mails) == 2
    link = LINK.search(verify_mails[0]["text"]).group(0)
    assert link.startswith(sdk.url)  # the host the SDK reached
    assert requests.get(link).status_code == 200
    user.fetch()
    assert user.get("emailVerified") is True
    User.request_password_reset(EMAIL)
    [reset] = [m for m in messaging.outbox(sdk.app.storage, EMAIL) if m["kind"] == "reset"]
    form = requests.get(LINK.search(reset["text"]).group(0))
    assert form.status_code == 200 and "password" in form.text
    with pytest.raises(LeanCloudError) as exc:
        User.request_password_reset("nobody@example.com")
    assert exc.value.code == 205


def test_a_forged_host_header_cannot_poison_a_mailed_link(app, client):
    sign_up(client, email=EMAIL)
    before = len(mails(app))
    response = client.post(
        "/1.1/requestPasswordReset",
        json={"email": EMAIL},
        headers={**APP, "Host": 'evil.example/"><a href=x'},
    )
    assert error_of(response) == 1
    assert len(mails(app)) == before


def test_mailed_links_trust_only_a_loopback_host_without_a_public_url(app, client):
    sign_up(client, email=EMAIL)
    before = len(mails(app))
    forged = {**APP, "Host": "attacker.example"}
    response = client.post("/1.1/requestPasswordReset", json={"email": EMAIL}, headers=forged)
    assert error_of(response) == 1
    assert len(mails(app)) == before
    local = {**APP, "Host": "127.0.0.1:3000"}
    assert client.post("/1.1/requestPasswordReset", json={"email": EMAIL}, headers=local).status_code == 200
    assert any("http://127.0.0.1:3000/" in mail["text"] for mail in mails(app))


def test_sign_up_through_a_forged_host_succeeds_without_a_mail(app, client):
    response = client.post(
        "/1.1/users",
        json={"username": "eve", "password": "s3cret", "email": "eve@example.com"},
        headers={**APP, "Host": "attacker.example"},
    )
    assert response.status_code == 201
    assert mails(app, "eve@example.com") == []
