"""SMS codes: requestSmsCode/verifySmsCode through the SDK against the live server, and the
rules (normalisation, throttling, expiry, reuse, purposes, captcha gate) over raw HTTP."""

import dataclasses

import pytest
from werkzeug.test import Client

import leancloud
from leancloud import cloud
from leancloud.server import create_app
from leancloud.server.services import captcha, messaging, sms

from .support import Clock

APP_ID, APP_KEY, MASTER_KEY = "sms-app", "sms-key", "sms-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
PHONE = "+8618612345678"


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sms, "now", clock)
    monkeypatch.setattr(captcha, "now", clock)
    return clock


@pytest.fixture
def app(tmp_path):
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield app
    app.storage.close()


@pytest.fixture
def client(app):
    return Client(app)


def request_code(client, phone=PHONE, **fields):
    return client.post(
        "/1.1/requestSmsCode", json={"mobilePhoneNumber": phone, **fields}, headers=APP
    )


def verify(client, code, phone=PHONE):
    return client.post(f"/1.1/verifySmsCode/{code}", json={"mobilePhoneNumber": phone}, headers=APP)


def last_sms(storage, to=PHONE):
    return messaging.outbox(storage, to, 1)[0]


def last_code(storage, to=PHONE):
    return last_sms(storage, to)["details"]["code"]


def error_of(response, status=400):
    assert response.status_code == status, response.json
    assert set(response.json) == {"code", "error"}
    return response.json["code"]


# --- through the SDK, against the live server ---------------------------------------


def test_sdk_request_and_verify(leancloud_clean_server, clock):
    cloud.request_sms_code(
        "13900001111",
        sms_type="voice",
        template="t1",
        sign="Shop",
        params={"name": "Shop", "op": "pay", "amount": 9},
    )
    message = last_sms(leancloud_clean_server.app.storage, "+8613900001111")
    assert message["channel"] == "voice"
    assert message["kind"] == "sms"
    assert message["details"]["template"] == "t1"
    assert message["details"]["params"] == {"name": "Shop", "op": "pay", "amount": 9}
    code = message["details"]["code"]
    assert code in message["text"] and "Shop" in message["text"]
    assert cloud.verify_sms_code("+8613900001111", code) is True
    with pytest.raises(leancloud.LeanCloudError) as info:
        cloud.verify_sms_code("+8613900001111", code)  # used up
    assert info.value.code == 603


def test_sdk_errors(leancloud_clean_server, clock):
    with pytest.raises(leancloud.LeanCloudError) as info:
        cloud.request_sms_code("12", idd="+1")
    assert info.value.code == 127
    cloud.request_sms_code("+447365753569")
    with pytest.raises(leancloud.LeanCloudError) as info:
        cloud.request_sms_code("+447365753569")
    assert info.value.code == 601


# --- the rules, over raw HTTP -------------------------------------------------------


def test_number_without_plus_is_mainland_and_shares_the_code(app, client, clock):
    assert request_code(client, "186 1234-5678").json == {}
    message = last_sms(app.storage)
    assert message["to"] == PHONE
    assert len(message["details"]["code"]) == 6 and message["details"]["code"].isdigit()
    assert verify(client, message["details"]["code"], "18612345678").json == {}


def test_four_wrong_codes_then_the_right_one(app, client, clock):
    request_code(client)
    code = last_code(app.storage)
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444") if c != code]
    for guess in wrong[:4]:
        assert error_of(verify(client, guess)) == 603
    assert verify(client, code).json == {}


def test_a_code_is_single_use(app, client, clock):
    request_code(client)
    code = last_code(app.storage)
    assert verify(client, code).status_code == 200
    assert error_of(verify(client, code)) == 603


def test_a_code_expires_after_its_ttl(app, client, clock):
    request_code(client, ttl=2)
    code = last_code(app.storage)
    clock.advance(119)
    sms.check_code(app.storage, PHONE, code, purpose="sms", consume=False)
    clock.advance(1)
    assert error_of(verify(client, code)) == 603


def test_default_ttl_is_ten_minutes(app, client, clock):
    request_code(client)
    code = last_code(app.storage)
    clock.advance(600)
    assert error_of(verify(client, code)) == 603


