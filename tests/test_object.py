"""Object: the class registry, local changes, and the wire shape of every request."""

import datetime as dt
import json

import pytest
import responses
from responses import matchers

import leancloud
from leancloud import ACL, GeoPoint, LeanCloudError, Object, Query, client, object_
from tests.conftest import API, APP_ID, HOOK_KEY, MASTER_KEY

CREATED = "2024-01-12T03:04:05.678Z"
UPDATED = "2024-01-13T00:00:00.000Z"


class ObjAlbum(Object):
    pass


class ObjBand(Object):
    pass


class ObjPhilosopher(Object):
    class_name = "ObjTeacher"


def pointer(class_name, object_id):
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def body(call):
    return json.loads(call.request.body)


def saved_album(object_id="a1", **attrs):
    album = ObjAlbum.create_without_data(object_id)
    album._update_data(dict(attrs, createdAt=CREATED, updatedAt=CREATED))
    return album


def batch_items(call):
    return body(call)["requests"]


def add_batch(api, results):
    api.add(responses.POST, f"{API}/batch", json=results)


# -- class registry ----------------------------------------------------------------


def test_class_statement_registers_its_name():
    assert ObjAlbum._class_name == "ObjAlbum"
    assert Object.extend("ObjAlbum") is ObjAlbum
    assert Object.as_class("ObjAlbum") is ObjAlbum
    assert ObjPhilosopher._class_name == "ObjTeacher"
    assert Object.extend("ObjTeacher") is ObjPhilosopher
    assert not hasattr(ObjPhilosopher, "class_name")


def test_extend_returns_one_class_per_name():
    first = Object.extend("ObjExtended")
    assert first is Object.extend("ObjExtended")
    assert issubclass(first, Object) and first._class_name == "ObjExtended"
    assert isinstance(Object.create("ObjExtended", a=1), first)
    assert Object.create("ObjExtended", a=1).get("a") == 1


@pytest.mark.parametrize(
    "name, wire",
    [
        ("User", "_User"),
        ("Role", "_Role"),
        ("Installation", "_Installation"),
        ("Notification", "_Notification"),
        ("Conversation", "_Conversation"),
        ("SysMessage", "_SysMessage"),
        ("File", "_File"),
    ],
)
def test_builtin_names_map_to_system_classes(name, wire):
    assert Object.extend(name)._class_name == wire
    assert Object.extend(name) is Object.as_class(wire)


def test_a_later_class_statement_takes_over_the_name():
    auto = Object.as_class("ObjLateDefined")

    class ObjLateDefined(Object):
        def shout(self):
            return "defined"

    assert auto is not ObjLateDefined
    assert Object.as_class("ObjLateDefined") is ObjLateDefined
    decoded = leancloud.codec.decode(pointer("ObjLateDefined", "x1"))
    assert decoded.shout() == "defined"


def test_defining_user_later_takes_over_system_pointers(monkeypatch):
    monkeypatch.setattr(object_, "_classes", dict(object_._classes))  # keep the real registry clean
    placeholder = Object.as_class("_User")

    class User(Object):
        pass

    assert User._class_name == "_User" and User is not placeholder
    assert Object.as_class("_User") is User and Object.extend("User") is User
    assert type(leancloud.codec.decode(pointer("_User", "u1"))) is User


def test_as_class_works_as_the_official_decorator():
    @Object.as_class("ObjStudent")
    class ObjPhysicist(Object):
        pass

    assert ObjPhysicist._class_name == "ObjStudent"
    assert Object.as_class("ObjStudent") is ObjPhysicist
    assert isinstance(ObjPhysicist(), ObjPhysicist)


def test_extend_rejects_bad_names():
    with pytest.raises(TypeError):
        Object.extend("")
    with pytest.raises(TypeError):
        Object.as_class(None)


def test_create_without_data():
    album = ObjAlbum.create_without_data("a1")
    assert album.id == "a1" and not album.is_new() and not album.is_dirty()
    assert album.is_existed() is False
    with pytest.raises(RuntimeError):
        Object.create_without_data("a1")


def test_query_class_property():
    query = ObjAlbum.query
    assert isinstance(query, Query)
    assert query._query_class is ObjAlbum
    assert ObjAlbum.query is not query


# -- local state -------------------------------------------------------------------


