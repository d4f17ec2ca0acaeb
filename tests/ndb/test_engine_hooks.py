"""Entity writes and transaction commits run no LeanEngine class hooks, so the server
refuses them to clients for classes the Engine hooks (a client must not skip a
``beforeSave`` by writing through ndb's routes); the master key may."""

import tempfile

import pytest

from leancloud import LeanCloudError, LeanEngineError, client, ndb
from leancloud.engine import Engine
from leancloud.testing import _point_sdk_at, start_server

engine = Engine()


@engine.before_save("NdbHooked")
def refuse_everything(obj):
    raise LeanEngineError(code=400, message="never")


class NdbHooked(ndb.Model):
    n = ndb.IntegerProperty()


class NdbPlain(ndb.Model):
    n = ndb.IntegerProperty()


@pytest.fixture(scope="module")
def engine_server():
    with tempfile.TemporaryDirectory(prefix="leancloud-ndb-engine-") as data_dir:
        server = start_server(data_dir, engine_app=engine)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def as_client(engine_server, monkeypatch):
    """The app key only (no hook key either: that may skip hooks too)."""
    _point_sdk_at(engine_server, monkeypatch)
    client.use_master_key(False)
    client.HOOK_KEY = None  # restored by _point_sdk_at's monkeypatch


def code_of(call):
    with pytest.raises(LeanCloudError) as caught:
        call()
    return caught.value.code


def test_clients_cannot_skip_hooks_through_entity_writes(as_client):
    assert code_of(lambda: NdbHooked(id=1, n=1).put()) == 119
    assert code_of(lambda: ndb.transaction(lambda: NdbHooked(id=2, n=2).put())) == 119
    assert code_of(lambda: ndb.transaction(lambda: ndb.Key(NdbHooked, 3).delete())) == 119
    client.use_master_key(True)
    assert ndb.get_multi([ndb.Key(NdbHooked, 1), ndb.Key(NdbHooked, 2)]) == [None, None]


def test_classes_without_hooks_and_the_master_key_are_served(as_client):
    assert NdbPlain(id=1, n=1).put().get().n == 1
    assert ndb.transaction(lambda: NdbPlain(id=2, n=2).put()).get().n == 2
    client.use_master_key(True)
    assert NdbHooked(id=4, n=4).put().get().n == 4
