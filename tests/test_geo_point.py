"""GeoPoint: validation, wire form and great-circle distances."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leancloud import GeoPoint, codec

lats = st.floats(min_value=-90, max_value=90)
lngs = st.floats(min_value=-180, max_value=180)


def test_defaults_and_dump():
    assert GeoPoint().dump() == {"__type": "GeoPoint", "latitude": 0, "longitude": 0}
    point = GeoPoint(39.9, 116.4)
    assert (point.latitude, point.longitude) == (39.9, 116.4)


@pytest.mark.parametrize(
    "lat, lng", [(90.1, 0), (-90.1, 0), (0, 180.5), (0, -181), (float("nan"), 0)]
)
def test_out_of_range_raises_value_error(lat, lng):
    with pytest.raises(ValueError, match="GeoPoint"):
        GeoPoint(lat, lng)


@pytest.mark.parametrize("lat, lng", [("1", 0), (0, None), (True, 0)])
def test_non_numbers_raise_type_error(lat, lng):
    with pytest.raises(TypeError):
        GeoPoint(lat, lng)


def test_setters_validate():
    point = GeoPoint(1, 2)
    point.latitude = -45
    assert point.latitude == -45
    with pytest.raises(ValueError):
        point.longitude = 200
    assert point.longitude == 2


def test_known_distances():
    beijing, shanghai = GeoPoint(39.9042, 116.4074), GeoPoint(31.2304, 121.4737)
    assert beijing.kilometers_to(shanghai) == pytest.approx(1067.3, abs=1.0)
    assert beijing.miles_to(shanghai) == pytest.approx(1067.3 / 6371.0 * 3958.8, abs=1.0)
    assert GeoPoint(0, 0).radians_to(GeoPoint(0, 180)) == pytest.approx(math.pi)
    assert GeoPoint(90, 0).radians_to(GeoPoint(-90, 0)) == pytest.approx(math.pi)
    assert GeoPoint(0, 0).kilometers_to(GeoPoint(0, 1)) == pytest.approx(6371.0 * math.pi / 180)


@given(lats, lngs, lats, lngs)
def test_distance_is_symmetric_and_bounded(lat1, lng1, lat2, lng2):
    a, b = GeoPoint(lat1, lng1), GeoPoint(lat2, lng2)
    assert 0 <= a.radians_to(b) <= math.pi + 1e-12
    assert a.radians_to(b) == pytest.approx(b.radians_to(a), abs=1e-12)
    assert a.radians_to(a) == 0


def test_equality():
    assert GeoPoint(1, 2) == GeoPoint(1.0, 2.0)
    assert GeoPoint(1, 2) != GeoPoint(2, 1)
    assert GeoPoint(1, 2) != (1, 2)


def test_codec_round_trip_and_malformed():
    point = codec.decode({"__type": "GeoPoint", "latitude": 10, "longitude": -20})
    assert point == GeoPoint(10, -20)
    assert codec.encode(point) == {"__type": "GeoPoint", "latitude": 10, "longitude": -20}
    with pytest.raises(ValueError):
        codec.decode({"__type": "GeoPoint", "latitude": 10})
