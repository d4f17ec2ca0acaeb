"""MongoDB documents (a BSON backup) -> REST-form rows.

LeanCloud's internal document layout is not documented; this accepts the shapes such
backups are known to use: ``_id`` for the objectId, ``createdAt``/``updatedAt`` or
Parse's ``_created_at``/``_updated_at`` as BSON dates, REST-typed values kept as they
are, BSON dates/ObjectIds/binaries turned into their REST forms, Parse-style
``_p_<field>`` pointers (``"Class$id"``), ``_acl`` / ``_rperm``+``_wperm`` ACLs, and GeoJSON
points. Other fields starting with ``_`` are the database's own bookkeeping and are dropped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
from typing import Any, Dict, List, Mapping, Optional

from leancloud.codec import format_date

__all__ = ["from_mongo", "membership_from_mongo"]

_STAMPS = {"_created_at": "createdAt", "_updated_at": "updatedAt"}


def _iso(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return format_date(value)


def _value(value: Any) -> Any:
    """One BSON-decoded value in its REST form."""
    if isinstance(value, _dt.datetime):
        return {"__type": "Date", "iso": _iso(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"__type": "Bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        if value.get("type") == "Point" and isinstance(value.get("coordinates"), list):
            longitude, latitude = value["coordinates"][:2]
            return {"__type": "GeoPoint", "latitude": latitude, "longitude": longitude}
        return {key: _value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_value(item) for item in value]
    if type(value).__name__ == "Decimal128":
        return float(value.to_decimal())
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} has no JSON form")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # ObjectId, UUID, Regex...: their text is the portable form


def _stamp(value: Any) -> Any:
    return _iso(value) if isinstance(value, _dt.datetime) else _value(value)


def _pointer(text: Any) -> Optional[Dict[str, str]]:
    if isinstance(text, str) and "$" in text:
        class_name, object_id = text.split("$", 1)
        return {"__type": "Pointer", "className": class_name, "objectId": object_id}
    return None


def _acl_from_parse(document: Mapping[str, Any]) -> Optional[Dict[str, Dict[str, bool]]]:
    acl = document.get("_acl")
    if isinstance(acl, dict):
        return {
            key: {
                right: True for short, right in (("r", "read"), ("w", "write")) if rights.get(short)
            }
            for key, rights in acl.items()
            if isinstance(rights, dict)
        }
    readers: List[str] = document.get("_rperm") or []
    writers: List[str] = document.get("_wperm") or []
    if not readers and not writers:
        return None
    result: Dict[str, Dict[str, bool]] = {}
    for key in readers:
        result.setdefault(key, {})["read"] = True
    for key in writers:
        result.setdefault(key, {})["write"] = True
    return result


def from_mongo(document: Mapping[str, Any]) -> Dict[str, Any]:
    """A backup document as an exported row."""
    row: Dict[str, Any] = {}
    if "_id" in document:
        row["objectId"] = str(document["_id"])
    for key, value in document.items():
        if key in _STAMPS:
            row[_STAMPS[key]] = _stamp(value)
        elif key in ("createdAt", "updatedAt"):
            row[key] = _stamp(value)
        elif key.startswith("_p_"):
            pointer = _pointer(value)
            if pointer is not None:
                row[key[3:]] = pointer
        elif not key.startswith("_"):
            row[key] = _value(value)
    if "ACL" not in row:
        acl = _acl_from_parse(document)
        if acl is not None:
            row["ACL"] = acl
    return row


def membership_from_mongo(document: Mapping[str, Any]) -> Dict[str, Any]:
    """A ``_Join:<field>:<Class>`` document as a relation row."""
    return {"owningId": str(document["owningId"]), "relatedId": str(document["relatedId"])}
