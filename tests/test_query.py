"""Query: the where JSON and request parameters the official SDK sends, and result decoding."""

import datetime
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from leancloud import FriendshipQuery, LeanCloudError, Query
from leancloud.geo_point import GeoPoint
from leancloud.object_ import Object
from leancloud.query import CQLResult

from .conftest import API

UTC = datetime.timezone.utc
WHEN = datetime.datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
WHEN_WIRE = {"__type": "Date", "iso": "2020-01-02T03:04:05.006Z"}


def sent(call) -> dict:
    """The query parameters of a recorded request, one value each, JSON ones decoded."""
    params = {
        k: v[0]
        for k, v in parse_qs(urlparse(call.request.url).query, keep_blank_values=True).items()
    }
    for key in ("where", "pvalues"):
        if key in params:
            params[key] = json.loads(params[key])
    return params


def path_of(call) -> str:
    return urlparse(call.request.url).path


def where(query: Query) -> dict:
    return query.dump()["where"]


def score_query() -> Query:
    return Query("GameScore")


def pointer(class_name: str, object_id: str) -> dict:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


# -- the queried class ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, class_name",
    [
        ("GameScore", "GameScore"),
        ("File", "_File"),
        ("_File", "_File"),
        ("User", "_User"),
        ("_User", "_User"),
    ],
)
def test_query_class_from_name(api, name, class_name):
    api.get(f"{API}/classes/{class_name}", json={"results": []})
    assert Query(name).find() == []
    assert Query(name)._query_class._class_name == class_name


def test_query_class_from_object_subclass():
    cls = Object.as_class("GameScore")
    assert Query(cls)._query_class is cls


def test_query_class_from_file_class(api):
    from leancloud import File

    api.get(f"{API}/classes/_File", json={"results": [{"objectId": "f1", "name": "a.txt", "url": "u"}]})
    (found,) = Query(File).find()
    assert isinstance(found, File)


@pytest.mark.parametrize("bad", [None, "", 3, dict, Object.as_class("GameScore")()])
def test_query_class_must_be_a_name_or_object_class(bad):
    with pytest.raises(ValueError):
        Query(bad)


# -- conditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, args, expected",
    [
        ("equal_to", ("a", 1), {"a": 1}),
        ("not_equal_to", ("a", 1), {"a": {"$ne": 1}}),
        ("less_than", ("a", 1), {"a": {"$lt": 1}}),
        ("less_than_or_equal_to", ("a", 1), {"a": {"$lte": 1}}),
        ("greater_than", ("a", 1), {"a": {"$gt": 1}}),
        ("greater_than_or_equal_to", ("a", 1), {"a": {"$gte": 1}}),
        ("contained_in", ("a", [1, 2]), {"a": {"$in": [1, 2]}}),
        ("contained_in", ("a", (1, 2)), {"a": {"$in": [1, 2]}}),
        ("not_contained_in", ("a", [1]), {"a": {"$nin": [1]}}),
        ("contains_all", ("a", ["x", "y"]), {"a": {"$all": ["x", "y"]}}),
        ("size_equal_to", ("a", 3), {"a": {"$size": 3}}),
        ("exists", ("a",), {"a": {"$exists": True}}),
        ("does_not_exist", ("a",), {"a": {"$exists": False}}),
        ("startswith", ("a", "x.y"), {"a": {"$regex": "^x.y"}}),
        ("endswith", ("a", "x.y"), {"a": {"$regex": "x.y$"}}),
        ("contains", ("a", "x.y"), {"a": {"$regex": "x.y"}}),
        ("matched", ("a", "^x+"), {"a": {"$regex": "^x+"}}),
        ("greater_than", ("when", WHEN), {"when": {"$gt": WHEN_WIRE}}),
        ("equal_to", ("data", b"\x00\x01"), {"data": {"__type": "Bytes", "base64": "AAE="}}),
    ],
)
def test_condition_where_json(method, args, expected):
    assert where(getattr(score_query(), method)(*args)) == expected


def test_conditions_on_one_key_combine():
    query = score_query().greater_than("score", 1).less_than("score", 9).not_equal_to("score", 5)
    assert where(query) == {"score": {"$gt": 1, "$lt": 9, "$ne": 5}}


def test_equal_to_replaces_conditions_and_is_replaced_by_them():
    query = score_query().greater_than("score", 1).equal_to("score", 3)
    assert where(query) == {"score": 3}
    query.less_than("score", 9)
    assert where(query) == {"score": {"$lt": 9}}


