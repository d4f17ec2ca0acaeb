"""Who may call the Engine: the accept/refuse matrix, keys read per request, hook authority."""

import hashlib
import json

import pytest

from leancloud import client
from leancloud.engine import Engine
from leancloud.engine.signatures import sign_hook
from tests.conftest import APP_ID, APP_KEY, HOOK_KEY, MASTER_KEY
from tests.engine.conftest import APP_HEADERS, HOOK_HEADERS, MASTER_HEADERS, post

ANDROID_KEY = "test-android-key"
TS = "1453014943466"
UNAUTHORIZED = (401, {"code": 401, "error": "Unauthorized."})


def md5_sign(key, suffix=""):
    return hashlib.md5((TS + key).encode()).hexdigest() + "," + TS + suffix


@pytest.fixture
def engine():
    engine = Engine()

    @engine.define
    def hello():
        return "hi"

    @engine.define
    def _messageReceived(**params):
        return "realtime"

    engine.before_save("Todo")(lambda obj: None)
    return engine


@pytest.fixture
def android_key(monkeypatch):
    monkeypatch.setenv("LEANCLOUD_APP_ANDX_KEY", ANDROID_KEY)


ACCEPTED = {
    "app key": {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY},
    "master key as app key": {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY},
    "master key, master": {"X-LC-Id": APP_ID, "X-LC-Key": f"{MASTER_KEY},master"},
    "app sign": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY)},
    "upper-case sign": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY).upper()},
    "master sign": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(MASTER_KEY, ",master")},
    "AVOSCloud key": {"X-AVOSCloud-Application-Id": APP_ID, "X-AVOSCloud-Application-Key": APP_KEY},
    "Uluru key": {"X-Uluru-Application-Id": APP_ID, "X-Uluru-Application-Key": APP_KEY},
    "AVOSCloud master key": {
        "X-AVOSCloud-Application-Id": APP_ID,
        "X-AVOSCloud-Master-Key": MASTER_KEY,
    },
    "Uluru master key": {"X-LC-Id": APP_ID, "X-Uluru-Master-Key": MASTER_KEY},
    "AVOSCloud sign": {"X-LC-Id": APP_ID, "X-AVOSCloud-Request-Sign": md5_sign(APP_KEY)},
    "hook key": {"X-LC-Id": APP_ID, "X-LC-Hook-Key": HOOK_KEY},
    "wrong sign, right key": {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-LC-Sign": "0,1"},
}
REFUSED = {
    "nothing": {},
    "app id only": {"X-LC-Id": APP_ID},
    "key only": {"X-LC-Key": APP_KEY},
    "wrong app id": {"X-LC-Id": "other", "X-LC-Key": APP_KEY},
    "wrong key": {"X-LC-Id": APP_ID, "X-LC-Key": "wrong"},
    "empty key": {"X-LC-Id": APP_ID, "X-LC-Key": ""},
    "wrong sign": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign("wrong")},
    "app key signed as master": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY, ",master")},
    "sign without timestamp": {"X-LC-Id": APP_ID, "X-LC-Sign": "abcdef"},
    "sign with a bad timestamp": {"X-LC-Id": APP_ID, "X-LC-Sign": "abcdef,now"},
    "sign with an unknown suffix": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY, ",other")},
    "sign with too many parts": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY, ",master,x")},
    "android sign without android key": {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign("", ",ax-sig-1")},
    "wrong master key": {"X-LC-Id": APP_ID, "X-LC-Key": "wrong,master"},
    "app key, master": {"X-LC-Id": APP_ID, "X-LC-Key": f"{APP_KEY},master"},
    "wrong AVOSCloud master key": {"X-LC-Id": APP_ID, "X-AVOSCloud-Master-Key": "wrong"},
    "wrong hook key": {"X-LC-Id": APP_ID, "X-LC-Hook-Key": "wrong"},
    "X-LC-Master-Key is no header": {"X-LC-Id": APP_ID, "X-LC-Master-Key": MASTER_KEY},
}


