"""The HTTP client: configuration, signing, routing, retries and error mapping."""
import datetime
import hashlib
import json
from types import SimpleNamespace

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

import leancloud
from leancloud import app_router, client, context
from leancloud.errors import LeanCloudError

from .conftest import API, APP_ID, APP_KEY, HOOK_KEY, MASTER_KEY


def _check_sign(header: str, key: str, master: bool) -> None:
    parts = header.split(",")
    assert len(parts) == (3 if master else 2)
    digest, timestamp = parts[0], parts[1]
    assert digest == hashlib.md5((timestamp + key).encode()).hexdigest()
    if master:
        assert parts[2] == "master"


def test_init_needs_a_key():
    with pytest.raises(RuntimeError):
        leancloud.init("id")


def test_request_headers_with_app_key(api):
    api.get(API + "/classes/Post", json={"results": []})
    client.get("/classes/Post")
    headers = api.calls[0].request.headers
    assert headers["X-LC-Id"] == APP_ID
    _check_sign(headers["X-LC-Sign"], APP_KEY, master=False)
    assert headers["X-LC-Prod"] == "1"
    assert "X-LC-Session" not in headers
    assert "X-LC-Hook-Key" not in headers
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert leancloud.__version__ in headers["User-Agent"]


def test_master_key_is_used_when_given_and_not_switched_off(api):
    leancloud.init(APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY)
    api.get(API + "/date", json={})
    api.get(API + "/date", json={})
    client.get("/date")
    leancloud.use_master_key(False)
    client.get("/date")
    first, second = (call.request.headers for call in api.calls)
    _check_sign(first["X-LC-Sign"], MASTER_KEY, master=True)
    _check_sign(second["X-LC-Sign"], APP_KEY, master=False)
    assert first["X-LC-Hook-Key"] == HOOK_KEY


def test_use_master_key_without_master_key_fails():
    with pytest.raises(RuntimeError):
        leancloud.use_master_key(True)


def test_master_key_only(api):
    leancloud.init(APP_ID, master_key=MASTER_KEY)
    api.get(API + "/date", json={})
    client.get("/date")
    _check_sign(api.calls[0].request.headers["X-LC-Sign"], MASTER_KEY, master=True)


def test_settings_come_from_the_environment_when_not_initialised(api, monkeypatch):
    client.APP_ID = client.APP_KEY = None
    monkeypatch.setenv("LEANCLOUD_APP_ID", "env-id")
    monkeypatch.setenv("LEANCLOUD_APP_KEY", "env-key")
    monkeypatch.setenv("LEANCLOUD_APP_HOOK_KEY", "env-hook")
    api.get(API + "/date", json={})
    client.get("/date")
    headers = api.calls[0].request.headers
    assert headers["X-LC-Id"] == "env-id"
    _check_sign(headers["X-LC-Sign"], "env-key", master=False)
    assert headers["X-LC-Hook-Key"] == "env-hook"
    assert client.get_app_info()["app_id"] == "env-id"


def test_uninitialised_sdk_refuses_to_send():
    client.APP_ID = None
    with pytest.raises(RuntimeError):
        client.get("/date")


def test_session_token_of_current_user(api):
    api.get(API + "/date", json={})
    context.current_user.set(SimpleNamespace(session_token="tok123"))
    client.get("/date")
    assert api.calls[0].request.headers["X-LC-Session"] == "tok123"


def test_use_production(api):
    api.get(API + "/date", json={})
    leancloud.use_production(False)
    client.get("/date")
    assert api.calls[0].request.headers["X-LC-Prod"] == "0"


@pytest.mark.parametrize("variable", ["LEANCLOUD_API_SERVER", "LC_API_SERVER"])
def test_api_server_from_environment_tolerates_trailing_slash(api, monkeypatch, variable):
    monkeypatch.delenv("LEANCLOUD_API_SERVER")
    monkeypatch.setenv(variable, "https://mine.example/")
    api.get("https://mine.example/1.1/classes/A", json={"results": []})
    client.get("/classes/A")