def test_a_condition_never_merges_into_an_equal_to_pointer():
    player = Object.as_class("Player").create_without_data("p1")
    query = score_query().equal_to("player", player)
    assert where(query) == {"player": pointer("Player", "p1")}
    query.exists("player")
    assert where(query) == {"player": {"$exists": True}}


def test_objects_in_conditions_become_pointers():
    players = [Object.as_class("Player").create_without_data(i) for i in ("p1", "p2")]
    query = score_query().contained_in("player", players)
    assert where(query) == {"player": {"$in": [pointer("Player", "p1"), pointer("Player", "p2")]}}


def test_matched_options():
    assert where(score_query().matched("a", "x", ignore_case=True)) == {
        "a": {"$regex": "x", "$options": "i"}
    }
    assert where(score_query().matched("a", "x", multi_line=True)) == {
        "a": {"$regex": "x", "$options": "m"}
    }
    both = score_query().matched("a", "x", ignore_case=True, multi_line=True)
    assert where(both) == {"a": {"$regex": "x", "$options": "im"}}


def test_matched_takes_a_compiled_pattern_with_its_flags():
    query = score_query().matched("a", re.compile("^x.*y$", re.IGNORECASE | re.DOTALL))
    assert where(query) == {"a": {"$regex": "^x.*y$", "$options": "is"}}
    query = score_query().matched("a", re.compile("x"), multi_line=True)
    assert where(query) == {"a": {"$regex": "x", "$options": "m"}}


def test_matched_again_drops_stale_options():
    query = score_query().matched("a", "x", ignore_case=True).matched("a", "y")
    assert where(query) == {"a": {"$regex": "y"}}


@pytest.mark.parametrize(
    "method, args",
    [
        ("equal_to", (None, 1)),
        ("greater_than", (3, 1)),
        ("exists", ("",)),
        ("contained_in", ("a", "abc")),
        ("contained_in", ("a", 5)),
        ("contains_all", ("a", {"x": 1})),
        ("size_equal_to", ("a", "3")),
        ("size_equal_to", ("a", True)),
        ("startswith", ("a", 1)),
        ("contains", ("a", None)),
        ("matched", ("a", 5)),
        ("matches_query", ("a", "GameScore")),
        ("within_radians", ("loc", GeoPoint(1, 2), "far")),
        ("within_kilometers", ("loc", GeoPoint(1, 2), 1, "near")),
        ("near", ("loc", "39.9,116.4")),
        ("near", ("loc", {"latitude": 1, "longitude": 2})),
        ("within_radians", ("loc", ("1", 2), 0.5)),
        ("within_geo_box", ("loc", GeoPoint(1, 2), [1, 2, 3])),
        ("ascending", (None,)),
        ("select", (1,)),
        ("include", ("a", None)),
        ("include_acl", ("yes",)),
        ("limit", ("10",)),
        ("skip", (1.5,)),
    ],
)
def test_wrong_argument_types_raise_type_error(method, args):
    with pytest.raises(TypeError):
        getattr(score_query(), method)(*args)


@pytest.mark.parametrize(
    "method, args",
    [
        ("limit", (1001,)),
        ("limit", (-1,)),
        ("skip", (-1,)),
        ("size_equal_to", ("a", -1)),
        ("near", ("loc", (91, 0))),
        ("within_geo_box", ("loc", (0, 0), (0, 181))),
    ],
)
def test_out_of_range_values_raise_value_error(method, args):
    with pytest.raises(ValueError):
        getattr(score_query(), method)(*args)


# -- subqueries ----------------------------------------------------------------------


def test_matches_query_embeds_the_dumped_subquery_with_its_class():
    inner = Query("Post").equal_to("image", True).limit(10).include("author")
    query = score_query().matches_query("post", inner)
    expected_inner = {
        "where": {"image": True},
        "include": "author",
        "limit": 10,
        "className": "Post",
    }
    assert where(query) == {"post": {"$inQuery": expected_inner}}
    assert where(score_query().does_not_match_query("post", inner)) == {
        "post": {"$notInQuery": expected_inner}
    }


def test_matches_key_in_query_embeds_key_and_subquery():
    inner = Query("Team").greater_than("wins", 3)
    expected = {"key": "city", "query": {"where": {"wins": {"$gt": 3}}, "className": "Team"}}
    assert where(score_query().matches_key_in_query("hometown", "city", inner)) == {
        "hometown": {"$select": expected}
    }
    assert where(score_query().does_not_match_key_in_query("hometown", "city", inner)) == {
        "hometown": {"$dontSelect": expected}
    }