def test_set_get_has_unset():
    album = ObjAlbum(title="Once")
    assert album.get("title") == "Once" and album.has("title")
    album.set({"year": 2004, "genre": "metal"})
    album.set("title", "Oceanborn")
    assert album.attributes == {"title": "Oceanborn", "year": 2004, "genre": "metal"}
    album.unset("genre")
    assert not album.has("genre") and album.get("genre") is None
    assert album._dump_save() == {"title": "Oceanborn", "year": 2004, "genre": {"__op": "Delete"}}
    assert album.set("x", 1) is album


def test_get_default_and_the_old_spelling():
    album = ObjAlbum()
    assert album.get("foo", "bar") == "bar"
    assert album.get("foo", default="bar") == "bar"
    assert album.get("foo", deafult="bar") == "bar"
    assert album.get("foo", "bar", deafult="other") == "bar"


def test_set_decodes_wire_values_and_unwraps_proxies():
    album = ObjAlbum()
    album.set("loc", {"__type": "GeoPoint", "latitude": 1, "longitude": 2})
    assert album.get("loc") == GeoPoint(1, 2)

    class Proxy:
        def _get_current_object(self):
            return ObjBand.create_without_data("b1")

    album.set("band", Proxy())
    assert isinstance(album.get("band"), ObjBand)


def test_set_rejects_bad_keys_and_acl():
    album = ObjAlbum()
    with pytest.raises(TypeError):
        album.set(3, "x")
    with pytest.raises(TypeError):
        album.set("ACL", "public")
    with pytest.raises(TypeError):
        album.set_acl(1)
    # The wire form becomes an ACL, as in the official SDK (constructor included).
    album.set("ACL", {"*": {"read": True}})
    assert album.get_acl() == ACL({"*": {"read": True}})
    assert ObjAlbum(ACL={"u1": {"write": True}}).get_acl().get_write_access("u1")
    acl = ACL({"*": {"read": True}})
    album.set_acl(acl)
    assert album.get_acl() is acl
    album.unset("ACL")
    assert album.get_acl() is None


def test_metadata_keys_describe_the_object_and_are_not_sent():
    album = ObjAlbum(objectId="a9", createdAt=CREATED)
    assert album.id == "a9" and not album.is_new()
    assert album.created_at == dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)
    assert album._dump_save() == {}
    with pytest.raises(TypeError):
        ObjAlbum(objectId=5)


def test_clear_removes_fields_but_not_metadata():
    album = saved_album(title="x", year=1)
    album.clear()
    assert set(album.attributes) == {"createdAt", "updatedAt"}
    assert album._dump_save() == {"title": {"__op": "Delete"}, "year": {"__op": "Delete"}}


def test_dirty_new_existed():
    album = ObjAlbum()
    assert album.is_new() and album.is_dirty() and not album.is_existed()
    album = saved_album(title="x")
    assert not album.is_new() and not album.is_dirty() and album.is_existed()
    album.set("title", "y")
    assert album.is_dirty() and album.is_dirty("title") and not album.is_dirty("other")


def test_field_operations_estimate_locally():
    album = ObjAlbum(count=1, tags=["a"], flags=0b110)
    album.increment("count").increment("count", 5)
    album.add("tags", "b").add_unique("tags2", "x").add_unique("tags2", "x")
    album.remove("tags", "a")
    album.bit_and("flags", 0b011).bit_or("flags", 0b1000).bit_xor("flags", 1)
    assert album.get("count") == 7
    assert album.get("tags") == ["b"]
    assert album.get("tags2") == ["x"]
    assert album.get("flags") == ((0b110 & 0b011) | 0b1000) ^ 1
    # Ops that followed a Set are folded into it; tags2 was never set.
    assert album._dump_save() == {
        "count": 7,
        "tags": ["b"],
        "tags2": {"__op": "AddUnique", "objects": ["x"]},
        "flags": 0b1011,
    }


def test_ops_on_a_saved_object_are_sent_as_ops():
    album = saved_album(count=1)
    album.increment("count", 2).increment("count", 3)
    album.add("tags", 1)
    album.bit_or("flags", 4)
    assert album.get("count") == 6
    assert album._dump_save() == {
        "count": {"__op": "Increment", "amount": 5},
        "tags": {"__op": "Add", "objects": [1]},
        "flags": {"__op": "BitOr", "value": 4},
    }


