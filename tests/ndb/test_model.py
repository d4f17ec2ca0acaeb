"""Model and Expando: construction, keys, equality, to_dict, populate, kinds, hooks and
the document's examples, with storage against the live server."""

import pytest

from leancloud import client, ndb
from leancloud.ndb import mapping


class Person(ndb.Model):
    name = ndb.StringProperty()
    age = ndb.IntegerProperty()


class Pet(ndb.Model):
    name = ndb.StringProperty()


class SuperPerson(ndb.Expando):
    name = ndb.StringProperty()
    superpower = ndb.StringProperty()


def test_the_documents_first_example(leancloud_server):
    p = Person(name="Arthur Dent", age=42)
    k = p.put()
    assert isinstance(k, ndb.Key) and k.kind() == "Person" and p.key == k
    p2 = k.get()
    assert p2 == p
    p2.name = "Arthur Philip Dent"
    assert p2.put() == k
    assert k.get().name == "Arthur Philip Dent"
    k.delete()
    assert k.get() is None


# -- construction ------------------------------------------------------------------------


def test_keyword_construction_only():
    with pytest.raises(TypeError):
        Person("Arthur")
    with pytest.raises(TypeError, match="non-property"):
        Person(colour="red")


def test_key_id_parent_namespace_arguments():
    parent = ndb.Key("Pet", 1)
    assert Person(id=5).key == ndb.Key("Person", 5)
    assert Person(id="x", parent=parent).key == ndb.Key("Pet", 1, "Person", "x")
    assert Person(parent=parent).key == ndb.Key("Pet", 1, "Person", None)
    assert Person(id=1, namespace="ns").key.namespace() == "ns"
    assert Person(key=ndb.Key("Person", 3)).key.id() == 3
    assert Person().key is None
    with pytest.raises(ndb.BadArgumentError):
        Person(key=ndb.Key("Person", 3), id=4)
    with pytest.raises(ndb.KindError):
        Person(key=ndb.Key("Pet", 3))
    entity = Person()
    entity.key = ndb.Key("Person", 9)
    assert entity.key.id() == 9
    with pytest.raises(ndb.KindError):
        entity.key = ndb.Key("Pet", 9)
    with pytest.raises(ndb.BadValueError):
        entity.key = "Person-n9"
    del entity.key
    assert entity.key is None


def test_has_complete_key():
    assert not Person().has_complete_key()
    assert not Person(parent=ndb.Key("Pet", 1)).has_complete_key()
    assert Person(id=1).has_complete_key()


def test_populate():
    entity = Person()
    entity.populate(name="Ford", age=200)
    assert (entity.name, entity.age) == ("Ford", 200)
    with pytest.raises(TypeError):
        entity.populate(id=3)  # not key, id or parent


def test_to_dict_include_and_exclude():
    entity = Person(name="Ford", age=200)
    assert entity.to_dict() == {"name": "Ford", "age": 200}
    assert entity.to_dict(include=["name"]) == {"name": "Ford"}
    assert entity.to_dict(exclude=["name"]) == {"age": 200}
    assert entity.to_dict(include=["name", "age"], exclude={"name"}) == {"age": 200}


def test_equality():
    assert Person(name="a", age=1) == Person(name="a", age=1)
    assert Person(name="a") == Person(name="a", age=None)
    assert Person(name="a") != Person(name="b")
    assert Person(id=1, name="a") != Person(id=2, name="a")
    assert Person(name="a") != Pet(name="a")
    with pytest.raises(TypeError):
        hash(Person())


def test_repr():
    assert repr(Person(id=1, name="a")) == "Person(key=Key('Person', 1), name='a')"


def test_properties_of_the_class():
    assert set(Person._properties) == {"name", "age"}
    assert isinstance(Person.name, ndb.StringProperty)
    with pytest.raises(TypeError):

        class Underscored(ndb.Model):
            _hidden = ndb.StringProperty()


# -- kinds ----------------------------------------------------------------------------------