def test_dump_does_not_share_state_with_the_query():
    query = score_query().greater_than("score", 1)
    query.dump()["where"]["score"]["$gt"] = 99
    assert where(query) == {"score": {"$gt": 1}}


# -- geo -----------------------------------------------------------------------------

POINT = GeoPoint(39.9, 116.4)
POINT_WIRE = {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4}


def test_near():
    assert where(score_query().near("loc", POINT)) == {"loc": {"$nearSphere": POINT_WIRE}}


def test_near_refuses_none():
    with pytest.raises(ValueError):
        score_query().near("loc", None)


def test_within_radians():
    assert where(score_query().within_radians("loc", POINT, 0.5)) == {
        "loc": {"$nearSphere": POINT_WIRE, "$maxDistance": 0.5}
    }
    assert where(score_query().within_radians("loc", POINT, 0.5, 0.1)) == {
        "loc": {"$nearSphere": POINT_WIRE, "$maxDistance": 0.5, "$minDistance": 0.1}
    }


@pytest.mark.parametrize(
    "method, radius", [("within_kilometers", 6371.0), ("within_miles", 3958.8)]
)
def test_within_distance_units_are_sent_as_radians(method, radius):
    assert where(getattr(score_query(), method)("loc", POINT, 10)) == {
        "loc": {"$nearSphere": POINT_WIRE, "$maxDistance": 10 / radius}
    }
    assert where(getattr(score_query(), method)("loc", POINT, 10, 2)) == {
        "loc": {"$nearSphere": POINT_WIRE, "$maxDistance": 10 / radius, "$minDistance": 2 / radius}
    }


def test_within_geo_box():
    southwest, northeast = GeoPoint(0, 0), GeoPoint(11, 11)
    assert where(score_query().within_geo_box("loc", southwest, northeast)) == {
        "loc": {
            "$within": {
                "$box": [
                    {"__type": "GeoPoint", "latitude": 0, "longitude": 0},
                    {"__type": "GeoPoint", "latitude": 11, "longitude": 11},
                ]
            }
        }
    }
    assert where(score_query().within_geo_box("loc", (0, 0), (11, 11))) == {
        "loc": {"$within": {"$box": [[0, 0], [11, 11]]}}
    }


# -- or / and ------------------------------------------------------------------------


@pytest.mark.parametrize("combine, operator", [(Query.or_, "$or"), (Query.and_, "$and")])
def test_or_and_combine_the_where_of_each_query(combine, operator):
    first = score_query().greater_than("score", 1).limit(5).ascending("score")
    second = score_query().equal_to("name", "x")
    combined = combine(first, second)
    assert combined.dump() == {"where": {operator: [{"score": {"$gt": 1}}, {"name": "x"}]}}
    assert combined._query_class._class_name == "GameScore"


@pytest.mark.parametrize("combine", [Query.or_, Query.and_])
def test_or_and_need_two_queries(combine):
    with pytest.raises(ValueError):
        combine(score_query())
    with pytest.raises(ValueError):
        combine()


@pytest.mark.parametrize("combine", [Query.or_, Query.and_])
def test_or_and_refuse_mixed_classes_and_non_queries(combine):
    with pytest.raises(TypeError):
        combine(score_query(), Query("Post"))
    with pytest.raises(TypeError):
        combine(score_query(), "score")


# -- options and dump ----------------------------------------------------------------


def test_order():
    query = score_query().ascending("a").add_descending("b").add_ascending("c")
    assert query.dump()["order"] == "a,-b,c"
    assert query.descending("d").dump()["order"] == "-d"


def test_select_and_include_accumulate_and_take_lists():
    query = score_query().select("a", "b").select(["c"]).include(("p", "p.q")).include("r")
    params = query.dump()
    assert params["keys"] == "a,b,c"
    assert params["include"] == "p,p.q,r"


def test_dump_lays_out_every_option():
    query = (
        score_query()
        .equal_to("a", 1)
        .include("p")
        .select("b")
        .include_acl()
        .limit(0)
        .skip(20)
        .descending("c")
    )
    query._extra["redirectClassNameForKey"] = "likes"
    assert query.dump() == {
        "where": {"a": 1},
        "include": "p",
        "keys": "b",
        "returnACL": "true",
        "limit": 0,
        "skip": 20,
        "order": "-c",
        "redirectClassNameForKey": "likes",
    }