def test_conflicting_ops_leave_the_object_unchanged():
    album = saved_album(count=1)
    album.increment("count")
    with pytest.raises(ValueError, match="save"):
        album.set({"title": "x", "count": operation_add()})
    assert album.get("count") == 2 and not album.has("title")
    album.bit_and("flags", 6)
    with pytest.raises(ValueError, match="save"):
        album.bit_or("flags", 1)
    assert album._dump_save() == {
        "count": {"__op": "Increment", "amount": 1},
        "flags": {"__op": "BitAnd", "value": 6},
    }


def operation_add():
    return leancloud.operation.Add([1])


def test_dump_and_full_encoding():
    album = saved_album(title="Once", band=ObjBand.create_without_data("b1"), data=b"\x00\x01")
    expected = {
        "title": "Once",
        "band": pointer("ObjBand", "b1"),
        "data": {"__type": "Bytes", "base64": "AAE="},
        "objectId": "a1",
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }
    assert album.dump() == expected
    assert leancloud.codec.encode(album) == pointer("ObjAlbum", "a1")
    assert leancloud.codec.encode([album], dump_objects=True) == [
        dict(expected, __type="Object", className="ObjAlbum")
    ]
    assert ObjAlbum(title="x").dump() == {"title": "x"}


def test_update_data_decodes_and_cleans():
    album = ObjAlbum()
    album.set("title", "local")
    album._update_data(
        {
            "objectId": "a1",
            "createdAt": CREATED,
            "updatedAt": {"__type": "Date", "iso": UPDATED},
            "ACL": {"*": {"read": True}},
            "released": {"__type": "Date", "iso": CREATED},
            "band": {"__type": "Pointer", "className": "ObjBand", "objectId": "b1"},
        }
    )
    assert album.id == "a1" and not album.is_dirty()
    assert album.created_at.tzinfo is not None and album.get("createdAt") == album.created_at
    assert album.updated_at == dt.datetime(2024, 1, 13, tzinfo=dt.timezone.utc)
    assert album.get_acl() == ACL({"*": {"read": True}})
    assert album.get("released") == dt.datetime(
        2024, 1, 12, 3, 4, 5, 678000, tzinfo=dt.timezone.utc
    )
    assert isinstance(album.get("band"), ObjBand) and album.get("band").id == "b1"
    assert album.get("title") == "local"


# -- save --------------------------------------------------------------------------


def test_save_new_object_posts_its_fields(api):
    api.add(
        responses.POST,
        f"{API}/classes/ObjAlbum",
        status=201,
        json={"objectId": "a1", "createdAt": CREATED},
        match=[
            matchers.query_param_matcher({"fetchWhenSave": "false"}),
            matchers.header_matcher(
                {"X-LC-Id": APP_ID, "Content-Type": "application/json;charset=utf-8"},
                strict_match=False,
            ),
        ],
    )
    album = ObjAlbum(
        title="Once", tags=["a"], when=dt.datetime(2024, 1, 12, 3, 4, 5, tzinfo=dt.timezone.utc)
    )
    album.set("loc", GeoPoint(1, 2)).set_acl(ACL({"*": {"read": True}}))
    album.increment("plays", 2)
    assert album.save() is None
    assert body(api.calls[0]) == {
        "title": "Once",
        "tags": ["a"],
        "when": {"__type": "Date", "iso": "2024-01-12T03:04:05.000Z"},
        "loc": {"__type": "GeoPoint", "latitude": 1, "longitude": 2},
        "ACL": {"*": {"read": True}},
        "plays": {"__op": "Increment", "amount": 2},
    }
    assert album.id == "a1" and album.created_at is not None
    assert not album.is_dirty() and album.get("plays") == 2
    # The create's answer has no updatedAt: the server stored createdAt there.
    assert album.updated_at == album.created_at == album.get("updatedAt")
    assert "updatedAt" not in album.dump()  # the fields hold what the server sent


def test_save_existing_object_puts_only_changes(api):
    api.add(
        responses.PUT,
        f"{API}/classes/ObjAlbum/a1",
        json={"objectId": "a1", "updatedAt": UPDATED},
        match=[matchers.query_param_matcher({"fetchWhenSave": "false"})],
    )
    album = saved_album(title="Once", year=2004)
    album.set("title", "Oceanborn")
    album.save()
    assert body(api.calls[0]) == {"title": "Oceanborn"}
    assert album.updated_at == dt.datetime(2024, 1, 13, tzinfo=dt.timezone.utc)


