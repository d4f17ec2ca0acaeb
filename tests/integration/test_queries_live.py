"""Every query operator the SDK emits, run by the live server over rows built to trip it up.

The five rows mix types in one place (``meta.v`` holds 1, "1", true, 1.5 and null),
leave fields out, hold arrays (empty, mixed, nested), dates, pointers and GeoPoints, so a
server that compares loosely, ignores missing fields or flattens arrays gives the wrong rows.
"""

import datetime as dt
import re

import pytest

from leancloud import GeoPoint, LeanCloudError, Object, Query

from .conftest import error_code, sdk_as_master

Row = Object.extend("Row")
Owner = Object.extend("Owner")
Team = Object.extend("Team")
Tag = Object.extend("Tag")
Place = Object.extend("Place")

ORIGIN = GeoPoint(0, 0)
PLACES = {"a": GeoPoint(0, 0), "b": GeoPoint(0, 1), "c": GeoPoint(10, 10), "d": GeoPoint(-45, 170)}


def day(year, month=1, dd=1):
    return dt.datetime(year, month, dd, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def rows(module_db):
    """The module's rows, saved once: {name: Row}."""
    with sdk_as_master(module_db):
        reds = Team(title="reds")
        ann, bob = Owner(name="ann", team=reds), Owner(name="bob")
        fields = {
            "a": {"n": 1, "s": "apple", "tags": ["x", "y"], "meta": {"v": 1, "deep": {"w": "p"}},
                  "when": day(2024), "owner": ann, "flag": True, "group": 1, "crew": [ann, bob]},
            "b": {"n": 2.5, "s": "Banana", "tags": ["y", "z", "w"], "meta": {"v": "1"},
                  "when": day(2024, 6), "owner": bob, "flag": False, "group": 1, "crew": [bob]},
            "c": {"n": -3, "s": "cherry pie", "tags": [], "meta": {"v": True},
                  "when": day(2025), "owner": ann, "group": 2},
            "d": {"s": "date\nline2", "tags": ["x", 1], "meta": {"v": 1.5}, "group": 2},
            "e": {"n": 10, "tags": [["x"]], "meta": {"v": None}, "when": day(2023), "group": 1},
        }  # fmt: skip
        saved = {name: Row(name=name, **values) for name, values in fields.items()}
        for name, place in PLACES.items():
            saved[name].set("loc", place)
        Object.save_all(list(saved.values()))
        Object.save_all([Tag(label=label, on=on) for label, on in
                         (("a", True), ("c", True), ("d", False), ("zz", True))])  # fmt: skip
    return saved


@pytest.fixture(autouse=True)
def _server(live, rows):
    return rows


def rq():
    return Query(Row)


def names(query):
    """The names of the rows ``query`` finds, sorted (for conditions without an order)."""
    return sorted(row.get("name") for row in query.find())


def ordered(query):
    return [row.get("name") for row in query.find()]


# -- comparisons ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda q: q.equal_to("n", 1), ["a"]),
        (lambda q: q.equal_to("n", 2.5), ["b"]),
        (lambda q: q.equal_to("flag", True), ["a"]),
        (lambda q: q.equal_to("flag", False), ["b"]),
        (lambda q: q.not_equal_to("n", 1), ["b", "c", "d", "e"]),  # missing n is "not 1"
        (lambda q: q.less_than("n", 2.5), ["a", "c"]),
        (lambda q: q.less_than_or_equal_to("n", 2.5), ["a", "b", "c"]),
        (lambda q: q.greater_than("n", 1), ["b", "e"]),
        (lambda q: q.greater_than_or_equal_to("n", 1), ["a", "b", "e"]),
        (lambda q: q.greater_than("n", -100).less_than("n", 2), ["a", "c"]),
        (lambda q: q.greater_than("n", "0"), []),  # a string never compares with numbers
        (lambda q: q.greater_than("s", "b"), ["c", "d"]),  # "Banana" < "b": case-sensitive
        (lambda q: q.greater_than("when", day(2024, 3)), ["b", "c"]),
        (lambda q: q.less_than_or_equal_to("when", day(2024)), ["a", "e"]),
        (lambda q: q.equal_to("when", day(2024, 6)), ["b"]),
    ],
)
def test_comparisons(build, expected):
    assert names(build(rq())) == expected


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda q: q.equal_to("meta.v", 1), ["a"]),  # not true, "1" or 1.5
        (lambda q: q.equal_to("meta.v", True), ["c"]),
        (lambda q: q.equal_to("meta.v", "1"), ["b"]),
        (lambda q: q.greater_than("meta.v", 0), ["a", "d"]),  # numbers only, not true
        (lambda q: q.equal_to("meta.deep.w", "p"), ["a"]),
        (lambda q: q.exists("meta.deep"), ["a"]),
        (lambda q: q.does_not_exist("meta.deep.w"), ["b", "c", "d", "e"]),
    ],
)
def test_nested_keys_compare_strictly_by_type(build, expected):
    assert names(build(rq())) == expected