@pytest.mark.parametrize("headers", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted(http, headers):
    assert post(http, "/1.1/functions/hello", headers=headers) == (200, {"result": "hi"})


@pytest.mark.parametrize("headers", REFUSED.values(), ids=REFUSED.keys())
def test_refused(http, headers):
    assert post(http, "/1.1/functions/hello", headers=headers) == UNAUTHORIZED


def test_android_key_and_its_signature(http, android_key):
    for headers in (
        {"X-LC-Id": APP_ID, "X-LC-Key": ANDROID_KEY},
        {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(ANDROID_KEY, ",ax-sig-1")},
    ):
        assert post(http, "/1.1/functions/hello", headers=headers)[0] == 200
    wrong = {"X-LC-Id": APP_ID, "X-LC-Sign": md5_sign(APP_KEY, ",ax-sig-1")}
    assert post(http, "/1.1/functions/hello", headers=wrong) == UNAUTHORIZED


def text_plain(http, fields, content_type="text/plain"):
    response = http.post(
        "/1.1/functions/hello", data=json.dumps(fields), headers={"Content-Type": content_type}
    )
    return response.status_code


def test_browser_fallback_credentials_in_a_text_plain_body(http):
    assert text_plain(http, {"_ApplicationId": APP_ID, "_ApplicationKey": APP_KEY}) == 200
    assert text_plain(http, {"_ApplicationId": APP_ID, "_MasterKey": MASTER_KEY}) == 200
    assert text_plain(http, {"_ApplicationId": APP_ID, "_ApplicationKey": "wrong"}) == 401
    assert text_plain(http, {"_ApplicationId": APP_ID}) == 401
    fields = {"_ApplicationId": APP_ID, "_ApplicationKey": APP_KEY}
    assert text_plain(http, fields, content_type="application/json") == 401


def test_headers_win_over_the_body_fallback(http):
    data = json.dumps({"_ApplicationId": APP_ID, "_ApplicationKey": APP_KEY})
    headers = {"Content-Type": "text/plain", "X-LC-Id": APP_ID}
    assert http.post("/1.1/functions/hello", data=data, headers=headers).status_code == 401


def test_keys_are_read_per_request_from_init(http):
    assert post(http, "/1.1/functions/hello")[0] == 200
    client.init(APP_ID, "rotated-key")
    assert post(http, "/1.1/functions/hello") == UNAUTHORIZED
    assert (
        post(http, "/1.1/functions/hello", headers={"X-LC-Id": APP_ID, "X-LC-Key": "rotated-key"})[
            0
        ]
        == 200
    )


def test_keys_come_from_the_environment_without_init(http, monkeypatch):
    for name in ("APP_ID", "APP_KEY", "MASTER_KEY", "HOOK_KEY"):
        monkeypatch.setattr(client, name, None)
    assert post(http, "/1.1/functions/hello") == UNAUTHORIZED  # nothing configured at all
    monkeypatch.setenv("LEANCLOUD_APP_ID", APP_ID)
    monkeypatch.setenv("LEANCLOUD_APP_KEY", APP_KEY)
    monkeypatch.setenv("LEANCLOUD_APP_MASTER_KEY", MASTER_KEY)
    monkeypatch.setenv("LEANCLOUD_APP_HOOK_KEY", HOOK_KEY)
    assert post(http, "/1.1/functions/hello")[0] == 200
    assert post(http, "/1.1/functions/_ops/metadatas", headers=MASTER_HEADERS)[0] == 200
    assert (
        post(http, "/1.1/functions/Todo/beforeSave", {"object": {}}, headers=HOOK_HEADERS)[0] == 200
    )


# -- hook authority ------------------------------------------------------------------

HOOK_PATHS = [
    ("/1.1/functions/Todo/beforeSave", {"object": {}}),
    ("/1.1/functions/_User/onLogin", {"object": {}}),
    ("/1.1/functions/_User/onAuthData", {"authData": {}}),
    ("/1.1/functions/onVerified/sms", {"object": {}}),
    ("/1.1/functions/BigQuery/onComplete", {"status": "OK"}),
    ("/1.1/functions/_messageReceived", {}),
    ("/1.1/call/_messageReceived", {}),
]


@pytest.mark.parametrize("path, body", HOOK_PATHS)
def test_hooks_refuse_app_key_callers(http, path, body):
    assert post(http, path, body, headers=APP_HEADERS) == UNAUTHORIZED


@pytest.mark.parametrize("path", [path for path, _ in HOOK_PATHS])
def test_hook_authority_is_checked_before_the_body(http, path):
    assert post(http, path, {"object": "not an object"}, headers=APP_HEADERS) == UNAUTHORIZED


@pytest.mark.parametrize("path, body", HOOK_PATHS)
@pytest.mark.parametrize("headers", [HOOK_HEADERS, MASTER_HEADERS], ids=["hook key", "master key"])
def test_hooks_accept_the_hook_key_or_the_master_key(http, path, body, headers):
    assert post(http, path, body, headers=headers)[0] == 200


def test_realtime_hooks_accept_a_valid_legacy_signature(http):
    signed = {"__sign": sign_hook("_messageReceived", MASTER_KEY)}
    assert post(http, "/1.1/functions/_messageReceived", signed) == (200, {"result": "realtime"})
    forged = {"__sign": sign_hook("_messageReceived", "not-the-master-key")}
    assert post(http, "/1.1/functions/_messageReceived", forged) == UNAUTHORIZED
    other_name = {"__sign": sign_hook("_messageSent", MASTER_KEY)}
    assert post(http, "/1.1/functions/_messageReceived", other_name) == UNAUTHORIZED


def test_an_invalid_signature_is_refused_even_with_the_hook_key(http):
    forged = {"__sign": "1700000000000,0000"}
    assert (
        post(http, "/1.1/functions/_messageReceived", forged, headers=HOOK_HEADERS) == UNAUTHORIZED
    )


def test_signatures_need_a_configured_master_key(http):
    client.init(APP_ID, APP_KEY, hook_key=HOOK_KEY)
    signed = {"__sign": sign_hook("_messageReceived", MASTER_KEY)}
    assert post(http, "/1.1/functions/_messageReceived", signed) == UNAUTHORIZED
    assert post(http, "/1.1/functions/_messageReceived", headers=HOOK_HEADERS)[0] == 200


def test_legacy_signature_worked_example():
    assert sign_hook("__before_for_Foo", "masterkey", 1700000000000) == (
        "1700000000000,c2564029b47d0d5fa920a368b3aa2356278ff075"
    )
