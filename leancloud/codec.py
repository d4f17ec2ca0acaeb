"""LeanCloud's wire types <-> Python values, in one place.

The SDK, the self-hosted server and ``leancloud.ndb`` all speak the same JSON
(``{"__type": "Date", "iso": ...}``, Pointers, GeoPoints, Bytes, ...). This module
is the single implementation of that format:

* ``format_date`` / ``parse_date`` convert datetimes and LeanCloud's millisecond ISO
  strings; the server uses them to normalise and compare dates.
* ``encode`` turns Python values into wire JSON. SDK classes (Object, File, GeoPoint,
  Relation, ACL) take part by implementing ``_lc_encode(dump_objects)``.
* ``decode`` turns wire JSON into Python values. Types that need SDK classes are
  registered by the module that defines them (``register_decoder``), which keeps this
  module free of import cycles.
* ``wire_type`` names the schema type of a wire value (the server's type inference).
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
from typing import Any, Callable, Dict, Optional

import iso8601

__all__ = [
    "format_date",
    "parse_date",
    "encode",
    "decode",
    "register_decoder",
    "wire_type",
    "is_op",
    "date_to_wire",
]

_UTC = _dt.timezone.utc


def format_date(value: _dt.datetime) -> str:
    """LeanCloud's date string: UTC, millisecond precision, ``Z`` suffix.

    A naive datetime is taken to be local time, as the official SDK does.
    """
    if value.tzinfo is None:
        value = value.astimezone()  # interpret as local time
    value = value.astimezone(_UTC)
    # The year by hand: strftime's %Y does not pad years before 1000 to four digits.
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def parse_date(text: str) -> _dt.datetime:
    """Parse an ISO 8601 string into an aware UTC datetime (ValueError if malformed)."""
    if not isinstance(text, str):
        raise ValueError(f"not an ISO 8601 date string: {text!r}")
    try:
        parsed = iso8601.parse_date(text)
    except iso8601.ParseError as exc:
        raise ValueError(f"not an ISO 8601 date string: {text!r}") from exc
    return parsed.astimezone(_UTC)


def date_to_wire(value: _dt.datetime) -> Dict[str, str]:
    """The wire form of a datetime: ``{"__type": "Date", "iso": ...}``."""
    return {"__type": "Date", "iso": format_date(value)}


def is_op(value: Any) -> bool:
    """True for a field operation such as ``{"__op": "Increment", "amount": 1}``."""
    return isinstance(value, dict) and "__op" in value


def encode(value: Any, dump_objects: bool = False) -> Any:
    """Python value -> wire JSON.

    ``dump_objects`` asks SDK objects for their full form (``__type: Object``)
    instead of a Pointer; ``cloud.rpc`` and ``Query.dump`` need it.
    """
    encoder = getattr(value, "_lc_encode", None)
    if encoder is not None and not isinstance(value, type):
        return encoder(dump_objects)
    if isinstance(value, _dt.datetime):
        return date_to_wire(value)
    if isinstance(value, _dt.date):
        return date_to_wire(_dt.datetime(value.year, value.month, value.day))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__type": "Bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v, dump_objects) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v, dump_objects) for v in value]
    return value


Decoder = Callable[[Dict[str, Any]], Any]
_decoders: Dict[str, Decoder] = {}


def register_decoder(type_name: str) -> Callable[[Decoder], Decoder]:
    """Register the function that turns ``{"__type": type_name, ...}`` into a value."""

    def wrap(func: Decoder) -> Decoder:
        _decoders[type_name] = func
        return func

    return wrap


@register_decoder("Date")
def _decode_date(value: Dict[str, Any]) -> _dt.datetime:
    # The official SDK hands out aware datetimes in the local zone.
    return parse_date(value.get("iso")).astimezone()  # ValueError when missing too


@register_decoder("Bytes")
def _decode_bytes(value: Dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(value.get("base64"), validate=True)
    except (binascii.Error, TypeError) as exc:
        raise ValueError("malformed Bytes value") from exc


def decode(value: Any) -> Any:
    """Wire JSON -> Python value. Unknown ``__type`` values are kept as plain dicts."""
    if isinstance(value, dict):
        type_name = value.get("__type")
        decoder: Optional[Decoder] = _decoders.get(type_name) if isinstance(type_name, str) else None
        if decoder is not None:
            return decoder(value)
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


_TYPED = {"Date", "Bytes", "Pointer", "File", "GeoPoint", "Relation"}


def wire_type(value: Any) -> str:
    """The schema type name of a wire value, as ``/1.1/schemas`` reports it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        type_name = value.get("__type")
        if type_name in _TYPED:
            return type_name
        if type_name == "Object":
            return "Pointer"
        return "Object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")