def test_dict_params_are_compact_json(api):
    api.get(API + "/classes/A", json={"results": []})
    client.get("/classes/A", {"where": {"a": 1, "b": [1, 2]}, "limit": 5})
    request = api.calls[0].request
    assert requests.utils.unquote(request.url).endswith('where={"a":1,"b":[1,2]}&limit=5')


def test_body_is_compact_json_and_null_when_empty(api):
    api.post(API + "/classes/A", json={"objectId": "x"})
    api.delete(API + "/classes/A/x", json={})
    client.post("/classes/A", {"a": 1}, query={"fetchWhenSave": False})
    client.delete("/classes/A/x")
    assert api.calls[0].request.body == b'{"a":1}'
    assert api.calls[0].request.url.endswith("?fetchWhenSave=false")
    assert api.calls[1].request.body == b"null"


def test_timeout_is_passed(api, monkeypatch):
    seen = {}
    original = client.session.request

    def spy(*args, **kwargs):
        seen["timeout"] = kwargs["timeout"]
        return original(*args, **kwargs)

    monkeypatch.setattr(client.session, "request", spy)
    monkeypatch.setattr(client, "TIMEOUT_SECONDS", 3)
    api.get(API + "/date", json={})
    client.get("/date")
    assert seen["timeout"] == 3


def test_request_hooks_run(api, monkeypatch):
    seen = []
    monkeypatch.setattr(client, "request_hooks", {"response": [lambda r, *a, **k: seen.append(r.url)]})
    api.get(API + "/date", json={})
    client.get("/date")
    assert seen == [API + "/date"]


@pytest.mark.parametrize(
    "status, body, content_type, code",
    [
        (400, {"code": 305, "error": "No effect"}, "application/json", 305),
        (200, {"error": "no code"}, "application/json", 1),
        (404, {}, "application/json", 404),
        (400, "<html>bad</html>", "text/html", -1),
        (200, "", "application/json", -1),
    ],
)
def test_failures_become_leancloud_errors(api, status, body, content_type, code):
    payload = json.dumps(body) if isinstance(body, dict) else body
    api.get(API + "/x", body=payload, status=status, content_type=content_type)
    with pytest.raises(LeanCloudError) as info:
        client.get("/x")
    assert info.value.code == code


def test_timeout_becomes_error_124(api):
    api.get(API + "/x", body=requests.ReadTimeout("slow"))
    with pytest.raises(LeanCloudError) as info:
        client.get("/x")
    assert info.value.code == 124


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("refused"),
        requests.exceptions.SSLError("bad certificate"),
        requests.exceptions.ChunkedEncodingError("answer cut off"),
        requests.exceptions.ContentDecodingError("bad gzip"),
    ],
)
def test_transport_failures_become_error_100(api, failure):
    api.get(API + "/x", body=failure)
    with pytest.raises(LeanCloudError) as info:
        client.get("/x")
    assert info.value.code == 100


def test_a_malformed_api_server_url_is_a_leancloud_error(monkeypatch):
    monkeypatch.setenv("LEANCLOUD_API_SERVER", "not a url")
    with pytest.raises(LeanCloudError) as info:
        client.get("/x")
    assert info.value.code == 100


@responses.activate(registry=OrderedRegistry)
def test_idempotent_reads_are_retried_on_gateway_errors(monkeypatch):
    monkeypatch.setattr(client.session.get_adapter(API).max_retries, "backoff_factor", 0)
    responses.get(API + "/x", status=502, body="")
    responses.get(API + "/x", status=503, body="")
    responses.get(API + "/x", json={"ok": True})
    assert client.get("/x").json() == {"ok": True}
    assert len(responses.calls) == 3


@responses.activate(registry=OrderedRegistry)
def test_writes_are_never_retried():
    responses.post(API + "/x", status=503, body="")
    responses.post(API + "/x", json={"ok": True})
    with pytest.raises(LeanCloudError) as info:
        client.post("/x", {"a": 1})
    assert info.value.code == 503
    assert len(responses.calls) == 1


def test_server_time_is_asked_without_credentials(api):
    api.get(API + "/date", json={"__type": "Date", "iso": "2026-01-12T00:00:00.000Z"})
    now = client.get_server_time()
    assert now == datetime.datetime(2026, 1, 12, tzinfo=datetime.timezone.utc)
    assert "X-LC-Id" not in api.calls[0].request.headers
    assert "X-LC-Sign" not in api.calls[0].request.headers


