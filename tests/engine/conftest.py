"""Engine tests: the SDK knows all four keys, and no test leaves a local runner behind."""

import json

import pytest
from werkzeug.test import Client

from leancloud import client, cloud
from leancloud.engine import Engine
from tests.conftest import APP_ID, APP_KEY, HOOK_KEY, MASTER_KEY

APP_HEADERS = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER_HEADERS = {"X-LC-Id": APP_ID, "X-LC-Key": f"{MASTER_KEY},master"}
HOOK_HEADERS = {**APP_HEADERS, "X-LC-Hook-Key": HOOK_KEY}


@pytest.fixture(autouse=True)
def engine_keys():
    client.init(APP_ID, APP_KEY, master_key=MASTER_KEY, hook_key=HOOK_KEY)
    yield
    cloud.set_local_runner(None)


@pytest.fixture
def engine():
    return Engine()


@pytest.fixture
def http(engine):
    return Client(engine)


def post(http, path, body=None, headers=APP_HEADERS, **kwargs):
    """POST ``body`` as JSON; returns (status, decoded JSON body)."""
    response = http.post(path, json=body if body is not None else {}, headers=headers, **kwargs)
    return response.status_code, json.loads(response.get_data(as_text=True) or "null")