class MyModel(ndb.Model):
    value = ndb.IntegerProperty()

    @classmethod
    def _get_kind(cls):
        return "AnotherKind"


def test_get_kind_override_decides_class_and_key(leancloud_server):
    key = MyModel(value=3).put()
    assert key.kind() == "AnotherKind"
    assert ndb.Model._lookup_model("AnotherKind") is MyModel
    rows = client.get("/classes/AnotherKind").json()["results"]
    assert [row["value"] for row in rows if row["objectId"] == mapping.object_id_for_key(key)] == [
        3
    ]
    assert key.get() == MyModel(key=key, value=3)


def test_unknown_kinds():
    with pytest.raises(ndb.KindError):
        ndb.Model._lookup_model("NeverDefined")
    assert ndb.Model._lookup_model("NeverDefined", Person) is Person
    with pytest.raises(ndb.KindError):
        ndb.Key("NeverDefined", 1).get()  # refused before any request


def test_get_by_id(leancloud_server):
    parent = ndb.Key("Pet", "rex")
    Person(id="owner", parent=parent, name="Owner").put()
    assert Person.get_by_id("owner", parent=parent).name == "Owner"
    assert Person.get_by_id_async("owner", parent=parent).get_result().name == "Owner"
    assert Person.get_by_id("owner") is None
    assert Person.get_by_id("nobody-at-all") is None


def test_incomplete_keys_get_allocated_ids(leancloud_clean_server):
    first, second = Person(name="a"), Person(name="b", parent=ndb.Key("Pet", 1))
    k1, k2 = first.put(), second.put()
    assert (k1.id(), k2.id()) == (1, 2)
    assert k2.parent() == ndb.Key("Pet", 1)
    start, end = Person.allocate_ids(size=5)
    assert (start, end) == (3, 7)
    assert Person(name="c").put().id() == 8


def test_allocate_ids_with_max(leancloud_clean_server):
    assert Person.allocate_ids(max=100) == (1, 100)
    assert Person.allocate_ids(max=50) == (101, 50)  # nothing new: an empty range
    assert Person.allocate_ids(size=1) == (101, 101)
    assert Person.allocate_ids_async(size=2).get_result() == (102, 103)
    assert Pet.allocate_ids(size=1) == (1, 1)  # one counter per kind


@pytest.mark.parametrize(
    "kwargs", [{}, {"size": 1, "max": 5}, {"size": 0}, {"size": "3"}, {"max": -1}]
)
def test_allocate_ids_arguments(kwargs):
    with pytest.raises(ndb.BadArgumentError):
        Person.allocate_ids(**kwargs)


def test_required_sub_entity_properties_are_checked(leancloud_server):
    class Part(ndb.Model):
        serial = ndb.StringProperty(required=True)

    class Machine(ndb.Model):
        part = ndb.StructuredProperty(Part)

    with pytest.raises(ndb.BadValueError):
        Machine(part=Part()).put()
    assert Machine(part=Part(serial="s")).put().get().part.serial == "s"


# -- hooks ----------------------------------------------------------------------------------


class Hooked(ndb.Model):
    value = ndb.IntegerProperty()
    log = []

    def _pre_put_hook(self):
        Hooked.log.append(("pre_put", self.value))

    def _post_put_hook(self, future):
        Hooked.log.append(("post_put", future.done(), future.get_result()))

    @classmethod
    def _pre_get_hook(cls, key):
        cls.log.append(("pre_get", key.id()))

    @classmethod
    def _post_get_hook(cls, key, future):
        result = future.get_result()
        cls.log.append(("post_get", key.id(), result.value if result else None))

    @classmethod
    def _pre_delete_hook(cls, key):
        cls.log.append(("pre_delete", key.id()))

    @classmethod
    def _post_delete_hook(cls, key, future):
        cls.log.append(("post_delete", key.id(), future.get_result()))

    @classmethod
    def _pre_allocate_ids_hook(cls, size, max, parent):
        cls.log.append(("pre_allocate", size, max))

    @classmethod
    def _post_allocate_ids_hook(cls, size, max, parent, future):
        cls.log.append(("post_allocate", future.get_result()))


