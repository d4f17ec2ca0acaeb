"""BSON backups (``mongodump`` layout) read with pymongo's ``bson``."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from leancloud.migration import run_import
from leancloud.migration.mongo import from_mongo
from leancloud.migration.sources import open_source
from leancloud.migration.targets import LocalTarget
from tests.migration import samples

bson = pytest.importorskip("bson")

WHEN = dt.datetime(2020, 11, 4, 3, 29, 17, 441000, tzinfo=dt.timezone.utc)


def test_documents_become_rest_rows():
    oid = bson.ObjectId("5cc6abe117b54d7448151efc")
    row = from_mongo(
        {
            "_id": oid,
            "_created_at": WHEN,
            "updatedAt": WHEN,
            "title": "hi",
            "at": WHEN,
            "raw": b"\x00\x01\x02",
            "ref": oid,
            "_p_author": "_User$u1",
            "place": {"type": "Point", "coordinates": [116.4, 39.9]},
            "_acl": {"*": {"r": True}, "u1": {"r": True, "w": True}},
            "_internal_bookkeeping": 1,
        }
    )
    assert row == {
        "objectId": "5cc6abe117b54d7448151efc",
        "createdAt": "2020-11-04T03:29:17.441Z",
        "updatedAt": "2020-11-04T03:29:17.441Z",
        "title": "hi",
        "at": {"__type": "Date", "iso": "2020-11-04T03:29:17.441Z"},
        "raw": {"__type": "Bytes", "base64": "AAEC"},
        "ref": "5cc6abe117b54d7448151efc",
        "author": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
        "place": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4},
        "ACL": {"*": {"read": True}, "u1": {"read": True, "write": True}},
    }
    import uuid

    odd = from_mongo({"_id": "x", "u": uuid.UUID(int=1), "d": bson.Decimal128("1.5")})
    assert odd == {"objectId": "x", "u": "00000000-0000-0000-0000-000000000001", "d": 1.5}
    with pytest.raises(ValueError):
        from_mongo({"_id": "x", "n": float("nan")})  # the reader reports the row
    assert from_mongo({"_id": "x", "_rperm": ["*"], "_wperm": ["u1"]})["ACL"] == {
        "*": {"read": True},
        "u1": {"write": True},
    }


def _dump(path, documents, compress=False):
    data = b"".join(bson.encode(doc) for doc in documents)
    path.write_bytes(gzip.compress(data) if compress else data)


def test_a_mongodump_directory_imports(tmp_path):
    db = tmp_path / "dump" / "appdb"
    db.mkdir(parents=True)
    users = [
        {
            "_id": samples.USER_ID,
            "createdAt": WHEN,
            "updatedAt": WHEN,
            "username": "alice",
            "password": samples.HASH,
            "salt": samples.SALT,
        },
    ]
    posts = [
        {"_id": f"p{i}", "createdAt": WHEN, "updatedAt": WHEN, "n": i, "at": WHEN} for i in range(3)
    ]
    _dump(db / "_User.bson", users)
    _dump(db / "Post.20260101.bson.gz", posts, compress=True)
    (db / "Post.metadata.json").write_text(json.dumps({"indexes": []}))
    _dump(db / "_Join:fans:Post.bson", [{"owningId": "p1", "relatedId": samples.USER_ID}])
    (db / "Broken.bson").write_bytes(
        bson.encode({"_id": "ok", "n": 1}) + b"\x20\x00\x00\x00garbage"
    )
    data = tmp_path / "data"
    source = open_source(str(tmp_path / "dump"), str(tmp_path / "s"))
    target = LocalTarget(str(data))
    report = run_import(source, target, str(data))
    target.close()
    assert report.classes["Post"].inserted == 3 and report.classes["_User"].inserted == 1
    assert report.classes["Broken"].inserted == 1 and report.classes["Broken"].failed == 1
    assert any(e.startswith("Broken.bson#2: bad BSON") for e in report.errors)
    state = samples.snapshot(str(data))
    post = next(o for o in state["Post"] if o.object_id == "p1")
    assert post.data["at"] == {"__type": "Date", "iso": "2020-11-04T03:29:17.441Z"}
    assert post.updated_at == "2020-11-04T03:29:17.441Z"
    assert state["_User"][0].data["password"] == samples.HASH
    # A _Join collection does not name its target class: without a schema it is reported.
    assert report.classes["Post.fans"].failed == 1
    assert any(
        e.startswith("_Join:fans:Post.bson#1: the relation's target class is unknown")
        for e in report.errors
    )


def test_a_schema_file_beside_the_dump_gives_relation_targets(tmp_path):
    db = tmp_path / "dump"
    db.mkdir()
    _dump(db / "Post.bson", [{"_id": "p1", "updatedAt": WHEN}])
    _dump(db / "_Join:fans:Post.bson", [{"owningId": "p1", "relatedId": "u1"}])
    (db / "schema.json").write_text(
        json.dumps({"Post": {"fans": {"type": "Relation", "className": "_User"}}})
    )
    data = tmp_path / "data"
    target = LocalTarget(str(data))
    report = run_import(open_source(str(db), str(tmp_path / "s")), target, str(data))
    target.close()
    assert report.failed == 0, report.format()
    assert samples.snapshot(str(data))["Post.fans"] == [("p1", "_User", "u1")]


def test_missing_bson_module_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    (tmp_path / "x.bson").write_bytes(b"")
    real_import = builtins.__import__

    def no_bson(name, *args, **kwargs):
        if name == "bson":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_bson)
    with pytest.raises(RuntimeError, match=r"pip install 'leancloud\[bson\]'"):
        open_source(str(tmp_path / "x.bson"), str(tmp_path / "s"))
