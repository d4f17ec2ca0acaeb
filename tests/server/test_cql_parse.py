"""CQL -> REST query parameters -> the query AST, and every syntax error's code 300."""

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
)
from leancloud.server.query.cql import (
    CqlDelete,
    CqlInsert,
    CqlSelect,
    CqlUpdate,
    decode_pvalues,
    parse_cql,
)

POINTER = {"__type": "Pointer", "className": "Post", "objectId": "p1"}
EARTH_RADIUS_KM = 6371.0


def where_of(cql, *pvalues):
    """The REST ``where`` JSON a select's condition stands for."""
    return parse_cql(f"select * from Post where {cql}", pvalues).params["where"]


def node_of(cql, *pvalues):
    return parse_cql(f"select * from Post where {cql}", pvalues).query().where


def error_of(cql, *pvalues):
    with pytest.raises(ApiError) as info:
        parse_cql(cql, pvalues)
    return info.value


def matches(pattern_where, value):
    """Whether a ``$regex`` condition (as the storage runs it: ``re.search``) matches."""
    flags = re.DOTALL if "s" in pattern_where.get("$options", "") else 0
    return re.search(pattern_where["$regex"], value, flags) is not None


# --- select lists, clauses ------------------------------------------------------


def test_select_star_is_a_plain_rest_query():
    statement = parse_cql("select * from GameScore")
    assert statement == CqlSelect("GameScore", {}, with_count=False, rows=True)
    assert statement.query() == Query("GameScore", limit=100)


def test_columns_become_keys_and_keywords_are_case_insensitive():
    statement = parse_cql("SELECT name, score, address.city FROM GameScore")
    assert statement.params == {"keys": "name,score,address.city"}
    assert statement.query().keys == (("name",), ("score",), ("address", "city"))


def test_include_expands_pointers_and_keeps_them_among_selected_columns():
    assert parse_cql("select include post, * from Comment").params == {"include": "post"}
    assert parse_cql("select include post, include author from Comment").params == {
        "include": "post,author"
    }
    statement = parse_cql("select include post.category, title from Comment")
    assert statement.params == {"include": "post.category", "keys": "title,post"}
    assert statement.query().include == (("post", "category"),)


def test_count_alone_returns_no_rows_and_with_columns_returns_both():
    alone = parse_cql("select count(*) from GameScore where score > 60")
    assert (alone.with_count, alone.rows) == (True, False)
    assert alone.query().count and alone.query().limit == 0
    both = parse_cql("select count(objectId), * from GameScore")
    assert (both.with_count, both.rows) == (True, True)
    assert both.query().limit == 100
    named = parse_cql("select count(*), name from GameScore")
    assert named.params == {"keys": "name", "count": "1"}


def test_a_field_may_be_named_like_a_keyword():
    assert parse_cql("select count, include from T").params == {"keys": "count,include"}
    assert where_of("`order` = 1 and limit = 2") == {
        "$and": [{"order": {"$eq": 1}}, {"limit": {"$eq": 2}}]
    }


def test_limit_with_and_without_skip():
    assert parse_cql("select * from T limit 10").query().limit == 10
    statement = parse_cql("select * from T limit 100, 10")
    assert (statement.query().skip, statement.query().limit) == (100, 10)


@pytest.mark.parametrize(
    "order, expected",
    [
        ("score", "score"),
        ("score desc", "-score"),
        ("-score, name", "-score,name"),
        ("score, +name desc", "-score,name"),  # the guide's example: unsigned keys follow desc
        ("-score, name asc", "-score,name"),
        ("a desc, b", "-a,b"),
        ("a, b desc", "-a,-b"),
        ("a.b, -c", "a.b,-c"),
    ],
)
def test_order_by(order, expected):
    assert parse_cql(f"select * from T order by {order}").params["order"] == expected


def test_clauses_in_the_guides_order_or_sqls_with_a_trailing_semicolon():
    guide = parse_cql("select * from T where a = 1 limit 5 order by -a;")
    sql = parse_cql("select * from T where a = 1 order by -a limit 5")
    assert guide.params == sql.params == {"where": {"a": {"$eq": 1}}, "limit": 5, "order": "-a"}


# --- conditions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, rest, ast_op",
    [
        ("=", "$eq", "eq"),
        ("!=", "$ne", "ne"),
        ("<>", "$ne", "ne"),
        ("<", "$lt", "lt"),
        ("<=", "$lte", "lte"),
        (">", "$gt", "gt"),
        (">=", "$gte", "gte"),
    ],
)
def test_comparisons(op, rest, ast_op):
    assert where_of(f"score {op} 80") == {"score": {rest: 80}}
    assert node_of(f"score{op}80") == Compare(("score",), ast_op, 80)


