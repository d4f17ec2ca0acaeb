"""Relation fields: pending changes on the parent, and the queries they build."""

import json

import pytest
import responses

from leancloud import Object, Relation, codec
from tests.conftest import API

Band = Object.as_class("RelBand")
Member = Object.as_class("RelMember")


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def test_add_and_remove_record_one_merged_op():
    band = Band.create_without_data("b1")
    members = band.relation("members")
    members.add(Member.create_without_data("m1"), Member.create_without_data("m2"))
    members.remove([Member.create_without_data("m2")])  # a list works as well as *args
    # m2 stays in the removals: it may have been in the relation on the server already.
    assert band._dump_save() == {
        "members": {
            "__op": "Batch",
            "ops": [
                {"__op": "AddRelation", "objects": [pointer("RelMember", "m1")]},
                {"__op": "RemoveRelation", "objects": [pointer("RelMember", "m2")]},
            ],
        }
    }
    assert members.target_class_name == "RelMember"
    assert band.relation("members") is members
    assert members.dump() == {"__type": "Relation", "className": "RelMember"}


def test_relation_save_request(api):
    band = Band.create_without_data("b1")
    relation = band.relation("members")
    relation.add(Member.create_without_data("m1"))
    relation.remove(Member.create_without_data("m2"))
    api.add(
        responses.PUT,
        f"{API}/classes/RelBand/b1",
        json={"objectId": "b1", "updatedAt": "2024-01-01T00:00:00.000Z"},
    )
    band.save()
    assert json.loads(api.calls[0].request.body) == {
        "members": {
            "__op": "Batch",
            "ops": [
                {"__op": "AddRelation", "objects": [pointer("RelMember", "m1")]},
                {"__op": "RemoveRelation", "objects": [pointer("RelMember", "m2")]},
            ],
        }
    }
    assert band.relation("members") is relation


def test_refusals():
    band = Band.create_without_data("b1")
    with pytest.raises(TypeError, match="unsaved"):
        band.relation("members").add(Member())
    with pytest.raises(ValueError):
        Relation().add(Member.create_without_data("m1"))
    band.set("name", "x")
    with pytest.raises(TypeError):
        band.relation("name")
    with pytest.raises(ValueError):
        _ = Band().relation("members").query  # the parent has no id yet


def test_query_with_known_target_class():
    band = Band.create_without_data("b1")
    relation = band.relation("members")
    relation.add(Member.create_without_data("m1"))
    query = relation.query
    assert query._query_class is Member
    assert query._where == {"$relatedTo": {"object": pointer("RelBand", "b1"), "key": "members"}}
    assert "redirectClassNameForKey" not in query._extra


def test_query_with_unknown_target_class_redirects(api):
    query = Band.create_without_data("b1").relation("members").query
    assert query._query_class is Band
    assert query._extra == {"redirectClassNameForKey": "members"}
    api.add(
        responses.GET,
        f"{API}/classes/RelBand",
        json={"results": []},
        match=[
            responses.matchers.query_param_matcher(
                {
                    "where": json.dumps(
                        {"$relatedTo": {"object": pointer("RelBand", "b1"), "key": "members"}},
                        separators=(",", ":"),
                    ),
                    "redirectClassNameForKey": "members",
                },
                strict_match=False,
            )
        ],
    )
    assert query.find() == []


def test_reverse_query():
    member = Member.create_without_data("m1")
    query = Relation.reverse_query("RelBand", "members", member)
    assert query._query_class is Band
    assert query._where == {"members": pointer("RelMember", "m1")}
    with pytest.raises(ValueError):
        Relation.reverse_query("RelBand", "members", Member())


def test_decoded_relation_attaches_to_its_object():
    band = Band()
    band._update_data(
        {"objectId": "b1", "members": {"__type": "Relation", "className": "RelMember"}}
    )
    relation = band.relation("members")
    assert isinstance(relation, Relation)
    assert (relation.parent, relation.key, relation.target_class_name) == (
        band,
        "members",
        "RelMember",
    )
    assert relation.query._query_class is Member
    assert codec.encode(relation) == {"__type": "Relation", "className": "RelMember"}
