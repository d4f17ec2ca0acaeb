"""The storage additions migration relies on: bulk import with given ids and stamps, dumps."""

from __future__ import annotations

import pytest

from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import parse_query
from leancloud.server.storage.base import StoredObject, WriteTx
from leancloud.server.storage.sqlite import SQLiteStorage

T1, T2, T3 = "2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z", "2022-01-01T00:00:00.000Z"


@pytest.fixture
def storage(tmp_path):
    storage = SQLiteStorage(str(tmp_path / "db.sqlite3"))
    yield storage
    storage.close()


def obj(object_id, updated=T1, acl=None, **data):
    return StoredObject("Post", object_id, T1, updated, data, acl)


def test_import_keeps_ids_and_stamps_and_reports_outcomes(storage):
    with storage.write() as tx:
        assert tx.import_objects([obj("a", n=1), obj("b", n=2)]) == ["inserted", "inserted"]
    with storage.write() as tx:
        outcomes = tx.import_objects([obj("a", T1, n=9), obj("b", T3, n=3), obj("c", T2, n=4)])
        assert outcomes == ["skipped", "updated", "inserted"]
    rows = {row["objectId"]: row for row in storage.find(parse_query("Post", {}), MASTER)}
    assert rows["a"]["n"] == 1  # not newer: untouched
    assert rows["b"]["n"] == 3 and rows["b"]["updatedAt"] == T3 and rows["b"]["createdAt"] == T1
    assert rows["c"]["updatedAt"] == T2


def test_import_sets_read_acl_rows_and_replaces_them_on_update(storage):
    alice = Principal(user_id="alice")
    with storage.write() as tx:
        tx.import_objects([obj("a", acl={"alice": {"read": True}})])
    assert [r["objectId"] for r in storage.find(parse_query("Post", {}), alice)] == ["a"]
    with storage.write() as tx:
        tx.import_objects([obj("a", T2, acl={"bob": {"read": True}})])
    assert storage.find(parse_query("Post", {}), alice) == []
    assert storage.find(parse_query("Post", {}), Principal(user_id="bob"))


def test_duplicate_ids_in_one_batch_keep_the_newest(storage):
    with storage.write() as tx:
        outcomes = tx.import_objects([obj("a", T2, n=2), obj("a", T1, n=1), obj("a", T3, n=3)])
    assert outcomes == ["inserted", "skipped", "updated"]
    assert storage.find(parse_query("Post", {}), MASTER)[0]["n"] == 3


def test_bulk_import_matches_the_reference_behaviour(storage, tmp_path):
    other = SQLiteStorage(str(tmp_path / "ref.sqlite3"))
    batches = [[obj("a"), obj("b", T2)], [obj("a", T2, x=1), obj("b", T1, x=2), obj("c")]]
    try:
        for batch in batches:
            with storage.write() as tx:
                fast = tx.import_objects(batch)
            with other.write() as tx:
                reference = WriteTx.import_objects(tx, batch)
            assert fast == reference
        assert storage.dump("Post", None, 10) == other.dump("Post", None, 10)
    finally:
        other.close()


def test_dump_pages_raw_objects_with_hidden_fields(storage):
    with storage.write() as tx:
        tx.import_objects(
            [
                StoredObject(
                    "_User", f"u{i}", T1, T1, {"username": f"n{i}", "password": "h", "salt": "s"}
                )
                for i in range(5)
            ]
        )
    first = storage.dump("_User", None, 3)
    assert [o.object_id for o in first] == ["u0", "u1", "u2"]
    assert first[0].data == {"username": "n0", "password": "h", "salt": "s"}
    assert [o.object_id for o in storage.dump("_User", "u2", 3)] == ["u3", "u4"]


def test_dump_relations_pages_in_owner_target_order(storage):
    with storage.write() as tx:
        tx.relation_add("Post", "likes", "p1", "_User", ["u2", "u1"])
        tx.relation_add("Post", "likes", "p2", "_User", ["u1"])
        tx.relation_add("Post", "other", "p1", "_User", ["u9"])
    page = storage.dump_relations("Post", "likes", None, 2)
    assert page == [("p1", "_User", "u1"), ("p1", "_User", "u2")]
    assert storage.dump_relations("Post", "likes", ("p1", "u2"), 2) == [("p2", "_User", "u1")]


def test_import_relations_counts_only_new_memberships(storage):
    rows = [("p1", "_User", "u1"), ("p1", "_User", "u2")]
    with storage.write() as tx:
        assert tx.import_relations("Post", "likes", rows) == 2
    with storage.write() as tx:
        assert tx.import_relations("Post", "likes", rows + [("p2", "_User", "u1")]) == 1
    assert len(storage.dump_relations("Post", "likes", None, 10)) == 3