def test_literal_values():
    assert node_of("a = 'x'") == Compare(("a",), "eq", "x")
    assert node_of('a = "x"') == Compare(("a",), "eq", "x")
    assert node_of("a = -1.5e2") == Compare(("a",), "eq", -150.0)
    assert node_of("a = TRUE") == Compare(("a",), "eq", True)
    assert node_of("a != null") == Compare(("a",), "ne", None)
    assert node_of("a = [1, 'b']") == Compare(("a",), "eq", [1, "b"])
    assert node_of("a = []") == Compare(("a",), "eq", [])


def test_string_escapes():
    assert where_of("a = 'it''s'") == {"a": {"$eq": "it's"}}
    assert where_of(r"a = 'it\'s \\ \d'") == {"a": {"$eq": "it's \\ \\d"}}
    assert where_of('a = "say ""hi"""') == {"a": {"$eq": 'say "hi"'}}


def test_functions():
    assert node_of("createdAt < date('2011-08-20T02:06:57.931Z')") == Compare(
        ("createdAt",), "lt", {"__type": "Date", "iso": "2011-08-20T02:06:57.931Z"}
    )
    assert node_of("post = pointer('Post', 'p1')") == Compare(("post",), "eq", POINTER)
    assert node_of("f = file('f1')") == Compare(("f",), "eq", {"__type": "File", "id": "f1"})
    assert node_of("b = base64('AAE=')") == Compare(
        ("b",), "eq", {"__type": "Bytes", "base64": "AAE="}
    )
    assert node_of("loc = geopoint(116.4, 39.9)") == Compare(
        ("loc",), "eq", {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4}
    )


def test_current_timestamp_is_now():
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    iso = where_of("t < current_timestamp()")["t"]["$lt"]["iso"]
    stamp = dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    assert before <= stamp <= dt.datetime.now(dt.timezone.utc)


def test_raw_rest_json_with_or_without_quoted_keys():
    assert node_of("post = {className:'Post', objectId:'p1', __type:'Pointer'}") == Compare(
        ("post",), "eq", POINTER
    )
    assert node_of('post = {"className": "Post", "objectId": "p1", "__type": "Pointer"}') == (
        Compare(("post",), "eq", POINTER)
    )
    assert node_of("meta = {a: [1, {b: null}]}") == Compare(
        ("meta",), "eq", {"a": [1, {"b": None}]}
    )


def test_like_is_an_anchored_regex_with_wildcards_and_literal_text():
    condition = where_of("name like 'de%'")["name"]
    assert condition == {"$regex": r"^de.*\Z", "$options": "s"}
    assert node_of("name like 'de%'") == Regex(("name",), r"^de.*\Z", re.DOTALL)
    assert matches(condition, "dennis") and matches(condition, "de\nx")
    assert not matches(condition, "ode")
    one = where_of("name like 'a_c'")["name"]
    assert matches(one, "abc") and not matches(one, "abbc") and not matches(one, "ac")
    literal = where_of("name like '%1+1 (x).*%'")["name"]
    assert matches(literal, "say 1+1 (x).* now") and not matches(literal, "11 x")


def test_like_character_classes_as_the_guide_documents():
    condition = where_of("name like '%xx[(]yy[)]%'")["name"]
    assert matches(condition, "a xx(yy) b") and not matches(condition, "xxyy")
    ranges = where_of("code like '[a-c]_[^0-9]'")["code"]
    assert matches(ranges, "b1x") and not matches(ranges, "d1x") and not matches(ranges, "b11")


def test_not_like_and_not_regexp_match_the_other_strings():
    not_like = where_of("name not like 'de%'")["name"]
    assert not matches(not_like, "dennis") and matches(not_like, "ode")
    not_regexp = where_of("name not regexp 'en+i'")["name"]
    assert not matches(not_regexp, "dennis") and matches(not_regexp, "dense x")
    anchored = where_of("name not regexp '^d'")["name"]
    assert not matches(anchored, "dx") and matches(anchored, "xd")


def test_regexp():
    assert where_of("name regexp 'dennis.*'") == {"name": {"$regex": "dennis.*"}}
    assert node_of("name regexp 'de.*'") == Regex(("name",), "de.*")


def test_in_and_not_in_lists():
    assert node_of("name in ('a', 'b')") == In(("name",), ("a", "b"))
    assert node_of("name not in ('a')") == In(("name",), ("a",), negate=True)
    assert where_of("name in ?", ["a", "b"]) == {"name": {"$in": ["a", "b"]}}


