"""Batch operations, Futures (also awaited from asyncio), tasklets, and the server's
``PUT /1.1/entities`` extension they write through."""

import asyncio
import contextvars
import json
import threading

import pytest
import responses

from leancloud import LeanCloudError, client, ndb
from leancloud.ndb import context, mapping, tasklets
from leancloud.ndb.tasklets import Future, run_async
from tests.conftest import API


class Item(ndb.Model):
    n = ndb.IntegerProperty()


@pytest.fixture
def batch_posts(monkeypatch):
    """Count the /batch requests and make chunks small."""
    sent = []
    original = client.post

    def spy(url, params, *args, **kwargs):
        if url == "/batch":
            sent.append(len(params["requests"]))
        return original(url, params, *args, **kwargs)

    monkeypatch.setattr(client, "post", spy)
    monkeypatch.setattr(context, "BATCH_SIZE", 3)
    return sent


def test_multi_operations_in_chunks(leancloud_clean_server, batch_posts):
    items = [Item(id=i, n=i * 10) for i in range(1, 8)]
    keys = ndb.put_multi(items)
    assert keys == [ndb.Key("Item", i) for i in range(1, 8)]
    assert batch_posts == [3, 3, 1]
    batch_posts.clear()
    fetched = ndb.get_multi(keys + [ndb.Key("Item", 99)])
    assert [e.n for e in fetched[:-1]] == [i * 10 for i in range(1, 8)] and fetched[-1] is None
    assert batch_posts == [3, 3, 2]
    assert ndb.delete_multi(keys[:4]) == [None] * 4
    assert [e is None for e in ndb.get_multi(keys)] == [True] * 4 + [False] * 3


def test_put_multi_allocates_one_range_per_kind(leancloud_clean_server, batch_posts):
    keys = ndb.put_multi([Item(n=1), Item(n=2), Item(id=50, n=3)])
    assert [k.id() for k in keys] == [1, 2, 50]
    assert batch_posts == [2, 3]  # one allocation (create-if-absent + increment), one write


def test_get_of_a_kind_never_written(leancloud_clean_server):
    assert ndb.get_multi([ndb.Key("Item", 1)]) == [None]
    assert ndb.delete_multi([ndb.Key("Item", 1)]) == [None]


def test_async_variants_return_futures(leancloud_clean_server):
    futures = ndb.put_multi_async([Item(id=1, n=1), Item(id=2, n=2)])
    assert all(isinstance(f, Future) for f in futures)
    keys = [f.get_result() for f in futures]
    gets = ndb.get_multi_async(keys)
    assert [f.get_result().n for f in gets] == [1, 2]
    deletes = ndb.delete_multi_async(keys)
    Future.wait_all(deletes)
    assert all(f.done() for f in deletes) and [f.get_result() for f in deletes] == [None, None]
    put = Item(n=3).put_async()
    put.check_success()
    assert put.get_exception() is None and put.get_result().get().n == 3


def test_bad_arguments_fail_before_any_request(api):
    # ``api`` fails the test on any request; each call must raise first.
    with pytest.raises(ndb.BadArgumentError):
        ndb.get_multi(["Item-n1"])
    with pytest.raises(ndb.BadArgumentError):
        ndb.get_multi([ndb.Key("Item", None)])
    with pytest.raises(ndb.BadArgumentError):
        ndb.put_multi([object()])
    with pytest.raises(ndb.BadArgumentError):
        ndb.delete_multi_async([ndb.Key("Item", None)])
    with pytest.raises(ndb.KindError):
        ndb.get_multi([ndb.Key("bad-kind", 1)])
    with pytest.raises(ndb.BadValueError):
        Item(id=1, namespace="bad namespace").put()


def test_server_errors_surface_from_the_future(leancloud_server):
    class Clashing(ndb.Expando):
        pass

    Clashing(id=1, v=1).put()
    future = Clashing(id=2, v="text").put_async()  # the field is a Number now
    with pytest.raises(LeanCloudError) as exc:
        future.get_result()
    assert exc.value.code == 111
    assert isinstance(future.get_exception(), LeanCloudError)


# -- Futures ---------------------------------------------------------------------------------


def test_future_basics():
    future = Future()
    assert not future.done()
    seen = []
    future.add_callback(seen.append, "called")
    future.set_result(5)
    assert future.done() and future.get_result() == 5 and seen == ["called"]
    with pytest.raises(RuntimeError):
        future.set_result(6)
    failed = Future()
    failed.set_exception(KeyError("k"))
    with pytest.raises(KeyError):
        failed.check_success()
    assert isinstance(failed.get_exception(), KeyError)