def test_save_with_fetch_when_save_merges_the_answer(api):
    api.add(
        responses.PUT,
        f"{API}/classes/ObjAlbum/a1",
        json={"objectId": "a1", "updatedAt": UPDATED, "plays": 103},
        match=[matchers.query_param_matcher({"fetchWhenSave": "true"})],
    )
    album = saved_album(plays=0)
    album.increment("plays", 3)
    album.save(fetch_when_save=True)
    assert album.get("plays") == 103


def test_save_with_where_sends_the_condition(api):
    where = {"plays": {"$gt": 1}}
    api.add(
        responses.PUT,
        f"{API}/classes/ObjAlbum/a1",
        status=400,
        json={"code": 305, "error": "No effect on updating/deleting a document."},
        match=[
            matchers.query_param_matcher(
                {"fetchWhenSave": "false", "where": json.dumps(where, separators=(",", ":"))}
            )
        ],
    )
    album = saved_album()
    album.set("title", "x")
    with pytest.raises(LeanCloudError) as info:
        album.save(where=ObjAlbum.query.greater_than("plays", 1))
    assert info.value.code == 305
    assert album.is_dirty("title")  # nothing was saved, the change is still pending


@pytest.mark.parametrize(
    "make_where, album",
    [
        (lambda: {"plays": 1}, saved_album()),
        (lambda: Query("ObjBand"), saved_album()),
        (lambda: ObjAlbum.query, ObjAlbum()),
    ],
)
def test_save_with_a_bad_where_raises_before_sending(api, make_where, album):
    with pytest.raises(TypeError):
        album.save(where=make_where())


def test_save_saves_unsaved_children_first_in_one_batch(api):
    add_batch(
        api,
        [
            {"success": {"objectId": "b1", "createdAt": CREATED}},
            {"success": {"objectId": "b2", "createdAt": CREATED}},
            {"success": {"objectId": "b3", "updatedAt": UPDATED}},
        ],
    )
    api.add(
        responses.POST,
        f"{API}/classes/ObjAlbum",
        status=201,
        json={"objectId": "a1", "createdAt": CREATED},
    )
    first, second = ObjBand(name="one"), ObjBand(name="two")
    dirty_saved = ObjBand.create_without_data("b3").set("name", "three")
    clean_saved = ObjBand.create_without_data("b4")
    album = ObjAlbum(main=first, others=[{"nested": second}], more=[dirty_saved, clean_saved])
    album.save()
    assert batch_items(api.calls[0]) == [
        {"method": "POST", "path": "/1.1/classes/ObjBand", "body": {"name": "one"}},
        {"method": "POST", "path": "/1.1/classes/ObjBand", "body": {"name": "two"}},
        {"method": "PUT", "path": "/1.1/classes/ObjBand/b3", "body": {"name": "three"}},
    ]
    assert body(api.calls[1]) == {
        "main": pointer("ObjBand", "b1"),
        "others": [{"nested": pointer("ObjBand", "b2")}],
        "more": [pointer("ObjBand", "b3"), pointer("ObjBand", "b4")],
    }
    assert (first.id, second.id) == ("b1", "b2") and not dirty_saved.is_dirty()


def test_children_are_saved_after_their_own_children(api):
    add_batch(api, [{"success": {"objectId": "g1", "createdAt": CREATED}}])
    add_batch(api, [{"success": {"objectId": "c1", "createdAt": CREATED}}])
    api.add(
        responses.POST,
        f"{API}/classes/ObjAlbum",
        status=201,
        json={"objectId": "a1", "createdAt": CREATED},
    )
    grandchild = ObjBand(name="g")
    child = ObjBand(name="c", member=grandchild)
    ObjAlbum(band=child).save()
    assert batch_items(api.calls[0])[0]["body"] == {"name": "g"}
    assert batch_items(api.calls[1])[0]["body"] == {"name": "c", "member": pointer("ObjBand", "g1")}
    assert body(api.calls[2]) == {"band": pointer("ObjBand", "c1")}


def test_saved_objects_may_point_back_at_their_parent(api):
    add_batch(api, [{"success": {"objectId": "b1", "createdAt": CREATED}}])
    api.add(
        responses.PUT, f"{API}/classes/ObjAlbum/a1", json={"objectId": "a1", "updatedAt": UPDATED}
    )
    album = saved_album()
    album.set("band", ObjBand(album=album))
    album.save()
    assert batch_items(api.calls[0])[0]["body"] == {"album": pointer("ObjAlbum", "a1")}


