"""Queries against the live server: one ``where`` per query, NDB's semantics, cursors."""

import datetime as dt
import json

import pytest

from leancloud import client, ndb
from leancloud.ndb import query as query_module
from leancloud.ndb.query import AND, OR, Cursor, FilterNode, PropertyOrder, Query


class QAddress(ndb.Model):
    city = ndb.StringProperty()
    street = ndb.StringProperty()


class QPerson(ndb.Model):
    name = ndb.StringProperty()
    age = ndb.IntegerProperty()
    tags = ndb.StringProperty(repeated=True)
    born = ndb.DateTimeProperty()
    bio = ndb.TextProperty()
    address = ndb.StructuredProperty(QAddress)


class QLoose(ndb.Expando):
    name = ndb.StringProperty()


@pytest.fixture
def sent(monkeypatch):
    """The query parameters of every GET the query module sends."""
    calls = []
    real = client.get

    def recording(url, params=None, headers=None):
        calls.append(dict(params or {}))
        return real(url, params, headers)

    monkeypatch.setattr(query_module.client, "get", recording)
    return calls


@pytest.fixture
def people(leancloud_clean_server):
    rows = [
        ("ann", 31, ["a", "b"], "London"),
        ("bob", 25, ["b"], "Paris"),
        ("cid", 40, [], "London"),
        ("dee", 25, ["c"], "Rome"),
        ("eve", None, ["a"], None),
    ]
    born = dt.datetime(1990, 1, 1)
    entities = [
        QPerson(
            id=name,
            name=name,
            age=age,
            tags=tags,
            born=born + dt.timedelta(days=i),
            address=QAddress(city=city) if city else None,
        )
        for i, (name, age, tags, city) in enumerate(rows)
    ]
    ndb.put_multi(entities)
    return entities


def names(results):
    return [entity.name for entity in results]


# -- compilation (pure) ------------------------------------------------------------------


def test_operators_compile_to_one_where():
    cases = [
        (QPerson.age == 3, {"age": 3}),
        (QPerson.age < 3, {"age": {"$lt": 3}}),
        (QPerson.age <= 3, {"age": {"$lte": 3}}),
        (QPerson.age > 3, {"age": {"$gt": 3}}),
        (QPerson.age >= 3, {"age": {"$gte": 3}}),
        (QPerson.age != 3, {"$or": [{"age": {"$lt": 3}}, {"age": {"$gt": 3}}]}),
        (QPerson.age.IN([1, 2]), {"age": {"$in": [1, 2]}}),
        (QPerson.age == None, {"$and": [{"age": None}, {"age": {"$exists": True}}]}),  # noqa: E711
        (QPerson.age != None, {"age": {"$ne": None, "$exists": True}}),  # noqa: E711
        (QPerson.address.city == "Rome", {"address.city": "Rome"}),
        (
            QPerson.born > dt.datetime(2000, 1, 1),
            {"born": {"$gt": {"__type": "Date", "iso": "2000-01-01T00:00:00.000Z"}}},
        ),
    ]
    for node, where in cases:
        assert node._where() == where


def test_and_or_nest_and_flatten():
    node = AND(QPerson.age > 1, AND(QPerson.age < 9, OR(QPerson.name == "a", QPerson.name == "b")))
    assert node._where() == {
        "$and": [
            {"age": {"$gt": 1}},
            {"age": {"$lt": 9}},
            {"$or": [{"name": "a"}, {"name": "b"}]},
        ]
    }
    assert AND(QPerson.age > 1) == (QPerson.age > 1)
    assert QPerson.query(QPerson.age > 1, QPerson.name == "a") == QPerson.query(
        QPerson.age > 1
    ).filter(QPerson.name == "a")
    assert QPerson.query(QPerson.age > 1) != QPerson.query(QPerson.age > 2)
    assert QPerson.query(QPerson.age > 1).filter(QPerson.name == "a").filters == AND(
        QPerson.age > 1, QPerson.name == "a"
    )


def test_bad_filters_fail_before_any_request():
    with pytest.raises(ndb.BadArgumentError):
        FilterNode("age", "~", 1)
    with pytest.raises(ndb.BadArgumentError):
        FilterNode("age", "in", 3)
    with pytest.raises(ndb.BadArgumentError):
        FilterNode("flag", "<", True)
    with pytest.raises(ndb.BadArgumentError):
        QPerson.query().filter("age > 3")
    with pytest.raises(ndb.BadArgumentError):
        OR()
    with pytest.raises(ndb.BadFilterError):
        _ = QPerson.bio == "x"
    with pytest.raises(TypeError):
        QPerson.query().fetch(bogus=1)
    with pytest.raises(ndb.BadArgumentError):
        QPerson.query().fetch(-1)
    with pytest.raises(ndb.BadArgumentError):
        QPerson.query().fetch(keys_only=True, projection=["name"])