def test_use_region_validates():
    with pytest.raises(ValueError):
        leancloud.use_region("EU")
    leancloud.use_region("US")
    assert client.REGION == "US"


@pytest.mark.parametrize(
    "app_id, region, api_host",
    [
        ("abcdefghIJK-gzGzoHsz", "CN", "abcdefgh.lc-cn-n1-shared.com"),
        ("abcdefghIJK-9Nh9j0Va", "CN", "abcdefgh.api.lncldapi.com"),
        ("abcdefghIJK-MdYXbMMI", "CN", "abcdefgh.api.lncldglobal.com"),
        ("ABCDEFGHijk", "US", "abcdefgh.api.lncldglobal.com"),
    ],
)
def test_default_hosts_follow_leancloud_rules(app_id, region, api_host):
    hosts = app_router.default_hosts(app_id, region)
    assert hosts["api"] == api_host


def test_paths_are_routed_to_their_service():
    assert app_router.service_for_path("/push") == "push"
    assert app_router.service_for_path("/installations/x") == "push"
    assert app_router.service_for_path("/functions/hello") == "engine"
    assert app_router.service_for_path("/call/hello") == "engine"
    assert app_router.service_for_path("/collect") == "stats"
    assert app_router.service_for_path("/classes/A") == "api"


def test_without_api_server_the_region_hosts_are_used(api, monkeypatch):
    monkeypatch.delenv("LEANCLOUD_API_SERVER")
    leancloud.use_region("US")
    leancloud.init("abcdefghIJK", APP_KEY)
    api.get("https://abcdefgh.api.lncldglobal.com/1.1/classes/A", json={"results": []})
    api.post("https://abcdefgh.engine.lncldglobal.com/1.1/functions/f", json={"result": 1})
    client.get("/classes/A")
    client.post("/functions/f", {})


def test_router_answer_replaces_hosts(api):
    router = app_router.AppRouter("abcdefghIJK-gzGzoHsz", "CN", client.session)
    api.get(
        app_router.ROUTER_URL,
        json={"api_server": "api.example.com", "engine_server": "https://engine.example.com", "ttl": 60},
    )
    router._refresh()
    assert router.hosts["api"] == "api.example.com"
    assert router.hosts["engine"] == "engine.example.com"
    assert router.hosts["push"] == "abcdefgh.lc-cn-n1-shared.com"


def test_router_failure_keeps_default_hosts(api):
    router = app_router.AppRouter("abcdefghIJK-gzGzoHsz", "CN", client.session)
    api.get(app_router.ROUTER_URL, status=500, body="")
    router._refresh()
    assert router.hosts["api"] == "abcdefgh.lc-cn-n1-shared.com"


def test_an_environment_master_key_does_not_sign_after_init_with_an_app_key(api, monkeypatch):
    # LeanEngine sets LEANCLOUD_APP_MASTER_KEY for every app; init(id, key) must stay a
    # client (the official SDK signs with the app key here).
    monkeypatch.setenv("LEANCLOUD_APP_MASTER_KEY", "env-master")
    api.get(API + "/date", json={})
    api.get(API + "/date", json={})
    client.get("/date")
    leancloud.use_master_key()  # asking for it explicitly still works
    client.get("/date")
    first, second = (call.request.headers for call in api.calls)
    _check_sign(first["X-LC-Sign"], APP_KEY, master=False)
    _check_sign(second["X-LC-Sign"], "env-master", master=True)


def test_without_init_an_environment_master_key_signs(api, monkeypatch):
    client.APP_ID = client.APP_KEY = None
    for name, value in {
        "LEANCLOUD_APP_ID": "env-id",
        "LEANCLOUD_APP_KEY": "env-key",
        "LEANCLOUD_APP_MASTER_KEY": "env-master",
    }.items():
        monkeypatch.setenv(name, value)
    api.get(API + "/date", json={})
    client.get("/date")
    _check_sign(api.calls[0].request.headers["X-LC-Sign"], "env-master", master=True)


