"""Cloud functions, SMS codes, captchas and server time: request shapes and results."""

import dataclasses
import datetime as dt
import json

import pytest
import responses

import leancloud
from leancloud import LeanCloudError, Object, cloud
from leancloud.server import passwords
from tests.conftest import API, API_SERVER

CREATED = "2024-01-12T03:04:05.678Z"
UTC = dt.timezone.utc


class CloudPost(Object):
    pass


def body(call):
    return json.loads(call.request.body)


@pytest.fixture
def local_runner():
    calls = []

    def runner(name, params, is_rpc):
        calls.append((name, params, is_rpc))
        return {"__type": "Date", "iso": CREATED}

    cloud.set_local_runner(runner)
    yield calls
    cloud.set_local_runner(None)


# -- run and rpc -------------------------------------------------------------------


def test_run(api):
    api.add(
        responses.POST,
        f"{API}/functions/hello",
        json={"result": {"when": {"__type": "Date", "iso": CREATED}, "n": 1}},
    )
    result = cloud.run("hello", name="world", at=dt.datetime(2024, 1, 1, tzinfo=UTC))
    assert body(api.calls[0]) == {
        "name": "world",
        "at": {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"},
    }
    assert result == {"when": dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=UTC), "n": 1}
    assert api.calls[0].request.headers["X-LC-Prod"] == "1"


def test_run_without_params_sends_an_empty_object(api):
    api.add(responses.POST, f"{API}/functions/ping", json={"result": "pong"})
    assert cloud.run("ping") == "pong"
    assert body(api.calls[0]) == {}


def test_run_error_raises(api):
    api.add(
        responses.POST,
        f"{API}/functions/boom",
        json={"code": 141, "error": "Cloud Code script had an error."},
        status=500,
    )
    with pytest.raises(LeanCloudError) as info:
        cloud.run("boom")
    assert info.value.code == 141


def test_rpc_sends_objects_in_full_and_decodes_them(api):
    api.add(
        responses.POST,
        f"{API}/call/echo",
        json={
            "result": [
                {"__type": "Object", "className": "CloudPost", "objectId": "p2", "title": "b"}
            ]
        },
    )
    post = CloudPost.create_without_data("p1")
    post._update_data({"title": "a"})
    result = cloud.rpc("echo", post=post)
    assert body(api.calls[0]) == {
        "post": {"__type": "Object", "className": "CloudPost", "objectId": "p1", "title": "a"}
    }
    assert len(result) == 1
    assert isinstance(result[0], CloudPost)
    assert (result[0].id, result[0].get("title")) == ("p2", "b")


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_function_names_raise_before_any_request(api, name):
    with pytest.raises(TypeError):
        cloud.run(name)
    with pytest.raises(TypeError):
        cloud.rpc(name)


@pytest.mark.parametrize("call, prefix", [(cloud.run, "functions"), (cloud.rpc, "call")])
def test_function_names_are_escaped_in_the_path(api, call, prefix):
    api.add(responses.POST, f"{API}/{prefix}/a%2Fb%3Fc", json={"result": 1})
    assert call("a/b?c") == 1
    assert api.calls[0].request.path_url == f"/1.1/{prefix}/a%2Fb%3Fc"


def test_remote_and_local_variants(local_runner):
    assert cloud.run.remote is cloud.run
    assert cloud.rpc.remote is cloud.rpc
    when = dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=UTC)
    assert cloud.run.local("f", a=1) == when
    assert cloud.rpc.local("g", b=2) == when
    assert local_runner == [("f", {"a": 1}, False), ("g", {"b": 2}, True)]


def test_local_without_an_engine_returns_none():
    assert cloud.run.local("f") is None
    assert cloud.rpc.local("f") is None


# -- SMS ---------------------------------------------------------------------------


def test_request_sms_code_prefixes_idd(api):
    api.add(responses.POST, f"{API}/requestSmsCode", json={})
    assert cloud.request_sms_code("18600000000") is None
    assert body(api.calls[0]) == {"mobilePhoneNumber": "+8618600000000", "smsType": "sms"}


def test_request_sms_code_with_everything(api):
    api.add(responses.POST, f"{API}/requestSmsCode", json={})
    cloud.request_sms_code(
        "+447365753569",
        idd="+1",
        sms_type="voice",
        validate_token="vt",
        template="t1",
        sign="s1",
        params={"name": "x"},
    )
    assert body(api.calls[0]) == {
        "mobilePhoneNumber": "+447365753569",
        "smsType": "voice",
        "template": "t1",
        "sign": "s1",
        "validate_token": "vt",
        "name": "x",
    }


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        ((18600000000,), {}, TypeError),
        (("186",), {"idd": 86}, TypeError),
        (("186",), {"sms_type": "email"}, ValueError),
        (("186",), {"template": 1}, TypeError),
        (("186",), {"params": ["x"]}, TypeError),
    ],
)
def test_request_sms_code_checks_arguments(api, args, kwargs, error):
    with pytest.raises(error):
        cloud.request_sms_code(*args, **kwargs)


def test_verify_sms_code(api):
    api.add(responses.POST, f"{API}/verifySmsCode/123456", json={})
    assert cloud.verify_sms_code("18600000000", "123456") is True
    assert body(api.calls[0]) == {"mobilePhoneNumber": "18600000000"}