def test_cycles_of_unsaved_objects_raise_before_any_request(api):
    album, band = ObjAlbum(), ObjBand()
    album.set("band", band)
    band.set("album", album)
    with pytest.raises(ValueError, match="cycle"):
        album.save()
    lonely = ObjAlbum()
    lonely.set("me", lonely)
    with pytest.raises(ValueError, match="itself"):
        lonely.save()
    with pytest.raises(ValueError, match="cycle"):
        Object.save_all([album])


def test_child_failure_stops_the_save(api):
    add_batch(api, [{"error": {"code": 142, "error": "hook said no"}}])
    band = ObjBand(name="x")
    with pytest.raises(LeanCloudError) as info:
        ObjAlbum(band=band).save()
    assert info.value.code == 142
    assert info.value.errors[0][0] is band
    assert band.is_new()


class FakeFile:
    """What leancloud.File provides: saved before the object that holds it."""

    def __init__(self):
        self.id = None

    def _lc_save_before_parent(self):
        if self.id is None:
            client.post("/fileCallback", {"fake": True})  # stands in for the upload
            self.id = "f1"

    def _lc_encode(self, dump_objects=False):
        return {"__type": "File", "id": self.id}


def test_unsaved_files_are_saved_before_the_object(api):
    api.add(responses.POST, f"{API}/fileCallback", json={})
    api.add(
        responses.POST,
        f"{API}/classes/ObjAlbum",
        status=201,
        json={"objectId": "a1", "createdAt": CREATED},
    )
    ObjAlbum(cover=FakeFile()).save()
    assert body(api.calls[1]) == {"cover": {"__type": "File", "id": "f1"}}


# -- hooks -------------------------------------------------------------------------


def test_disabling_hooks_needs_a_hook_or_master_key():
    with pytest.raises(ValueError, match="hook key"):
        ObjAlbum().disable_before_hook()
    with pytest.raises(ValueError):
        ObjAlbum().disable_after_hook()
    with pytest.raises(ValueError, match="invalid hook"):
        ObjAlbum().ignore_hook("beforeLunch")


def test_ignored_hooks_travel_with_saves_and_deletes(api):
    client.init(APP_ID, "key", hook_key=HOOK_KEY)
    api.add(
        responses.POST,
        f"{API}/classes/ObjAlbum",
        status=201,
        json={"objectId": "a1", "createdAt": CREATED},
        match=[matchers.header_matcher({"X-LC-Hook-Key": HOOK_KEY}, strict_match=False)],
    )
    api.add(responses.DELETE, f"{API}/classes/ObjAlbum/a1", json={})
    album = ObjAlbum(title="x").disable_before_hook()
    album.ignore_hook("afterSave").ignore_hook("afterSave")
    album.save()
    album.destroy()
    hooks = ["beforeSave", "beforeUpdate", "beforeDelete", "afterSave"]
    assert body(api.calls[0]) == {"title": "x", "__ignore_hooks": hooks}
    assert body(api.calls[1]) == {"__ignore_hooks": hooks}


def test_master_key_also_allows_disabling_hooks():
    client.init(APP_ID, master_key=MASTER_KEY)
    assert ObjAlbum().disable_after_hook()._flags == {
        "__ignore_hooks": ["afterSave", "afterUpdate", "afterDelete"]
    }


# -- fetch and destroy -------------------------------------------------------------


def test_fetch_sends_keys_and_include(api):
    api.add(
        responses.GET,
        f"{API}/classes/ObjAlbum/a1",
        json={
            "objectId": "a1",
            "createdAt": CREATED,
            "updatedAt": UPDATED,
            "band": {
                "__type": "Pointer",
                "className": "ObjBand",
                "objectId": "b1",
                "createdAt": CREATED,
                "name": "N",
            },
        },
        match=[matchers.query_param_matcher({"keys": "name,band", "include": "band"})],
    )
    album = ObjAlbum.create_without_data("a1")
    assert album.fetch(select=["name", "band"], include=("band",)) is album
    assert album.is_existed()
    band = album.get("band")
    assert isinstance(band, ObjBand) and band.get("name") == "N" and band.is_existed()


