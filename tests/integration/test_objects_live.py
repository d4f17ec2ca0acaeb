"""Object's field operations, values and batch calls, read back through the live server.

Most tests save through one instance and read through another (``fresh``), so a value
is only right if the server computed and stored it, not just the SDK's local estimate.
"""

import base64
import datetime as dt

import pytest

import leancloud
from leancloud import ACL, GeoPoint, LeanCloudError, Object, Query, Relation, client
from leancloud import object_ as object_module

from .conftest import error_code, fresh

Thing = Object.extend("Thing")
Part = Object.extend("Part")

pytestmark = pytest.mark.usefixtures("live")


def saved(cls=Thing, **fields):
    obj = cls(**fields)
    obj.save()
    return obj


def fields_of(obj):
    return {
        k: v for k, v in obj.attributes.items() if k not in ("objectId", "createdAt", "updatedAt")
    }


# -- field operations -------------------------------------------------------------------


def test_increment_int_float_negative_and_missing_fields():
    thing = saved(n=1, f=1.5)
    thing.increment("n", 5)
    thing.increment("n", -2)  # merged with the pending +5
    thing.increment("f", 0.25)
    thing.increment("new", -3)
    thing.save()
    assert (thing.get("n"), thing.get("f"), thing.get("new")) == (4, 1.75, -3)
    server = fresh(thing)
    assert (server.get("n"), server.get("f"), server.get("new")) == (4, 1.75, -3)
    assert type(server.get("n")) is int and type(server.get("f")) is float


def test_increment_is_applied_by_the_server_not_sent_as_a_value():
    thing = saved(n=10)
    stale = Thing.create_without_data(thing.id)  # knows nothing about n
    thing.increment("n", 1)
    thing.save()
    stale.increment("n", 100)
    stale.save()
    assert fresh(thing).get("n") == 111


def test_add_add_unique_and_remove_are_applied_to_the_stored_array():
    thing = saved(tags=["a"])
    stale = Thing.create_without_data(thing.id)
    stale.add("tags", "b")
    stale.add("tags", "a")  # Add keeps duplicates
    stale.save()
    assert fresh(thing).get("tags") == ["a", "b", "a"]
    stale.add_unique("tags", "a")
    stale.add_unique("tags", "c")
    stale.save()
    assert fresh(thing).get("tags") == ["a", "b", "a", "c"]
    stale.remove("tags", "a")  # every occurrence
    stale.save()
    assert fresh(thing).get("tags") == ["b", "c"]


def test_array_operations_on_missing_fields_and_on_objects():
    part = saved(Part, name="p")
    thing = saved()
    thing.add("added", 1)
    thing.add_unique("unique", {"k": [1, 2]})
    thing.remove("never_there", "x")
    thing.add_unique("parts", part)
    thing.save()
    server = fresh(thing)
    assert server.get("added") == [1] and server.get("unique") == [{"k": [1, 2]}]
    assert not server.has("never_there")  # removing from nothing creates nothing
    assert [p.id for p in server.get("parts")] == [part.id]
    again = Thing.create_without_data(thing.id)
    again.add_unique("parts", Part.create_without_data(part.id))  # same pointer: no change
    again.save()
    assert [p.id for p in fresh(thing).get("parts")] == [part.id]
    again.remove("parts", Part.create_without_data(part.id))
    again.save()
    assert fresh(thing).get("parts") == []


@pytest.mark.parametrize(
    "start, ops, expected",
    [
        (0b1100, [("bit_and", 0b1010)], 0b1000),
        (0b1100, [("bit_or", 0b0011)], 0b1111),
        (0b1100, [("bit_xor", 0b0110)], 0b1010),
        (None, [("bit_and", 0b1010)], 0),
        (None, [("bit_or", 0b1010)], 0b1010),
        (None, [("bit_xor", 0b1010)], 0b1010),
        (0b1100, [("bit_or", 0b0001), ("bit_or", 0b0010)], 0b1111),
        (0b1111, [("bit_and", 0b0111), ("bit_and", 0b1110)], 0b0110),
        (0b1100, [("bit_xor", 0b0101), ("bit_xor", 0b0011)], 0b1010),
        (0b1101, [("bit_xor", 0b0001), ("bit_and", 0b1110)], 0b1100),
        (0b0101, [("bit_and", ~0b0010), ("bit_or", 0b0010)], 0b0111),
    ],
)
def test_bit_operations_including_missing_fields_and_merged_pending_ops(start, ops, expected):
    thing = saved() if start is None else saved(bits=start)
    stale = Thing.create_without_data(thing.id)
    for name, value in ops:
        getattr(stale, name)("bits", value)
    stale.save()
    assert fresh(thing).get("bits") == expected