def test_subqueries():
    sub = Query("GameScore", where=Compare(("score",), "gt", 80), limit=None)
    cql = "name in (select name from GameScore where score > 80)"
    assert where_of(cql) == {
        "name": {
            "$select": {
                "query": {"className": "GameScore", "where": {"score": {"$gt": 80}}},
                "key": "name",
            }
        }
    }
    assert node_of(cql) == Select(("name",), sub, ("name",))
    assert node_of("name = (select name from GameScore where score>80)") == node_of(cql)
    dont = Select(("name",), sub, ("name",), negate=True)
    assert node_of("name not in (select name from GameScore where score > 80)") == dont
    assert node_of("name != (select name from GameScore where score > 80)") == dont
    assert node_of("name <> (select name from GameScore where score > 80)") == dont


def test_star_subqueries_match_pointers():
    sub = Query("Post", where=Exists(("image",), True), limit=None)
    assert node_of("post in (select * from Post where image is exists)") == InQuery(("post",), sub)
    assert node_of("post not in (select * from Post where image is exists)") == InQuery(
        ("post",), sub, negate=True
    )
    assert node_of("post = (select * from Post where image is exists)") == InQuery(("post",), sub)


def test_subquery_limit_skip_order_and_nesting():
    node = node_of("a in (select b from C where c in (select * from D) limit 2, 5 order by -b)")
    assert node.query.limit == 5 and node.query.skip == 2
    assert node.query.order == ((("b",), True),)
    assert node.query.where == InQuery(("c",), Query("D", limit=None))


def test_exists_all_and_size():
    assert node_of("level is exists") == Exists(("level",), True)
    assert node_of("level is not exists") == Exists(("level",), False)
    assert node_of("scores all (100, 100)") == All(("scores",), (100, 100))
    assert node_of("size(scores) = 2") == Size(("scores",), 2)
    assert where_of("size(scores) = ?", 3) == {"scores": {"$size": 3}}


def test_near_takes_longitude_first():
    expected = Near(("loc",), latitude=39.9, longitude=116.4)
    assert node_of("loc near [116.4, 39.9]") == expected
    assert node_of("loc near geopoint(116.4, 39.9)") == expected
    assert node_of("loc near ?", {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4}) == (
        expected
    )
    assert node_of("loc near ?", [116.4, 39.9]) == expected
    assert node_of("loc near [?, ?]", 116.4, 39.9) == expected


def test_near_distances_and_units():
    node = node_of("loc near [116.4, 39.9] min 0.5 km max 1 km")
    assert node.min_distance == pytest.approx(0.5 / EARTH_RADIUS_KM)
    assert node.max_distance == pytest.approx(1 / EARTH_RADIUS_KM)
    assert node_of("loc near [0, 0] max 2").max_distance == 2.0
    assert node_of("loc near [0, 0] max 0.1 radians").max_distance == 0.1
    assert node_of("loc near [0, 0] max 1 miles").max_distance == pytest.approx(1 / 3958.8)
    assert where_of("loc near [0, 0] min 1 km")["loc"]["$minDistanceInKilometers"] == 1


def test_within_a_box():
    assert node_of("loc within [116.33, 39.97] and [116.37, 39.99]") == Within(
        ("loc",), south=39.97, west=116.33, north=39.99, east=116.37
    )
    # the box's "and" is not the logical one
    assert isinstance(node_of("loc within [0, 0] and [1, 1] and a = 1"), And)


def test_related():
    assert node_of("related likes to pointer('Post', 'p1')") == RelatedTo("Post", "p1", "likes")
    assert where_of("related likes to ?", POINTER) == {
        "$relatedTo": {"object": POINTER, "key": "likes"}
    }
    assert node_of("related = 1") == Compare(("related",), "eq", 1)


def test_and_binds_tighter_than_or_and_parentheses_group():
    a, b, c = (Compare((name,), "eq", 1) for name in "abc")
    assert node_of("a = 1 and b = 1 or c = 1") == Or((And((a, b)), c))
    assert node_of("a = 1 or b = 1 and c = 1") == Or((a, And((b, c))))
    assert node_of("a = 1 and (b = 1 or c = 1)") == And((a, Or((b, c))))
    assert node_of("((a = 1))") == a
    assert where_of("a = 1 or b = 1 or c = 1") == {
        "$or": [{"a": {"$eq": 1}}, {"b": {"$eq": 1}}, {"c": {"$eq": 1}}]
    }