def test_orders():
    q = QPerson.query().order(QPerson.age, -QPerson.name, "-born")
    assert q.orders == (
        PropertyOrder("age"),
        PropertyOrder("name", descending=True),
        PropertyOrder("born", descending=True),
    )
    assert QPerson.query().order("-__key__").orders == (-QPerson.key,)
    assert (-QPerson.key) == PropertyOrder("objectId", descending=True)


# -- running against the server --------------------------------------------------------


def test_each_operator_against_the_server(people, sent):
    q = QPerson.query
    assert sorted(names(q(QPerson.age == 25).fetch())) == ["bob", "dee"]
    assert sorted(names(q(QPerson.age < 31).fetch())) == ["bob", "dee"]
    assert sorted(names(q(QPerson.age <= 31).fetch())) == ["ann", "bob", "dee"]
    assert sorted(names(q(QPerson.age > 31).fetch())) == ["cid"]
    assert sorted(names(q(QPerson.age >= 31).fetch())) == ["ann", "cid"]
    # NDB: != never matches an entity whose value is None or missing
    assert sorted(names(q(QPerson.age != 25).fetch())) == ["ann", "cid"]
    assert sorted(names(q(QPerson.age.IN([25, 40])).fetch())) == ["bob", "cid", "dee"]
    assert names(q(QPerson.age == None).fetch()) == ["eve"]  # noqa: E711
    assert q(QPerson.age.IN([])).fetch() == []
    # repeated properties match on any element
    assert sorted(names(q(QPerson.tags == "b").fetch())) == ["ann", "bob"]
    assert sorted(names(q(QPerson.tags.IN(["a", "c"])).fetch())) == ["ann", "dee", "eve"]
    assert sorted(names(q(QPerson.address.city == "London").fetch())) == ["ann", "cid"]
    assert names(q(QPerson.address == QAddress(city="Rome")).fetch()) == ["dee"]
    assert names(q(QPerson.born > dt.datetime(1990, 1, 4)).fetch()) == ["eve"]
    assert len(sent) == 14 and all(call["order"] == "objectId" for call in sent)


def test_and_or_against_the_server(people, sent):
    q = QPerson.query(
        OR(AND(QPerson.age >= 30, QPerson.address.city == "London"), QPerson.tags == "c")
    )
    assert sorted(names(q.fetch())) == ["ann", "cid", "dee"]
    assert len(sent) == 1
    assert "$or" in json.dumps(sent[0]["where"])


def test_order_limit_offset(people, sent):
    raw = ndb.mapping.object_id_for_key(ndb.Key(QPerson, "raw"))
    client.put(f"/entities/QPerson/{raw}", {"name": "raw"})  # stored without any age
    q = QPerson.query().order(-QPerson.age, QPerson.name)
    # eve's age is None (sorts first, so last here); raw has no age: left out, as in NDB
    assert names(q.fetch()) == ["cid", "ann", "bob", "dee", "eve"]
    assert names(q.fetch(2)) == ["cid", "ann"]
    assert names(q.fetch(2, offset=1)) == ["ann", "bob"]
    assert sent[-1]["order"] == "-age,name,objectId" and sent[-1]["limit"] == 2
    assert sent[-1]["skip"] == 1


def test_get_count_iter_map_keys_only(people, sent):
    q = QPerson.query(QPerson.age == 25).order(QPerson.name)
    assert q.get().name == "bob"
    assert QPerson.query(QPerson.age == 99).get() is None
    assert q.count() == 2 and QPerson.query().count() == 5 and QPerson.query().count(3) == 3
    assert names(list(q)) == ["bob", "dee"]
    assert names(q.iter()) == ["bob", "dee"]
    assert q.map(lambda e: e.age * 2) == [50, 50]
    keys = q.fetch(keys_only=True)
    assert keys == [ndb.Key(QPerson, "bob"), ndb.Key(QPerson, "dee")]
    assert sent[-1]["keys"] == "objectId,name"
    assert q.map(lambda k: k.id(), keys_only=True) == ["bob", "dee"]


def test_batches_never_refetch(people, sent):
    q = QPerson.query().order(QPerson.name)
    assert names(q.iter(batch_size=2)) == ["ann", "bob", "cid", "dee", "eve"]
    assert [call["limit"] for call in sent] == [2, 2, 2]
    assert all("skip" not in call for call in sent)


