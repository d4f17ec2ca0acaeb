"""Row and schema validation shared by both import targets (``records`` and ``writer``)."""

from __future__ import annotations

import pytest

from leancloud.migration import writer
from leancloud.migration.records import RowError, schema_types, to_membership, to_stored
from leancloud.server.storage.sqlite import SQLiteStorage


@pytest.fixture
def storage(tmp_path):
    storage = SQLiteStorage(str(tmp_path / "db.sqlite3"))
    yield storage
    storage.close()


def test_schema_types_keep_known_types_and_name_each_field_left_out():
    types, problems = schema_types(
        "_User",
        {
            "objectId": {"type": "String"},
            "salt": {"type": "String"},  # hidden: the server's own
            "title": {"type": "String"},
            "owner": {"type": "Pointer", "className": "_User", "extra": 1},
            "fans": {"type": "Relation", "className": "_User"},
            "odd": {"type": "Banana"},
            "loose": {"type": "Pointer"},  # the rows' values declare it later
            "bad": {"type": "Relation", "className": "no such name"},
            "worse": "String",
            "bad-name": {"type": "String"},
        },
    )
    assert types == {
        "title": {"type": "String"},
        "owner": {"type": "Pointer", "className": "_User"},
        "fans": {"type": "Relation", "className": "_User"},
    }
    assert sorted(problems) == sorted(
        [
            "field 'odd': unknown type 'Banana'",
            "field 'loose': a Pointer needs a valid className",
            "field 'bad': a Relation needs a valid className",
            "field 'worse': unknown type 'String'",
            "Invalid key name: 'bad-name'.",
        ]
    )
    assert schema_types("Post", ["title"]) == ({}, ["the fields must be a JSON object"])


def test_a_relation_has_one_target_class():
    row = {"owningId": "p1", "relatedId": "u1"}
    assert to_membership(row, "_User") == ("p1", "_User", "u1")
    assert to_membership({**row, "relatedClassName": "_User"}, "_User") == ("p1", "_User", "u1")
    with pytest.raises(RowError, match="points to _User"):
        to_membership({**row, "relatedClassName": "Other"}, "_User")
    with pytest.raises(RowError, match="invalid relatedClassName"):
        to_membership({**row, "relatedClassName": "no such name"}, None)
    with pytest.raises(RowError, match="target class is unknown"):
        to_membership(row, None)


@pytest.mark.parametrize("object_id", ["a/b", "a b", 5, "x" * 4097])
def test_object_ids_urls_cannot_address_are_refused(object_id):
    with pytest.raises(RowError, match="Invalid objectId"):
        to_stored("Post", {"objectId": object_id})


def test_relation_placeholders_need_a_class_and_class_name_is_never_a_field():
    with pytest.raises(RowError, match="Invalid class name"):
        to_stored("Post", {"objectId": "p", "fans": {"__type": "Relation"}})
    obj, types = to_stored("Post", {"objectId": "p", "className": 5, "n": 1})
    assert obj.data == {"n": 1} and types == {"n": {"type": "Number"}}


def test_relation_rows_fail_on_a_field_that_is_not_a_relation(storage):
    writer.write_objects(storage, "Post", [{"objectId": "p1", "fans": "not a relation"}])
    result = writer.write_relations(
        storage, "Post", "fans", [{"owningId": "p1", "relatedId": "u1"}], target_class="_User"
    )
    assert result.failed == [(0, "field 'fans' is String in the schema, not a Relation")]
    assert storage.dump_relations("Post", "fans", None, 10) == []


def test_relation_rows_without_a_schema_follow_the_first_rows_class(storage):
    rows = [
        {"owningId": "p1", "relatedId": "u1", "relatedClassName": "_User"},
        {"owningId": "p1", "relatedId": "x1", "relatedClassName": "Other"},
    ]
    result = writer.write_relations(storage, "Post", "fans", rows)
    assert result.inserted == 1 and [i for i, _ in result.failed] == [1]
    assert storage.schema("Post")["Post"]["fans"] == {"type": "Relation", "className": "_User"}


def test_a_bad_schema_entry_does_not_cost_the_rest(storage):
    result = writer.write_schema(
        storage,
        {"Post": {"title": {"type": "String"}, "odd": {"type": "Banana"}}, "Empty": {}, "X": 5},
    )
    assert result.inserted == 2
    assert result.failed == [
        (0, "Post: field 'odd': unknown type 'Banana'"),
        (2, "X: the fields must be a JSON object"),
    ]
    schema = storage.schema()
    assert schema["Post"]["title"] == {"type": "String"} and "odd" not in schema["Post"]
    assert "Empty" in schema and "X" not in schema


def test_a_user_whose_name_email_or_phone_another_user_holds_fails(storage):
    def user(object_id, updated="2020-01-01T00:00:00.000Z", **fields):
        return {"objectId": object_id, "updatedAt": updated, **fields}

    first = writer.write_objects(storage, "_User", [user("a", username="ann", email="e@x")])
    assert first.inserted == 1
    result = writer.write_objects(
        storage,
        "_User",
        [
            user("a", "2021-01-01T00:00:00.000Z", username="ann", email="e@x"),  # itself
            user("b", username="ann"),
            user("c", email="e@x"),
            user("d", mobilePhoneNumber="+1555"),
            user("e", mobilePhoneNumber="+1555"),  # taken earlier in this batch
        ],
    )
    assert (result.updated, result.inserted) == (1, 1)
    assert result.failed == [
        (1, "username 'ann' belongs to another user (a)"),
        (2, "email 'e@x' belongs to another user (a)"),
        (4, "mobilePhoneNumber '+1555' belongs to another user (d)"),
    ]