def test_wrong_guesses_burn_the_code(app, client, clock):
    request_code(client)
    code = last_code(app.storage)
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code]
    for guess in wrong[:5]:  # architecture.md: five wrong guesses burn a code
        assert error_of(verify(client, guess)) == 603
    assert error_of(verify(client, code)) == 603


def test_a_new_code_replaces_the_old_one(app, client, clock):
    request_code(client)
    first = last_code(app.storage)
    clock.advance(60)
    request_code(client)
    second = last_code(app.storage)
    if first != second:
        assert error_of(verify(client, first)) == 603
    assert verify(client, second).status_code == 200


def test_codes_are_per_purpose(app, client, clock):
    sms.send_code(app.storage, app.config, PHONE, purpose="login")
    code = last_code(app.storage)
    assert last_sms(app.storage)["kind"] == "login"
    assert error_of(verify(client, code)) == 603  # generic verify is purpose "sms"
    sms.check_code(app.storage, "18612345678", code, purpose="login")
    with pytest.raises(leancloud.server.errors.ApiError) as info:
        sms.check_code(app.storage, PHONE, code, purpose="login")
    assert info.value.code == 603


def test_check_code_accepts_the_code_as_a_json_number(app, clock):
    sms.send_code(app.storage, app.config, PHONE, purpose="verify")
    code = last_code(app.storage)
    sms.check_code(app.storage, PHONE, int(code), purpose="verify")  # leading zeros restored
    with pytest.raises(leancloud.server.errors.ApiError):
        sms.check_code(app.storage, PHONE, True, purpose="verify")


def test_unknown_purpose_is_a_programming_error(app):
    with pytest.raises(ValueError):
        sms.send_code(app.storage, app.config, PHONE, purpose="other")


def test_one_minute_between_sends(app, client, clock):
    assert request_code(client).status_code == 200
    clock.advance(59)
    assert error_of(request_code(client)) == 601
    assert error_of(request_code(client, "18612345678")) == 601  # same number
    assert request_code(client, "+8618612345679").status_code == 200  # another number
    clock.advance(1)
    assert request_code(client).status_code == 200


def test_ten_sends_a_day(app, client, clock):
    for _ in range(10):  # LeanCloud's documented daily limit per number
        assert request_code(client).status_code == 200
        clock.advance(60)
    assert error_of(request_code(client)) == 601
    clock.advance(sms.DAY - sms.DAILY_LIMIT * 60 + 60)  # the first send left the window
    assert request_code(client).status_code == 200


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, 212),
        ({"mobilePhoneNumber": ""}, 212),
        ({"mobilePhoneNumber": 18612345678}, 127),
        ({"mobilePhoneNumber": "abc"}, 127),
        ({"mobilePhoneNumber": "+0123456"}, 127),
        ({"mobilePhoneNumber": PHONE, "smsType": "fax"}, 1),
        ({"mobilePhoneNumber": PHONE, "smsType": 3}, 1),
        ({"mobilePhoneNumber": PHONE, "ttl": "ten"}, 1),
        ({"mobilePhoneNumber": PHONE, "ttl": 0}, 1),
        ({"mobilePhoneNumber": PHONE, "ttl": 24 * 60 + 1}, 1),  # a day at most
        ({"mobilePhoneNumber": PHONE, "ttl": True}, 1),
        ({"mobilePhoneNumber": PHONE, "template": 5}, 1),
    ],
)
def test_bad_requests(client, clock, body, code):
    response = client.post("/1.1/requestSmsCode", json=body, headers=APP)
    assert error_of(response) == code


def test_body_must_be_an_object(client):
    response = client.post(
        "/1.1/requestSmsCode", data="[1]", headers=APP, content_type="application/json"
    )
    assert error_of(response) == 107


def test_verify_bad_input(client, clock):
    assert error_of(verify(client, "123456", "not a phone")) == 603
    assert error_of(client.post("/1.1/verifySmsCode/1", json={}, headers=APP)) == 212


