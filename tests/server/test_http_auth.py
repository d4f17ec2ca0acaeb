"""Authentication: keys, signatures, master key, legacy headers, the text/plain fallback."""

import hashlib
import json

import pytest
from werkzeug.test import Client

from leancloud.server import create_app

APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY = "app-id", "app-key", "master-key", "hook-key"


class SessionStorage:
    """Only what authentication asks of storage: sessions and roles."""

    def session_user(self, token):
        return {"good-token": "user1"}.get(token)

    def role_names(self, user_id):
        return frozenset({"Admin"}) if user_id == "user1" else frozenset()


@pytest.fixture
def app(tmp_path):
    app = create_app(
        str(tmp_path),
        app_id=APP_ID,
        app_key=APP_KEY,
        master_key=MASTER_KEY,
        hook_key=HOOK_KEY,
        storage=SessionStorage(),
    )
    seen = []

    def whoami(request):
        seen.append(request.caller)
        return {"ok": True}

    from werkzeug.routing import Rule

    app.url_map.add(Rule("/1.1/whoami", methods=["GET", "POST", "PUT"], endpoint=whoami))
    app.seen = seen
    return app


def sign(key, ts="1700000000000", master=False):
    digest = hashlib.md5((ts + key).encode()).hexdigest()
    return f"{digest},{ts},master" if master else f"{digest},{ts}"


def call(app, headers, method="GET", **kwargs):
    response = Client(app).open("/1.1/whoami", method=method, headers=headers, **kwargs)
    return response, (app.seen[-1] if app.seen and response.status_code == 200 else None)


@pytest.mark.parametrize(
    "headers, master",
    [
        ({"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}, False),
        ({"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}, True),
        ({"X-LC-Id": APP_ID, "X-LC-Sign": sign(APP_KEY)}, False),
        ({"X-LC-Id": APP_ID, "X-LC-Sign": sign(MASTER_KEY, master=True)}, True),
        ({"X-AVOSCloud-Application-Id": APP_ID, "X-AVOSCloud-Application-Key": APP_KEY}, False),
        ({"X-Uluru-Application-Id": APP_ID, "X-Uluru-Application-Key": APP_KEY}, False),
        ({"X-AVOSCloud-Application-Id": APP_ID, "X-AVOSCloud-Request-Sign": sign(APP_KEY)}, False),
        ({"X-AVOSCloud-Application-Id": APP_ID, "X-AVOSCloud-Master-Key": MASTER_KEY}, True),
        ({"X-Uluru-Application-Id": APP_ID, "X-Uluru-Master-Key": MASTER_KEY}, True),
    ],
)
def test_accepted_credentials(app, headers, master):
    response, caller = call(app, headers)
    assert response.status_code == 200
    assert caller.principal.master is master


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-LC-Id": APP_ID},
        {"X-LC-Id": "other", "X-LC-Key": APP_KEY},
        {"X-LC-Id": APP_ID, "X-LC-Key": "wrong"},
        {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY + ",master"},  # the app key is not the master key
        {
            "X-LC-Id": APP_ID,
            "X-LC-Key": MASTER_KEY,
        },  # master key without ",master" is not the app key
        {
            "X-LC-Id": APP_ID,
            "X-LC-Sign": sign(APP_KEY).upper(),
        },  # uppercase hex fails, as documented
        {"X-LC-Id": APP_ID, "X-LC-Sign": sign(APP_KEY, master=True)},
        {"X-LC-Id": APP_ID, "X-LC-Sign": sign(MASTER_KEY)},
        {"X-LC-Id": APP_ID, "X-LC-Sign": "abc"},
        {"X-LC-Id": APP_ID, "X-LC-Sign": sign(APP_KEY) + ",ax-sig-1"},
        {"X-LC-Id": APP_ID, "X-AVOSCloud-Master-Key": "wrong"},
    ],
)
def test_refused_credentials(app, headers):
    response, _ = call(app, headers)
    assert response.status_code == 401
    assert response.get_json() == {"code": 401, "error": "Unauthorized."}
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"


def test_session_resolves_user_and_roles(app):
    _, caller = call(app, {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-LC-Session": "good-token"})
    assert caller.principal.user_id == "user1"
    assert caller.principal.acl_keys() == ("*", "user1", "role:Admin")
    assert caller.session_token == "good-token"


def test_legacy_session_header(app):
    _, caller = call(
        app, {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-AVOSCloud-Session-Token": "good-token"}
    )
    assert caller.principal.user_id == "user1"


def test_unknown_session_is_anonymous(app):
    response, caller = call(app, {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-LC-Session": "nope"})
    assert response.status_code == 200
    assert caller.principal.user_id is None
    assert caller.session_token == "nope"


def test_hook_key_and_production_flag(app):
    _, caller = call(
        app, {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-LC-Hook-Key": HOOK_KEY, "X-LC-Prod": "0"}
    )
    assert caller.hook_key and caller.may_ignore_hooks and not caller.production
    _, caller = call(app, {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "X-LC-Hook-Key": "wrong"})
    assert not caller.hook_key and not caller.may_ignore_hooks and caller.production


def test_text_plain_fallback(app):
    body = {
        "_method": "GET",
        "_ApplicationId": APP_ID,
        "_ApplicationKey": APP_KEY,
        "_SessionToken": "good-token",
    }
    response = Client(app).post("/1.1/whoami", data=json.dumps(body), content_type="text/plain")
    assert response.status_code == 200
    assert app.seen[-1].principal.user_id == "user1"


def test_text_plain_fallback_master_and_method(app):
    seen_methods = []

    def echo(request):
        seen_methods.append((request.method, request.json_object(), dict(request.params)))
        return {}

    from werkzeug.routing import Rule

    app.url_map.add(Rule("/1.1/echo", methods=["GET", "PUT"], endpoint=echo))
    client = Client(app)
    body = {
        "_method": "PUT",
        "_ApplicationId": APP_ID,
        "_MasterKey": MASTER_KEY,
        "a": 1,
        "_ClientVersion": "js",
    }
    assert (
        client.post("/1.1/echo", data=json.dumps(body), content_type="text/plain").status_code
        == 200
    )
    assert seen_methods[-1] == ("PUT", {"a": 1}, {})
    body = {
        "_method": "GET",
        "_ApplicationId": APP_ID,
        "_ApplicationKey": APP_KEY,
        "where": {"a": 1},
        "limit": 2,
    }
    assert (
        client.post("/1.1/echo", data=json.dumps(body), content_type="text/plain").status_code
        == 200
    )
    assert seen_methods[-1] == ("GET", {}, {"where": '{"a":1}', "limit": "2"})
    bad = {"_method": "GET", "_ApplicationId": APP_ID, "_ApplicationKey": "wrong"}
    assert (
        client.post("/1.1/echo", data=json.dumps(bad), content_type="text/plain").status_code == 401
    )


def test_date_needs_no_credentials(app):
    response = Client(app).get("/1.1/date")
    assert response.status_code == 200
    body = response.get_json()
    assert body["__type"] == "Date" and body["iso"].endswith("Z") and len(body["iso"]) == 24
