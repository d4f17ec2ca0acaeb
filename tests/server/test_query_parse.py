"""REST query parameters and ``where`` -> the query AST, and every malformed input's error code."""

import json
import re

import pytest

from leancloud.server.errors import ApiError
from leancloud.server.query import (
    All,
    And,
    Compare,
    Exists,
    In,
    InQuery,
    Near,
    Or,
    Query,
    Regex,
    RelatedTo,
    Select,
    Size,
    Within,
    parse_query,
    parse_where,
)

POINTER = {"__type": "Pointer", "className": "Post", "objectId": "p1"}


def where(obj):
    return parse_where("Post", obj)


def code_of(func, *args):
    with pytest.raises(ApiError) as info:
        func(*args)
    return info.value.code


def test_empty_where_matches_everything():
    assert where({}) is None
    assert parse_query("Post", {}).where is None
    assert parse_query("Post", {"where": ""}).where is None


def test_equality_keeps_wire_values_and_dotted_paths():
    assert where({"title": "hi"}) == Compare(("title",), "eq", "hi")
    assert where({"address.city": "Paris"}) == Compare(("address", "city"), "eq", "Paris")
    assert where({"author": POINTER}) == Compare(("author",), "eq", POINTER)
    assert where({"tags": ["a", "b"]}) == Compare(("tags",), "eq", ["a", "b"])
    assert where({"meta": {"a": 1}}) == Compare(("meta",), "eq", {"a": 1})


def test_full_objects_in_queries_become_pointers():
    value = {"__type": "Object", "className": "Post", "objectId": "p1", "title": "x"}
    assert where({"author": value}) == Compare(("author",), "eq", POINTER)


