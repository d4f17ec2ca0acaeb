"""Property classes: validation, options and their interactions (unit tests), and how
each type is stored and read back (against the live server)."""

import datetime as dt
import hashlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leancloud import client, ndb
from leancloud.ndb import mapping


def utc_now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def raw_row(entity):
    """The stored LeanCloud object behind an entity."""
    key = entity.key
    path = f"/classes/{mapping.class_name_for_kind(key.kind())}/{mapping.object_id_for_key(key)}"
    return client.get(path).json()


# -- options ---------------------------------------------------------------------------


class Options(ndb.Model):
    plain = ndb.StringProperty()
    renamed = ndb.IntegerProperty("stored_as")
    needed = ndb.StringProperty(required=True)
    needed_with_default = ndb.StringProperty(required=True, default="d")
    defaulted = ndb.IntegerProperty(default=7)
    chosen = ndb.StringProperty(choices=("red", "green"))
    lowered = ndb.StringProperty(validator=lambda prop, value: value.lower())
    many = ndb.IntegerProperty(repeated=True)
    many_written = ndb.IntegerProperty(repeated=True, write_empty_list=True)
    labelled = ndb.StringProperty(verbose_name="A label")


def test_repeated_excludes_required_and_default():
    with pytest.raises(ValueError):
        ndb.StringProperty(repeated=True, required=True)
    with pytest.raises(ValueError):
        ndb.StringProperty(repeated=True, default=["x"])
    prop = ndb.StringProperty(required=True, default="x")  # required + default is fine
    assert (prop._required, prop._default) == (True, "x")


def test_option_attributes():
    assert Options.renamed._name == "stored_as" and Options.renamed._code_name == "renamed"
    assert Options.labelled._verbose_name == "A label"
    assert Options._properties["stored_as"] is Options.renamed
    assert "renamed" not in Options._properties


def test_defaults_and_none():
    entity = Options()
    assert entity.plain is None
    assert entity.defaulted == 7
    assert entity.needed_with_default == "d"
    assert entity.many == []
    entity.chosen = None  # None skips validation, choices and validators
    entity.lowered = None
    assert entity.chosen is None and entity.lowered is None


def test_choices_and_validator():
    entity = Options(chosen="red", lowered="MiXeD")
    assert entity.lowered == "mixed"
    with pytest.raises(ndb.BadValueError):
        entity.chosen = "blue"

    def refuse(prop, value):
        raise ValueError(f"{prop._name} refuses {value}")

    class Refusing(ndb.Model):
        value = ndb.IntegerProperty(validator=refuse)

    with pytest.raises(ValueError, match="value refuses 3"):
        Refusing(value=3)


def test_repeated_values_are_lists_and_each_item_is_validated():
    entity = Options(many=(1, 2))
    assert entity.many == [1, 2]
    with pytest.raises(ndb.BadValueError):
        entity.many = 3
    with pytest.raises(ndb.BadValueError):
        entity.many = [1, "two"]


def test_required_is_checked_on_put_not_on_construction():
    entity = Options()
    with pytest.raises(ndb.BadValueError, match="needed"):
        entity.put()
    entity.needed = None
    with pytest.raises(ndb.BadValueError, match="needed"):
        entity.put()


def test_property_names_must_not_clash_with_leancloud_fields():
    with pytest.raises(ndb.BadArgumentError):

        class Clash(ndb.Model):
            created = ndb.DateTimeProperty("createdAt")

    with pytest.raises(ValueError):
        ndb.StringProperty("a.b")
    with pytest.raises(ndb.BadArgumentError):

        class BadName(ndb.Model):
            dashed = ndb.StringProperty("not-a-field")

    with pytest.raises(ndb.BadArgumentError):
        ndb.Expando().ndbAncestors = [1]


def test_one_property_object_cannot_serve_two_attributes():
    wrong_prop = ndb.StringProperty()
    with pytest.raises(TypeError):

        class Wrong(ndb.Model):
            wrong1 = wrong_prop
            wrong2 = wrong_prop