@pytest.mark.parametrize("code, path", [("a/b?c", "a%2Fb%3Fc"), (123456, "123456")])
def test_verify_sms_code_puts_the_code_in_the_path_escaped(api, code, path):
    api.add(responses.POST, f"{API}/verifySmsCode/{path}", json={})
    cloud.verify_sms_code("18600000000", code)
    assert api.calls[0].request.path_url == f"/1.1/verifySmsCode/{path}"


def test_verify_sms_code_error(api):
    api.add(
        responses.POST,
        f"{API}/verifySmsCode/000000",
        json={"code": 603, "error": "Invalid SMS code."},
        status=400,
    )
    with pytest.raises(LeanCloudError) as info:
        cloud.verify_sms_code("18600000000", "000000")
    assert info.value.code == 603


@pytest.mark.parametrize("args", [(186, "1"), ("186", None), ("186", "")])
def test_verify_sms_code_checks_arguments(api, args):
    with pytest.raises(TypeError):
        cloud.verify_sms_code(*args)


# -- captcha -----------------------------------------------------------------------


def test_captcha_round_trip(api):
    api.add(
        responses.GET,
        f"{API}/requestCaptcha",
        json={"captcha_token": "ct", "captcha_url": "https://api.test/captcha.png"},
        match=[responses.matchers.query_param_matcher({"width": "100", "ttl": "60"})],
    )
    api.add(responses.POST, f"{API}/verifyCaptcha", json={"validate_token": "vt"})
    captcha = cloud.request_captcha(width=100, ttl=60)
    assert (captcha.token, captcha.url) == ("ct", "https://api.test/captcha.png")
    assert captcha.verify("abcd") == "vt"
    assert body(api.calls[1]) == {"captcha_token": "ct", "captcha_code": "abcd"}


def test_verify_captcha(api):
    api.add(responses.POST, f"{API}/verifyCaptcha", json={"validate_token": "vt"})
    assert cloud.verify_captcha("abcd", "ct") == "vt"


def test_captcha_answer_without_token_raises(api):
    api.add(responses.POST, f"{API}/verifyCaptcha", json={})
    with pytest.raises(LeanCloudError):
        cloud.verify_captcha("abcd", "ct")


@pytest.mark.parametrize("kwargs", [{"size": "4"}, {"width": 1.5}, {"ttl": True}])
def test_request_captcha_checks_arguments(api, kwargs):
    with pytest.raises(TypeError):
        cloud.request_captcha(**kwargs)


def test_verify_captcha_checks_arguments(api):
    with pytest.raises(TypeError):
        cloud.verify_captcha(1234, "ct")


# -- server time -------------------------------------------------------------------


def test_get_server_time(api):
    api.add(responses.GET, f"{API_SERVER}/1.1/date", json={"__type": "Date", "iso": CREATED})
    assert cloud.get_server_time() == dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=UTC)
    assert "X-LC-Id" not in api.calls[0].request.headers


def test_cloud_is_exported():
    assert leancloud.cloud is cloud


def test_live_server_time(leancloud_server):
    before = dt.datetime.now(UTC) - dt.timedelta(seconds=1)
    server_time = cloud.get_server_time()
    assert before <= server_time <= dt.datetime.now(UTC) + dt.timedelta(seconds=1)


@pytest.fixture
def captcha_first(leancloud_clean_server, monkeypatch):
    """A live app that texts codes only to holders of a captcha ``validate_token``;
    every captcha it draws reads ``AAAA``."""
    from leancloud.server.services import captcha

    app = leancloud_clean_server.app
    monkeypatch.setattr(app, "config", dataclasses.replace(app.config, sms_require_captcha=True))
    monkeypatch.setattr(captcha, "ALPHABET", "A")
    leancloud.use_master_key(False)
    return leancloud_clean_server


def test_live_a_solved_captcha_lets_one_sms_code_through(captcha_first):
    from leancloud.server.services import messaging

    with pytest.raises(LeanCloudError) as info:
        cloud.request_sms_code("13900004444")
    assert info.value.code == 608
    shown = cloud.request_captcha()
    with pytest.raises(LeanCloudError):
        shown.verify("BBBB")  # a wrong answer spends the captcha
    shown = cloud.request_captcha()
    validate_token = shown.verify("aaaa")
    cloud.request_sms_code("13900004444", validate_token=validate_token)
    (message,) = messaging.outbox(captcha_first.app.storage, "+8613900004444")
    assert cloud.verify_sms_code("+8613900004444", message["details"]["code"]) is True
    with pytest.raises(LeanCloudError) as info:
        cloud.request_sms_code("13900005555", validate_token=validate_token)  # used up
    assert info.value.code == 608


def test_live_user_code_requests_pass_the_validate_token(captcha_first, monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    from leancloud.server.services import messaging

    user = leancloud.User(mobilePhoneNumber="+8613900006666")
    user.sign_up("captcha-user", "s3cret")
    with pytest.raises(LeanCloudError) as info:
        leancloud.User.request_mobile_phone_verify("+8613900006666")
    assert info.value.code == 608
    token = cloud.verify_captcha("AAAA", cloud.request_captcha().token)
    leancloud.User.request_mobile_phone_verify("+8613900006666", validate_token=token)
    (message,) = messaging.outbox(captcha_first.app.storage, "+8613900006666")
    leancloud.User.verify_mobile_phone_number(message["details"]["code"], "+8613900006666")
    assert user.fetch().get("mobilePhoneVerified") is True
