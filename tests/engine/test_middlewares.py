"""CookieSessionMiddleware and HttpsRedirectMiddleware around a Flask app."""

import datetime as dt
import time

import flask
import pytest
import responses
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import Client, EnvironBuilder

from leancloud import User
from leancloud.engine import CookieSessionMiddleware, Engine, HttpsRedirectMiddleware
from tests.conftest import API
from tests.engine.conftest import APP_HEADERS

SECRET = "cookie-secret"
COOKIE = "leancloud:session"
LOGIN_ANSWER = {"objectId": "u1", "username": "ann", "sessionToken": "st1"}


def flask_app():
    app = flask.Flask(__name__)

    @app.post("/login")
    def login():
        User().login("ann", "pw")
        return "in"

    @app.get("/me")
    def me():
        user = User.get_current()
        if user is None:
            return flask.jsonify(None)
        return flask.jsonify(
            {"id": user.id, "token": user.session_token, "name": user.get("username")}
        )

    @app.post("/logout")
    def logout():
        User.get_current().logout()
        return "out"

    @app.get("/static/app.js")
    def static_file():
        return flask.jsonify(User.get_current() is not None)

    return app


def with_cookies(**options):
    app = flask_app()
    app.wsgi_app = CookieSessionMiddleware(app.wsgi_app, SECRET, **options)
    return app


def cookie_value(client: Client):
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def login(client, api):
    api.add(responses.POST, f"{API}/login", json=LOGIN_ANSWER)
    assert client.post("/login").status_code == 200


# -- cookie session ------------------------------------------------------------------


def test_login_writes_the_cookie_and_later_requests_have_the_user(api):
    client = with_cookies().test_client()
    assert client.get("/me").json is None
    login(client, api)
    header = client.get("/me").headers  # the next answers refresh the cookie
    assert "HttpOnly" in header["Set-Cookie"] and "Path=/" in header["Set-Cookie"]
    payload = URLSafeTimedSerializer(SECRET, salt="leancloud.engine.cookie-session").loads(
        cookie_value(client)
    )
    assert payload == {"uid": "u1", "session_token": "st1"}
    assert client.get("/me").json == {"id": "u1", "token": "st1", "name": None}
    assert User.get_current() is None  # the request's user stayed in the request


def test_logout_clears_the_cookie(api):
    client = with_cookies().test_client()
    login(client, api)
    response = client.post("/logout")
    assert f"{COOKIE}=;" in response.headers["Set-Cookie"].replace('"', "")
    assert cookie_value(client) is None
    assert client.get("/me").json is None
    assert "Set-Cookie" not in client.get("/me").headers  # nothing to clear any more


def test_fetch_user_fetches_the_cookie_user(api):
    client = with_cookies(fetch_user=True).test_client()
    login(client, api)
    api.add(responses.GET, f"{API}/users/me", json=LOGIN_ANSWER)
    assert client.get("/me").json == {"id": "u1", "token": "st1", "name": "ann"}
    assert api.calls[-1].request.url.endswith("/users/me?session_token=st1")


def test_a_revoked_session_is_logged_out(api):
    client = with_cookies(fetch_user=True).test_client()
    login(client, api)
    api.add(
        responses.GET,
        f"{API}/users/me",
        status=400,
        json={"code": 211, "error": "Could not find user."},
    )
    response = client.get("/me")
    assert response.json is None
    assert cookie_value(client) is None


@pytest.mark.parametrize("value", ["forged", "eyJ1aWQiOiJ1MSJ9.bad.sig", ""])
def test_forged_cookies_are_ignored(value):
    client = with_cookies().test_client()
    client.set_cookie(COOKIE, value)
    assert client.get("/me").json is None


def test_a_cookie_signed_with_another_secret_is_ignored():
    client = with_cookies().test_client()
    other = URLSafeTimedSerializer("other", salt="leancloud.engine.cookie-session")
    client.set_cookie(COOKIE, other.dumps({"uid": "u1", "session_token": "st1"}))
    assert client.get("/me").json is None


def test_max_age_is_enforced_on_the_signature(monkeypatch):
    middleware = CookieSessionMiddleware(flask_app().wsgi_app, SECRET, max_age=3600)
    app = flask_app()
    app.wsgi_app = middleware
    client = app.test_client()
    payload = {"uid": "u1", "session_token": "st1"}
    client.set_cookie(COOKIE, middleware._serializer.dumps(payload))
    assert client.get("/me").json["token"] == "st1"
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: 1_000_000_000.0)
        old = middleware._serializer.dumps(payload)
    client.set_cookie(COOKIE, old)
    assert client.get("/me").json is None