def test_pointers_compare_by_class_and_id(rows):
    ann = rows["a"].get("owner")
    assert names(rq().equal_to("owner", ann)) == ["a", "c"]
    assert names(rq().not_equal_to("owner", ann)) == ["b", "d", "e"]
    assert names(rq().contained_in("owner", [rows["b"].get("owner")])) == ["b"]
    other_class = Team.create_without_data(ann.id)
    assert names(rq().equal_to("owner", other_class)) == []


def test_arrays_of_pointers(rows):
    ann, bob = rows["a"].get("owner"), rows["b"].get("owner")
    assert names(rq().equal_to("crew", ann)) == ["a"]
    assert names(rq().equal_to("crew", bob)) == ["a", "b"]
    assert names(rq().contains_all("crew", [bob, ann])) == ["a"]
    assert names(rq().contained_in("crew", [ann, Owner.create_without_data("nobody")])) == ["a"]
    crew = rq().equal_to("name", "a").include("crew").first().get("crew")
    assert [member.get("name") for member in crew] == ["ann", "bob"]


# -- arrays and existence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda q: q.equal_to("tags", "x"), ["a", "d"]),  # not e, whose "x" is one level down
        (lambda q: q.contained_in("n", [1, -3, "1"]), ["a", "c"]),
        (lambda q: q.contained_in("tags", ["z", 1]), ["b", "d"]),
        (lambda q: q.not_contained_in("n", [1, 2.5]), ["c", "d", "e"]),
        (lambda q: q.not_contained_in("tags", ["y"]), ["c", "d", "e"]),
        (lambda q: q.contains_all("tags", ["y", "x"]), ["a"]),
        (lambda q: q.contains_all("tags", ["y"]), ["a", "b"]),
        (lambda q: q.size_equal_to("tags", 0), ["c"]),
        (lambda q: q.size_equal_to("tags", 1), ["e"]),
        (lambda q: q.size_equal_to("tags", 2), ["a", "d"]),
        (lambda q: q.size_equal_to("n", 1), []),  # not an array
        (lambda q: q.exists("n"), ["a", "b", "c", "e"]),
        (lambda q: q.does_not_exist("n"), ["d"]),
        (lambda q: q.does_not_exist("flag"), ["c", "d", "e"]),  # false is a value
        (lambda q: q.exists("when").does_not_exist("flag"), ["c", "e"]),
        (lambda q: q.contained_in("name", []), []),
        (lambda q: q.not_contained_in("name", []), ["a", "b", "c", "d", "e"]),
    ],
)
def test_array_and_existence_conditions(build, expected):
    assert names(build(rq())) == expected


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda q: q.not_equal_to("tags", "x"), ["b", "c", "e"]),  # no element equals "x"
        (lambda q: q.greater_than("tags", "x"), ["a", "b"]),  # some element is greater
        (lambda q: q.less_than("tags", 5), ["d"]),  # the only number among the elements
        (lambda q: q.startswith("tags", "y"), ["a", "b"]),  # some element matches
    ],
)
def test_conditions_on_arrays_test_each_element(build, expected):
    assert names(build(rq())) == expected


