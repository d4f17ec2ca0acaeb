"""Captchas: request, image, verify and the validate token, through the SDK against the
live server and over raw HTTP."""

import dataclasses
import io

import pytest
import requests
from PIL import Image
from werkzeug.test import Client

import leancloud
from leancloud import cloud
from leancloud.server import create_app
from leancloud.server.services import captcha

from .support import Clock

APP_ID, APP_KEY, MASTER_KEY = "captcha-app", "captcha-key", "captcha-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
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


def code_of(storage, token):
    """The characters the image shows, read back from the master-only row."""
    with storage.write() as tx:
        return tx.get(captcha.CAPTCHA_CLASS, captcha._row_id("captcha", token)).data["code"]


def png_size(data):
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.verify()
    return image.size


def new_captcha(client, headers=APP, **params):
    response = client.get("/1.1/requestCaptcha", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"captcha_token", "captcha_url"}
    return response.json


def verify(client, token, code):
    body = {"captcha_token": token, "captcha_code": code}
    return client.post("/1.1/verifyCaptcha", json=body, headers=APP)


def error_of(response, status=400):
    assert response.status_code == status, response.json
    assert set(response.json) == {"code", "error"}
    return response.json["code"]


# --- through the SDK, against the live server ---------------------------------------


def test_sdk_round_trip(leancloud_server):
    leancloud.use_master_key(False)
    shown = cloud.request_captcha(width=120, height=40)
    image = requests.get(shown.url, timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert png_size(image.content) == (120, 40)
    code = code_of(leancloud_server.app.storage, shown.token)
    validate_token = shown.verify(code.lower())
    assert isinstance(validate_token, str) and validate_token
    with pytest.raises(leancloud.LeanCloudError) as info:
        cloud.verify_captcha(code, shown.token)  # used up
    assert info.value.code == 1


def test_sdk_size_and_ttl_need_the_master_key(leancloud_server):
    leancloud.use_master_key(False)
    with pytest.raises(leancloud.LeanCloudError) as info:
        cloud.request_captcha(size=6)
    assert info.value.code == 119
    leancloud.use_master_key(True)
    shown = cloud.request_captcha(size=6, ttl=180)
    assert len(code_of(leancloud_server.app.storage, shown.token)) == 6


# --- raw HTTP -------------------------------------------------------------------------


def test_defaults(app, client):
    shown = new_captcha(client)
    assert shown["captcha_url"].startswith(f"http://localhost/1.1/captchaImage?appId={APP_ID}&")
    assert shown["captcha_token"] in shown["captcha_url"]
    image = client.get(shown["captcha_url"])  # public: an <img> sends no headers
    assert png_size(image.data) == (85, 30)
    assert len(code_of(app.storage, shown["captcha_token"])) == 4


def test_url_follows_the_forwarded_scheme(client):
    response = client.get("/1.1/requestCaptcha", headers={**APP, "X-Forwarded-Proto": "https"})
    assert response.json["captcha_url"].startswith("https://localhost/1.1/captchaImage?")


def test_url_under_the_public_url(app, client):
    app.config = dataclasses.replace(app.config, public_url="https://api.example.com")
    shown = new_captcha(client)
    assert shown["captcha_url"].startswith("https://api.example.com/1.1/captchaImage?appId=")


@pytest.mark.parametrize("width, height", [(60, 30), (200, 100)])
def test_image_has_the_requested_size(client, width, height):
    shown = new_captcha(client, width=width, height=height)
    assert png_size(client.get(shown["captcha_url"]).data) == (width, height)


@pytest.mark.parametrize("size", [3, 6])
def test_master_chooses_the_length(app, client, size):
    shown = new_captcha(client, MASTER, size=size)
    assert len(code_of(app.storage, shown["captcha_token"])) == size


@pytest.mark.parametrize("name", ["size", "ttl"])
def test_clients_may_not_change_size_or_ttl(client, name):
    response = client.get("/1.1/requestCaptcha", query_string={name: 5}, headers=APP)
    assert error_of(response) == 119


@pytest.mark.parametrize(
    "params",
    [
        {"width": 59},
        {"width": 201},
        {"height": 29},
        {"height": 101},
        {"width": "wide"},
        {"size": 2},
        {"size": 7},
        {"ttl": 9},
        {"ttl": 181},
    ],
)
def test_out_of_range(client, params):
    response = client.get("/1.1/requestCaptcha", query_string=params, headers=MASTER)
    assert error_of(response) == 1


def test_verify_is_case_insensitive(app, client):
    shown = new_captcha(client)
    code = code_of(app.storage, shown["captcha_token"])
    response = verify(client, shown["captcha_token"], code.swapcase())
    assert response.status_code == 200
    assert set(response.json) == {"validate_token"}


def test_wrong_code_burns_the_captcha(app, client):
    shown = new_captcha(client)
    code = code_of(app.storage, shown["captcha_token"])
    assert error_of(verify(client, shown["captcha_token"], code + "x")) == 1
    assert error_of(verify(client, shown["captcha_token"], code)) == 1


def test_captcha_expires_after_its_ttl(app, client, clock):
    shown = new_captcha(client, MASTER, ttl=10)
    code = code_of(app.storage, shown["captcha_token"])
    clock.advance(10)
    assert error_of(client.get(shown["captcha_url"]), 404) == 1
    assert error_of(verify(client, shown["captcha_token"], code)) == 1


def test_default_ttl_is_a_minute(app, client, clock):
    shown = new_captcha(client)
    code = code_of(app.storage, shown["captcha_token"])
    clock.advance(59)
    assert verify(client, shown["captcha_token"], code).status_code == 200


def test_validate_token_is_single_use_and_expires(app, client, clock):
    def validate_token():
        shown = new_captcha(client)
        code = code_of(app.storage, shown["captcha_token"])
        return verify(client, shown["captcha_token"], code).json["validate_token"]

    token = validate_token()
    captcha.use_validate_token(app.storage, token)
    with pytest.raises(leancloud.server.errors.ApiError) as info:
        captcha.use_validate_token(app.storage, token)
    assert info.value.code == 608
    token = validate_token()
    clock.advance(9 * 60)
    captcha.use_validate_token(app.storage, token)  # a validate token lasts ten minutes
    token = validate_token()
    clock.advance(10 * 60)
    with pytest.raises(leancloud.server.errors.ApiError):
        captcha.use_validate_token(app.storage, token)


@pytest.mark.parametrize(
    "body",
    [{}, {"captcha_token": "t"}, {"captcha_code": "c"}, {"captcha_token": 1, "captcha_code": "c"}],
)
def test_verify_bad_input(client, body):
    assert error_of(client.post("/1.1/verifyCaptcha", json=body, headers=APP)) == 1


def test_unknown_image(client):
    assert error_of(client.get("/1.1/captchaImage?token=nope"), 404) == 1
    assert error_of(client.get("/1.1/captchaImage"), 404) == 1


def test_without_the_library_captcha_is_off_and_the_rest_works(client, monkeypatch):
    monkeypatch.setattr(captcha, "available", lambda: False)
    assert error_of(client.get("/1.1/requestCaptcha", headers=APP)) == 119
    assert client.get("/1.1/date").status_code == 200
    assert client.post("/1.1/classes/Thing", json={"a": 1}, headers=APP).status_code == 201