@pytest.mark.parametrize(
    "app_env, cli_staging, prod",
    [
        (None, None, "1"),
        ("production", None, "1"),
        ("stage", None, "0"),
        (None, "true", "0"),
        ("production", "true", "1"),
    ],
)
def test_production_flag_follows_leancloud_app_env(monkeypatch, app_env, cli_staging, prod):
    for name, value in (("LEANCLOUD_APP_ENV", app_env), ("LEAN_CLI_HAVE_STAGING", cli_staging)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert client._production_from_env() == prod


# -- retries over a real socket (``responses`` replaces the transport they live in) ----


class _RawServer:
    """A loopback HTTP peer that counts requests and answers each with ``reply``:
    raw bytes, or None to read the request and hang up without an answer."""

    def __init__(self, reply):
        import socket
        import threading

        self.reply = reply
        self.requests = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.url = "http://127.0.0.1:%d" % self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if not data:
                    continue
                self.requests += 1
                if self.reply is not None:
                    conn.sendall(self.reply)

    def close(self):
        self._sock.close()


@pytest.fixture
def raw_server(monkeypatch):
    servers = []

    def start(reply):
        server = _RawServer(reply)
        servers.append(server)
        monkeypatch.setenv("LEANCLOUD_API_SERVER", server.url)
        monkeypatch.setattr(client.session.get_adapter(server.url).max_retries, "backoff_factor", 0)
        return server

    yield start
    for server in servers:
        server.close()


_GATEWAY_ERROR = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("reply, code", [(None, 100), (_GATEWAY_ERROR, 503)])
def test_a_write_reaches_the_server_once_whatever_happens(raw_server, reply, code):
    server = raw_server(reply)
    with pytest.raises(LeanCloudError) as info:
        client.post("/classes/A", {"a": 1})
    assert info.value.code == code
    assert server.requests == 1


@pytest.mark.parametrize("reply, code", [(None, 100), (_GATEWAY_ERROR, 503)])
def test_a_read_is_retried_after_a_dropped_connection_or_gateway_error(raw_server, reply, code):
    server = raw_server(reply)
    with pytest.raises(LeanCloudError) as info:
        client.get("/classes/A")
    assert info.value.code == code
    assert server.requests == 3  # the first try and two retries


def test_a_write_is_retried_when_the_connection_was_refused(monkeypatch):
    retry = client.session.get_adapter(API).max_retries
    # Nothing was sent, so a POST may try again (urllib3 counts it as a connect error).
    from urllib3.exceptions import NewConnectionError

    again = retry.increment("POST", "/1.1/classes/A", error=NewConnectionError(None, "refused"))
    assert again.connect == retry.connect - 1


def test_a_307_answer_moves_the_app_to_the_named_host_and_resends(api, monkeypatch):
    monkeypatch.delenv("LEANCLOUD_API_SERVER")
    leancloud.use_region("US")  # no background refresh to mock
    leancloud.init("abcdefghIJK", APP_KEY)
    api.post(
        "https://abcdefgh.api.lncldglobal.com/1.1/classes/A",
        status=307,
        json={"api_server": "moved.example.com", "ttl": 60},
    )
    api.post("https://moved.example.com/1.1/classes/A", json={"objectId": "a1"})
    assert client.post("/classes/A", {"n": 1}).json() == {"objectId": "a1"}
    assert api.calls[1].request.body == b'{"n":1}'
    assert client.app_router.hosts["api"] == "moved.example.com"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_numbers_json_cannot_carry_raise_before_any_request(api, bad):
    with pytest.raises(ValueError):
        client.post("/classes/A", {"n": bad})
    with pytest.raises(ValueError):
        client.get("/classes/A", {"where": {"n": {"$gt": bad}}})
    assert len(api.calls) == 0


def test_a_long_retry_after_is_not_waited_for(raw_server, monkeypatch):
    import time

    monkeypatch.setattr(client, "RETRY_AFTER_MAX", 0.05)
    server = raw_server(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    started = time.monotonic()
    with pytest.raises(LeanCloudError) as info:
        client.get("/classes/A")
    assert info.value.code == 503 and server.requests == 3
    assert time.monotonic() - started < 2
