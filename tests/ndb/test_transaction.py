"""Transactions against the live server: atomic commits, retries, propagation."""

import importlib
import threading

import pytest

from leancloud import client, ndb
from leancloud.errors import LeanCloudError
from leancloud.ndb.transaction import (
    Rollback,
    TransactionFailedError,
    TransactionOptions,
    in_transaction,
    non_transactional,
    transaction,
    transaction_async,
    transactional,
)

txn_module = importlib.import_module("leancloud.ndb.transaction")  # ndb.transaction is the function


class TxCounter(ndb.Model):
    count = ndb.IntegerProperty(default=0)
    note = ndb.StringProperty()


class TxAccount(ndb.Model):
    balance = ndb.IntegerProperty()


def _stored(key):
    """The row as the server holds it, bypassing ndb."""
    rows = client.get(
        "/classes/TxCounter", {"where": {"objectId": ndb.mapping.object_id_for_key(key)}}
    ).json()
    return rows["results"][0] if rows["results"] else None


def test_writes_apply_only_on_commit(leancloud_clean_server):
    key = ndb.Key(TxCounter, "a")

    def work():
        TxCounter(key=key, count=1).put()
        assert in_transaction()
        assert _stored(key) is None  # buffered, not yet written
        assert key.get().count == 1  # but read back inside the transaction
        return "done"

    assert transaction(work) == "done"
    assert not in_transaction()
    assert key.get().count == 1


def test_exception_discards_everything(leancloud_clean_server):
    key = ndb.Key(TxCounter, "b")
    TxCounter(key=key, count=5).put()

    def work():
        entity = key.get()
        entity.count = 99
        entity.put()
        ndb.Key(TxCounter, "other").delete()
        raise ValueError("boom")

    with pytest.raises(ValueError):
        transaction(work, xg=True)
    assert key.get().count == 5


def test_rollback_discards_quietly(leancloud_clean_server):
    key = ndb.Key(TxCounter, "c")

    def work():
        TxCounter(key=key, count=1).put()
        raise Rollback()

    assert transaction(work) is None
    assert key.get() is None


def test_delete_in_transaction(leancloud_clean_server):
    key = ndb.Key(TxCounter, "d")
    TxCounter(key=key, count=1).put()
    transaction(lambda: key.delete())
    assert key.get() is None


def test_collision_retries_the_callback(leancloud_clean_server):
    key = ndb.Key(TxCounter, "e")
    TxCounter(key=key, count=0).put()
    calls = []

    def work():
        entity = key.get()
        calls.append(entity.count)
        if len(calls) == 1:  # someone else writes between our read and our commit
            non_transactional(lambda: TxCounter(key=key, count=10).put())()
        entity.count += 1
        entity.put()

    transaction(work)
    assert calls == [0, 10]
    assert key.get().count == 11


def test_gives_up_after_retries(leancloud_clean_server):
    key = ndb.Key(TxCounter, "f")
    TxCounter(key=key, count=0).put()
    calls = []

    @non_transactional
    def interfere(n):
        TxCounter(key=key, count=100 + n).put()

    def work():
        entity = key.get()
        calls.append(1)
        interfere(len(calls))
        entity.count = -1
        entity.put()

    with pytest.raises(TransactionFailedError):
        transaction(work, retries=2)
    assert len(calls) == 3
    assert key.get().count == 103  # the interfering writes stand, ours never landed


def test_missing_entity_read_is_checked_too(leancloud_clean_server):
    key = ndb.Key(TxCounter, "g")
    calls = []

    def work():
        calls.append(key.get())
        if len(calls) == 1:
            non_transactional(lambda: TxCounter(key=key, count=7).put())()
        if calls[-1] is None:
            TxCounter(key=key, count=1).put()

    transaction(work)
    assert calls[0] is None and calls[1].count == 7
    assert key.get().count == 7