def test_placeholders_fill_where_and_limit_in_order():
    statement = parse_cql(
        "select * from GameScore where name = ? and score > ? limit ?, ? order by -score",
        ["dennis", 50, 0, 10],
    )
    assert statement.params == {
        "where": {"$and": [{"name": {"$eq": "dennis"}}, {"score": {"$gt": 50}}]},
        "skip": 0,
        "limit": 10,
        "order": "-score",
    }
    date = {"__type": "Date", "iso": "2020-01-01T00:00:00Z"}
    assert node_of("t < ?", date) == Compare(
        ("t",), "lt", {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"}
    )
    assert node_of("post = pointer('Post', ?)", "p1") == Compare(("post",), "eq", POINTER)


def test_placeholder_values_cannot_smuggle_operators():
    assert error_of("select * from T where a = ?", {"$gt": 1}).code == 1


def test_decode_pvalues_takes_an_array_or_the_python_sdks_double_encoding():
    assert decode_pvalues(None) == decode_pvalues("") == []
    assert decode_pvalues('[1, "a"]') == [1, "a"]
    assert decode_pvalues(json.dumps(json.dumps([1, 2]))) == [1, 2]
    with pytest.raises(ApiError) as info:
        decode_pvalues('{"a": 1}')
    assert info.value.code == 300
    with pytest.raises(ApiError) as info:
        decode_pvalues("[1,")
    assert info.value.code == 107


# --- writes ---------------------------------------------------------------------


def test_insert_one_or_many_rows():
    assert parse_cql("insert into Player(name, age) values('LeanCloud', 2)") == CqlInsert(
        "Player", ({"name": "LeanCloud", "age": 2},)
    )
    statement = parse_cql(
        "insert into GameScore(player, score) values (pointer('Player', ?), ?), ('x', 3)",
        ["p1", 100],
    )
    assert statement.rows == (
        {"player": {"__type": "Pointer", "className": "Player", "objectId": "p1"}, "score": 100},
        {"player": "x", "score": 3},
    )


def test_update_by_object_id_with_operations_and_extra_conditions():
    statement = parse_cql(
        "update Account set amount = op('Decrement', {'amount': 50}), note = ? "
        "where objectId = '558e' and amount >= 100",
        ["paid"],
    )
    assert statement == CqlUpdate(
        "Account",
        "558e",
        {"amount": {"__op": "Decrement", "amount": 50}, "note": "paid"},
        {"amount": {"$gte": 100}},
    )
    plain = parse_cql("update T set a = 1 where b = 2 and objectId = ? and c = 3", ["id1"])
    assert (plain.object_id, plain.where) == (
        "id1",
        {"$and": [{"b": {"$eq": 2}}, {"c": {"$eq": 3}}]},
    )


def test_delete_by_object_id():
    assert parse_cql("delete from T where objectId = 'x1'") == CqlDelete("T", "x1", None)
    assert parse_cql("delete from T where objectId = ? and n > 1", ["x1"]) == CqlDelete(
        "T", "x1", {"n": {"$gt": 1}}
    )


@pytest.mark.parametrize(
    "cql",
    [
        "update T set a = 1 where a = 2",
        "update T set a = 1",
        "delete from T where objectId = 'a' or b = 1",
        "delete from T where objectId != 'a'",
        "delete from T where objectId = 'a,b'",
        "delete from T where objectId = 'a/b'",
        "delete from T where objectId = 1",
        "delete from T",
    ],
)
def test_updates_and_deletes_need_one_object_id(cql):
    assert error_of(cql).code == 300


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cql, position",
    [
        ("selec * from T", 0),
        ("select * form T", 9),
        ("select * from", 13),
        ("select * from T where", 21),
        ("select * from T where a =", 25),
        ("select * from T where a = 1 and", 31),
        ("select * from T where (a = 1", 28),
        ("select * from T where a = 'open", 26),
        ("select * from T where a # 1", 24),
        ("select * from T limit", 21),
        ("select * from T limit 'x'", 22),
        ("select * from T limit -1", 22),
        ("select * from T order score", 22),
        ("select * from T where a near", 28),
        ("select * from T where a near [1, 2] max 1 km min 1 km", 45),
        ("select * from T where a within [1, 2]", 37),
        ("select * from T garbage", 16),
        ("select count(name) from T", 13),
        ("select * from T where a not exists", 28),
        ("select * from T where a is null", 27),
        ("select * from T where a = nosuch(1)", 26),
        ("select * from T where a = op('Increment', {amount: 1})", 26),
        ("select * from T where a = date(1)", 26),
        ("select * from T where a = pointer('Post')", 26),
        ("select * from T where a like 1", 29),
        ("select * from T where a < (select b from C)", 24),
        ("select * from T where a in (select b from C", 43),
        ("select * from T where a all 1", 28),
        ("select * from T where a = {b 1}", 29),
        ("select * from T where a", 23),
        ("insert into T(a, b) values (1)", 27),
        ("insert into T(a, a) values (1, 2)", 17),
        ("drop table T", 0),
        ("select * from T where a = 1 where b = 2", 28),
    ],
)
def test_syntax_errors_are_300_and_name_the_position(cql, position):
    error = error_of(cql)
    assert error.code == 300 and error.status == 400
    assert f"at position {position}:" in error.message, error.message


