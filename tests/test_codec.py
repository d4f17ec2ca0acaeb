"""The wire codec: wire values survive decode -> encode, Python values encode -> decode."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leancloud import ACL, GeoPoint, Object, Relation, codec

CREATED = "2024-01-12T03:04:05.678Z"

CodecSong = Object.as_class("CodecSong")


def pointer(object_id="s1"):
    return {"__type": "Pointer", "className": "CodecSong", "objectId": object_id}


WIRE_VALUES = [
    None,
    True,
    3,
    2.5,
    "text",
    {"__type": "Date", "iso": CREATED},
    {"__type": "Bytes", "base64": "AAEC/w=="},
    {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4},
    pointer(),
    {"__type": "Relation", "className": "CodecSong"},
    [1, "a", {"__type": "Date", "iso": CREATED}, [pointer("s2")]],
    {"plain": {"nested": [{"__type": "Bytes", "base64": ""}]}},
]


@pytest.mark.parametrize("wire", WIRE_VALUES)
def test_wire_values_round_trip(wire):
    assert codec.encode(codec.decode(wire)) == wire


def test_decoded_types():
    assert isinstance(codec.decode({"__type": "Date", "iso": CREATED}), dt.datetime)
    assert codec.decode({"__type": "Bytes", "base64": "AAEC/w=="}) == b"\x00\x01\x02\xff"
    assert codec.decode({"__type": "GeoPoint", "latitude": 1, "longitude": 2}) == GeoPoint(1, 2)
    relation = codec.decode({"__type": "Relation", "className": "CodecSong"})
    assert isinstance(relation, Relation) and relation.target_class_name == "CodecSong"
    song = codec.decode(pointer())
    assert type(song) is CodecSong and song.id == "s1" and not song.is_existed()


def test_included_pointer_is_a_fetched_object():
    wire = dict(
        pointer(),
        createdAt=CREATED,
        updatedAt=CREATED,
        title="Nemo",
        cover={"__type": "Bytes", "base64": "AQ=="},
    )
    song = codec.decode(wire)
    assert song.is_existed() and song.get("title") == "Nemo" and song.get("cover") == b"\x01"
    assert song.created_at == dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)
    # Inside other values an object is written back as a Pointer ...
    assert codec.encode(song) == pointer()
    # ... and in full when objects are dumped (cloud functions).
    assert codec.encode(song, dump_objects=True) == dict(
        wire, __type="Object", cover={"__type": "Bytes", "base64": "AQ=="}
    )


def test_full_object_round_trip():
    wire = {
        "__type": "Object",
        "className": "CodecSong",
        "objectId": "s1",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "ACL": {"*": {"read": True}},
        "loc": {"__type": "GeoPoint", "latitude": 1.5, "longitude": -2},
        "when": {"__type": "Date", "iso": CREATED},
        "next": pointer("s2"),
        "tags": ["a", {"k": [1]}],
        "plays": {"__type": "Relation", "className": "CodecSong"},
    }
    song = codec.decode(wire)
    assert isinstance(song.get_acl(), ACL)
    assert song.relation("plays").target_class_name == "CodecSong"
    assert isinstance(song.get("next"), CodecSong)
    assert codec.encode(song, dump_objects=True) == wire


def test_objects_nested_in_objects_stay_pointers_when_dumped():
    inner = CodecSong.create_without_data("s2")
    outer = CodecSong.create_without_data("s1").set("next", inner)
    assert codec.encode([outer], dump_objects=True) == [
        {"__type": "Object", "className": "CodecSong", "objectId": "s1", "next": pointer("s2")}
    ]


@pytest.mark.parametrize(
    "malformed",
    [
        {"__type": "Pointer", "objectId": "x"},
        {"__type": "Object", "className": ""},
        {"__type": "Date"},
        {"__type": "Date", "iso": 5},
        {"__type": "Bytes"},
        {"__type": "Bytes", "base64": "!!"},
        {"__type": "GeoPoint", "latitude": 1},
    ],
)
def test_malformed_typed_values_raise_value_error(malformed):
    with pytest.raises(ValueError):
        codec.decode(malformed)


# -- property-based ----------------------------------------------------------------

_dates = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.just(dt.timezone.utc),
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
_points = st.builds(GeoPoint, st.floats(-90, 90), st.floats(-180, 180))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.binary(),
    _dates,
    _points,
)
_keys = st.text(min_size=1).filter(lambda k: k not in ("__type", "__op"))
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=12,
)


def _comparable(value):
    """Values compared after a round trip: Objects by pointer, ACLs by permissions."""
    if isinstance(value, Object):
        return ("object", value._class_name, value.id)
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


@given(_values)
def test_python_values_round_trip(value):
    assert _comparable(codec.decode(codec.encode(value))) == _comparable(value)


@given(st.lists(st.text(alphabet="abcdef0123456789", min_size=1, max_size=24), max_size=5), _values)
def test_pointers_and_objects_round_trip(ids, extra):
    songs = [CodecSong.create_without_data(i) for i in ids]
    decoded = codec.decode(codec.encode({"songs": songs, "extra": extra}))
    assert [(type(s), s.id) for s in decoded["songs"]] == [(CodecSong, i) for i in ids]
    assert _comparable(decoded["extra"]) == _comparable(extra)


@given(
    st.dictionaries(
        st.sampled_from(["*", "u1", "u2", "role:Admin"]),
        st.fixed_dictionaries({}, optional={"read": st.just(True), "write": st.just(True)}),
    )
)
def test_acl_round_trip_through_an_object(permissions):
    song = CodecSong()
    song._update_data({"objectId": "s1", "ACL": permissions})
    assert song.get_acl().dump() == permissions
    assert codec.encode(song, dump_objects=True)["ACL"] == permissions


@pytest.fixture
def shanghai_time():
    """The process's local zone is UTC+8 for the test (POSIX only: time.tzset)."""
    import os
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    old = os.environ.get("TZ")
    os.environ["TZ"] = "CST-8"  # POSIX form: UTC+8, no tz database needed
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_naive_datetimes_are_local_time_and_dates_are_millisecond_utc(shanghai_time):
    naive = dt.datetime(2024, 1, 12, 8, 0, 0, 123456)
    assert codec.format_date(naive) == "2024-01-12T00:00:00.123Z"
    assert codec.encode(naive) == {"__type": "Date", "iso": "2024-01-12T00:00:00.123Z"}
    aware = dt.datetime(2024, 1, 12, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert codec.format_date(aware) == "2024-01-12T13:00:00.000Z"
    # Decoded dates are aware, in the local zone, like the official SDK's.
    decoded = codec.decode({"__type": "Date", "iso": "2024-01-12T00:00:00.123Z"})
    assert decoded.utcoffset() == dt.timedelta(hours=8)
    assert decoded == dt.datetime(2024, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=123000
    )