def test_dates_are_normalised_to_utc_milliseconds():
    node = where({"at": {"$gt": {"__type": "Date", "iso": "2020-01-01T08:00:00+08:00"}}})
    assert node == Compare(("at",), "gt", {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"})


def test_files_are_keyed_on_their_id():
    node = where({"f": {"__type": "File", "objectId": "f1", "url": "http://x"}})
    assert node == Compare(("f",), "eq", {"__type": "File", "id": "f1"})


@pytest.mark.parametrize(
    "op, name, value",
    [
        ("$eq", "eq", POINTER),
        ("$ne", "ne", 1),
        ("$lt", "lt", 2),
        ("$lte", "lte", "b"),
        ("$gt", "gt", 3.5),
        ("$gte", "gte", "a"),
    ],
)
def test_comparisons(op, name, value):
    assert where({"n": {op: value}}) == Compare(("n",), name, value)


def test_several_operators_on_one_field_are_anded():
    assert where({"n": {"$gt": 1, "$lt": 5}}) == And(
        (Compare(("n",), "gt", 1), Compare(("n",), "lt", 5))
    )


def test_several_fields_are_anded_and_arrays_are_implicit_and():
    both = And((Compare(("a",), "eq", 1), Compare(("b",), "eq", 2)))
    assert where({"a": 1, "b": 2}) == both
    assert where([{"a": 1}, {"b": 2}]) == both
    assert parse_query("Post", {"where": json.dumps([{"a": 1}, {"b": 2}])}).where == both


def test_list_operators():
    assert where({"n": {"$in": [1, 2]}}) == In(("n",), (1, 2))
    assert where({"n": {"$nin": [1]}}) == In(("n",), (1,), negate=True)
    assert where({"tags": {"$all": ["a", "b"]}}) == All(("tags",), ("a", "b"))
    assert where({"tags": {"$size": 2}}) == Size(("tags",), 2)
    assert where({"x": {"$exists": False}}) == Exists(("x",), False)


def test_regex_flags_and_pcre_literals():
    node = where({"t": {"$regex": r"^\Qa.b*\E$", "$options": "imsx"}})
    assert node == Regex(("t",), r"^a\.b\*$", re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE)
    assert where({"t": {"$regex": r"\\Q"}}) == Regex(
        ("t",), r"\\Q", 0
    )  # an escaped backslash, not \Q
    assert where({"t": {"$regex": r"\Qa+"}}) == Regex(
        ("t",), r"a\+", 0
    )  # \Q without \E runs to the end


def test_subqueries():
    node = where(
        {
            "post": {
                "$inQuery": {
                    "className": "Post",
                    "where": {"n": 1},
                    "limit": 5,
                    "skip": 1,
                    "order": "-n",
                }
            }
        }
    )
    sub = Query("Post", Compare(("n",), "eq", 1), order=((("n",), True),), limit=5, skip=1)
    assert node == InQuery(("post",), sub)
    node = where({"post": {"$notInQuery": {"className": "Post"}}})
    assert node == InQuery(("post",), Query("Post", limit=None), negate=True)
    node = where(
        {
            "city": {
                "$select": {
                    "query": {"className": "Team", "where": {"w": {"$gt": 3}}},
                    "key": "city",
                }
            }
        }
    )
    assert node == Select(("city",), Query("Team", Compare(("w",), "gt", 3), limit=None), ("city",))
    node = where({"city": {"$dontSelect": {"query": {"className": "Team"}, "key": "home.city"}}})
    assert node == Select(("city",), Query("Team", limit=None), ("home", "city"), negate=True)


def test_relations():
    node = where({"$relatedTo": {"object": POINTER, "key": "likes"}})
    assert node == RelatedTo("Post", "p1", "likes")


def test_or_and():
    node = where({"$or": [{"a": 1}, {"b": 2}], "$and": [{"c": 3}]})
    assert node == And(
        (Or((Compare(("a",), "eq", 1), Compare(("b",), "eq", 2))), Compare(("c",), "eq", 3))
    )
    assert where({"$or": [{"a": 1}, {}]}) is None  # a branch that matches everything


def test_geo_operators_and_distance_units():
    point = {"__type": "GeoPoint", "latitude": 30, "longitude": 120}
    assert where({"loc": {"$nearSphere": point}}) == Near(("loc",), 30.0, 120.0)
    assert where(
        {"loc": {"$nearSphere": point, "$maxDistance": 0.1, "$minDistance": 0.01}}
    ) == Near(("loc",), 30.0, 120.0, 0.1, 0.01)
    node = where(
        {
            "loc": {
                "$nearSphere": point,
                "$maxDistanceInKilometers": 6371.0,
                "$minDistanceInMiles": 3958.8,
            }
        }
    )
    assert node.max_distance == pytest.approx(1.0) and node.min_distance == pytest.approx(1.0)
    node = where({"loc": {"$nearSphere": [30, 120], "$maxDistanceInRadians": 0.5}})
    assert node == Near(("loc",), 30.0, 120.0, 0.5)
    box = {"$box": [point, {"__type": "GeoPoint", "latitude": 40, "longitude": 130}]}
    assert where({"loc": {"$within": box}}) == Within(("loc",), 30.0, 120.0, 40.0, 130.0)
    assert where({"loc": {"$within": {"$box": [[0, 0], [11, 11]]}}}) == Within(
        ("loc",), 0.0, 0.0, 11.0, 11.0
    )


def test_rest_parameters():
    query = parse_query(
        "Post",
        {
            "where": '{"a": 1}',
            "order": "a,-b.c",
            "limit": "10",
            "skip": "20",
            "keys": "a,b.c,-d",
            "include": "p, p.q",
            "count": "1",
            "returnACL": "true",
            "redirectClassNameForKey": "likes",
        },
    )
    assert query == Query(
        "Post",
        Compare(("a",), "eq", 1),
        order=((("a",), False), (("b", "c"), True)),
        limit=10,
        skip=20,
        keys=(("a",), ("b", "c")),
        exclude_keys=(("d",),),
        include=(("p",), ("p", "q")),
        count=True,
        return_acl=True,
        redirect_class_name_for_key="likes",
    )


def test_limit_defaults_and_out_of_range_values():
    assert parse_query("Post", {}).limit == 100
    assert parse_query("Post", {"limit": "0"}).limit == 0
    assert parse_query("Post", {"limit": "1000"}).limit == 1000
    assert parse_query("Post", {"limit": "1001"}).limit == 100
    assert parse_query("Post", {"limit": "-1"}).limit == 100
    assert parse_query("Post", {"returnACL": "false", "count": "0"}).return_acl is False


@pytest.mark.parametrize(
    "params, code",
    [
        ({"where": "{not json"}, 107),
        ({"where": "3"}, 107),
        ({"where": '{"a": {"$foo": 1}}'}, 1),
        ({"where": '{"$foo": 1}'}, 1),
        ({"where": '{"a": {"$gt": 1, "b": 2}}'}, 1),
        ({"where": '{"a": {"$gt": true}}'}, 1),
        ({"where": '{"a": {"$gt": [1]}}'}, 1),
        ({"where": '{"a": {"$in": 1}}'}, 1),
        ({"where": '{"a": {"$size": -1}}'}, 1),
        ({"where": '{"a": {"$size": "2"}}'}, 1),
        ({"where": '{"a": {"$exists": 1}}'}, 1),
        ({"where": '{"a": {"$regex": "("}}'}, 1),
        ({"where": '{"a": {"$regex": "x", "$options": "g"}}'}, 1),
        ({"where": '{"a": {"$options": "i"}}'}, 1),
        ({"where": '{"a": {"$maxDistance": 1}}'}, 1),
        (
            {
                "where": '{"a": {"$nearSphere": {"__type": "GeoPoint", "latitude": 91, "longitude": 0}}}'
            },
            302,
        ),
        (
            {
                "where": '{"a": {"$nearSphere": {"__type": "GeoPoint", "latitude": "1", "longitude": 0}}}'
            },
            302,
        ),
        ({"where": '{"a": {"$nearSphere": [1, 2, 3]}}'}, 302),
        ({"where": '{"a": {"$within": {"$box": [[0, 0], [0, 181]]}}}'}, 302),
        ({"where": '{"a": {"$within": {"$box": [[10, 0], [0, 10]]}}}'}, 302),
        ({"where": '{"a": {"$within": {"$circle": 1}}}'}, 1),
        ({"where": '{"a": {"$nearSphere": [1, 2], "$maxDistance": -1}}'}, 1),
        ({"where": '{"a": {"__type": "Date", "iso": "yesterday"}}'}, 107),
        ({"where": '{"a": {"__type": "Pointer", "className": "Post"}}'}, 106),
        ({"where": '{"a": {"__type": "Relation", "className": "Post"}}'}, 1),
        ({"where": '{"a": NaN}'}, 107),
        ({"where": '{"$or": []}'}, 1),
        ({"where": '{"$or": {"a": 1}}'}, 1),
        (
            {
                "where": '{"$relatedTo": {"object": {"__type": "Pointer", "className": "P"}, "key": "x"}}'
            },
            106,
        ),
        (
            {
                "where": '{"$relatedTo": {"object": {"__type": "Pointer", "className": "P", "objectId": "1"}}}'
            },
            1,
        ),
        ({"where": '{"a": {"$inQuery": {"where": {}}}}'}, 1),
        ({"where": '{"a": {"$inQuery": {"className": "1x"}}}'}, 103),
        ({"where": '{"a": {"$inQuery": {"className": "P", "limit": "x"}}}'}, 1),
        ({"where": '{"a": {"$inQuery": {"className": "P", "bogus": 1}}}'}, 1),
        ({"where": '{"a": {"$select": {"query": {"className": "P"}}}}'}, 1),
        ({"where": '{"a\\"; DROP TABLE objects; --": 1}'}, 105),
        ({"where": '{"a.$b": 1}'}, 105),
        ({"where": '{"": 1}'}, 105),
        ({"order": 'a,-b"'}, 105),
        ({"keys": "a,'b"}, 105),
        ({"include": "p.q]"}, 105),
        ({"limit": "ten"}, 1),
        ({"skip": "-1"}, 1),
        ({"redirectClassNameForKey": "a.b"}, 105),
    ],
)
def test_malformed_input_is_an_api_error_with_leancloud_code(params, code):
    assert code_of(parse_query, "Post", params) == code


def test_bad_class_name():
    assert code_of(parse_query, "1Post", {}) == 103
    assert code_of(parse_query, "Post; --", {}) == 103


def test_hostile_nesting_is_an_api_error_not_a_crash():
    deep = {"a": 1}
    for _ in range(100):
        deep = {"$or": [deep, {"b": 2}]}
    assert code_of(parse_where, "Post", deep) == 1
    assert code_of(parse_query, "Post", {"where": "[" * 100000 + "]" * 100000}) == 107
    nested_value = {"a": {"b": {"c": 1}}}
    assert where(nested_value) == Compare(("a",), "eq", {"b": {"c": 1}})