def test_errors_say_what_was_expected():
    assert error_of("select * form T").message == (
        "CQL syntax error at position 9: expected 'from', found 'form'."
    )
    assert "found the end" in error_of("select * from T where").message


def test_placeholders_and_pvalues_must_pair_up():
    assert (
        "placeholder 2 has no pvalue"
        in error_of("select * from T where a = ? and b = ?", 1).message
    )
    assert error_of("select * from T where a = ?", 1, 2).code == 300
    assert error_of("select * from T", 1).code == 300


def test_limits_on_size_and_nesting():
    assert error_of("").code == 300
    long = "select * from T where a in (" + ",".join(["1"] * 2100) + ")"
    assert len(long) > 4096 and "4096" in error_of(long).message
    wide = "select * from T where a = '" + "\u4e2d" * 1400 + "'"  # 3 bytes each in UTF-8
    assert len(wide) < 4096 and "4096" in error_of(wide).message
    deep = "select * from T where " + "(" * 40 + "a = 1" + ")" * 40
    assert "nested" in error_of(deep).message
    subqueries = "select * from T where " + "a in (select * from T where " * 40 + "a = 1"
    assert error_of(subqueries + ")" * 40).code == 300
    for value in ("[" * 1500 + "]" * 1500, "{a:" * 1000 + "1" + "}" * 1000, "date(" * 800):
        assert "nested" in error_of("select * from T where a = " + value).message


@pytest.mark.parametrize(
    "cql, code",
    [
        ("select * from `bad-class`", 103),
        ("select `bad-field` from T", 105),
        ("select * from T where `$x` = 1", 105),
        ("select * from T order by `a$`", 105),
        ("select * from T where a = date('yesterday')", 107),
        ("select * from T where loc near [200, 10]", 302),
        ("select * from T where a = geopoint(10, 100)", 302),
        ("select * from T where a regexp '('", 1),
        ("select * from T where a = pointer('bad-class', 'x')", 103),
    ],
)
def test_bad_names_and_values_keep_their_rest_codes(cql, code):
    error = error_of(cql)
    assert error.code == code
    assert "CQL position" in error.message


def test_the_ast_is_the_rest_ast():
    cql = parse_cql(
        "select include post, * from Comment where (score > 1 or name like 'a%') "
        "and post = pointer('Post', 'p1') limit 5, 20 order by -score"
    )
    rest = parse_query(
        "Comment",
        {
            "where": json.dumps(
                {
                    "$and": [
                        {
                            "$or": [
                                {"score": {"$gt": 1}},
                                {"name": {"$regex": r"^a.*\Z", "$options": "s"}},
                            ]
                        },
                        {"post": POINTER},
                    ]
                }
            ),
            "include": "post",
            "skip": "5",
            "limit": "20",
            "order": "-score",
        },
    )
    assert cql.query() == rest


_FRAGMENTS = st.sampled_from(
    [
        "select",
        "*",
        "from",
        "T",
        "where",
        "a",
        "=",
        "!=",
        "<",
        "(",
        ")",
        ",",
        "'x'",
        "1",
        "-2.5",
        "?",
        "and",
        "or",
        "not",
        "like",
        "in",
        "is",
        "exists",
        "near",
        "[1, 2]",
        "within",
        "max",
        "km",
        "limit",
        "order",
        "by",
        "desc",
        "-",
        "include",
        "count(*)",
        "size(",
        "related",
        "to",
        "pointer('P', 'x')",
        "{k: 1}",
        "insert",
        "into",
        "values",
        "update",
        "set",
        "delete",
        "objectId",
        ";",
        "`",
        '"',
        "'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=14), st.lists(st.integers(), max_size=2))
def test_any_token_soup_parses_or_is_an_api_error(fragments, pvalues):
    try:
        statement = parse_cql(" ".join(fragments), pvalues)
    except ApiError as exc:
        assert exc.status == 400 and exc.message
    else:
        assert isinstance(statement, (CqlSelect, CqlInsert, CqlUpdate, CqlDelete))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_after_where_parses_or_is_an_api_error(text):
    try:
        parse_cql("select * from T where " + text)
    except ApiError as exc:
        assert exc.status == 400
