"""Key: constructor forms, contents, immutability, hashing, pickling and encodings.

Pure value semantics are unit tests; storage round trips run against the live server.
"""

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leancloud import ndb
from leancloud.ndb import mapping
from leancloud.ndb.key import Reference, default_app


class KeyKind(ndb.Model):
    n = ndb.IntegerProperty()


class KeyChild(ndb.Model):
    n = ndb.IntegerProperty()


def test_constructor_forms_are_equal():
    positional = ndb.Key("Parent", 1, "Child", "c")
    assert ndb.Key(pairs=[("Parent", 1), ("Child", "c")]) == positional
    assert ndb.Key(flat=["Parent", 1, "Child", "c"]) == positional
    assert ndb.Key("Child", "c", parent=ndb.Key("Parent", 1)) == positional
    assert ndb.Key(pairs=[("Child", "c")], parent=ndb.Key("Parent", 1)) == positional
    assert ndb.Key(urlsafe=positional.urlsafe()) == positional
    assert ndb.Key(serialized=positional.serialized()) == positional
    assert ndb.Key(reference=positional.reference()) == positional
    state = {"pairs": positional.pairs(), "app": positional.app(), "namespace": ""}
    assert ndb.Key(state) == positional
    assert ndb.Key(**state) == positional


def test_model_class_as_kind():
    assert ndb.Key(KeyKind, 3) == ndb.Key("KeyKind", 3)


def test_contents():
    key = ndb.Key("Parent", 1, "Child", "c")
    assert key.pairs() == (("Parent", 1), ("Child", "c"))
    assert key.flat() == ("Parent", 1, "Child", "c")
    assert key.kind() == "Child"
    assert key.id() == "c"
    assert key.string_id() == "c" and key.integer_id() is None
    assert key.parent() == ndb.Key("Parent", 1)
    assert key.root() == ndb.Key("Parent", 1)
    assert ndb.Key("Parent", 1).parent() is None
    assert ndb.Key("Parent", 1).root() == ndb.Key("Parent", 1)
    assert ndb.Key("Parent", 1).integer_id() == 1 and ndb.Key("Parent", 1).string_id() is None
    assert key.app() == default_app() == "test-app-id"
    assert key.namespace() == ""


def test_incomplete_key():
    key = ndb.Key("Kind", None)
    assert key.id() is None and key.string_id() is None and key.integer_id() is None
    with pytest.raises(ndb.BadArgumentError):
        ndb.Key("A", None, "B", 1)  # only the last pair may be incomplete
    with pytest.raises(ndb.BadArgumentError):
        ndb.Key("B", 1, parent=key)


def test_app_and_namespace():
    key = ndb.Key("Kind", 1, app="other", namespace="ns")
    assert (key.app(), key.namespace()) == ("other", "ns")
    assert key != ndb.Key("Kind", 1)
    assert repr(key) == "Key('Kind', 1, app='other', namespace='ns')"
    child = ndb.Key("C", 2, parent=key)
    assert (child.app(), child.namespace()) == ("other", "ns")
    with pytest.raises(ndb.BadArgumentError):
        ndb.Key("C", 2, parent=key, namespace="elsewhere")


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("Kind",), {}),
        (("Kind", 1.5), {}),
        (("Kind", 0), {}),
        (("Kind", 1 << 63), {}),
        (("Kind", ""), {}),
        (("Kind", "x" * 1501), {}),
        (("Kind", True), {}),
        (("", 1), {}),
        ((), {}),
        (("Kind", 1), {"flat": ["Kind", 1]}),
    ],
)
def test_bad_arguments(args, kwargs):
    with pytest.raises((ndb.BadArgumentError, TypeError)):
        ndb.Key(*args, **kwargs)


def test_reference_forms_refuse_parent_and_mismatched_app():
    key = ndb.Key("Kind", 1)
    with pytest.raises(TypeError):
        ndb.Key(urlsafe=key.urlsafe(), parent=ndb.Key("P", 1))
    with pytest.raises(ndb.BadArgumentError):
        ndb.Key(urlsafe=key.urlsafe(), app="another")
    assert ndb.Key(urlsafe=key.urlsafe(), app=key.app(), namespace="") == key
    with pytest.raises(ndb.BadKeyError):
        ndb.Key(urlsafe="not a key!")
    with pytest.raises(TypeError):
        ndb.Key("Kind", 1, colour="red")


def test_app_engine_urlsafe_compatibility():
    # The byte layout of App Engine's entity_pb.Reference, as its SDK produces it.
    key = ndb.Key("Kind", 1337, app="example")
    assert key.urlsafe() == "agdleGFtcGxlcgsLEgRLaW5kGLkKDA"
    assert key.serialized() == b"j\x07exampler\x0b\x0b\x12\x04Kind\x18\xb9\n\x0c"
    assert ndb.Key(urlsafe=b"agdleGFtcGxlcgsLEgRLaW5kGLkKDA") == key
    named = ndb.Key("Kind", "name", app="example", namespace="ns")
    assert ndb.Key(urlsafe=named.urlsafe()) == named
    assert named.reference() == Reference("example", "ns", (("Kind", "name"),))


def test_immutable():
    key = ndb.Key("Kind", 1)
    with pytest.raises(AttributeError):
        key.foo = 1
    with pytest.raises(AttributeError):
        del key._Key__pairs


def test_hash_and_dict_use():
    first, second = ndb.Key("Kind", 1), ndb.Key(flat=("Kind", 1))
    assert hash(first) == hash(second)
    assert {first: "x"}[second] == "x"
    assert len({first, second, ndb.Key("Kind", 2)}) == 2