def test_hooks_run_around_every_operation(leancloud_clean_server):
    Hooked.log.clear()
    key = Hooked(id=1, value=5).put()
    assert Hooked.log == [("pre_put", 5), ("post_put", True, key)]
    Hooked.log.clear()
    assert key.get().value == 5
    assert Hooked.log == [("pre_get", 1), ("post_get", 1, 5)]
    Hooked.log.clear()
    ndb.delete_multi([key, ndb.Key("Hooked", 2)])
    assert Hooked.log == [
        ("pre_delete", 1),
        ("pre_delete", 2),
        ("post_delete", 1, None),
        ("post_delete", 2, None),
    ]
    Hooked.log.clear()
    assert Hooked.allocate_ids(size=3) == (1, 3)
    assert Hooked.log == [("pre_allocate", 3, None), ("post_allocate", (1, 3))]


def test_pre_hook_failures_stop_the_operation(leancloud_server):
    class Guarded(ndb.Model):
        value = ndb.IntegerProperty()

        def _pre_put_hook(self):
            if self.value < 0:
                raise ValueError("negative")

    with pytest.raises(ValueError):
        Guarded(id=1, value=-1).put()
    assert ndb.Key("Guarded", 1).get() is None


def test_post_hook_failures_reach_the_caller(leancloud_server):
    class Grumpy(ndb.Model):
        @classmethod
        def _post_get_hook(cls, key, future):
            raise RuntimeError("grumpy")

    with pytest.raises(RuntimeError, match="grumpy"):
        ndb.Key("Grumpy", 1).get()


# -- Expando -------------------------------------------------------------------------------


def test_the_documents_expando_example(leancloud_server):
    razorgirl = SuperPerson(
        name="Molly Millions",
        superpower="bionic eyes, razorblade hands",
        rasta_name="Steppin' Razor",
        alt_name="Sally Shears",
    )
    elastigirl = SuperPerson(name="Helen Parr", superpower="stretchable body")
    elastigirl.max_stretch = 30  # Meters
    assert sorted(razorgirl._properties) == ["alt_name", "name", "rasta_name", "superpower"]
    assert repr(elastigirl._properties["max_stretch"]) == "GenericProperty('max_stretch')"
    assert sorted(elastigirl._properties) == ["max_stretch", "name", "superpower"]
    assert sorted(SuperPerson._properties) == ["name", "superpower"]  # the class is untouched

    fetched = razorgirl.put().get()
    assert fetched == razorgirl
    assert fetched.rasta_name == "Steppin' Razor"
    assert elastigirl.put().get().max_stretch == 30


def test_expando_dynamic_values(leancloud_server):
    class Loose(ndb.Expando):
        pass

    entity = Loose(
        tags=["a", "b"],
        nested=Person(name="inner"),
        people=[Person(name="p1", age=1), Person(name="p2")],
        blob=b"\x00",
    )
    assert (
        isinstance(entity._properties["tags"], ndb.GenericProperty)
        and entity._properties["tags"]._repeated
    )
    assert isinstance(entity._properties["nested"], ndb.StructuredProperty)
    with pytest.raises(AttributeError):
        _ = entity.missing
    entity.put()
    fetched = entity.key.get()
    assert fetched.tags == ["a", "b"] and fetched.blob == b"\x00"
    assert fetched.nested.name == "inner"  # read back as an Expando structure
    assert [(p.name, p.age) for p in fetched.people] == [("p1", 1), ("p2", None)]
    assert Loose.query(ndb.FilterNode("people.name", "=", "p2")).get().key == entity.key
    del fetched.tags
    assert "tags" not in fetched._properties
    fetched.put()
    assert "tags" not in entity.key.get()._properties


