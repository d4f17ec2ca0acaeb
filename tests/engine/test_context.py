"""The calling user: resolved per request, current only during it, never shared."""

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import responses
from werkzeug.test import Client

from leancloud import LeanCloudError, Object, User, client
from leancloud.engine import Engine, LeanEngineError
from leancloud.server import passwords
from tests.conftest import API
from tests.engine.conftest import APP_HEADERS, post


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


def live_headers(server, token=None):
    headers = {"X-LC-Id": server.app_id, "X-LC-Key": server.app_key}
    if token:
        headers["X-LC-Session"] = token
    return headers


def sign_up(prefix="engine"):
    user = User()
    user.sign_up(f"{prefix}-{uuid.uuid4().hex[:10]}", "secret-pw")
    User.set_current(None)
    return user


def whoami_engine(**options):
    engine = Engine(**options)

    @engine.define
    def whoami():
        user = engine.current.user
        if user is None:
            return None
        return {
            "id": user.id,
            "username": user.get("username"),
            "token": engine.current.session_token,
        }

    return engine


# -- resolution ----------------------------------------------------------------------


def test_the_session_token_user_is_fetched(leancloud_server):
    user = sign_up()
    http = Client(whoami_engine())
    status, body = post(
        http, "/1.1/functions/whoami", headers=live_headers(leancloud_server, user.session_token)
    )
    assert (status, body) == (
        200,
        {"result": {"id": user.id, "username": user.get("username"), "token": user.session_token}},
    )


def test_an_invalid_session_token_is_401_211(leancloud_server):
    http = Client(whoami_engine())
    status, body = post(
        http, "/1.1/functions/whoami", headers=live_headers(leancloud_server, "no-such-token")
    )
    assert status == 401
    assert body["code"] == 211


def test_rpc_and_hooks_resolve_the_user_too(leancloud_server):
    user = sign_up()
    engine = whoami_engine()
    seen = []
    engine.before_save("EngineCtx")(lambda obj: seen.append(engine.current.user.id))
    http = Client(engine)
    headers = live_headers(leancloud_server, user.session_token)
    assert post(http, "/1.1/call/whoami", headers=headers)[1]["result"]["id"] == user.id
    hook_headers = {**headers, "X-LC-Hook-Key": leancloud_server.hook_key}
    assert (
        post(http, "/1.1/functions/EngineCtx/beforeSave", {"object": {}}, headers=hook_headers)[0]
        == 200
    )
    assert seen == [user.id]


def test_without_fetch_user_the_user_only_carries_the_token(http, api):
    # ``api`` answers nothing: any request to fetch the user would fail the call.
    http = Client(whoami_engine(fetch_user=False))
    status, body = post(
        http, "/1.1/functions/whoami", headers={**APP_HEADERS, "X-LC-Session": "st1"}
    )
    assert (status, body) == (200, {"result": {"id": None, "username": None, "token": "st1"}})


def test_fetch_user_per_function_overrides_the_engine(api):
    engine = Engine(fetch_user=True)

    @engine.define(fetch_user=False)
    def light():
        return engine.current.user.session_token

    status, body = post(
        Client(engine), "/1.1/functions/light", headers={**APP_HEADERS, "X-LC-Session": "st1"}
    )
    assert (status, body) == (200, {"result": "st1"})


def test_fetch_user_per_function_can_turn_fetching_on(api):
    api.add(
        responses.GET,
        f"{API}/users/me",
        json={"objectId": "u1", "username": "ann", "sessionToken": "st1"},
    )
    engine = Engine(fetch_user=False)

    @engine.define("full", fetch_user=True)
    def full_user():
        return engine.current.user.get("username")

    status, body = post(
        Client(engine), "/1.1/functions/full", headers={**APP_HEADERS, "X-LC-Session": "st1"}
    )
    assert (status, body) == (200, {"result": "ann"})
    assert api.calls[0].request.url.endswith("/users/me?session_token=st1")
    assert "X-LC-Session" not in api.calls[0].request.headers


def test_the_legacy_user_proxy_is_the_requests_user():
    import leancloud.engine

    engine = Engine(fetch_user=False)
    engine.define("legacy")(lambda: leancloud.engine.user.session_token)
    headers = {**APP_HEADERS, "X-LC-Session": "st1"}
    assert post(Client(engine), "/1.1/functions/legacy", headers=headers) == (
        200,
        {"result": "st1"},
    )
    assert not leancloud.engine.user  # None outside the request


def test_no_token_means_no_user(http):
    http = Client(whoami_engine())
    assert post(http, "/1.1/functions/whoami") == (200, {"result": None})


