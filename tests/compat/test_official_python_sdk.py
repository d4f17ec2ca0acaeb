"""The official Python SDK 3.0.2, unchanged, against our server.

``scripts/official_python_sdk.py`` runs in the official SDK's own venv (see
``conftest.py``) against a live server of this module; each step it reports is one
test here, so a failure names the step and the SDK's error.
"""

import pytest

from .conftest import SCRIPTS, run_script, server_env, serves, step_value
from .expected import ORDERED, QUERIES, SHARED

EXPECTED = {
    **SHARED,
    # 3.0.2 still calls itself 2.1.9; ours would say 4.x.
    "official_sdk": {"installed": "3.0.2", "imported": "2.1.9"},
    "pointer_saved_with_parent": {"child_saved": True, "class": "Tag", "name": "child"},
    "save_all_destroy_all": {"ids": True, "saved": 3, "left": 0},
    "query_select": ["createdAt", "even", "n", "objectId", "updatedAt"],
    # The official SDK drops the password from the user once saved.
    "user_sign_up": {"token": True, "current": True, "password_kept": False, "nickname": "Ann"},
}

# Steps that need a server area which may not exist yet: (method, path) of its route.
OPTIONAL = {
    "cql": ("GET", "/1.1/cloudQuery"),
    "files": ("POST", "/1.1/fileTokens"),
}
FILES = {"url": True, "name": "hello.txt", "size": 12}

# step -> why our server cannot satisfy the official SDK there yet (strict xfail).
KNOWN_FAILURES = {}


def params(names):
    for name in names:
        reason = KNOWN_FAILURES.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.fixture(scope="module")
def results(official_python, compat_server):
    script = SCRIPTS / "official_python_sdk.py"
    return run_script([str(official_python), str(script)], server_env(compat_server))


def require_area(server, name):
    route = OPTIONAL.get(name)
    if route and not serves(server, *route):
        pytest.skip(f"the server has no {' '.join(route)} route yet")


def comparable(name, value):
    """Query results as a sorted list, unless the step is about order."""
    if name in QUERIES and name not in ORDERED and isinstance(value, list):
        return sorted(value)
    return value


@pytest.mark.parametrize("name", params(EXPECTED))
def test_step(results, compat_server, name):
    require_area(compat_server, name)
    assert comparable(name, step_value(results, name)) == EXPECTED[name]


@pytest.mark.parametrize("name", params(["files"]))
def test_files(results, compat_server, name):
    require_area(compat_server, name)
    assert step_value(results, name) == FILES


def test_every_step_is_checked(results):
    assert sorted(results) == sorted([*EXPECTED, "files"])
