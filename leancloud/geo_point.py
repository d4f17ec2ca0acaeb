"""Geographic points and great-circle distances between them."""

from __future__ import annotations

import math
from typing import Any, Dict

from leancloud import codec

__all__ = ["EARTH_RADIUS_KM", "EARTH_RADIUS_MILES", "GeoPoint"]

# The radii LeanCloud's SDKs convert radians with.
EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_MILES = 3958.8


def _coordinate(name: str, value: Any, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"GeoPoint {name} must be a number, not {value!r}")
    if math.isnan(value) or not -limit <= value <= limit:
        raise ValueError(f"GeoPoint {name} must be between {-limit} and {limit}, got {value}")
    return value


class GeoPoint:
    """A latitude/longitude pair in degrees (latitude in [-90, 90], longitude in [-180, 180])."""

    def __init__(self, latitude: float = 0, longitude: float = 0) -> None:
        self._latitude = _coordinate("latitude", latitude, 90.0)
        self._longitude = _coordinate("longitude", longitude, 180.0)

    @property
    def latitude(self) -> float:
        return self._latitude

    @latitude.setter
    def latitude(self, value: float) -> None:
        self._latitude = _coordinate("latitude", value, 90.0)

    @property
    def longitude(self) -> float:
        return self._longitude

    @longitude.setter
    def longitude(self, value: float) -> None:
        self._longitude = _coordinate("longitude", value, 180.0)

    def dump(self) -> Dict[str, Any]:
        return {"__type": "GeoPoint", "latitude": self._latitude, "longitude": self._longitude}

    def _lc_encode(self, dump_objects: bool = False) -> Dict[str, Any]:
        return self.dump()

    def radians_to(self, other: GeoPoint) -> float:
        """The central angle to ``other`` (haversine formula, stable for close points)."""
        if not isinstance(other, GeoPoint):
            raise TypeError(f"expected a GeoPoint, not {other!r}")
        lat1, lat2 = math.radians(self._latitude), math.radians(other._latitude)
        d_lat = lat2 - lat1
        d_lng = math.radians(other._longitude - self._longitude)
        h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lng / 2) ** 2
        return 2 * math.asin(math.sqrt(min(1.0, h)))

    def kilometers_to(self, other: GeoPoint) -> float:
        return self.radians_to(other) * EARTH_RADIUS_KM

    def miles_to(self, other: GeoPoint) -> float:
        return self.radians_to(other) * EARTH_RADIUS_MILES

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeoPoint):
            return NotImplemented
        return (self._latitude, self._longitude) == (other._latitude, other._longitude)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"GeoPoint(latitude={self._latitude!r}, longitude={self._longitude!r})"


@codec.register_decoder("GeoPoint")
def _decode_geo_point(value: Dict[str, Any]) -> GeoPoint:
    try:
        return GeoPoint(value["latitude"], value["longitude"])
    except KeyError as exc:
        raise ValueError(f"malformed GeoPoint: {value!r}") from exc