def test_bit_operations_that_do_not_merge_are_refused_before_saving():
    thing = saved(bits=0b1100)
    thing.bit_and("bits", 0b0110)
    with pytest.raises(ValueError):
        thing.bit_xor("bits", 0b0110)
    thing.save()
    assert fresh(thing).get("bits") == 0b0100


def test_unset_removes_the_field_on_the_server():
    thing = saved(gone="x", kept=1)
    thing.unset("gone")
    assert not thing.has("gone")
    thing.save()
    server = fresh(thing)
    assert not server.has("gone") and server.get("kept") == 1
    assert Query(Thing).equal_to("objectId", thing.id).does_not_exist("gone").count() == 1


def test_dotted_keys_reach_into_object_fields_on_update():
    thing = saved(occupation={"remark": "r"}, section={"tags": ["a"]})
    stale = Thing.create_without_data(thing.id)
    stale.set("occupation.profession", "dev")
    stale.add_unique("section.tags", "b")
    stale.add_unique("section.tags", "a")
    stale.increment("stats.views", 2)
    stale.save()
    server = fresh(thing)
    assert server.get("occupation") == {"remark": "r", "profession": "dev"}
    assert server.get("section") == {"tags": ["a", "b"]}
    assert server.get("stats") == {"views": 2}
    assert Query(Thing).equal_to("occupation.profession", "dev").count() == 1


def test_dotted_keys_are_refused_on_create():
    assert error_code(lambda: Thing(**{"occupation.profession": "dev"}).save()) == 105


# -- values of every wire type -------------------------------------------------------------

WHEN = dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture
def every_type():
    """A saved Thing holding one field of each wire type, and what each must read back as."""
    part = saved(Part, name="pointed at")
    member = saved(Part, name="member")
    thing = Thing(
        text="héllo ☃",
        int=7,
        float=2.5,
        whole_float=3.0,
        yes=True,
        no=False,
        nothing=None,
        when=WHEN,
        blob=b"\x00\xffbinary",
        place=GeoPoint(39.9, 116.4),
        nested={"a": [1, {"b": None}], "c": {"d": "e"}},
        items=[1, "two", 3.5, False, None, [4]],
        part=part,
    )
    thing.relation("members").add(member)
    thing.save()
    expected = {
        "text": "héllo ☃",
        "int": 7,
        "float": 2.5,
        "whole_float": 3.0,
        "yes": True,
        "no": False,
        "nothing": None,
        "when": WHEN.replace(microsecond=123000),  # LeanCloud keeps milliseconds
        "blob": b"\x00\xffbinary",
        "place": GeoPoint(39.9, 116.4),
        "nested": {"a": [1, {"b": None}], "c": {"d": "e"}},
        "items": [1, "two", 3.5, False, None, [4]],
    }
    return thing, part, member, expected


def check_round_trip(obj, part, member, expected):
    for key, value in expected.items():
        got = obj.get(key)
        assert got == value and type(got) is type(value), key
    assert obj.has("nothing")
    pointer = obj.get("part")
    assert (type(pointer), pointer.id) == (Part, part.id)
    relation = obj.get("members")
    assert isinstance(relation, Relation) and relation.target_class_name == "Part"
    assert [m.id for m in obj.relation("members").query.find()] == [member.id]


def test_every_wire_type_round_trips_through_fetch(every_type):
    thing, part, member, expected = every_type
    check_round_trip(fresh(thing), part, member, expected)


