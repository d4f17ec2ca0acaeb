"""GQL: parsing into the same queries as the Python API, and running them."""

import datetime as dt

import pytest

from leancloud import ndb
from leancloud.ndb.query import AND, BadQueryError, Parameter, PropertyOrder, gql


class GAddress(ndb.Model):
    city = ndb.StringProperty()


class GPerson(ndb.Model):
    name = ndb.StringProperty()
    age = ndb.IntegerProperty()
    born = ndb.DateTimeProperty()
    boss = ndb.KeyProperty()
    address = ndb.StructuredProperty(GAddress)


class GRenamed(ndb.Model):
    title = ndb.StringProperty()

    @classmethod
    def _get_kind(cls):
        return "GOtherKind"


@pytest.fixture
def people(leancloud_clean_server):
    ndb.put_multi(
        [
            GPerson(id="ann", name="ann", age=31, address=GAddress(city="London")),
            GPerson(id="bob", name="bob", age=25, born=dt.datetime(2000, 5, 1)),
            GPerson(id="cid", name="cid", age=40, boss=ndb.Key(GPerson, "ann")),
            GPerson(id="it's", name="it's", age=25),
        ]
    )


def names(results):
    return [e.name for e in results]


def test_gql_builds_the_same_query_as_python():
    q = gql("SELECT * FROM GPerson WHERE age >= 18 AND name != 'x' ORDER BY age DESC, name")
    assert q.kind == "GPerson"
    assert q.filters == AND(GPerson.age >= 18, GPerson.name != "x")
    assert q.orders == (PropertyOrder("age", True), PropertyOrder("name"))
    literal = gql(
        "SELECT * FROM GPerson WHERE born > DATETIME('2001-02-03 04:05:06') "
        "AND address.city = 'Rome' AND boss = KEY('GPerson', 'ann') AND age IN (1, 2)"
    )
    assert literal.filters == AND(
        GPerson.born > dt.datetime(2001, 2, 3, 4, 5, 6),
        GPerson.address.city == "Rome",
        GPerson.boss == ndb.Key(GPerson, "ann"),
        GPerson.age.IN([1, 2]),
    )


class GTyped(ndb.Model):
    at = ndb.DateTimeProperty()
    day = ndb.DateProperty()
    clock = ndb.TimeProperty()
    who = ndb.UserProperty()


def test_gql_constructors_in_both_forms():
    def where(condition):
        return gql(f"SELECT * FROM GTyped WHERE {condition}").filters

    assert where("at = DATETIME(2001, 2, 3, 4, 5, 6)") == where(
        "at = DATETIME('2001-02-03 04:05:06')"
    )
    assert where("at = DATETIME(2001, 2, 3, 4, 5, 6)") == (
        GTyped.at == dt.datetime(2001, 2, 3, 4, 5, 6)
    )
    assert where("day = DATE(2020, 5, 17)") == (GTyped.day == dt.date(2020, 5, 17))
    assert where("day = DATE('2020-05-17')") == (GTyped.day == dt.date(2020, 5, 17))
    assert where("clock = TIME(13, 14, 15)") == (GTyped.clock == dt.time(13, 14, 15))
    assert where("clock = TIME('13:14:15')") == (GTyped.clock == dt.time(13, 14, 15))
    assert where("who = USER('ann@example.com')") == (GTyped.who == ndb.User("ann@example.com"))
    for bad in ("DATE(2020, 13, 1)", "DATE(2020, 5)", "TIME(1.5, 0, 0)", "USER(3)"):
        with pytest.raises(BadQueryError):
            gql(f"SELECT * FROM GTyped WHERE day = {bad}")