# -- strings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda q: q.startswith("s", "ch"), ["c"]),
        (lambda q: q.startswith("s", "b"), []),  # case-sensitive
        (lambda q: q.endswith("s", "pie"), ["c"]),
        (lambda q: q.contains("s", "an"), ["b"]),
        (lambda q: q.contains("s", "r+y"), ["c"]),  # sent as a regex, like the official SDK
        (lambda q: q.matched("s", "^b", ignore_case=True), ["b"]),
        (lambda q: q.matched("s", re.compile("^B")), ["b"]),
        (lambda q: q.matched("s", "^line2$"), []),
        (lambda q: q.matched("s", "^line2$", multi_line=True), ["d"]),
        (lambda q: q.matched("s", re.compile("^line2$", re.MULTILINE)), ["d"]),
        (lambda q: q.matched("s", "date.line2"), []),  # "." does not match a newline...
        (lambda q: q.matched("s", re.compile("date.line2", re.DOTALL)), ["d"]),  # ...with s it does
        # spaces count, except in verbose (x) mode
        (lambda q: q.matched("s", re.compile("CHERRY \\s PIE", re.IGNORECASE)), []),
        (lambda q: q.matched("s", re.compile("CHERRY \\s PIE", re.IGNORECASE | re.VERBOSE)), ["c"]),
        (lambda q: q.startswith("n", "1"), []),  # regexes match strings only
        (lambda q: q.matched("s", "\\Qcherry p\\E"), ["c"]),  # quoted literal, as JS sends
        (lambda q: q.matched("s", "\\Qa.p\\E"), []),  # "." quoted is no wildcard
        (lambda q: q.matched("s", "a.p"), ["a"]),
    ],
)
def test_string_conditions(build, expected):
    assert names(build(rq())) == expected


def test_an_invalid_regex_is_a_leancloud_error():
    assert error_code(lambda: rq().contains("s", "(").find()) == 1


# -- subqueries ------------------------------------------------------------------------------


def test_matches_query_and_its_negation():
    anns = Query(Owner).equal_to("name", "ann")
    assert names(rq().matches_query("owner", anns)) == ["a", "c"]
    assert names(rq().does_not_match_query("owner", anns)) == ["b", "d", "e"]
    in_a_team = Query(Owner).exists("team")
    assert names(rq().matches_query("owner", in_a_team)) == ["a", "c"]


def test_matches_key_in_query_and_its_negation():
    on = Query(Tag).equal_to("on", True)
    assert names(rq().matches_key_in_query("name", "label", on)) == ["a", "c"]
    assert names(rq().does_not_match_key_in_query("name", "label", on)) == ["b", "d", "e"]
    nothing = Query(Tag).equal_to("on", "no such value")
    assert names(rq().matches_key_in_query("name", "label", nothing)) == []


# -- geo ---------------------------------------------------------------------------------------


def distances(unit, origin=ORIGIN):
    """Each placed row's distance from ``origin``, nearest first, in ``unit`` (GeoPoint's math)."""
    measure = {"km": origin.kilometers_to, "mi": origin.miles_to, "rad": origin.radians_to}[unit]
    return sorted((measure(place), name) for name, place in PLACES.items())


def between(unit, i):
    """A distance halfway between the i-th and (i+1)-th nearest rows."""
    ranked = distances(unit)
    return (ranked[i][0] + ranked[i + 1][0]) / 2


def test_near_sorts_by_distance_and_skips_rows_without_a_point():
    assert ordered(rq().near("loc", ORIGIN)) == ["a", "b", "c", "d"]
    from_d = [name for _, name in distances("km", PLACES["d"])]
    assert ordered(rq().near("loc", PLACES["d"])) == from_d == ["d", "b", "a", "c"]
    assert ordered(rq().near("loc", ORIGIN).descending("name")) == ["d", "c", "b", "a"]