def test_dump_of_a_fresh_query_is_only_where():
    assert score_query().dump() == {"where": {}}
    assert score_query().include_acl(False).dump() == {"where": {}, "returnACL": "false"}


# -- find / first / count / get -------------------------------------------------------

ROW = {
    "objectId": "s1",
    "createdAt": "2020-01-02T03:04:05.006Z",
    "updatedAt": "2020-01-02T03:04:05.006Z",
    "score": 7,
    "when": WHEN_WIRE,
}


def test_find_sends_every_parameter(api):
    api.get(f"{API}/classes/GameScore", json={"results": []})
    query = (
        score_query()
        .greater_than("score", 1)
        .equal_to("when", WHEN)
        .ascending("score")
        .add_descending("name")
        .limit(10)
        .skip(5)
        .select("score", "name")
        .include("player")
        .include_acl()
    )
    query.find()
    assert sent(api.calls[0]) == {
        "where": {"score": {"$gt": 1}, "when": WHEN_WIRE},
        "order": "score,-name",
        "limit": "10",
        "skip": "5",
        "keys": "score,name",
        "include": "player",
        "returnACL": "true",
    }


def test_find_sends_compact_where_json(api):
    api.get(f"{API}/classes/GameScore", json={"results": []})
    score_query().greater_than("score", 1).find()
    assert parse_qs(urlparse(api.calls[0].request.url).query)["where"] == ['{"score":{"$gt":1}}']


def test_find_without_options_sends_only_where(api):
    api.get(f"{API}/classes/GameScore", json={"results": []})
    score_query().find()
    assert sent(api.calls[0]) == {"where": {}}


def test_find_decodes_results_into_the_registered_class(api):
    api.get(f"{API}/classes/GameScore", json={"results": [ROW, dict(ROW, objectId="s2", score=8)]})
    found = score_query().find()
    assert [type(o) for o in found] == [Object.as_class("GameScore")] * 2
    assert [o.id for o in found] == ["s1", "s2"]
    assert [o.get("score") for o in found] == [7, 8]
    assert found[0].get("when") == WHEN


def test_find_as_user_objects(api):
    api.get(f"{API}/classes/_User", json={"results": [{"objectId": "u1", "username": "ann"}]})
    (user,) = Query("User").find()
    assert isinstance(user, Object.as_class("_User"))
    assert user.get("username") == "ann"


def test_a_class_name_in_the_response_names_the_result_class(api):
    # LeanCloud answers a redirectClassNameForKey query with the related class's name.
    api.get(f"{API}/classes/Band", json={"results": [ROW], "className": "Member"})
    query = Query("Band")
    query._extra["redirectClassNameForKey"] = "members"
    (found,) = query.find()
    assert isinstance(found, Object.as_class("Member"))
    assert sent(api.calls[0]) == {"where": {}, "redirectClassNameForKey": "members"}


def test_server_errors_surface_as_leancloud_error(api):
    api.get(f"{API}/classes/GameScore", status=400, json={"code": 102, "error": "bad where"})
    with pytest.raises(LeanCloudError) as info:
        score_query().find()
    assert info.value.code == 102


def test_first_asks_for_one(api):
    api.get(f"{API}/classes/GameScore", json={"results": [ROW]})
    found = score_query().equal_to("score", 7).limit(50).first()
    assert found.id == "s1"
    assert sent(api.calls[0]) == {"where": {"score": 7}, "limit": "1"}


def test_first_without_result_raises_101(api):
    api.get(f"{API}/classes/GameScore", json={"results": []})
    with pytest.raises(LeanCloudError) as info:
        score_query().first()
    assert info.value.code == 101


def test_count(api):
    api.get(f"{API}/classes/GameScore", json={"results": [], "count": 42})
    assert score_query().greater_than("score", 1).limit(3).skip(2).count() == 42
    assert sent(api.calls[0]) == {
        "where": {"score": {"$gt": 1}},
        "limit": "0",
        "skip": "2",
        "count": "1",
    }


def test_get_fetches_the_object_with_keys_and_include(api):
    api.get(f"{API}/classes/GameScore/s1", json=ROW)
    found = score_query().equal_to("score", 1).select("score").include("player").limit(3).get("s1")
    assert isinstance(found, Object.as_class("GameScore"))
    assert (found.id, found.get("score")) == ("s1", 7)
    assert sent(api.calls[0]) == {"keys": "score", "include": "player"}


