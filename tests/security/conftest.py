"""A live in-process server with two users, a master key and a few rows, for attacks."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

import pytest
from werkzeug.test import Client

from leancloud.server import create_app, passwords

APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY = "sec-app-id", "sec-app-key", "sec-master-key", "sec-hook"
CHEAP = passwords.ScryptCost(n=16, r=1, p=1)


class Api:
    """``api(method, path, body, as_=...)``: ``as_`` is ``"none"`` (no keys), ``"anon"``
    (app key), ``"master"``, or a session token (app key + that session)."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = Client(app)

    def headers(self, as_: str) -> Dict[str, str]:
        if as_ == "none":
            return {}
        if as_ == "master":
            return {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
        headers = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
        if as_ != "anon":
            headers["X-LC-Session"] = as_
        return headers

    def raw(self, method, path, data=None, params=None, as_="anon", headers=None, **kw):
        all_headers = self.headers(as_)
        all_headers.update(headers or {})
        kw.setdefault("content_type", "application/json")
        return self.client.open(
            path, method=method, data=data, query_string=params, headers=all_headers, **kw
        )

    def __call__(self, method, path, body=None, params=None, as_="anon", status=None, **kw):
        data = None if body is None else json.dumps(body)
        response = self.raw(method, "/1.1" + path, data, params, as_, **kw)
        if status is not None:
            assert response.status_code == status, response.get_data(as_text=True)
        return response

    def ok(self, method, path, body=None, **kw) -> Any:
        response = self(method, path, body, **kw)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()

    def sign_up(self, username: str) -> Dict[str, Any]:
        user = self.ok(
            "POST",
            "/users",
            {"username": username, "password": "pw-" + username, "email": f"{username}@x.test"},
        )
        return user

    def code(self, method, path, body=None, **kw) -> Optional[int]:
        """The LeanCloud error code of an answer, or None if it succeeded."""
        response = self(method, path, body, **kw)
        if response.status_code < 400:
            return None
        return response.get_json()["code"]


def make_api(data_dir: str) -> Api:
    app = create_app(
        data_dir, app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY, hook_key=HOOK_KEY
    )
    return Api(app)


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", CHEAP)
    monkeypatch.delenv("LEANCLOUD_CLIENT_PUSH", raising=False)
    server = make_api(str(tmp_path))
    yield server
    server.app.storage.close()


@pytest.fixture
def alice(api):
    return api.sign_up("alice")


@pytest.fixture
def bob(api):
    return api.sign_up("bob")