def test_model_gql_and_parameters(people):
    q = GPerson.gql("WHERE age = :1 ORDER BY name")
    assert q.analyze() == [1]
    with pytest.raises(ndb.BadArgumentError):
        q.fetch()  # unbound
    assert names(q.bind(25).fetch()) == ["bob", "it's"]
    assert names(GPerson.gql("WHERE age = :1 ORDER BY name", 25).fetch()) == ["bob", "it's"]
    named = GPerson.gql("WHERE name IN :names ORDER BY name", names=["ann", "cid", "zed"])
    assert names(named.fetch()) == ["ann", "cid"]
    assert names(GPerson.gql("WHERE name = 'it''s'").fetch()) == ["it's"]
    with pytest.raises(ndb.BadArgumentError):
        GPerson.gql("WHERE age = :1", 1, 2)  # an argument nobody uses


def test_select_forms_limit_offset(people):
    keys = gql("SELECT __key__ FROM GPerson WHERE age = 25 ORDER BY name").fetch()
    assert keys == [ndb.Key(GPerson, "bob"), ndb.Key(GPerson, "it's")]
    projected = gql("SELECT name FROM GPerson ORDER BY name LIMIT 1, 2").fetch()
    assert names(projected) == ["bob", "cid"]
    with pytest.raises(ndb.UnprojectedPropertyError):
        _ = projected[0].age
    assert names(gql("SELECT * FROM GPerson ORDER BY name LIMIT 2 OFFSET 2").fetch()) == [
        "cid",
        "it's",
    ]
    assert names(gql("SELECT * FROM GPerson ORDER BY name LIMIT 2").fetch(1)) == ["ann"]
    ages = gql("SELECT DISTINCT age FROM GPerson ORDER BY age").fetch()
    assert [e.age for e in ages] == [25, 31, 40]
    assert names(gql("SELECT * FROM GPerson WHERE address.city = 'London'").fetch()) == ["ann"]
    assert names(gql("SELECT * FROM GPerson WHERE __key__ = KEY('GPerson', 'cid')").fetch()) == [
        "cid"
    ]


def test_ancestor_is(leancloud_clean_server):
    root = ndb.Key(GPerson, "root")
    GPerson(key=root, name="root").put()
    GPerson(parent=root, id="kid", name="kid").put()
    GPerson(id="other", name="other").put()
    q = gql("SELECT * FROM GPerson WHERE ANCESTOR IS :1 ORDER BY name")
    assert q.ancestor == Parameter(1)
    assert names(q.bind(root).fetch()) == ["kid", "root"]
    literal = gql(
        f"SELECT * FROM GPerson WHERE ANCESTOR IS KEY('{root.urlsafe()}') AND name = 'kid'"
    )
    assert names(literal.fetch()) == ["kid"]


def test_model_gql_with_its_own_kind(leancloud_clean_server):
    GRenamed(title="t").put()
    assert GRenamed.gql("").kind == "GOtherKind"
    assert [e.title for e in GRenamed.gql("WHERE title = 't'").fetch()] == ["t"]


@pytest.mark.parametrize(
    "text",
    [
        "SELEC * FROM GPerson",
        "SELECT * FROM GPerson WHERE",
        "SELECT * FROM GPerson WHERE age ~ 3",
        "SELECT * FROM GPerson WHERE nope = 3",
        "SELECT * FROM GPerson WHERE address.nope = 3",
        "SELECT * FROM GPerson LIMIT x",
        "SELECT * FROM GPerson ORDER BY",
        "SELECT * FROM GPerson WHERE born = DATETIME('yesterday')",
        "SELECT * FROM GPerson WHERE ANCESTOR IS 3",
        "SELECT * FROM GPerson trailing",
    ],
)
def test_bad_gql_is_refused_before_any_request(text):
    with pytest.raises(BadQueryError):
        gql(text)


def test_gql_values_are_validated_by_the_property():
    with pytest.raises(ndb.BadValueError):
        gql("SELECT * FROM GPerson WHERE age = 'old'")


def test_ndb_gql_stays_the_function_after_parsing():
    # The parser module must not replace ``ndb.gql`` when it is first imported.
    GPerson.gql("WHERE age = 1")
    assert ndb.gql is gql
    assert ndb.gql("SELECT * FROM GPerson WHERE age = 1").kind == "GPerson"