def test_options_round_trip(leancloud_server):
    entity = Options(needed="n", renamed=5, many=[], many_written=[], lowered="ABC")
    entity.put()
    row = raw_row(entity)
    assert row["stored_as"] == 5 and "renamed" not in row
    assert "many" not in row  # an empty list is not written...
    assert row["many_written"] == []  # ...unless write_empty_list
    assert row["plain"] is None  # unset properties are written as null
    fetched = entity.key.get()
    assert fetched == entity
    assert fetched.renamed == 5 and fetched.many == [] and fetched.lowered == "abc"


def test_repeated_values_are_revalidated_before_writing(leancloud_server):
    entity = Options(needed="n", many=[1])
    entity.many.append("not an int")  # mutating the list bypasses assignment checks
    with pytest.raises(ndb.BadValueError):
        entity.put()


# -- scalar types ------------------------------------------------------------------------


def test_string_limits():
    class Strings(ndb.Model):
        short = ndb.StringProperty()
        unindexed = ndb.StringProperty(indexed=False)
        text = ndb.TextProperty()

    entity = Strings(short="é" * 250, unindexed="x" * 2000, text="y" * 100000)
    assert entity.short == "é" * 250
    with pytest.raises(ndb.BadValueError):
        entity.short = "é" * 251  # 502 bytes
    with pytest.raises(ndb.BadValueError):
        entity.short = 5
    with pytest.raises(ndb.BadValueError):
        entity.text = b"\xff"
    with pytest.raises(NotImplementedError):
        ndb.TextProperty(indexed=True)


def test_numbers_and_booleans():
    class Numbers(ndb.Model):
        i = ndb.IntegerProperty()
        f = ndb.FloatProperty()
        b = ndb.BooleanProperty()

    entity = Numbers(i=True, f=2, b=False)
    assert entity.i == 1 and type(entity.i) is int
    assert entity.f == 2.0 and type(entity.f) is float
    entity.i = (1 << 63) - 1
    entity.i = -(1 << 63)
    for bad in (1 << 63, 1.5, "1"):
        with pytest.raises(ndb.BadValueError):
            entity.i = bad
    with pytest.raises(ndb.BadValueError):
        entity.f = "1.0"
    with pytest.raises(ndb.BadValueError):
        entity.b = 1


def test_datetime_validation():
    class Times(ndb.Model):
        at = ndb.DateTimeProperty()
        day = ndb.DateProperty()
        clock = ndb.TimeProperty()

    entity = Times(
        at=dt.datetime(2020, 1, 2, 3, 4, 5), day=dt.date(2020, 1, 2), clock=dt.time(3, 4)
    )
    with pytest.raises(ndb.BadValueError):
        entity.at = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # naive only: UTC
    with pytest.raises(ndb.BadValueError):
        entity.day = dt.datetime(2020, 1, 1)
    with pytest.raises(ndb.BadValueError):
        entity.clock = dt.date(2020, 1, 1)
    with pytest.raises(ValueError):
        ndb.DateTimeProperty(repeated=True, auto_now=True)
    with pytest.raises(ValueError):
        ndb.DateTimeProperty(auto_now=True, default=dt.datetime(2020, 1, 1))


def test_geopt():
    assert ndb.GeoPt("52.37, 4.88") == ndb.GeoPt(52.37, 4.88)
    assert str(ndb.GeoPt(1, 2)) == "1.0,2.0"
    for args in ((91, 0), (0, 181), ("nonsense",), ("1,2,3",)):
        with pytest.raises(ndb.BadValueError):
            ndb.GeoPt(*args)
    with pytest.raises(AttributeError):
        ndb.GeoPt(1, 2).lat = 3


def test_key_property_kind():
    class Target(ndb.Model):
        pass

    class Pointing(ndb.Model):
        any_key = ndb.KeyProperty()
        target = ndb.KeyProperty(kind=Target)
        named = ndb.KeyProperty("stored", "Target")

    assert Pointing.target._kind == "Target" and Pointing.named._kind == "Target"
    assert Pointing.named._name == "stored"
    entity = Pointing(any_key=ndb.Key("Other", 1), target=ndb.Key(Target, 1))
    with pytest.raises(ndb.BadValueError):
        entity.target = ndb.Key("Other", 1)
    with pytest.raises(ndb.BadValueError):
        entity.any_key = ndb.Key("Other", None)  # incomplete
    with pytest.raises(ndb.BadValueError):
        entity.any_key = "Other-n1"