def test_plain_models_ignore_unknown_stored_fields(leancloud_server):
    key = ndb.Key("Person", "with-extra")
    client.put(f"/entities/Person/{mapping.object_id_for_key(key)}", {"name": "x", "extra": 1})
    entity = key.get()
    assert entity.name == "x" and set(entity._properties) == {"name", "age"}
    with pytest.raises(AttributeError):
        _ = entity.extra


def test_put_replaces_the_whole_entity(leancloud_server):
    class Shrinking(ndb.Expando):
        pass

    entity = Shrinking(id=1, a=1, b=2)
    entity.put()
    del entity.b
    entity.put()
    assert set(entity.key.get()._properties) == {"a"}


# -- queries, get_or_insert, pickling ---------------------------------------------------------


def test_query_shortcut_ands_positional_filters(leancloud_clean_server):
    harry = Person(name="Harry Potter", age=11)
    ndb.put_multi([harry, Person(name="Harry Potter", age=40), Person(name="Ron", age=11)])
    shortcut = Person.query(Person.name == "Harry Potter", Person.age <= 11)
    longhand = Person.query().filter(Person.name == "Harry Potter", Person.age <= 11)
    assert shortcut.fetch() == longhand.fetch() == [harry]
    assert Person.query(ancestor=None, namespace="").kind == "Person"  # keywords go to Query()
    assert Person.gql("WHERE age = :1 ORDER BY name", 11).fetch() == sorted(
        Person.query(Person.age == 11).fetch(), key=lambda p: p.name
    )


def test_get_or_insert(leancloud_clean_server):
    first = Person.get_or_insert("arthur", name="Arthur", age=42)
    assert first.key == ndb.Key("Person", "arthur") and first.name == "Arthur"
    again = Person.get_or_insert("arthur", name="Somebody else")
    assert again == first  # the existing entity; the keywords are discarded
    child = Person.get_or_insert_async("kid", parent=first.key, age=1).get_result()
    assert child.key == ndb.Key("Person", "arthur", "Person", "kid")
    with pytest.raises(TypeError):
        Person.get_or_insert(5)


def test_get_or_insert_creates_once_under_contention(leancloud_clean_server):
    import threading

    results = []

    def race(n):
        results.append(Person.get_or_insert("contended", name=f"writer {n}"))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({entity.name for entity in results}) == 1
    assert ndb.Key("Person", "contended").get().name == results[0].name


def test_entities_pickle():
    import pickle

    entity = SuperPerson(id=3, name="Molly", alt_name="Sally")
    clone = pickle.loads(pickle.dumps(entity))
    assert clone == entity and clone.alt_name == "Sally" and clone.key == ndb.Key("SuperPerson", 3)


# -- the porting guide ------------------------------------------------------------------------


