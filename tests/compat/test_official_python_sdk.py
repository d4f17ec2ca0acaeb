"""The official Python SDK 3.0.2, unchanged, against our server.

``scripts/official_python_sdk.py`` runs in the official SDK's own venv (see
``conftest.py``) against a live server of this module; each step it reports is one
test here, so a failure names the step and the SDK's error.
"""

import pytest

from .conftest import SCRIPTS, check_step, run_script, server_env, step_params
from .expected import SHARED

EXPECTED = {
    **SHARED,
    # 3.0.2 still calls itself 2.1.9; ours would say 4.x.
    "official_sdk": {"installed": "3.0.2", "imported": "2.1.9"},
    "query_select": ["createdAt", "even", "n", "objectId", "updatedAt"],
    # Issue 5's flows, SMS codes read from the outbox.
    "sms_code": {"wrong": 603, "right": True, "reused": 603, "too_soon": 601},
    "user_phone_verification": {"before": False, "after": True, "same": True},
    "user_sign_up_or_log_in_by_sms": {
        "username": True,
        "verified": True,
        "token": True,
        "current": True,
    },
    "user_sms_log_in": {"same": True, "current": True},
    "user_password_reset_by_sms_and_phone_change": {"old_password": 210, "number": True},
    "push_to_channel": {
        "client_refused": 119,
        "status": "done",
        "devices": 1,
        "msg": {"alert": "hi"},
    },
    "captcha": {"token": True, "image": "image/png", "png": True, "wrong_code": 1},
}

# step -> why our server cannot satisfy the official SDK there yet.
KNOWN_FAILURES = {}


@pytest.fixture(scope="module")
def results(official_python, compat_server):
    script = SCRIPTS / "official_python_sdk.py"
    return run_script([str(official_python), str(script)], server_env(compat_server))


@pytest.mark.parametrize("name", step_params(EXPECTED, KNOWN_FAILURES))
def test_step(results, compat_server, name):
    check_step(results, compat_server, name, EXPECTED)


def test_every_step_is_checked(results):
    assert sorted(results) == sorted(EXPECTED)