def test_generic_property_values():
    prop_model = type(
        "Generic",
        (ndb.Model,),
        {"g": ndb.GenericProperty(), "z": ndb.GenericProperty(compressed=True)},
    )
    entity = prop_model()
    for value in (
        "s",
        b"b",
        1,
        1.5,
        True,
        dt.datetime(2020, 1, 1),
        ndb.GeoPt(1, 2),
        ndb.Key("K", 1),
    ):
        entity.g = value
        assert entity.g == value
    with pytest.raises(ndb.BadValueError):
        entity.g = {"a": 1}
    with pytest.raises(ndb.BadValueError):
        entity.z = "text"  # compressed takes bytes only
    assert prop_model.z._indexed is False


# -- computed ------------------------------------------------------------------------------


class DatastoreFile(ndb.Model):
    name = ndb.StringProperty()
    name_lower = ndb.ComputedProperty(lambda self: self.name.lower())

    data = ndb.BlobProperty()

    @ndb.ComputedProperty
    def size(self):
        return len(self.data)

    def _compute_hash(self):
        return hashlib.sha1(self.data).hexdigest()

    hash = ndb.ComputedProperty(_compute_hash, name="sha1")


def test_computed_properties_from_the_document():
    entity = DatastoreFile(name="README", data=b"hello")
    assert (entity.name_lower, entity.size, entity.hash) == (
        "readme",
        5,
        hashlib.sha1(b"hello").hexdigest(),
    )
    assert DatastoreFile._properties["sha1"] is DatastoreFile.hash
    with pytest.raises(ndb.ComputedPropertyError):
        entity.size = 3
    with pytest.raises(ndb.ComputedPropertyError):
        del entity.size
    with pytest.raises(ndb.ComputedPropertyError):
        DatastoreFile(size=3)
    assert issubclass(ndb.ComputedPropertyError, ndb.ReadonlyPropertyError)


def test_computed_values_are_written_but_recomputed_on_read(leancloud_server):
    entity = DatastoreFile(name="README", data=b"hello")
    entity.put()
    row = raw_row(entity)
    assert (row["name_lower"], row["size"], row["sha1"]) == (
        "readme",
        5,
        hashlib.sha1(b"hello").hexdigest(),
    )
    client.put(f"/classes/DatastoreFile/{row['objectId']}", {"size": 99})
    assert entity.key.get().size == 5


# -- structures -----------------------------------------------------------------------------


class Address(ndb.Model):
    street = ndb.StringProperty()
    city = ndb.StringProperty()


class Resident(ndb.Model):
    name = ndb.StringProperty()
    address = ndb.StructuredProperty(Address)


class LocalResident(ndb.Model):
    name = ndb.StringProperty()
    address = ndb.LocalStructuredProperty(Address)
    packed = ndb.LocalStructuredProperty(Address, compressed=True, repeated=True)


def test_structured_property_is_stored_as_subfields(leancloud_server):
    p = Resident(
        name="Harry Potter", address=Address(street="4 Privet Drive", city="Little Whinging")
    )
    k = p.put()
    row = raw_row(p)
    assert row["name"] == "Harry Potter"
    assert row["address"] == {"street": "4 Privet Drive", "city": "Little Whinging"}
    assert k.get() == p
    assert k.get().address.city == "Little Whinging"


def test_structured_subproperty_paths():
    assert Resident.address.city._name == "address.city"
    assert Resident.address.city._code_name == "address.city"
    with pytest.raises(AttributeError):
        _ = Resident.address.nothing
    with pytest.raises(ndb.BadValueError):
        Resident(address="4 Privet Drive")
    assert Resident(address={"city": "X"}).address == Address(city="X")


def test_only_one_repeated_level():
    class Tags(ndb.Model):
        tags = ndb.StringProperty(repeated=True)

    with pytest.raises(TypeError):
        ndb.StructuredProperty(Tags, repeated=True)

    class Holder(ndb.Model):
        tags = ndb.StructuredProperty(Tags)

    with pytest.raises(TypeError):
        ndb.StructuredProperty(Holder, repeated=True)
    ndb.StructuredProperty(Tags)  # not repeated itself: fine
    ndb.LocalStructuredProperty(Tags, repeated=True)  # opaque: fine