def test_ttl_as_numeric_string(app, client, clock):
    assert request_code(client, ttl="3").status_code == 200
    assert last_sms(app.storage)["details"]["ttl"] == 3


def test_needs_app_credentials(client):
    response = client.post("/1.1/requestSmsCode", json={"mobilePhoneNumber": PHONE})
    assert error_of(response, 401) == 401


def test_sender_failure_is_602_and_a_custom_sender_gets_the_details(app, client, clock):
    sent = []

    class Provider:
        def send(self, storage, message):
            sent.append(message)

    class Broken:
        def send(self, storage, message):
            raise OSError("provider down")

    messaging.set_sms_sender(Broken())
    try:
        assert error_of(request_code(client)) == 602
        messaging.set_sms_sender(Provider())
        clock.advance(60)
        assert request_code(client, template="login", sign="Shop").status_code == 200
    finally:
        messaging.set_sms_sender(None)
    assert [(m.to, m.details["template"], m.details["sign"]) for m in sent] == [
        (PHONE, "login", "Shop")
    ]
    assert messaging.outbox(app.storage) == []  # a real sender replaces the outbox
    assert verify(client, sent[0].details["code"]).status_code == 200


def test_captcha_required_when_the_app_says_so(app, client, clock):
    app.config = dataclasses.replace(app.config, sms_require_captcha=True)
    assert error_of(request_code(client)) == 608
    assert error_of(request_code(client, validate_token="forged")) == 608
    token = captcha.request_captcha(app.storage, captcha.CaptchaOptions())
    validate_token = captcha.verify_captcha(app.storage, token, captcha_code(app.storage, token))
    assert request_code(client, validate_token=validate_token).status_code == 200
    clock.advance(60)
    assert error_of(request_code(client, validate_token=validate_token)) == 608  # single use


def test_the_account_sms_requests_pass_the_same_captcha_gate(app, client, clock):
    """Phone verification, SMS log-in, SMS reset and phone change text codes too."""
    app.config = dataclasses.replace(app.config, sms_require_captcha=True)
    body = {"username": "ann", "password": "pw", "mobilePhoneNumber": PHONE}
    user = client.post("/1.1/users", json=body, headers=APP).json
    master = client.put(
        f"/1.1/users/{user['objectId']}", json={"mobilePhoneVerified": True}, headers=MASTER
    )
    assert master.status_code == 200
    session = {**APP, "X-LC-Session": user["sessionToken"]}
    flows = [
        ("requestLoginSmsCode", PHONE, APP),
        ("requestPasswordResetBySmsCode", PHONE, APP),
        ("requestChangePhoneNumber", "+8618600000000", session),
    ]
    for path, phone, headers in flows:
        asked = client.post(f"/1.1/{path}", json={"mobilePhoneNumber": phone}, headers=headers)
        assert error_of(asked) == 608, path
        token = captcha.request_captcha(app.storage, captcha.CaptchaOptions())
        passed = captcha.verify_captcha(app.storage, token, captcha_code(app.storage, token))
        body = {"mobilePhoneNumber": phone, "validate_token": passed}
        assert client.post(f"/1.1/{path}", json=body, headers=headers).status_code == 200, path
        clock.advance(60)
    client.put(
        f"/1.1/users/{user['objectId']}", json={"mobilePhoneVerified": False}, headers=MASTER
    )
    asked = client.post(
        "/1.1/requestMobilePhoneVerify", json={"mobilePhoneNumber": PHONE}, headers=APP
    )
    assert error_of(asked) == 608


def captcha_code(storage, token):
    """The characters the image shows, read back from the master-only row."""
    with storage.write() as tx:
        return tx.get(captcha.CAPTCHA_CLASS, captcha._row_id("captcha", token)).data["code"]


def test_captcha_not_required_by_default(client, clock):
    assert request_code(client, validate_token="anything").status_code == 200


def test_codes_are_stored_hashed(app, client, clock):
    request_code(client)
    code = last_code(app.storage)
    with app.storage.write() as tx:
        row = tx.get(sms.CODE_CLASS, sms._row_id(PHONE, "sms"))
    assert code not in str(row.data)
    assert row.acl == {}