def test_cookie_options(api):
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    client = with_cookies(name="sid", max_age=600, expires=expires).test_client()
    login(client, api)
    header = client.get("/me").headers["Set-Cookie"]
    assert header.startswith("sid=")
    assert "Max-Age=600" in header and "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in header


@pytest.mark.parametrize("excluded", [["/static/"], "/static/"])
def test_excluded_paths_are_left_alone(api, excluded):
    client = with_cookies(excluded_paths=excluded).test_client()
    login(client, api)
    response = client.get("/static/app.js")
    assert response.json is False
    assert "Set-Cookie" not in response.headers
    assert cookie_value(client) is not None
    assert client.get("/me").json["token"] == "st1"  # other paths still have the user


def test_engine_paths_are_excluded_and_the_engine_wraps_the_cookie_app(api):
    app = with_cookies()
    engine = Engine(app, fetch_user=False)
    engine.define("who")(lambda: engine.current.session_token)
    http = Client(engine)
    login(http, api)
    response = http.post("/1.1/functions/who", headers=APP_HEADERS)
    assert response.json == {"result": None}  # the cookie does not log in cloud calls
    assert "Set-Cookie" not in response.headers
    assert http.get("/me").json["token"] == "st1"  # the app behind the engine still sees it


def generator_app(environ, start_response):
    """A WSGI app that runs only when its body is iterated (PEP 3333 allows it)."""
    user = User.get_current()
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield (user.session_token if user else "nobody").encode()


@pytest.mark.parametrize("close_first", [False, True])
def test_a_generator_app_sees_the_cookie_user_and_keeps_its_cookie(close_first):
    middleware = CookieSessionMiddleware(generator_app, SECRET)
    cookie = middleware._serializer.dumps({"uid": "u1", "session_token": "st1"})
    environ = EnvironBuilder(path="/", headers={"Cookie": f"{COOKIE}={cookie}"}).get_environ()
    started = []
    body = middleware(environ, lambda status, headers, exc_info=None: started.append(headers))
    assert started == []  # nothing ran yet
    if close_first:
        body.close()
        assert User.get_current() is None  # a body closed unsent restores the user
        return
    assert list(body) == [b"st1"]
    (set_cookie,) = [value for name, value in started[0] if name == "Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}=") and "Max-Age=0" not in set_cookie  # renewed
    body.close()
    assert User.get_current() is None


def test_a_secret_is_required():
    with pytest.raises(RuntimeError):
        CookieSessionMiddleware(flask_app().wsgi_app, "")


# -- https redirect ------------------------------------------------------------------


def redirecting_client():
    app = flask_app()
    app.wsgi_app = HttpsRedirectMiddleware(app.wsgi_app)
    return app.test_client()


def test_production_http_requests_are_redirected(monkeypatch):
    monkeypatch.setenv("LEANCLOUD_APP_ENV", "production")
    client = redirecting_client()
    response = client.get("/me?x=1&y=%C3%A9", headers={"Host": "app.example.com"})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.example.com/me?x=1&y=%C3%A9"
    plain = client.get("/me", headers={"Host": "app.example.com", "X-Forwarded-Proto": "http"})
    assert plain.headers["Location"] == "https://app.example.com/me"


def test_the_environment_is_read_per_request(monkeypatch):
    monkeypatch.delenv("LEANCLOUD_APP_ENV", raising=False)
    client = redirecting_client()  # built before the platform's variable is seen
    assert client.get("/me").status_code == 200
    monkeypatch.setenv("LEANCLOUD_APP_ENV", "production")
    assert client.get("/me").status_code == 302


def test_https_requests_pass(monkeypatch):
    monkeypatch.setenv("LEANCLOUD_APP_ENV", "production")
    response = redirecting_client().get("/me", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200


@pytest.mark.parametrize("env", [None, "stage", "development"])
def test_only_production_redirects(monkeypatch, env):
    if env:
        monkeypatch.setenv("LEANCLOUD_APP_ENV", env)
    assert redirecting_client().get("/me").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/1.1/functions/_ops/metadatas",
        "/1/functions/_ops/metadatas",
        "/__engine/1/ping",
        "/__engine/1.1/ping/",
    ],
)
def test_platform_calls_are_not_redirected(monkeypatch, path):
    monkeypatch.setenv("LEANCLOUD_APP_ENV", "production")
    http = Client(HttpsRedirectMiddleware(Engine(flask_app())))
    assert http.get(path).status_code != 302
    assert http.get("/1.1/functions/hello").status_code == 302