def test_ordering_like_the_datastore():
    keys = [
        ndb.Key("A", "b"),
        ndb.Key("A", 10),
        ndb.Key("A", 9),
        ndb.Key("A", 9, "B", 1),
        ndb.Key("A", "a"),
    ]
    assert sorted(keys) == [
        ndb.Key("A", 9),
        ndb.Key("A", 9, "B", 1),
        ndb.Key("A", 10),
        ndb.Key("A", "a"),
        ndb.Key("A", "b"),
    ]


def test_pickling():
    key = ndb.Key("Parent", 1, "Child", "c", namespace="ns")
    assert pickle.loads(pickle.dumps(key)) == key
    assert pickle.loads(pickle.dumps(key, protocol=0)) == key


def test_repr():
    assert repr(ndb.Key("Parent", 1, "Child", "c")) == "Key('Parent', 1, 'Child', 'c')"
    assert str(ndb.Key("Kind", None)) == "Key('Kind', None)"


# -- how keys map onto objectIds ------------------------------------------------------


def test_object_id_mapping_is_readable_and_reversible():
    key = ndb.Key("Parent", "harry", "Child", 7)
    object_id = mapping.object_id_for_key(key)
    assert object_id == "Parent-sD1GN4SJP.Child-n0000000000000000007"
    assert mapping.key_from_object_id(object_id) == key
    assert mapping.class_name_for_kind("Child") == "Child"
    assert mapping.ancestor_condition(ndb.Key("Parent", "harry")) == (
        "ndbAncestors",
        "Parent-sD1GN4SJP",
    )
    spaced = ndb.Key("Kind", 1, namespace="tenant_1")
    assert mapping.object_id_for_key(spaced) == "tenant_1~Kind-n0000000000000000001"
    assert mapping.class_name_for_kind("Kind", "tenant_1") == "Kind__tenant_1"
    assert mapping.key_from_object_id("tenant_1~Kind-n0000000000000000001") == spaced


@given(
    st.lists(
        st.one_of(st.integers(1, (1 << 63) - 1), st.text(min_size=1, max_size=40)),
        min_size=1,
        max_size=3,
    )
)
def test_object_ids_round_trip_and_sort_like_keys(ids):
    keys = [ndb.Key("Kind", id_) for id_ in ids]
    object_ids = [mapping.object_id_for_key(key) for key in keys]
    assert [mapping.key_from_object_id(o) for o in object_ids] == keys
    assert sorted(object_ids) == [mapping.object_id_for_key(k) for k in sorted(keys)]


def test_kind_and_namespace_together_must_fit_a_class_name():
    assert mapping.class_name_for_kind("K" * 100, "n" * 26) == "K" * 100 + "__" + "n" * 26
    with pytest.raises(ndb.KindError):
        mapping.class_name_for_kind("K" * 100, "n" * 27)


@pytest.mark.parametrize("kind", ["bad-kind", "9lives", "_Hidden"])
def test_kinds_that_are_not_class_names_are_refused(kind):
    with pytest.raises(ndb.KindError):
        mapping.object_id_for_key(ndb.Key(kind, 1))


def test_incomplete_keys_have_no_object_id():
    with pytest.raises(ndb.BadKeyError):
        mapping.object_id_for_key(ndb.Key("Kind", None))
    with pytest.raises(ndb.BadKeyError):
        mapping.key_from_object_id("Kind-x12")


# -- storage through keys -------------------------------------------------------------


def test_get_and_delete_through_keys(leancloud_server):
    key = KeyKind(id=11, n=1).put()
    assert key.get().n == 1
    assert key.get_async().get_result().n == 1
    assert key.delete() is None
    assert key.get() is None
    assert key.delete_async().get_result() is None  # deleting again is a no-op


def test_integer_string_and_parent_keys_round_trip(leancloud_server):
    parent = ndb.Key("KeyKind", "root")
    keys = [
        KeyKind(id=(1 << 63) - 1, n=1).put(),
        KeyKind(id="é/ü?#,", n=2).put(),
        KeyChild(id=5, parent=parent, n=3).put(),
        KeyChild(id="x", parent=ndb.Key("KeyChild", 5, parent=parent), n=4).put(),
    ]
    for key in keys:
        fetched = key.get()
        assert fetched.key == key
        assert fetched.key.pairs() == key.pairs()
    assert ndb.Key("KeyChild", 5).get() is None  # the parent is part of the identity


def test_namespaced_keys_live_in_their_own_class(leancloud_server):
    from leancloud import client

    key = KeyKind(id=424242, namespace="tenant_a", n=9).put()
    assert key.namespace() == "tenant_a"
    assert key.get().n == 9
    row = client.get(f"/classes/KeyKind__tenant_a/{mapping.object_id_for_key(key)}").json()
    assert row["n"] == 9
    assert ndb.Key("KeyKind", 424242).get() is None


def test_no_old_db_keys():
    with pytest.raises(NotImplementedError):
        ndb.Key.from_old_key("old")
    with pytest.raises(NotImplementedError):
        ndb.Key("Kind", 1).to_old_key()


def test_keys_made_before_init_follow_the_app_id(monkeypatch):
    from leancloud import client

    monkeypatch.setattr(client, "APP_ID", None)
    early = ndb.Key("Kind", 1)  # e.g. a module-level constant, before leancloud.init()
    assert early.app() == "_"
    client.init("late-app", "key")
    assert early.app() == "late-app"
    assert early == ndb.Key("Kind", 1) == ndb.Key("Kind", 1, app="late-app")
    assert hash(early) == hash(ndb.Key("Kind", 1, app="late-app"))
    assert ndb.Key(urlsafe=early.urlsafe()) == early
    assert ndb.Key("Kind", 1, app="other") != early