def test_run_async_keeps_the_callers_context():
    var = contextvars.ContextVar("var", default="outside")
    var.set("inside")
    future = run_async(lambda: (var.get(), threading.current_thread().name))
    value, thread = future.get_result()
    assert value == "inside" and thread.startswith("ndb")


def test_work_started_on_pool_threads_cannot_starve_the_pool():
    # Every pool thread runs a job that waits for work it starts (as a transaction_async
    # or map_async callback does): that work must not queue behind them forever.
    size = tasklets._POOL_SIZE
    everyone_busy = threading.Barrier(size, timeout=5)

    def outer(i):
        everyone_busy.wait()
        return run_async(lambda: i * 2).get_result()

    futures = [run_async(outer, i) for i in range(size)]
    assert all(future._done.wait(5) for future in futures)
    assert [future.get_result() for future in futures] == [i * 2 for i in range(size)]


def test_wait_any():
    gate = threading.Event()
    slow = run_async(gate.wait)
    fast = run_async(lambda: "fast")
    assert Future.wait_any([slow, fast]) is fast
    gate.set()
    assert Future.wait_any([]) is None


def test_futures_can_be_awaited(leancloud_clean_server):
    async def main():
        key = await Item(id=7, n=70).put_async()
        entity = await key.get_async()
        results = await asyncio.gather(*ndb.get_multi_async([key, ndb.Key("Item", 8)]))
        return entity.n, results

    n, results = asyncio.run(main())
    assert n == 70 and results[0].n == 70 and results[1] is None


def test_awaiting_a_failed_future_raises():
    async def main():
        future = Future()
        threading.Timer(0.01, future.set_exception, [ValueError("late")]).start()
        await future

    with pytest.raises(ValueError, match="late"):
        asyncio.run(main())


def test_tasklets(leancloud_clean_server):
    @ndb.tasklet
    def double_put(n):
        first, second = yield Item(id=n, n=n).put_async(), Item(id=n + 1, n=n + 1).put_async()
        entity = yield first.get_async()
        raise ndb.Return(entity.n + (yield second.get_async()).n)

    @ndb.tasklet
    def plain():
        return "no generator"

    assert double_put(1).get_result() == 3
    assert plain().get_result() == "no generator"

    @ndb.synctasklet
    def failing():
        yield Item(id=20, n=1).put_async()
        raise KeyError("inside")

    with pytest.raises(KeyError):
        failing()


def test_tasklets_see_errors_of_what_they_yield():
    @ndb.tasklet
    def catcher():
        failed = Future()
        failed.set_exception(ValueError("nope"))
        try:
            yield failed
        except ValueError as exc:
            return f"caught {exc}"

    assert catcher().get_result() == "caught nope"


# -- the server extension ----------------------------------------------------------------------


def test_entities_put_replaces_and_creates(leancloud_clean_server):
    created = client.put("/entities/Thing/chosen-id.1", {"a": 1, "b": 2}).json()
    assert created["created"] is True and created["objectId"] == "chosen-id.1"
    replaced = client.put("/entities/Thing/chosen-id.1", {"a": 3}).json()
    assert replaced["created"] is False and "updatedAt" in replaced
    row = client.get("/classes/Thing/chosen-id.1").json()
    assert row["a"] == 3 and "b" not in row and row["createdAt"] == created["createdAt"]
    untouched = client.put("/entities/Thing/chosen-id.1", {"a": 9}, query={"ifAbsent": 1}).json()
    assert untouched == {"objectId": "chosen-id.1", "created": False}
    assert client.get("/classes/Thing/chosen-id.1").json()["a"] == 3


@pytest.mark.parametrize(
    "path, body, code",
    [
        ("/entities/Thing/bad,id", {}, 104),
        ("/entities/Thing/" + "x" * 4097, {}, 104),
        ("/entities/bad-class/id", {}, 103),
        ("/entities/Thing/id", {"n": {"__op": "Increment", "amount": 1}}, 107),
        ("/entities/Thing/id", {"objectId": "other"}, None),
    ],
)
def test_entities_put_refusals(leancloud_clean_server, path, body, code):
    if code is None:  # built-in fields in the body are ignored, as on any save
        client.put(path, body)
        assert client.get("/classes/Thing/id").json()["objectId"] == "id"
        return
    with pytest.raises(LeanCloudError) as exc:
        client.put(path, body)
    assert exc.value.code == code