def test_every_wire_type_round_trips_through_query_get(every_type):
    thing, part, member, expected = every_type
    check_round_trip(Query(Thing).get(thing.id), part, member, expected)


def test_dates_of_any_year_round_trip_and_sort_in_time_order():
    years = [1969, 9999, 1, 999, 2024]
    things = [
        Thing(era=dt.datetime(y, 12, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc), era_year=y)
        for y in years
    ]
    Thing.save_all(things)
    for thing in things:
        assert fresh(thing).get("era") == thing.get("era")
    eras = Query(Thing).exists("era_year")
    assert [t.get("era_year") for t in eras.ascending("era").find()] == sorted(years)
    cutoff = dt.datetime(1000, 1, 1, tzinfo=dt.timezone.utc)
    assert sorted(t.get("era_year") for t in eras.less_than("era", cutoff).find()) == [1, 999]


def test_bytes_are_stored_as_base64(every_type):
    thing = every_type[0]
    raw = client.get(f"/classes/Thing/{thing.id}").json()["blob"]
    assert raw == {"__type": "Bytes", "base64": base64.b64encode(b"\x00\xffbinary").decode()}


# -- conditional saves, fetch_when_save, fetch options ------------------------------------


def test_save_where_applies_only_while_the_condition_holds():
    account = saved(balance=10)
    enough = Query(Thing).greater_than_or_equal_to("balance", 6)
    account.increment("balance", -6)
    account.save(where=enough)
    assert fresh(account).get("balance") == 4
    account.increment("balance", -6)
    assert error_code(lambda: account.save(where=enough)) == 305
    assert fresh(account).get("balance") == 4


def test_save_where_takes_only_a_query_on_the_objects_class():
    thing = saved(n=1)
    with pytest.raises(TypeError):
        thing.save(where=Query(Part))
    with pytest.raises(TypeError):
        Thing(n=1).save(where=Query(Thing))


def test_fetch_when_save_brings_back_the_servers_values():
    thing = saved(n=1, label="local")
    other = Thing.create_without_data(thing.id)
    other.increment("n", 10)
    other.save()
    thing.increment("n", 1)
    thing.save(fetch_when_save=True)
    assert thing.get("n") == 12  # not the local estimate 2
    thing.increment("n", 1)
    other.increment("n", 10)
    other.save()
    thing.save()
    assert thing.get("n") == 13  # without it, the local estimate stays


def test_fetch_with_select_and_include():
    part = saved(Part, name="inner", size=3)
    thing = saved(title="t", secret="s", part=part)
    server = Thing.create_without_data(thing.id)
    server.fetch(select=["title", "part"], include=["part"])
    assert server.get("title") == "t" and not server.has("secret")
    assert server.get("part").get("name") == "inner" and server.get("part").get("size") == 3
    plain = fresh(thing)
    assert plain.get("part").id == part.id and not plain.get("part").has("name")


def test_fetch_forgets_pending_changes_and_keeps_fields_the_answer_lacks():
    thing = saved(title="server")
    thing.set("title", "local")
    thing.set("local_only", 1)
    thing.fetch()
    assert thing.get("title") == "server" and thing.get("local_only") == 1
    assert not thing.is_dirty("title")


# -- destroy and batches --------------------------------------------------------------------


def test_destroy_deletes_the_object():
    thing = saved(n=1)
    thing.destroy()
    assert Query(Thing).equal_to("objectId", thing.id).count() == 0
    missing = Query(Thing).get(thing.id)  # the server answers {}: only the id is known
    assert missing.id == thing.id and fields_of(missing) == {}
    Thing().destroy()  # unsaved: nothing to do


def test_save_all_and_destroy_all_more_than_one_batch(monkeypatch):
    batches = []
    original_post = client.post

    def counting_post(path, *args, **kwargs):
        if path == "/batch":
            batches.append(len(args[0]["requests"]))
        return original_post(path, *args, **kwargs)

    monkeypatch.setattr(client, "post", counting_post)
    things = [Thing(bulk=i) for i in range(object_module.BATCH_SIZE * 2 + 5)]
    Thing.save_all(things)
    assert batches == [100, 100, 5]
    assert all(t.id and t.created_at for t in things) and len({t.id for t in things}) == 205
    bulk = Query(Thing).exists("bulk")
    assert bulk.count() == 205
    assert sorted(t.get("bulk") for t in bulk.limit(1000).find()) == list(range(205))
    batches.clear()
    Thing.destroy_all(things)
    assert batches == [100, 100, 5] and bulk.count() == 0