@pytest.mark.parametrize("unit, within", [
    ("km", Query.within_kilometers),
    ("mi", Query.within_miles),
    ("rad", Query.within_radians),
])  # fmt: skip
def test_within_a_distance_in_each_unit(unit, within):
    ranked = [name for _, name in distances(unit)]
    for i in range(len(ranked) - 1):
        found = ordered(within(rq(), "loc", ORIGIN, between(unit, i)))
        assert found == ranked[: i + 1]
    nearest_excluded = within(rq(), "loc", ORIGIN, between(unit, 2), between(unit, 0))
    assert ordered(nearest_excluded) == ranked[1:3]


def test_near_pages_in_distance_order():
    assert ordered(rq().near("loc", ORIGIN).skip(1).limit(2)) == ["b", "c"]
    assert ordered(rq().near("loc", ORIGIN).skip(3)) == ["d"]


def test_kilometer_limits_match_geo_point_distances():
    """The server's distance agrees with GeoPoint.kilometers_to to within a few meters."""
    b_km = ORIGIN.kilometers_to(PLACES["b"])
    assert ordered(rq().within_kilometers("loc", ORIGIN, b_km + 0.01)) == ["a", "b"]
    assert ordered(rq().within_kilometers("loc", ORIGIN, b_km - 0.01)) == ["a"]


def test_within_geo_box():
    box = rq().within_geo_box("loc", GeoPoint(-1, -1), GeoPoint(5, 5))
    assert names(box) == ["a", "b"]
    assert names(rq().within_geo_box("loc", GeoPoint(-50, 100), GeoPoint(-40, 179))) == ["d"]


EDGE_PLACES = {
    "east": GeoPoint(0, 179),
    "west": GeoPoint(0, -179),  # 2 degrees from "east", across the antimeridian
    "pole0": GeoPoint(89.9, 0),
    "pole180": GeoPoint(89.9, 180),  # about 22 km from "pole0", across the pole
}


@pytest.fixture(scope="module")
def edge_places(module_db):
    with sdk_as_master(module_db):
        Object.save_all([Place(name=name, loc=loc) for name, loc in EDGE_PLACES.items()])


def place_names(query):
    return sorted(place.get("name") for place in query.find())


def test_distances_wrap_around_the_antimeridian_and_the_poles(edge_places):
    east, pole0 = EDGE_PLACES["east"], EDGE_PLACES["pole0"]
    wrap_km = east.kilometers_to(EDGE_PLACES["west"])
    assert wrap_km < 250
    assert place_names(Query(Place).within_kilometers("loc", east, wrap_km + 1)) == ["east", "west"]
    polar_km = pole0.kilometers_to(EDGE_PLACES["pole180"])
    assert polar_km < 30
    found = Query(Place).within_kilometers("loc", pole0, polar_km + 1)
    assert place_names(found) == ["pole0", "pole180"]


def test_geo_box_corners_may_be_given_as_pairs(edge_places):
    box = Query(Place).within_geo_box("loc", (-1, 178), (1, 179.5))
    assert place_names(box) == ["east"]


# -- or / and -------------------------------------------------------------------------------


def test_or_and_and_combine_where_clauses():
    negative, apple = rq().less_than("n", 0), rq().startswith("s", "a")
    assert names(Query.or_(negative, apple)) == ["a", "c"]
    has_n, has_y = rq().exists("n"), rq().equal_to("tags", "y")
    assert names(Query.and_(has_n, has_y)) == ["a", "b"]
    nested = Query.or_(Query.and_(has_n, has_y), rq().does_not_exist("n"))
    assert names(nested) == ["a", "b", "d"]
    assert names(Query.and_(rq().greater_than("n", 0), rq().less_than("n", 0))) == []


def test_or_takes_queries_on_one_class_only():
    with pytest.raises(TypeError):
        Query.or_(rq(), Query(Owner))


# -- order, select, include, limit, skip -------------------------------------------------


def test_orderings():
    assert ordered(rq().exists("n").descending("n")) == ["e", "b", "a", "c"]
    assert ordered(rq().ascending("n")) == ["d", "c", "a", "b", "e"]  # missing sorts first
    assert ordered(rq().ascending("group").add_descending("name")) == ["e", "b", "a", "d", "c"]
    assert ordered(rq().descending("group").add_ascending("name")) == ["c", "d", "a", "b", "e"]
    assert ordered(rq().descending("name").ascending("group").add_ascending("name")) == [
        "a", "b", "e", "c", "d",
    ]  # fmt: skip