def test_fetch_of_a_missing_object_leaves_data_as_is(api):
    api.add(
        responses.GET,
        f"{API}/classes/ObjAlbum/a1",
        json={},
        match=[matchers.query_param_matcher({})],
    )
    album = ObjAlbum.create_without_data("a1")
    album.fetch()
    assert album.attributes == {} and not album.is_existed()


def test_fetch_refusals(api):
    with pytest.raises(ValueError):
        ObjAlbum().fetch()
    with pytest.raises(TypeError):
        ObjAlbum.create_without_data("a1").fetch(select="name")
    with pytest.raises(TypeError):
        ObjAlbum.create_without_data("a1").fetch(include="band")


def test_destroy_sends_an_empty_flags_body(api):
    api.add(
        responses.DELETE,
        f"{API}/classes/ObjAlbum/a1",
        json={},
        match=[matchers.json_params_matcher({})],
    )
    ObjAlbum.create_without_data("a1").destroy()
    ObjAlbum().destroy()  # unsaved: nothing to delete, no request
    assert len(api.calls) == 1


def test_destroy_failure_raises(api):
    api.add(
        responses.DELETE,
        f"{API}/classes/ObjAlbum/a1",
        status=403,
        json={"code": 403, "error": "Forbidden"},
    )
    with pytest.raises(LeanCloudError) as info:
        ObjAlbum.create_without_data("a1").destroy()
    assert info.value.code == 403


# -- save_all and destroy_all ------------------------------------------------------


def test_save_all_sends_one_batch(api):
    add_batch(
        api,
        [
            {"success": {"objectId": "n1", "createdAt": CREATED}},
            {"success": {"objectId": "a1", "updatedAt": UPDATED}},
        ],
    )
    new, old = ObjAlbum(title="new"), saved_album()
    old.set("title", "old")
    Object.save_all([new, old])
    assert batch_items(api.calls[0]) == [
        {"method": "POST", "path": "/1.1/classes/ObjAlbum", "body": {"title": "new"}},
        {"method": "PUT", "path": "/1.1/classes/ObjAlbum/a1", "body": {"title": "old"}},
    ]
    assert new.id == "n1" and not old.is_dirty()
    Object.save_all([])  # nothing to do, no request


def test_save_all_saves_children_first(api):
    add_batch(api, [{"success": {"objectId": "b1", "createdAt": CREATED}}])
    add_batch(api, [{"success": {"objectId": "a1", "createdAt": CREATED}}])
    Object.save_all([ObjAlbum(band=ObjBand())])
    assert batch_items(api.calls[1])[0]["body"] == {"band": pointer("ObjBand", "b1")}


def test_save_all_chunks_batches_of_100(api):
    albums = [ObjAlbum(n=i) for i in range(150)]
    add_batch(api, [{"success": {"objectId": f"id{i}", "createdAt": CREATED}} for i in range(100)])
    add_batch(
        api, [{"success": {"objectId": f"id{i}", "createdAt": CREATED}} for i in range(100, 150)]
    )
    Object.save_all(albums)
    assert [len(batch_items(call)) for call in api.calls] == [100, 50]
    assert batch_items(api.calls[1])[0]["body"] == {"n": 100}
    assert [a.id for a in albums] == [f"id{i}" for i in range(150)]


def test_save_all_reports_every_failure(api):
    add_batch(
        api,
        [
            {"error": {"code": 142, "error": "first"}},
            {"success": {"objectId": "ok", "createdAt": CREATED}},
            {"error": {"code": 137, "error": "second"}},
        ],
    )
    albums = [ObjAlbum(n=i) for i in range(3)]
    with pytest.raises(LeanCloudError) as info:
        Object.save_all(albums)
    assert (info.value.code, info.value.error) == (142, "first")
    assert [(obj, err.code) for obj, err in info.value.errors] == [
        (albums[0], 142),
        (albums[2], 137),
    ]
    assert albums[1].id == "ok" and albums[0].is_new() and albums[2].is_dirty("n")


