"""Shared fixtures: a clean SDK configuration for every test, and a mocked API host.

Request shapes are pinned with ``responses`` against ``API``; behaviour that crosses
the wire is tested against the real server (``leancloud.testing``).
"""
import pytest
import responses

from leancloud import client, context

pytest_plugins = ["leancloud.testing"]

API_SERVER = "https://api.test"
API = API_SERVER + "/1.1"
APP_ID = "test-app-id"
APP_KEY = "test-app-key"
MASTER_KEY = "test-master-key"
HOOK_KEY = "test-hook-key"

_ENV = (
    "LEANCLOUD_APP_ID",
    "LEANCLOUD_APP_KEY",
    "LEANCLOUD_APP_MASTER_KEY",
    "LEANCLOUD_APP_HOOK_KEY",
    "LEANCLOUD_API_SERVER",
    "LC_API_SERVER",
    "LEANCLOUD_APP_ENV",
)


@pytest.fixture(autouse=True)
def sdk_config(monkeypatch):
    """Every test starts from an SDK initialised with the app key only."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEANCLOUD_API_SERVER", API_SERVER)
    for name, value in {
        "APP_ID": None,
        "APP_KEY": None,
        "MASTER_KEY": None,
        "HOOK_KEY": None,
        "USE_MASTER_KEY": None,
        "USE_PRODUCTION": "1",
        "REGION": "CN",
        "TIMEOUT_SECONDS": 15,
        "app_router": None,
        "request_hooks": {},
    }.items():
        monkeypatch.setattr(client, name, value)
    client.init(APP_ID, APP_KEY)
    token = context.current_user.set(None)
    yield
    context.current_user.reset(token)


@pytest.fixture
def api():
    """A ``responses`` mock of the API host; unmatched or unused requests fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