def test_fetch_page_with_cursors(people):
    q = QPerson.query().order(-QPerson.age)
    page, cursor, more = q.fetch_page(2)
    assert names(page) == ["cid", "ann"] and more
    # a write between pages moves neither the next page nor the cursor
    QPerson(id="zed", name="zed", age=45).put()
    token = cursor.urlsafe()
    assert Cursor.from_websafe_string(cursor.to_websafe_string()) == cursor  # NDB's old names
    page, cursor, more = q.fetch_page(2, start_cursor=Cursor(urlsafe=token))
    assert names(page) == ["bob", "dee"] and more
    page, cursor, more = q.fetch_page(2, start_cursor=cursor)
    assert names(page) == ["eve"] and not more
    page, cursor2, more = q.fetch_page(2, start_cursor=cursor)
    assert page == [] and cursor2 == cursor and not more


def test_cursors_with_equal_order_values_and_nulls(people):
    q = QPerson.query().order(QPerson.age)  # bob and dee share 25
    seen = []
    cursor = None
    while True:
        page, cursor, more = q.fetch_page(1, start_cursor=cursor)
        seen += names(page)
        if not more:
            break
    assert seen == ["eve", "bob", "dee", "ann", "cid"]
    QPerson(id="nul", name="nul", age=None).put()  # None sorts first and is kept
    everyone = names(q.fetch())
    pages = []
    cursor = None
    for _ in range(5):
        page, cursor, more = q.fetch_page(2, start_cursor=cursor)
        pages += names(page)
    assert everyone[0] in ("eve", "nul") and pages == everyone


def test_iterator_cursors_and_end_cursor(people):
    q = QPerson.query().order(QPerson.name)
    it = q.iter()
    with pytest.raises(ndb.BadArgumentError):
        it.cursor_after()
    assert next(it).name == "ann" and next(it).name == "bob"
    after_bob, before_bob = it.cursor_after(), it.cursor_before()
    assert names(q.fetch(start_cursor=before_bob)) == ["bob", "cid", "dee", "eve"]
    assert names(q.fetch(start_cursor=after_bob)) == ["cid", "dee", "eve"]
    assert names(q.fetch(end_cursor=after_bob)) == ["ann", "bob"]
    assert q.count(start_cursor=after_bob) == 3
    with pytest.raises(ndb.BadArgumentError):
        QPerson.query().order(-QPerson.name).fetch(start_cursor=after_bob)
    with pytest.raises(ndb.BadValueError):
        Cursor(urlsafe="not a cursor")


def test_ancestor_queries(leancloud_clean_server):
    home = ndb.Key("QPerson", "home")
    QPerson(key=home, name="root").put()
    QPerson(parent=home, id="kid1", name="kid1").put()
    QPerson(parent=ndb.Key(QPerson, "kid1", parent=home), id="grandkid", name="gk").put()
    QPerson(id="stranger", name="stranger").put()
    found = QPerson.query(ancestor=home).order(QPerson.name).fetch()
    assert names(found) == ["gk", "kid1", "root"]
    assert names(QPerson.query(QPerson.name == "kid1", ancestor=home).fetch()) == ["kid1"]
    with pytest.raises(ndb.BadArgumentError):
        QPerson.query(ancestor=ndb.Key(QPerson, None))


def test_projection(people, sent):
    results = QPerson.query(QPerson.age == 25).order(QPerson.name).fetch(projection=[QPerson.name])
    assert names(results) == ["bob", "dee"]
    assert sent[-1]["keys"] == "name,objectId"
    with pytest.raises(ndb.UnprojectedPropertyError):
        _ = results[0].age
    with pytest.raises(ndb.ReadonlyPropertyError):
        results[0].name = "x"
    projected = QPerson.query(projection=["age"]).order(QPerson.age).fetch(3)
    assert [e.age for e in projected] == [None, 25, 25]
    by_city = QPerson.query(QPerson.name == "ann").fetch(projection=["address.city"])
    (ann,) = by_city  # a subproperty is fine, and the sub-entity is projected too
    assert ann.address.city == "London" and ann.to_dict() == {"address": {"city": "London"}}
    with pytest.raises(ndb.UnprojectedPropertyError):
        _ = ann.address.street
    assert "_BaseValue" not in repr(ann)


def test_projection_errors():
    with pytest.raises(ndb.InvalidPropertyError):
        QPerson.query(projection=["bio"])  # unindexed
    with pytest.raises(ndb.BadProjectionError):
        QPerson.query(projection=["nope"])
    with pytest.raises(ndb.InvalidPropertyError):
        QPerson.query(projection=["address"])  # a whole structured property
    with pytest.raises(ndb.BadRequestError):
        QPerson.query(QPerson.name == "a", projection=["name"])
    QLoose.query(projection=["anything"])  # Expando: any name