def test_repeated_structured_round_trip(leancloud_server):
    class Office(ndb.Model):
        name = ndb.StringProperty()
        addresses = ndb.StructuredProperty(Address, repeated=True)

    entity = Office(name="o", addresses=[Address(city="A"), Address(city="B", street="s")])
    entity.put()
    # NDB's layout: one list per subfield, so the server can query address.city.
    assert raw_row(entity)["addresses"] == {"street": [None, "s"], "city": ["A", "B"]}
    assert entity.key.get().addresses == [Address(city="A"), Address(city="B", street="s")]


class Spot(ndb.Model):
    lat = ndb.FloatProperty()
    ref = ndb.KeyProperty()


class Branch(ndb.Model):
    city = ndb.StringProperty()
    spot = ndb.StructuredProperty(Spot)


class Chain(ndb.Model):
    name = ndb.StringProperty()
    branches = ndb.StructuredProperty(Branch, repeated=True)


def test_repeated_structured_subfields_are_queryable(leancloud_clean_server):
    key = ndb.Key("Spot", 1)
    london = Branch(city="London", spot=Spot(lat=51.5, ref=key))
    a = Chain(id="a", name="a", branches=[london, Branch(city="Paris")])
    b = Chain(id="b", name="b", branches=[Branch(city="Rome", spot=Spot(lat=41.9))])
    ndb.put_multi([a, b, Chain(id="c", name="c", branches=[])])
    assert raw_row(a)["branches"] == {
        "city": ["London", "Paris"],
        "spot": {"lat": [51.5, None], "ref": [mapping.key_to_wire(key), None]},
    }

    def names(*filters):
        return sorted(chain.name for chain in Chain.query(*filters))

    assert names(Chain.branches.city == "London") == ["a"]
    assert names(Chain.branches.city.IN(["Rome", "Paris"])) == ["a", "b"]
    assert names(Chain.branches.spot.lat > 45) == ["a"]
    assert names(Chain.branches.spot.ref == key) == ["a"]
    assert names(Chain.branches == Branch(city="Rome")) == ["b"]
    fetched = a.key.get()
    assert fetched.branches[0] == london
    assert fetched.branches[1].city == "Paris" and fetched.branches[1].spot.lat is None


def test_repeated_structured_reads_a_list_of_objects_too(leancloud_clean_server):
    key = ndb.Key("Chain", "listed")
    client.put(
        f"/entities/Chain/{mapping.object_id_for_key(key)}",
        {"branches": [{"city": "Oslo"}, {"city": "Bergen", "spot": {"lat": 60.4}}]},
    )
    branches = key.get().branches
    assert [b.city for b in branches] == ["Oslo", "Bergen"] and branches[1].spot.lat == 60.4


def test_local_structured_property_is_an_opaque_blob(leancloud_server):
    p = LocalResident(
        name="Harry Potter",
        address=Address(street="4 Privet Drive", city="Little Whinging"),
        packed=[Address(city="Hogwarts")],
    )
    p.put()
    row = raw_row(p)
    assert row["address"]["__type"] == "Bytes"
    assert row["packed"][0]["__type"] == "Bytes"
    fetched = p.key.get()
    assert fetched == p
    assert fetched.packed[0].city == "Hogwarts"
    with pytest.raises(NotImplementedError):
        ndb.LocalStructuredProperty(Address, indexed=True)


def test_to_dict_turns_structures_into_dicts():
    p = Resident(name="H", address=Address(city="L"))
    assert p.to_dict() == {"name": "H", "address": {"street": None, "city": "L"}}
    assert LocalResident(address=Address(city="L")).to_dict(include=["address"]) == {
        "address": {"street": None, "city": "L"}
    }


# -- every type through storage --------------------------------------------------------------