def test_meta_has_the_remote_address():
    engine = Engine(fetch_user=False)
    engine.define("meta")(lambda: engine.current.meta)
    http = Client(engine)
    cases = [
        ({"X-Real-IP": "1.2.3.4", "X-Forwarded-For": "5.6.7.8"}, "1.2.3.4"),
        ({"X-Forwarded-For": "5.6.7.8, 10.0.0.1"}, "5.6.7.8, 10.0.0.1"),
        ({}, "127.0.0.1"),
    ]
    for extra, address in cases:
        environ = {"REMOTE_ADDR": "127.0.0.1"}
        headers = {**APP_HEADERS, **extra}
        assert post(http, "/1.1/functions/meta", headers=headers, environ_base=environ)[1] == {
            "result": {"remote_address": address}
        }
    assert engine.current.meta == {} and engine.current.session_token is None


# -- nothing outlives the request ----------------------------------------------------


def test_the_previous_user_is_restored_after_a_request_and_after_a_failure():
    engine = Engine(fetch_user=False)
    engine.define("ok")(lambda: engine.current.user.session_token)

    @engine.define
    def fail():
        raise LeanEngineError("no")

    @engine.define
    def crash():
        raise RuntimeError("bug")

    before = User()
    User.set_current(before)
    http = Client(engine)
    headers = {**APP_HEADERS, "X-LC-Session": "st1"}
    assert post(http, "/1.1/functions/ok", headers=headers) == (200, {"result": "st1"})
    assert post(http, "/1.1/functions/fail", headers=headers)[0] == 400
    assert post(http, "/1.1/functions/crash", headers=headers)[0] == 500
    assert User.get_current() is before


def test_outbound_calls_carry_the_session_only_during_the_request(api):
    api.add(responses.GET, f"{API}/classes/Ctx/x1", json={"objectId": "x1"})
    api.add(responses.GET, f"{API}/classes/Ctx/x1", json={"objectId": "x1"})
    engine = Engine(fetch_user=False)

    @engine.define
    def fetch():
        Object.extend("Ctx").create_without_data("x1").fetch()

    post(Client(engine), "/1.1/functions/fetch", headers={**APP_HEADERS, "X-LC-Session": "st1"})
    Object.extend("Ctx").create_without_data("x1").fetch()
    inside, after = (call.request.headers for call in api.calls)
    assert inside["X-LC-Session"] == "st1"
    assert "X-LC-Session" not in after


def test_a_reused_worker_thread_does_not_keep_the_user():
    http = Client(whoami_engine(fetch_user=False))

    def call(token):
        headers = {**APP_HEADERS, "X-LC-Session": token} if token else APP_HEADERS
        result = post(http, "/1.1/functions/whoami", headers=headers)[1]["result"]
        return result, User.get_current()

    with ThreadPoolExecutor(max_workers=1) as pool:
        first, after_first = pool.submit(call, "st1").result()
        second, after_second = pool.submit(call, None).result()
    assert first["token"] == "st1" and after_first is None
    assert second is None and after_second is None


def concurrent_calls(engine, tokens, headers_for):
    """Call ``whoami`` for every token at once; each call waits until all are inside."""
    barrier = threading.Barrier(len(tokens), timeout=10)
    inner = engine._registry.get("whoami").func

    @engine.define("together")
    def together():
        barrier.wait()
        return inner()

    results = {}

    def call(token):
        body = Client(engine).post("/1.1/functions/together", headers=headers_for(token)).get_data()
        results[token] = json.loads(body)["result"]

    threads = [threading.Thread(target=call, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return results


def test_concurrent_requests_never_see_each_others_user():
    tokens = [f"st{i}" for i in range(8)]
    results = concurrent_calls(
        whoami_engine(fetch_user=False), tokens, lambda t: {**APP_HEADERS, "X-LC-Session": t}
    )
    assert {token: result["token"] for token, result in results.items()} == {t: t for t in tokens}


def test_concurrent_requests_call_out_as_their_own_user(leancloud_server):
    """Each function asks the server who it is while all the others are running too."""
    users = [sign_up("outbound") for _ in range(4)]
    engine = Engine(fetch_user=False)

    @engine.define
    def whoami():
        return {"username": client.get("/users/me").json()["username"]}

    by_token = {user.session_token: user.get("username") for user in users}
    results = concurrent_calls(engine, list(by_token), lambda t: live_headers(leancloud_server, t))
    assert {token: result["username"] for token, result in results.items()} == by_token
    with pytest.raises(LeanCloudError) as after:
        client.get("/users/me")  # later outbound calls carry none of their sessions
    assert after.value.code == 211


def test_concurrent_requests_of_real_users(leancloud_server):
    users = [sign_up("concurrent") for _ in range(3)]
    by_token = {user.session_token: user for user in users}
    results = concurrent_calls(
        whoami_engine(), list(by_token), lambda t: live_headers(leancloud_server, t)
    )
    for token, result in results.items():
        assert result["id"] == by_token[token].id
        assert result["username"] == by_token[token].get("username")