def test_distinct_projection(people):
    ages = QPerson.query(projection=[QPerson.age], distinct=True).order(QPerson.age).fetch()
    assert [e.age for e in ages] == [None, 25, 31, 40]
    assert QPerson.query(projection=[QPerson.age], distinct=True).count() == 4  # incl. None


def test_async_forms(people):
    q = QPerson.query(QPerson.age == 25).order(QPerson.name)
    assert names(q.fetch_async().get_result()) == ["bob", "dee"]
    assert q.count_async().get_result() == 2
    assert q.get_async().get_result().name == "bob"
    page, _, more = q.fetch_page_async(1).get_result()
    assert names(page) == ["bob"] and more
    assert q.map_async(lambda e: e.name).get_result() == ["bob", "dee"]


def test_only_ancestor_queries_in_transactions(people):
    from leancloud.ndb.transaction import transaction

    with pytest.raises(ndb.BadRequestError):
        transaction(lambda: QPerson.query().fetch())
    assert transaction(lambda: QPerson.query(ancestor=ndb.Key(QPerson, "ann")).count()) == 1


def test_get_indexes(people):
    states = query_module.get_indexes()
    person = [s for s in states if s.definition.kind == "QPerson"]
    assert {s.definition.properties[0].name for s in person} >= {"name", "age", "tags", "address"}
    assert all(s.state == "serving" and s.definition.ancestor for s in person)
    assert query_module.get_indexes_async().get_result() == states


def test_query_without_model_class_is_a_kind_error(leancloud_clean_server):
    with pytest.raises(ndb.KindError):
        Query(kind="NoSuchKind").fetch()


class QLink(ndb.Model):
    target = ndb.KeyProperty()


def test_cursors_fall_back_to_skip_for_values_the_server_cannot_compare(leancloud_clean_server):
    ndb.put_multi([QLink(id=n, target=ndb.Key(QPerson, f"p{n % 3}")) for n in range(1, 6)])
    q = QLink.query().order(QLink.target)
    everyone = [link.key.id() for link in q.fetch()]
    assert sorted(everyone) == [1, 2, 3, 4, 5]
    seen, cursor, more = [], None, True
    while more:
        page, cursor, more = q.fetch_page(2, start_cursor=cursor)
        seen += [link.key.id() for link in page]
        cursor = Cursor(urlsafe=cursor.urlsafe())
    assert seen == everyone
    assert cursor._state["after"] is None and cursor._state["skip"] == 5


class QEmployee(ndb.Model):
    name = ndb.StringProperty()
    rank = ndb.IntegerProperty()


class QDocAddress(ndb.Model):
    street = ndb.StringProperty()
    city = ndb.StringProperty()


class QDocPerson(ndb.Model):
    name = ndb.StringProperty()
    age = ndb.IntegerProperty()
    address = ndb.StructuredProperty(QDocAddress)


def test_the_documents_query_examples(leancloud_clean_server):
    # the document's names, on kinds of their own (the kind registry is global)
    Person, Address, Employee = QDocPerson, QDocAddress, QEmployee
    Person(name="Harry Potter", age=11, address=Address(city="London")).put()
    Person(name="Harry Potter", age=10, address=Address(city="Little Whinging")).put()
    by_args = Person.query(Person.name == "Harry Potter", Person.age >= 11)
    by_filter = Person.query().filter(Person.name == "Harry Potter", Person.age >= 11)
    assert by_args == by_filter
    assert [p.age for p in by_args.fetch()] == [11]
    qry = Person.query(Person.address.city == "London")
    assert [p.address.city for p in qry] == ["London"]
    ndb.put_multi([Employee(name=f"e{rank}", rank=rank) for rank in range(1, 8)])
    ranks = sorted(e.rank for e in Employee.query(Employee.rank.IN([4, 5, 6])))
    assert ranks == [4, 5, 6]


def test_key_filters_orders_and_namespaces(leancloud_clean_server):
    ndb.put_multi([QEmployee(id=n, rank=n) for n in (1, 2, 3)])
    QEmployee(id=9, rank=9, namespace="other").put()
    by_key = QEmployee.query().order(-QEmployee.key)
    assert [e.rank for e in by_key.fetch()] == [3, 2, 1]
    page, cursor, more = by_key.fetch_page(2)
    assert [e.rank for e in page] == [3, 2] and more
    assert [e.rank for e in by_key.fetch_page(2, start_cursor=cursor)[0]] == [1]
    assert [e.rank for e in QEmployee.query(QEmployee.key > ndb.Key(QEmployee, 1))] == [2, 3]
    assert [e.rank for e in QEmployee.query(QEmployee.key == ndb.Key(QEmployee, 2))] == [2]
    assert [e.rank for e in QEmployee.query(namespace="other")] == [9]