def test_concurrent_increments_lose_nothing(leancloud_clean_server):
    key = ndb.Key(TxCounter, "hot")
    TxCounter(key=key, count=0).put()
    threads, per_thread = 6, 5
    errors = []

    @transactional(retries=100)
    def increment():
        entity = key.get()
        entity.count += 1
        entity.put()

    def worker():
        try:
            for _ in range(per_thread):
                increment()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert key.get().count == threads * per_thread


def test_get_or_insert_is_transactional(leancloud_clean_server):
    first = TxCounter.get_or_insert("unique", count=1)
    second = TxCounter.get_or_insert("unique", count=2)
    assert first.key == second.key and second.count == 1


def test_racing_get_or_insert_creates_once(leancloud_clean_server):
    results = []
    barrier = threading.Barrier(4)

    def racer(n):
        barrier.wait()
        results.append(TxCounter.get_or_insert("race", count=n, note=str(n)))

    pool = [threading.Thread(target=racer, args=(n,)) for n in range(4)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert len(results) == 4
    assert len({(e.count, e.note) for e in results}) == 1
    assert ndb.Key(TxCounter, "race").get().count == results[0].count


def test_transactional_decorator_forms(leancloud_clean_server):
    @transactional
    def plain():
        return in_transaction()

    @transactional(xg=True)
    def configured(a, b=0):
        return a + b, in_transaction()

    assert plain() is True
    assert configured(1, b=2) == (3, True)


def test_propagation(leancloud_clean_server):
    with pytest.raises(ndb.BadRequestError):
        transaction(lambda: 1, propagation=TransactionOptions.MANDATORY)
    inner = []

    def outer():
        current = txn_module._current.get()
        with pytest.raises(ndb.BadRequestError):
            transaction(lambda: 1)  # NESTED inside a transaction
        transaction(
            lambda: inner.append(txn_module._current.get() is current),
            propagation=TransactionOptions.ALLOWED,
        )
        transaction(
            lambda: inner.append(txn_module._current.get() is current),
            propagation=TransactionOptions.MANDATORY,
        )
        transaction(
            lambda: inner.append(txn_module._current.get() is current),
            propagation=TransactionOptions.INDEPENDENT,
        )

    transaction(outer)
    assert inner == [True, True, False]


def test_independent_transaction_commits_on_its_own(leancloud_clean_server):
    key = ndb.Key(TxCounter, "indep")

    def outer():
        transaction(
            lambda: TxCounter(key=key, count=3).put(), propagation=TransactionOptions.INDEPENDENT
        )
        raise Rollback()

    transaction(outer)
    assert key.get().count == 3


def test_non_transactional(leancloud_clean_server):
    key = ndb.Key(TxCounter, "nt")

    @non_transactional
    def write_now():
        assert not in_transaction()
        TxCounter(key=key, count=4).put()

    @non_transactional(allow_existing=False)
    def strict():
        return "ran"

    def work():
        write_now()
        assert in_transaction()
        with pytest.raises(ndb.BadRequestError):
            strict()
        raise Rollback()

    transaction(work)
    assert key.get().count == 4
    assert strict() == "ran"


def test_entity_groups(leancloud_clean_server):
    a, b = ndb.Key(TxAccount, "a"), ndb.Key(TxAccount, "b")
    TxAccount(key=a, balance=10).put()
    TxAccount(key=b, balance=0).put()

    def move():
        x, y = ndb.get_multi([a, b])
        x.balance -= 4
        y.balance += 4
        ndb.put_multi([x, y])

    with pytest.raises(ndb.BadRequestError):
        transaction(move)
    transaction(move, xg=True)
    assert [e.balance for e in ndb.get_multi([a, b])] == [6, 4]
    child = ndb.Key(TxAccount, "c", parent=a)
    transaction(lambda: TxAccount(key=child, balance=1).put() and a.get())  # one group


def test_tasklet_callback(leancloud_clean_server):
    key = ndb.Key(TxCounter, "tasklet")
    TxCounter(key=key, count=1).put()

    @ndb.tasklet
    def bump():
        entity = yield key.get_async()
        entity.count += 1
        yield entity.put_async()
        return entity.count

    assert transaction(bump) == 2
    assert key.get().count == 2


def test_too_many_groups_even_with_xg(leancloud_clean_server):
    def touch_six():
        ndb.get_multi([ndb.Key(TxCounter, f"g{n}") for n in range(6)])

    with pytest.raises(ndb.BadRequestError):
        transaction(touch_six, xg=True)
    transaction(lambda: ndb.get_multi([ndb.Key(TxCounter, f"g{n}") for n in range(5)]), xg=True)


def test_too_many_entities(leancloud_clean_server):
    root = ndb.Key(TxCounter, "big")

    def touch(n):
        ndb.get_multi([ndb.Key(TxCounter, i, parent=root) for i in range(1, n + 1)])

    with pytest.raises(ndb.BadRequestError):
        transaction(lambda: touch(txn_module.MAX_ENTITIES + 1))
    transaction(lambda: touch(txn_module.MAX_ENTITIES))


def test_read_only(leancloud_clean_server):
    key = ndb.Key(TxCounter, "ro")
    TxCounter(key=key, count=1).put()
    assert transaction(lambda: key.get().count, read_only=True) == 1
    with pytest.raises(ndb.BadRequestError):
        transaction(lambda: TxCounter(key=key, count=2).put(), read_only=True)


def test_transaction_async(leancloud_clean_server):
    key = ndb.Key(TxCounter, "async")
    future = transaction_async(lambda: TxCounter(key=key, count=8).put())
    assert future.get_result() == key
    assert key.get().count == 8


def test_bad_arguments_fail_before_any_request():
    with pytest.raises(ndb.BadArgumentError):
        transaction(lambda: 1, retries=-1)
    with pytest.raises(ndb.BadArgumentError):
        transaction(lambda: 1, propagation=99)
    with pytest.raises(TypeError):
        transaction(lambda: 1, bogus=True)
    with pytest.raises(ndb.BadArgumentError):
        transaction("not callable")


def test_commit_is_all_or_nothing_on_the_server(leancloud_clean_server):
    """A failing write (an ACL refusal) rolls back the writes before it."""
    created = client.post("/classes/TxLocked", {"n": 1, "ACL": {"*": {"read": True}}}).json()
    locked_id = created["objectId"]
    client.use_master_key(False)  # the fixture restores it
    with pytest.raises(LeanCloudError) as exc:
        client.post(
            "/transactions/commit",
            {
                "checks": [],
                "writes": [
                    {"className": "TxFree", "objectId": "one", "body": {"n": 1}},
                    {"className": "TxLocked", "objectId": locked_id, "body": {"n": 2}},
                ],
            },
        )
    assert exc.value.code == 403
    assert client.get("/classes/TxFree").json()["results"] == []


def test_commit_rejects_stale_versions(leancloud_clean_server):
    client.post(
        "/transactions/commit",
        {"writes": [{"className": "TxRaw", "objectId": "x", "body": {"n": 1}}]},
    )
    read = client.post(
        "/transactions/read", {"objects": [{"className": "TxRaw", "objectId": "x"}]}
    ).json()
    version = read["results"][0]["version"]
    assert read["results"][0]["object"]["n"] == 1
    client.put("/classes/TxRaw/x", {"n": 2})
    with pytest.raises(LeanCloudError) as exc:
        client.post(
            "/transactions/commit",
            {
                "checks": [{"className": "TxRaw", "objectId": "x", "version": version}],
                "writes": [{"className": "TxRaw", "objectId": "x", "body": {"n": 3}}],
            },
        )
    assert exc.value.code == 305
    assert client.get("/classes/TxRaw/x").json()["n"] == 2


def test_commit_validates_before_writing(leancloud_clean_server):
    for body in (
        {"writes": "nope"},
        {"writes": [{"className": "Tx Bad", "objectId": "x", "body": {}}]},
        {"writes": [{"className": "TxOk", "objectId": "x"}]},
        {"checks": [{"className": "TxOk", "objectId": "x", "version": 5}]},
    ):
        with pytest.raises(LeanCloudError):
            client.post("/transactions/commit", body)
    assert client.get("/classes/TxOk").json()["results"] == []