def test_entities_put_respects_the_acl(leancloud_clean_server):
    client.put("/entities/Thing/locked", {"ACL": {"*": {"read": True}}, "a": 1})
    client.use_master_key(False)
    try:
        with pytest.raises(LeanCloudError) as exc:
            client.put("/entities/Thing/locked", {"a": 2})
        assert exc.value.code == 403
        client.put("/entities/Thing/open", {"a": 1})  # creating needs no ACL
    finally:
        client.use_master_key(True)
    assert client.get("/classes/Thing/locked").json()["a"] == 1


def test_entity_rows_carry_their_ancestor_path(leancloud_clean_server):
    key = Item(id="leaf", parent=ndb.Key("Item", 1, "Item", 2), n=1).put()
    row = client.get(f"/classes/Item/{mapping.object_id_for_key(key)}").json()
    assert row["ndbAncestors"] == [
        mapping.object_id_for_key(ndb.Key("Item", 1)),
        mapping.object_id_for_key(ndb.Key("Item", 1, "Item", 2)),
        mapping.object_id_for_key(key),
    ]
    found = client.get(
        "/classes/Item", {"where": {"ndbAncestors": mapping.object_id_for_key(ndb.Key("Item", 1))}}
    )
    assert [r["objectId"] for r in found.json()["results"]] == [mapping.object_id_for_key(key)]


def test_delete_needs_no_model_class(leancloud_clean_server):
    client.put("/entities/Unmodelled/Unmodelled-n0000000000000000001", {"a": 1})
    assert ndb.delete_multi([ndb.Key("Unmodelled", 1)]) == [None]
    assert client.get("/classes/Unmodelled/Unmodelled-n0000000000000000001").json() == {}
    with pytest.raises(ndb.KindError):
        ndb.Key("Unmodelled", 1).get()  # reading builds an entity: the class is needed


def test_one_failing_item_fails_only_its_own_future(leancloud_clean_server):
    class Typed(ndb.Expando):
        pass

    Typed(id=1, v=1).put()
    good, bad, also_good = Typed(id=2, v=2), Typed(id=3, v="text"), Typed(id=4, v=4)
    futures = ndb.put_multi_async([good, bad, also_good])
    assert futures[0].get_result() == good.key == ndb.Key("Typed", 2)
    assert futures[1].get_exception().code == 111 and bad.key == ndb.Key("Typed", 3)
    assert futures[2].get_result() == ndb.Key("Typed", 4)
    with pytest.raises(LeanCloudError):
        ndb.put_multi([Typed(id=5, v=5), Typed(id=6, v="text")])
    assert [
        e is not None for e in ndb.get_multi([ndb.Key("Typed", i) for i in (2, 3, 4, 5, 6)])
    ] == [
        True,
        False,
        True,
        True,
        False,
    ]


# -- the wire shapes, pinned ------------------------------------------------------------------


def _sent(call):
    return json.loads(call.request.body)


def test_batch_request_shapes(api):
    parent = ndb.Key("Item", "root")
    key = ndb.Key("Item", 7, parent=parent)
    object_id = "Item-sE9NMUT0.Item-n0000000000000000007"
    assert mapping.object_id_for_key(key) == object_id
    api.add(responses.POST, f"{API}/batch", json=[{"success": {}}])
    api.add(responses.POST, f"{API}/batch", json=[{"success": {"objectId": object_id, "n": 3}}])
    api.add(responses.POST, f"{API}/batch", json=[{"success": {}}])

    assert Item(key=key, n=3).put() == key
    assert ndb.get_multi([key])[0].n == 3
    assert ndb.delete_multi([key]) == [None]

    put, get, delete = (_sent(call) for call in api.calls)
    assert put == {
        "requests": [
            {
                "method": "PUT",
                "path": f"/1.1/entities/Item/{object_id}",
                "body": {"n": 3, "ndbAncestors": ["Item-sE9NMUT0", object_id]},
            }
        ]
    }
    assert get == {"requests": [{"method": "GET", "path": f"/1.1/classes/Item/{object_id}"}]}
    assert delete == {"requests": [{"method": "DELETE", "path": f"/1.1/classes/Item/{object_id}"}]}


def test_query_request_shape(api):
    row = {"objectId": "Item-n0000000000000000002", "n": 5}
    api.add(responses.GET, f"{API}/classes/Item", json={"results": [row]})
    results = Item.query(ndb.OR(Item.n == 5, Item.n > 9)).order(-Item.n).fetch(3)
    assert [e.key for e in results] == [ndb.Key("Item", 2)]
    (call,) = api.calls
    params = dict(call.request.params)
    assert set(params) == {"where", "order", "limit"}
    assert json.loads(params["where"]) == {
        "$and": [{"$or": [{"n": 5}, {"n": {"$gt": 9}}]}, {"n": {"$exists": True}}]
    }
    assert params["order"] == "-n,objectId" and params["limit"] == "3"