def test_get_without_options_sends_no_parameters(api):
    api.get(f"{API}/classes/GameScore/s1", json=ROW)
    score_query().get("s1")
    assert sent(api.calls[0]) == {}


def test_get_of_a_missing_object_gives_an_empty_object(api):
    api.get(f"{API}/classes/GameScore/nope", json={})
    found = score_query().get("nope")
    assert found.id == "nope"
    assert found.get("score") is None


@pytest.mark.parametrize("empty", ["", None])
def test_get_without_id_raises_101_before_any_request(api, empty):
    with pytest.raises(LeanCloudError) as info:
        score_query().get(empty)
    assert info.value.code == 101
    assert len(api.calls) == 0


def test_get_refuses_a_non_string_id(api):
    with pytest.raises(TypeError):
        score_query().get(12)


# -- scan ------------------------------------------------------------------------------


def test_scan_follows_the_cursor(api):
    url = f"{API}/scan/classes/GameScore"
    api.get(url, json={"results": [ROW], "cursor": "c1"})
    api.get(url, json={"results": [dict(ROW, objectId="s2")], "cursor": "c2"})
    api.get(url, json={"results": [], "cursor": None})
    found = list(
        score_query().greater_than("score", 1).select("score").scan(batch_size=2, scan_key="score")
    )
    assert [o.id for o in found] == ["s1", "s2"]
    assert isinstance(found[0], Object.as_class("GameScore"))
    first, second, third = (sent(call) for call in api.calls)
    base = {"where": {"score": {"$gt": 1}}, "keys": "score", "limit": "2", "scan_key": "score"}
    assert first == base
    assert second == dict(base, cursor="c1")
    assert third == dict(base, cursor="c2")


def test_scan_stops_when_the_cursor_is_missing(api):
    api.get(f"{API}/scan/classes/GameScore", json={"results": [ROW]})
    assert [o.id for o in score_query().scan()] == ["s1"]
    assert sent(api.calls[0]) == {"where": {}}


@pytest.mark.parametrize("option", ["skip", "limit"])
def test_scan_refuses_skip_and_limit_before_any_request(api, option):
    query = getattr(score_query(), option)(10)
    with pytest.raises(LeanCloudError) as info:
        query.scan()
    assert info.value.code == 1
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    "batch_size, error", [(0, ValueError), (1001, ValueError), ("10", TypeError)]
)
def test_scan_checks_batch_size_when_called(batch_size, error):
    with pytest.raises(error):
        score_query().scan(batch_size=batch_size)


# -- CQL -------------------------------------------------------------------------------


@pytest.mark.parametrize("pvalues", [(["x", 3, WHEN],), ("x", 3, WHEN)])
def test_cloud_query_sends_pvalues_as_one_json_array(api, pvalues):
    api.get(f"{API}/cloudQuery", json={"results": [], "className": "GameScore"})
    Query.do_cloud_query(
        "select * from GameScore where name = ? and score > ? and when < ?", *pvalues
    )
    params = sent(api.calls[0])
    assert params["pvalues"] == ["x", 3, WHEN_WIRE]
    assert params["cql"] == "select * from GameScore where name = ? and score > ? and when < ?"


def test_cloud_query_without_pvalues_sends_only_cql(api):
    api.get(f"{API}/cloudQuery", json={"results": [], "className": "GameScore"})
    Query.do_cloud_query("select * from GameScore")
    assert sent(api.calls[0]) == {"cql": "select * from GameScore"}


def test_cloud_query_result(api):
    api.get(f"{API}/cloudQuery", json={"results": [ROW], "className": "GameScore", "count": 10})
    result = Query.do_cloud_query("select count(*), * from GameScore")
    assert isinstance(result, CQLResult)
    assert (result.count, result.class_name) == (10, "GameScore")
    (obj,) = result.results
    assert isinstance(obj, Object.as_class("GameScore"))
    assert (obj.id, obj.get("score")) == ("s1", 7)


def test_cloud_query_count_only(api):
    api.get(f"{API}/cloudQuery", json={"results": [], "className": "GameScore", "count": 3})
    result = Query.do_cloud_query("select count(*) from GameScore")
    assert (result.results, result.count) == ([], 3)


def test_cloud_query_rows_without_class_name_are_a_bad_response(api):
    api.get(f"{API}/cloudQuery", json={"results": [ROW]})
    with pytest.raises(LeanCloudError):
        Query.do_cloud_query("select * from GameScore")