def test_booleans_sort_false_before_true():
    assert ordered(rq().exists("flag").ascending("flag")) == ["b", "a"]
    assert ordered(rq().exists("flag").descending("flag")) == ["a", "b"]


def test_mixed_types_sort_by_type_first():
    # MongoDB's order, which LeanCloud's is derived from: null, numbers, strings, booleans.
    assert ordered(rq().ascending("meta.v")) == ["e", "a", "d", "b", "c"]


def test_created_at_and_updated_at_compare_and_sort_as_dates(rows):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert rq().less_than("createdAt", later).count() == 5
    assert rq().greater_than("updatedAt", later).count() == 0
    earliest = min(row.created_at for row in rows.values())
    assert rq().greater_than_or_equal_to("createdAt", earliest).count() == 5
    assert "a" in names(rq().equal_to("createdAt", rows["a"].created_at))
    newest_first = [row.created_at for row in rq().descending("createdAt").find()]
    assert newest_first == sorted(newest_first, reverse=True)


def test_select_returns_only_the_chosen_fields():
    row = rq().equal_to("name", "a").select("name", "n").first()
    assert set(row.attributes) - {"objectId", "createdAt", "updatedAt"} == {"name", "n"}
    nested = rq().equal_to("name", "a").select("meta.deep").first()
    assert nested.get("meta") == {"deep": {"w": "p"}}
    excluded = rq().equal_to("name", "a").select("-meta", "-tags").first()
    assert not excluded.has("meta") and not excluded.has("tags") and excluded.get("n") == 1


def test_include_expands_nested_pointers():
    row = rq().equal_to("name", "a").include("owner.team").first()
    owner = row.get("owner")
    assert owner.get("name") == "ann" and owner.get("team").get("title") == "reds"
    plain = rq().equal_to("name", "a").include("owner").first().get("owner")
    assert plain.get("name") == "ann" and not plain.get("team").has("title")
    assert rq().equal_to("name", "a").first().get("owner").get("name") is None


def test_limit_and_skip():
    assert ordered(rq().ascending("name").skip(1).limit(2)) == ["b", "c"]
    assert ordered(rq().ascending("name").skip(4).limit(10)) == ["e"]
    assert ordered(rq().ascending("name").skip(5)) == []
    assert rq().limit(0).find() == []
    with pytest.raises(ValueError):
        rq().limit(1001)


def test_count_ignores_order_and_counts_every_match():
    assert rq().count() == 5
    assert rq().exists("n").descending("n").count() == 4
    assert rq().equal_to("name", "nobody").count() == 0


def test_first_and_get():
    assert rq().descending("n").first().get("name") == "e"
    assert error_code(lambda: rq().equal_to("name", "nobody").first()) == 101
    a = rq().get(rq().equal_to("name", "a").first().id)
    assert a.get("s") == "apple" and a.get("owner").get("name") is None
    missing = rq().get("0123456789abcdef01234567")  # documented: only the id is set
    assert missing.id == "0123456789abcdef01234567" and missing.get("name") is None


def test_scan_walks_every_page():
    found = list(rq().scan(batch_size=2))
    assert sorted(row.get("name") for row in found) == ["a", "b", "c", "d", "e"]
    assert len({row.id for row in found}) == 5
    some = list(rq().exists("n").scan(batch_size=1, scan_key="name"))
    assert [row.get("name") for row in some] == ["a", "b", "c", "e"]


def test_scan_brings_acls_with_include_acl():
    found = list(rq().include_acl().equal_to("name", "a").scan())
    assert [row.get_acl().get_public_read_access() for row in found] == [True]
    assert all(row.get_acl() is None for row in rq().equal_to("name", "a").scan())


def test_scan_needs_the_master_key():
    import leancloud

    leancloud.use_master_key(False)
    with pytest.raises(LeanCloudError) as info:
        list(rq().scan())
    assert info.value.code == 401