class Everything(ndb.Model):
    s = ndb.StringProperty()
    t = ndb.TextProperty()
    tz = ndb.TextProperty(compressed=True)
    b = ndb.BlobProperty()
    bz = ndb.BlobProperty(compressed=True)
    i = ndb.IntegerProperty()
    f = ndb.FloatProperty()
    yes = ndb.BooleanProperty()
    at = ndb.DateTimeProperty()
    at_tz = ndb.DateTimeProperty(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    day = ndb.DateProperty()
    clock = ndb.TimeProperty()
    where = ndb.GeoPtProperty()
    ref = ndb.KeyProperty()
    blob_key = ndb.BlobKeyProperty()
    user = ndb.UserProperty()
    generic = ndb.GenericProperty(repeated=True)
    js = ndb.JsonProperty()
    pickled = ndb.PickleProperty()
    created = ndb.DateTimeProperty(auto_now_add=True)
    updated = ndb.DateTimeProperty(auto_now=True)


def test_every_type_round_trips(leancloud_server):
    entity = Everything(
        s="short",
        t="long " * 1000,
        tz="squeeze " * 1000,
        b=b"\x00\xff",
        bz=b"z" * 1000,
        i=(1 << 63) - 1,
        f=1.0,
        yes=True,
        at=dt.datetime(2020, 2, 29, 23, 59, 59, 123000),
        at_tz=dt.datetime(2020, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        day=dt.date(1969, 7, 20),
        clock=dt.time(13, 37, 0, 5000),
        where=ndb.GeoPt(52.37, 4.88),
        ref=ndb.Key("Parent", "p", "Child", 3),
        blob_key=ndb.BlobKey("blob-1"),
        user=ndb.User("a@example.com", _user_id="42"),
        generic=[
            "s",
            b"b",
            2,
            2.5,
            False,
            dt.datetime(2001, 1, 1),
            ndb.GeoPt(1, 2),
            ndb.Key("K", "k"),
        ],
        js={"a": [1, 2, None]},
        pickled={"set": {1, 2}},
    )
    entity.put()
    fetched = entity.key.get()
    assert fetched == entity
    for name in Everything._properties:
        assert getattr(fetched, name) == getattr(entity, name), name
    assert type(fetched.f) is float
    assert fetched.at_tz.utcoffset() == dt.timedelta(hours=8)

    row = raw_row(entity)
    assert row["at"] == {"__type": "Date", "iso": "2020-02-29T23:59:59.123Z"}  # naive = UTC
    assert row["at_tz"] == {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"}
    assert row["where"] == {"__type": "GeoPoint", "latitude": 52.37, "longitude": 4.88}
    assert row["ref"] == {
        "__type": "Pointer",
        "className": "Child",
        "objectId": mapping.object_id_for_key(ndb.Key("Parent", "p", "Child", 3)),
    }
    assert row["s"] == "short" and row["t"].startswith("long ")
    assert row["b"] == {"__type": "Bytes", "base64": "AP8="}
    assert row["bz"]["__type"] == "Bytes"
    assert row["blob_key"] == "blob-1"
    assert row["user"] == {"email": "a@example.com", "auth_domain": "gmail.com", "user_id": "42"}


def test_auto_now_and_auto_now_add(leancloud_server):
    before = utc_now() - dt.timedelta(seconds=1)
    entity = Everything(s="auto")
    entity.put()
    created, updated = entity.created, entity.updated
    assert before <= created <= utc_now() and created.microsecond % 1000 == 0
    entity.put()
    assert entity.created == created and entity.updated >= updated
    explicit = Everything(created=dt.datetime(2000, 1, 1))  # auto_now_add can be overridden
    explicit.put()
    assert explicit.key.get().created == dt.datetime(2000, 1, 1)


def test_geo_points_are_queryable_as_leancloud_geopoints(leancloud_server):
    Everything(s="geo-near", where=ndb.GeoPt(52.37, 4.88)).put()
    where = {
        "where": {
            "$nearSphere": {"__type": "GeoPoint", "latitude": 52.0, "longitude": 4.9},
            "$maxDistanceInKilometers": 100,
        },
        "s": "geo-near",
    }
    results = client.get("/classes/Everything", {"where": where}).json()["results"]
    assert [r["s"] for r in results] == ["geo-near"]


class Mistyped(ndb.Model):
    i = ndb.IntegerProperty()
    f = ndb.FloatProperty()
    yes = ndb.BooleanProperty()
    s = ndb.StringProperty()
    at = ndb.DateTimeProperty()
    where = ndb.GeoPtProperty()
    ref = ndb.KeyProperty()
    b = ndb.BlobProperty()
    generic = ndb.GenericProperty(repeated=True)
    n = ndb.IntegerProperty(default=3)


def test_wrongly_typed_stored_values_are_ignored(leancloud_server):
    key = ndb.Key("Mistyped", "mistyped")
    client.put(
        f"/entities/Mistyped/{mapping.object_id_for_key(key)}",
        {
            "i": "not a number",
            "f": "x",
            "yes": 1,
            "s": 5,
            "at": "2020-01-01",
            "where": [1, 2],
            "ref": "Key",
            "b": "text",
            "generic": [{"nested": 1}, 3],
            "n": "three",
        },
    )
    fetched = key.get()
    for name in ("i", "f", "yes", "s", "at", "where", "ref", "b"):
        assert getattr(fetched, name) is None, name
    assert fetched.generic == [3]
    assert fetched.n == 3  # ignored, so the default shows


def test_compressed_blobs_really_are_compressed(leancloud_server):
    entity = Everything(bz=b"z" * 1000)
    entity.put()
    import base64

    stored = base64.b64decode(raw_row(entity)["bz"]["base64"])
    assert len(stored) < 100 and zlib.decompress(stored) == b"z" * 1000


def test_json_property_type():
    class Config(ndb.Model):
        settings = ndb.JsonProperty(json_type=dict)

    with pytest.raises(TypeError):
        Config(settings=[1])
    assert Config(settings={"a": 1}).settings == {"a": 1}


# -- stacking _validate / _to_base_type / _from_base_type in user subclasses ---------------


class FuzzyDate:
    def __init__(self, first, last=None):
        self.first, self.last = first, last or first

    def __eq__(self, other):
        return isinstance(other, FuzzyDate) and (self.first, self.last) == (other.first, other.last)


class FuzzyDateModel(ndb.Model):
    first = ndb.DateProperty()
    last = ndb.DateProperty()


class FuzzyDateProperty(ndb.StructuredProperty):
    """The NDB documentation's example: a user type stored through a structure."""

    def __init__(self, **kwds):
        super().__init__(FuzzyDateModel, **kwds)

    def _validate(self, value):
        if not isinstance(value, FuzzyDate):
            raise TypeError(f"expected FuzzyDate, got {value!r}")

    def _to_base_type(self, value):
        return FuzzyDateModel(first=value.first, last=value.last)

    def _from_base_type(self, value):
        return FuzzyDate(value.first, value.last)


class LowerStringProperty(ndb.StringProperty):
    calls = []

    def _validate(self, value):
        LowerStringProperty.calls.append(("validate", value))
        if not isinstance(value, str):
            raise TypeError("a string please")
        return value.strip()

    def _to_base_type(self, value):
        LowerStringProperty.calls.append(("to_base", value))
        return value.lower()

    def _from_base_type(self, value):
        LowerStringProperty.calls.append(("from_base", value))
        return f"<{value}>"


class SquaredProperty(ndb.IntegerProperty):
    def _to_base_type(self, value):
        return value * value

    def _from_base_type(self, value):
        return int(value**0.5)


class ShoutingSquared(SquaredProperty):
    def _validate(self, value):
        if value < 0:
            raise ndb.BadValueError("no negatives")

    def _to_base_type(self, value):
        return value + 1

    def _from_base_type(self, value):
        return value - 1


class Stacked(ndb.Model):
    when = FuzzyDateProperty()
    word = LowerStringProperty()
    sq = ShoutingSquared()


def test_shallow_validation_stops_at_the_first_to_base_type():
    LowerStringProperty.calls.clear()
    entity = Stacked(word="  HeLLo ")
    assert LowerStringProperty.calls == [("validate", "  HeLLo ")]
    assert entity.word == "HeLLo"  # the validated (strict) value, no conversion yet
    with pytest.raises(TypeError):
        entity.word = 5
    with pytest.raises(ndb.BadValueError):
        entity.sq = -1
    with pytest.raises(TypeError):
        entity.when = "yesterday"


def test_conversions_stack_down_to_the_base_and_back(leancloud_server):
    day = dt.date(2020, 5, 17)
    entity = Stacked(when=FuzzyDate(day), word="  HeLLo ", sq=3)
    LowerStringProperty.calls.clear()
    entity.put()
    # Writing: the subclass's _validate and _to_base_type, then StringProperty's own.
    assert LowerStringProperty.calls == [("validate", "HeLLo"), ("to_base", "HeLLo")]
    row = raw_row(entity)
    assert row["word"] == "hello"
    assert row["sq"] == (3 + 1) ** 2  # most derived first: +1, then squared
    assert row["when"] == {
        "first": {"__type": "Date", "iso": "2020-05-17T00:00:00.000Z"},
        "last": {"__type": "Date", "iso": "2020-05-17T00:00:00.000Z"},
    }
    fetched = entity.key.get()
    LowerStringProperty.calls.clear()
    assert fetched.word == "<hello>"
    assert LowerStringProperty.calls == [("from_base", "hello")]
    assert fetched.sq == 3  # base first on the way back: sqrt, then -1
    assert fetched.when == FuzzyDate(day)


# -- comparisons build the query side's nodes with wire values -------------------------------


def test_comparison_operators_give_filter_nodes():
    from leancloud.ndb.query import FilterNode, PropertyOrder

    assert (Resident.name == "Harry") == FilterNode("name", "=", "Harry")
    assert (Options.renamed != 3) == FilterNode("stored_as", "!=", 3)
    assert (Options.many < 3) == FilterNode("many", "<", 3)  # one element of a repeated value
    assert (Options.defaulted <= True) == FilterNode("defaulted", "<=", 1)
    assert (Everything.at > dt.datetime(2020, 1, 1)) == FilterNode(
        "at", ">", {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"}
    )
    assert (Everything.day >= dt.date(2020, 1, 1)) == FilterNode(
        "day", ">=", {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"}
    )
    assert (Everything.ref == ndb.Key("K", 1)) == FilterNode(
        "ref", "=", mapping.key_to_wire(ndb.Key("K", 1))
    )
    assert (Everything.where == ndb.GeoPt(1, 2)) == FilterNode(
        "where", "=", {"__type": "GeoPoint", "latitude": 1.0, "longitude": 2.0}
    )
    assert (Resident.name == None) == FilterNode("name", "=", None)  # noqa: E711
    assert Options.chosen.IN(["red", "green"]) == FilterNode("chosen", "in", ["red", "green"])
    assert Options.chosen._IN(("red",)) == FilterNode("chosen", "in", ["red"])
    assert -Resident.name == PropertyOrder("name", True)
    assert +Options.renamed == PropertyOrder("stored_as", False)


def test_comparison_values_are_validated_and_converted():
    from leancloud.ndb.query import FilterNode

    assert (Stacked.word == "  HeLLo ") == FilterNode("word", "=", "hello")
    assert (Stacked.sq == 3) == FilterNode("sq", "=", 16)
    assert (Options.lowered == "ABC") == FilterNode("lowered", "=", "abc")
    with pytest.raises(ndb.BadValueError):
        _ = Options.chosen == "blue"
    with pytest.raises(ndb.BadValueError):
        _ = Options.renamed == "three"
    for unindexed in (Everything.t, Everything.b, Everything.js, LocalResident.address):
        with pytest.raises(ndb.BadFilterError):
            _ = unindexed == "x"


def test_key_and_structured_comparisons():
    from leancloud.ndb.query import ConjunctionNode, FilterNode, PropertyOrder

    key = ndb.Key("Resident", 1)
    assert (Resident.key == key) == FilterNode("objectId", "=", mapping.object_id_for_key(key))
    assert (Resident.key > key) == FilterNode("objectId", ">", mapping.object_id_for_key(key))
    assert -Resident.key == PropertyOrder("objectId", True)
    assert (Resident.address.city == "London") == FilterNode("address.city", "=", "London")
    assert (Resident.address == Address(city="London", street="Baker St")) == ConjunctionNode(
        FilterNode("address.city", "=", "London"), FilterNode("address.street", "=", "Baker St")
    )
    with pytest.raises(ndb.BadFilterError):
        _ = Resident.address < Address(city="x")


def test_queries_on_properties_run_on_the_server(leancloud_clean_server):
    london = Resident(name="Sherlock", address=Address(street="221B Baker Street", city="London"))
    Resident(name="Harry", address=Address(street="4 Privet Drive", city="Little Whinging")).put()
    london.put()
    assert Resident.query(Resident.address.city == "London").fetch() == [london]
    assert Resident.query(Resident.address == Address(city="London")).fetch() == [london]
    assert Resident.query(Resident.key == london.key).get() == london
    names = [r.name for r in Resident.query().order(-Resident.name)]
    assert names == ["Sherlock", "Harry"]


def test_nested_structured_paths_are_full_paths():
    class Geo(ndb.Model):
        lat = ndb.FloatProperty()

    class Place(ndb.Model):
        geo = ndb.StructuredProperty(Geo)

    class Visitor(ndb.Model):
        place = ndb.StructuredProperty(Place)

    assert Place.geo.lat._name == "geo.lat"  # cached on Place.geo first...
    assert Visitor.place.geo.lat._name == "place.geo.lat"  # ...yet not reused under Visitor
    assert Place.geo.lat._name == "geo.lat"


def test_user_property_takes_the_logged_in_user(leancloud_clean_server):
    import leancloud

    class Note(ndb.Model):
        author = ndb.UserProperty(auto_current_user_add=True)
        editor = ndb.UserProperty(auto_current_user=True)

    anonymous = Note()
    anonymous.put()
    assert anonymous.author is None and anonymous.editor is None
    user = leancloud.User()
    user.set_username("writer")
    user.set_password("secret-password")
    user.set_email("writer@example.com")
    user.sign_up()
    note = Note()
    note.put()
    expected = ndb.User("writer@example.com", "leancloud", user.id)
    assert note.key.get().author == expected == note.editor
    with pytest.raises(ValueError):
        ndb.UserProperty(repeated=True, auto_current_user=True)


# -- the wire form round-trips every valid value -----------------------------------------------


class Wire(ndb.Model):
    s = ndb.StringProperty(repeated=True)
    t = ndb.TextProperty(compressed=True)
    b = ndb.BlobProperty()
    i = ndb.IntegerProperty()
    f = ndb.FloatProperty()
    at = ndb.DateTimeProperty()
    g = ndb.GenericProperty()
    js = ndb.JsonProperty()


_MS_DATETIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    s=st.lists(st.text(max_size=100), max_size=3),
    t=st.text(),
    b=st.binary(),
    i=st.integers(-(2**63), 2**63 - 1),
    f=st.floats(allow_nan=False),
    at=_MS_DATETIMES,
    g=st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        st.integers(-(2**63), 2**63 - 1),
        st.booleans(),
        _MS_DATETIMES,
    ),
    js=_JSON,
)
def test_values_survive_the_wire_form(s, t, b, i, f, at, g, js):
    import json

    entity = Wire(s=s, t=t, b=b, i=i, f=f, at=at, g=g, js=js)
    fields = json.loads(json.dumps(mapping.entity_fields(entity)))  # as sent and answered
    assert mapping.entity_from_fields(Wire, fields) == entity


def test_property_reprs_read_like_their_constructors():
    assert repr(ndb.StringProperty("sx", required=True, choices=["b", "a"])) == (
        "StringProperty('sx', required=True, choices=['a', 'b'])"
    )
    assert repr(ndb.StructuredProperty(Address, "home", repeated=True)) == (
        "StructuredProperty(Address, 'home', repeated=True)"
    )
    assert repr(ndb.LocalStructuredProperty(Address, compressed=True)) == (
        "LocalStructuredProperty(Address, compressed=True)"
    )
    assert repr(ndb.KeyProperty(kind=Address)) == "KeyProperty(kind='Address')"
    assert repr(ndb.DateTimeProperty(auto_now=True)) == "DateTimeProperty(auto_now=True)"