def _guide_blocks():
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[2] / "docs" / "ndb.md").read_text(encoding="utf-8")
    section = text.split("## The App Engine example", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_porting_guide_examples_run(leancloud_server, tmp_path, monkeypatch, capsys):
    from leancloud.server.storage.sqlite import SQLiteStorage

    blocks = _guide_blocks()
    assert len(blocks) == 5
    monkeypatch.setattr(
        ndb.Model, "_kind_map", dict(ndb.Model._kind_map)
    )  # the guide redefines Person
    namespace = {"__name__": "guide"}
    for index, block in enumerate(blocks):
        storage = SQLiteStorage(str(tmp_path / f"guide-{index}.db"))
        monkeypatch.setattr(leancloud_server.app, "storage", storage)
        exec(compile(block, f"docs/ndb.md block {index}", "exec"), namespace)
        storage.close()
    printed = capsys.readouterr().out
    assert "GenericProperty('max_stretch')" in printed and "'rasta_name'" in printed


def test_underscore_aliases_for_clashing_property_names(leancloud_server):
    class Clashing(ndb.Model):
        put = ndb.StringProperty()
        query = ndb.IntegerProperty()

    entity = Clashing(id="aliases", put="value", query=3)
    key = entity._put()
    assert key.get().put == "value"
    assert Clashing._query(Clashing.query == 3).fetch() == [entity]
    assert entity._has_complete_key() and Clashing._get_by_id("aliases") == entity


def test_pre_put_hook_sees_auto_values_and_may_fill_required_ones(leancloud_server):
    import datetime as dt

    class Stamped(ndb.Model):
        created = ndb.DateTimeProperty(auto_now_add=True)
        label = ndb.StringProperty(required=True)
        seen = []

        def _pre_put_hook(self):
            Stamped.seen.append(self.created)
            self.label = self.label or "filled by the hook"

    key = Stamped().put()
    assert isinstance(Stamped.seen[0], dt.datetime)
    assert key.get().label == "filled by the hook"


def test_distinct_needs_a_projection_and_no_group_by():
    with pytest.raises(TypeError):
        Person.query(distinct=True)
    with pytest.raises(TypeError):
        Person.query(projection=["age"], group_by=["age"], distinct=True)
    assert Person.query(projection=["age"], distinct=True).group_by == ("age",)


def test_queries_return_top_level_entities_only(leancloud_clean_server):
    class Home(ndb.Model):
        city = ndb.StringProperty()

    class Owner(ndb.Model):
        home = ndb.StructuredProperty(Home)
        work = ndb.StructuredProperty(Home)  # two structures of one model class

    top = Home(city="Oslo")
    top.put()
    Owner(home=Home(city="Oslo"), work=Home(city="Bergen")).put()
    assert Home.query(Home.city == "Oslo").fetch() == [top]
    assert Owner.query(Owner.work.city == "Bergen").get().home.city == "Oslo"


def test_reads_do_not_validate(leancloud_server):
    class Strict(ndb.Model):
        colour = ndb.StringProperty(choices=["red"], validator=lambda p, v: v.upper())

    key = ndb.Key("Strict", 1)
    client.put(f"/entities/Strict/{mapping.object_id_for_key(key)}", {"colour": "blue"})
    assert key.get().colour == "blue"


def test_the_model_module_has_the_documented_names():
    from leancloud.ndb import model

    documented = """Key BlobKey GeoPt Rollback Index IndexState IndexProperty ModelAttribute
        ModelKey MetaModel Model Expando transaction transaction_async in_transaction
        transactional transactional_async transactional_tasklet non_transactional get_multi
        get_multi_async put_multi put_multi_async delete_multi delete_multi_async get_indexes
        get_indexes_async BlobProperty JsonProperty StringProperty FloatProperty
        BadProjectionError LocalStructuredProperty TimeProperty UserProperty
        InvalidPropertyError KindError ComputedProperty KeyProperty BooleanProperty
        PickleProperty IntegerProperty Property DateProperty TextProperty DateTimeProperty
        GenericProperty UnprojectedPropertyError StructuredProperty GeoPtProperty
        ComputedPropertyError BlobKeyProperty ReadonlyPropertyError""".split()
    assert [name for name in documented if not hasattr(model, name)] == []
    assert [name for name in documented if not hasattr(ndb, name)] == []
    assert model.BadProjectionError is model.InvalidPropertyError


def test_user_and_base_values_in_an_entity():
    from leancloud.ndb import model

    entity = Person()
    Person.name._store_value(entity, model._BaseValue(b"stored"))  # a base value...
    assert Person.name._get_base_value(entity) == model._BaseValue(b"stored")
    assert entity.name == "stored"  # ...read as a user value
    Person.name._store_value(entity, "user value")
    assert Person.name._get_user_value(entity) == "user value"


def test_get_or_insert_joins_a_running_transaction(leancloud_clean_server):
    def both():
        first = Person.get_or_insert("in-txn", name="inside")
        return first, ndb.Key("Person", "in-txn").get()

    first, seen = ndb.transaction(both)
    assert first.name == seen.name == "inside"
    assert ndb.Key("Person", "in-txn").get().name == "inside"

    def rolled_back():
        Person.get_or_insert("never", name="gone")
        raise ndb.Rollback()

    assert ndb.transaction(rolled_back) is None
    assert ndb.Key("Person", "never").get() is None