def test_cloud_query_refuses_non_string_cql(api):
    with pytest.raises(TypeError):
        Query.do_cloud_query(None)


# -- FriendshipQuery -------------------------------------------------------------------

USER_POINTER = pointer("_User", "u2")


@pytest.mark.parametrize(
    "name, field", [("_Follower", "follower"), ("_Followee", "followee"), ("Follower", "follower")]
)
def test_friendship_query_results_are_users(api, name, field):
    class_name = "_" + name.lstrip("_")
    included = dict(USER_POINTER, username="bob", createdAt="2020-01-02T03:04:05.006Z")
    rows = [
        {"objectId": "f1", "user": pointer("_User", "u1"), field: USER_POINTER},
        {"objectId": "f2", field: included},
    ]
    api.get(f"{API}/classes/{class_name}", json={"results": rows})
    query = FriendshipQuery(name).equal_to(
        "user", Object.as_class("_User").create_without_data("u1")
    )
    plain, expanded = query.include(field).find()
    assert sent(api.calls[0]) == {"where": {"user": pointer("_User", "u1")}, "include": field}
    user_class = Object.as_class("_User")
    assert isinstance(plain, user_class) and isinstance(expanded, user_class)
    assert (plain.id, expanded.id, expanded.get("username")) == ("u2", "u2", "bob")
    assert plain.get("__type") is None and plain.get("className") is None


def test_friendship_query_row_without_user_is_a_bad_response(api):
    api.get(f"{API}/classes/_Follower", json={"results": [{"objectId": "f1"}]})
    with pytest.raises(LeanCloudError):
        FriendshipQuery("_Follower").find()


@pytest.mark.parametrize("bad", ["GameScore", "_User", None])
def test_friendship_query_takes_only_follower_or_followee(bad):
    with pytest.raises(TypeError):
        FriendshipQuery(bad)


# -- against the real server -------------------------------------------------------------


@pytest.fixture
def scores(leancloud_clean_server):
    """Ten saved GameScores (score 0..9, name s0..s9), each pointing to a Player."""
    player_class = Object.as_class("Player")
    players = [player_class(name=name) for name in ("ann", "bob")]
    for player in players:
        player.save()
    saved = []
    for i in range(10):
        score = Object.as_class("GameScore")(score=i, name=f"s{i}", player=players[i % 2])
        score.save()
        saved.append(score)
    return saved


def scores_of(objects) -> list:
    return [o.get("score") for o in objects]


def test_live_find_count_first(scores):
    query = score_query().greater_than_or_equal_to("score", 3).less_than("score", 8)
    assert scores_of(query.descending("score").limit(3).skip(1).find()) == [6, 5, 4]
    assert score_query().greater_than_or_equal_to("score", 3).less_than("score", 8).count() == 5
    assert score_query().ascending("score").first().get("score") == 0
    with pytest.raises(LeanCloudError) as info:
        score_query().greater_than("score", 100).first()
    assert info.value.code == 101


def test_live_string_and_list_conditions(scores):
    assert scores_of(score_query().startswith("name", "s1").find()) == [1]
    assert scores_of(score_query().contained_in("score", [2, 4, 99]).ascending("score").find()) == [
        2,
        4,
    ]
    assert score_query().not_contained_in("score", [0, 1]).count() == 8
    assert score_query().matched("name", re.compile("^S[0-2]$", re.IGNORECASE)).count() == 3


def test_live_or_and_subqueries(scores):
    low, high = score_query().less_than("score", 2), score_query().greater_than("score", 8)
    assert scores_of(Query.or_(low, high).ascending("score").find()) == [0, 1, 9]
    ann = Query("Player").equal_to("name", "ann")
    assert scores_of(score_query().matches_query("player", ann).ascending("score").find()) == [
        0,
        2,
        4,
        6,
        8,
    ]
    assert score_query().does_not_match_query("player", ann).count() == 5


def test_live_get_select_include(scores):
    found = score_query().select("score").include("player").get(scores[3].id)
    assert (found.id, found.get("score"), found.get("name")) == (scores[3].id, 3, None)
    assert found.get("player").get("name") == "bob"
    missing = score_query().get("0123456789abcdef01234567")
    assert missing.get("score") is None


def test_live_scan_pages_through_everything(scores):
    found = list(score_query().greater_than("score", 1).scan(batch_size=3))
    assert sorted(scores_of(found)) == list(range(2, 10))