def test_a_failed_chunk_fails_its_objects_and_keeps_the_others_results(api, monkeypatch):
    monkeypatch.setattr(object_, "BATCH_SIZE", 2)
    add_batch(api, [{"success": {"objectId": f"id{i}", "createdAt": CREATED}} for i in range(2)])
    api.add(responses.POST, f"{API}/batch", status=503, body="")
    add_batch(api, [{"success": {"objectId": "id4", "createdAt": CREATED}}])
    albums = [ObjAlbum(n=i) for i in range(5)]
    with pytest.raises(LeanCloudError) as info:
        Object.save_all(albums)
    assert [(obj, err.code) for obj, err in info.value.errors] == [
        (albums[2], 503),
        (albums[3], 503),
    ]
    # Saved objects know their ids, so saving the list again creates no duplicates.
    assert [a.id for a in albums] == ["id0", "id1", None, None, "id4"]


def test_save_all_rejects_non_objects(api):
    with pytest.raises(TypeError):
        Object.save_all([{"n": 1}])


def test_destroy_all_sends_one_batch_of_deletes(api):
    add_batch(api, [{"success": {}}, {"success": {}}])
    first = ObjAlbum.create_without_data("a1")
    second = ObjBand.create_without_data("b1")
    client.init(APP_ID, "key", hook_key=HOOK_KEY)
    second.ignore_hook("beforeDelete")
    Object.destroy_all([first, second])
    assert batch_items(api.calls[0]) == [
        {"method": "DELETE", "path": "/1.1/classes/ObjAlbum/a1", "body": {}},
        {
            "method": "DELETE",
            "path": "/1.1/classes/ObjBand/b1",
            "body": {"__ignore_hooks": ["beforeDelete"]},
        },
    ]


def test_destroy_all_refusals_and_failures(api):
    with pytest.raises(ValueError, match="unsaved"):
        Object.destroy_all([ObjAlbum.create_without_data("a1"), ObjAlbum()])
    add_batch(api, [{"error": {"code": 1, "error": "nope"}}, {"success": {}}])
    failing = ObjAlbum.create_without_data("a1")
    with pytest.raises(LeanCloudError) as info:
        Object.destroy_all([failing, ObjAlbum.create_without_data("a2")])
    assert info.value.code == 1 and info.value.errors[0][0] is failing


def test_a_malformed_batch_answer_raises(api):
    add_batch(api, {"not": "a list"})
    with pytest.raises(LeanCloudError) as info:
        Object.save_all([ObjAlbum()])
    assert info.value.code == leancloud.errors.BAD_RESPONSE


def test_batch_size_is_the_advised_limit():
    assert object_.BATCH_SIZE == 100


def test_long_chains_of_unsaved_objects_do_not_overflow():
    depth = 5000  # far deeper than the interpreter's recursion limit
    head = node = ObjBand(n=0)
    for i in range(1, depth):
        node.set("next", ObjBand(n=i))
        node = node.get("next")
    found = object_._unsaved_children(ObjAlbum(band=head).attributes, exclude=None)
    assert [band.get("n") for band in found] == list(range(depth - 1, -1, -1))


def test_an_object_id_cannot_reach_another_path(api):
    # An app may build objects from ids its users send; "../" must not leave the object.
    hostile = "../../users/me?x=1"
    encoded = "..%2F..%2Fusers%2Fme%3Fx%3D1"
    api.get(f"{API}/classes/ObjAlbum/{encoded}", json={})
    api.delete(f"{API}/classes/ObjAlbum/{encoded}", json={})
    add_batch(api, [{"success": {}}])
    album = ObjAlbum.create_without_data(hostile)
    album.fetch()
    album.destroy()
    Object.destroy_all([album])
    assert [call.request.path_url for call in api.calls[:2]] == [
        f"/1.1/classes/ObjAlbum/{encoded}",
        f"/1.1/classes/ObjAlbum/{encoded}",
    ]
    assert batch_items(api.calls[2])[0]["path"] == f"/1.1/classes/ObjAlbum/{encoded}"


# -- against the real server -------------------------------------------------------------


def test_live_create_acl_wire_form_and_hostile_ids(leancloud_server):
    album = ObjAlbum(title="live", ACL={"*": {"read": True}})
    album.save()
    assert album.updated_at == album.created_at is not None
    fetched = ObjAlbum.query.include_acl().equal_to("objectId", album.id).first()
    assert fetched.get_acl() == ACL({"*": {"read": True}})
    assert fetched.updated_at == album.updated_at
    # "../" in an id stays inside the id: the server sees no such object or route.
    hostile = ObjAlbum.create_without_data(f"../ObjAlbum/{album.id}")
    with pytest.raises(LeanCloudError):
        hostile.destroy()
    assert ObjAlbum.query.get(album.id).get("title") == "live"