def test_save_all_reports_each_failing_object_and_saves_the_others():
    saved(kind=1)  # kind is a Number
    good1, bad, good2 = Thing(kind=2), Thing(kind="text"), Thing(kind=3)
    with pytest.raises(LeanCloudError) as info:
        Thing.save_all([good1, bad, good2])
    assert info.value.code == 111
    assert [(obj, err.code) for obj, err in info.value.errors] == [(bad, 111)]
    assert good1.id and good2.id and bad.id is None
    assert fresh(good2).get("kind") == 3


def test_destroy_all_reports_each_object_it_may_not_delete():
    locked_acl = ACL()
    locked_acl.set_public_read_access(True)
    free, locked = Thing(n=1), Thing(n=2)
    locked.set_acl(locked_acl)
    Thing.save_all([free, locked])
    leancloud.use_master_key(False)
    with pytest.raises(LeanCloudError) as info:
        Thing.destroy_all([free, locked])
    assert [(obj, err.code) for obj, err in info.value.errors] == [(locked, 403)]
    ids = [free.id, locked.id]
    assert [t.id for t in Query(Thing).contained_in("objectId", ids).find()] == [locked.id]


def test_destroy_all_refuses_unsaved_objects_before_any_request():
    with pytest.raises(ValueError):
        Thing.destroy_all([saved(n=1), Thing(n=2)])


def test_unsaved_children_are_saved_first():
    leaf = Part(name="leaf")
    middle = Part(name="middle", child=leaf)
    sibling = Part(name="sibling")
    root = Thing(title="root", child=middle, list_of=[sibling], map_of={"x": leaf})
    root.save()
    assert all(o.id for o in (leaf, middle, sibling, root))
    server = Query(Thing).include("child.child", "list_of").get(root.id)
    assert server.get("child").get("name") == "middle"
    assert server.get("child").get("child").get("name") == "leaf"
    assert [p.get("name") for p in server.get("list_of")] == ["sibling"]
    assert server.get("map_of")["x"].id == leaf.id


def test_a_child_shared_by_two_new_parents_is_saved_once():
    child = Part(name="shared child")
    first, second = Thing(child=child), Thing(child=child)
    Thing.save_all([first, second])
    assert child.id and Query(Part).equal_to("name", "shared child").count() == 1
    assert fresh(first).get("child").id == fresh(second).get("child").id == child.id


def test_an_included_pointer_to_a_deleted_object_stays_a_pointer():
    part = saved(Part, name="doomed")
    thing = saved(part=part)
    part.destroy()
    found = Query(Thing).include("part").get(thing.id)
    assert found.get("part").id == part.id and not found.get("part").has("name")


# -- type conflicts ------------------------------------------------------------------------


def test_type_conflicts_surface_as_error_111_and_change_nothing():
    thing = saved(number=1, words=["a"], text="t")
    stale = Thing.create_without_data(thing.id)
    stale.set("number", "not a number")
    assert error_code(stale.save) == 111
    for op in (
        lambda o: o.increment("text", 1),
        lambda o: o.add("number", 1),
        lambda o: o.bit_or("words", 1),
    ):
        stale = Thing.create_without_data(thing.id)  # no local value to refuse it early
        op(stale)
        assert error_code(stale.save) == 111
    server = fresh(thing)
    assert (server.get("number"), server.get("words"), server.get("text")) == (1, ["a"], "t")


def test_a_field_keeps_its_type_for_new_objects_too():
    saved(typed_later=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    assert error_code(lambda: saved(typed_later="2020-01-01")) == 111
    assert error_code(lambda: saved(typed_later=GeoPoint(1, 1))) == 111
