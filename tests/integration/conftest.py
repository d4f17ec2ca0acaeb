"""Fixtures for the integration tests: the SDK's public API against the live server.

Each module gets a database of its own (``module_db``), so its shared rows, built once
per module, are exactly what its queries can see, and the suite stays fast.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

import leancloud
from leancloud import LeanCloudError, User, context
from leancloud.server import DATABASE_FILE, passwords
from leancloud.server.storage.sqlite import SQLiteStorage
from leancloud.testing import LiveServer, _point_sdk_at

CHEAP_COST = passwords.ScryptCost(n=16, r=1, p=1)


@pytest.fixture(scope="module")
def module_db(leancloud_live_server: LiveServer, tmp_path_factory) -> Iterator[LiveServer]:
    """An empty database for this module, with cheap password hashes for its users."""
    storage = SQLiteStorage(os.path.join(str(tmp_path_factory.mktemp("db")), DATABASE_FILE))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(leancloud_live_server.app, "storage", storage)
        patch.setattr(passwords, "DEFAULT_COST", CHEAP_COST)
        yield leancloud_live_server
    storage.close()


@contextlib.contextmanager
def sdk_as_master(server: LiveServer) -> Iterator[None]:
    """Point the SDK at the server with the master key for a block (module-scoped setup),
    with no current user before or after."""
    token = context.current_user.set(None)
    try:
        with pytest.MonkeyPatch.context() as patch:
            _point_sdk_at(server, patch)
            yield
    finally:
        context.current_user.reset(token)


@pytest.fixture
def live(module_db: LiveServer, leancloud_server: LiveServer) -> LiveServer:
    """This module's database, the SDK pointed at it with the master key."""
    return module_db


@pytest.fixture
def as_client(live: LiveServer) -> LiveServer:
    """Like ``live``, but the SDK acts as a client app (no master key)."""
    leancloud.use_master_key(False)
    return live


@contextlib.contextmanager
def master_key() -> Iterator[None]:
    """Sign with the master key for a block, then act as a client again."""
    leancloud.use_master_key(True)
    try:
        yield
    finally:
        leancloud.use_master_key(False)


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def sign_up(password: str = "s3cret", **fields) -> User:
    """A new user, signed up (and so the current user)."""
    user = User(**fields)
    user.sign_up(unique(), password)
    return user


def fresh(obj):
    """The server's copy of ``obj``, as a new instance (nothing local carried over)."""
    copy = type(obj).create_without_data(obj.id)
    copy.fetch()
    return copy


def error_code(call) -> int:
    """The code of the LeanCloudError ``call()`` raises (fails the test if none)."""
    with pytest.raises(LeanCloudError) as info:
        call()
    return info.value.code
