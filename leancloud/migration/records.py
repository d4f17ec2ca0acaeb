"""One exported row <-> one stored object: the only place that knows the row format.

Rows are LeanCloud's REST JSON form (``objectId``, plain ISO ``createdAt``/``updatedAt``,
``ACL``, typed values with ``__type``), with ``_User``'s ``password`` and ``salt`` as the
export carries them. Relation columns appear as ``{"__type": "Relation", "className"}``
placeholders; their memberships travel separately as ``{"owningId", "relatedId"}`` rows.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from leancloud.codec import format_date
from leancloud.server.errors import ApiError
from leancloud.server.names import check_field_name, is_valid_field_name
from leancloud.server.query.where import normalize_iso
from leancloud.server.services.ops import check_acl, normalize_value, schema_type
from leancloud.server.storage.base import StoredObject

__all__ = [
    "RowError",
    "Membership",
    "to_stored",
    "to_row",
    "to_membership",
    "is_stamped",
    "UNTYPED_FIELDS",
]

BUILTINS = ("objectId", "createdAt", "updatedAt", "ACL")
# Hidden bookkeeping the server keeps out of the schema (as services/users.py does).
UNTYPED_FIELDS: Mapping[str, Tuple[str, ...]] = {"_User": ("salt", "sessionToken")}
Membership = Tuple[str, str, str]  # (owner_id, target_class, target_id)


class RowError(ValueError):
    """A row that cannot be imported; the message says why, the caller says where."""


def _stamp(value: Any) -> Optional[str]:
    """``createdAt``/``updatedAt`` as exported (plain ISO) or as a Date value."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("__type") == "Date":
        value = value.get("iso")
    try:
        return normalize_iso(value)
    except ApiError:
        raise RowError(f"invalid date {value!r}") from None


def derived_id(class_name: str, row: Mapping[str, Any]) -> str:
    """An id for a row exported without one: the same row always gets the same id, so
    importing the file twice does not duplicate it."""
    text = json.dumps([class_name, row], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


_SCALARS = (str, int, float, bool)


@functools.lru_cache(maxsize=4096)
def _valid_field_name(name: str) -> bool:
    return is_valid_field_name(name)


def _check_field_name(name: Any) -> None:
    """``check_field_name``, remembered: a big import repeats the same few names."""
    if not (isinstance(name, str) and _valid_field_name(name)):
        check_field_name(name)


def _normalized(value: Any) -> Any:
    """``normalize_value``, with the fast paths that dominate big imports: plain scalars
    and Dates already in canonical form skip the general validation."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict) and value.get("__type") == "Date" and len(value) == 2:
        iso = value.get("iso")
        if isinstance(iso, str):
            try:
                return {"__type": "Date", "iso": normalize_iso(iso)}
            except ApiError:
                raise ApiError(111, f"Invalid Date value: {value!r}.") from None
    return normalize_value(value)


def _is_relation(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "Relation"


def to_stored(class_name: str, row: Any) -> Tuple[StoredObject, Dict[str, dict]]:
    """The object to store and the schema types its fields imply. A row without
    ``updatedAt`` is stamped now (see ``is_stamped``)."""
    if not isinstance(row, dict):
        raise RowError("a row must be a JSON object")
    object_id = row.get("objectId") or derived_id(class_name, row)
    if not isinstance(object_id, str):
        raise RowError(f"objectId must be a string, not {object_id!r}")
    created = _stamp(row.get("createdAt")) or _stamp(row.get("updatedAt"))
    created = created or format_date(_dt.datetime.now(_dt.timezone.utc))
    updated = _stamp(row.get("updatedAt")) or created
    untyped = UNTYPED_FIELDS.get(class_name, ())
    data: Dict[str, Any] = {}
    types: Dict[str, dict] = {}
    try:
        acl = check_acl(row.get("ACL"))
        for key, value in row.items():
            if key in BUILTINS or (key == "className" and isinstance(value, str)):
                continue
            _check_field_name(key)
            if _is_relation(value):
                types[key] = {"type": "Relation", "className": value.get("className")}
                continue
            data[key] = _normalized(value)
            if value is not None and key not in untyped:
                types[key] = schema_type(data[key])
    except ApiError as exc:
        raise RowError(exc.message) from None
    return StoredObject(class_name, object_id, created, updated, data, acl), types


def is_stamped(row: Mapping[str, Any]) -> bool:
    """Whether a row says when it was last updated; one that does not cannot be newer
    than what is already stored, so an import only ever inserts it."""
    return row.get("updatedAt") is not None or row.get("createdAt") is not None


def to_row(obj: StoredObject, relations: Mapping[str, str]) -> Dict[str, Any]:
    """The exported form of a stored object; ``relations`` = its Relation columns."""
    row: Dict[str, Any] = {
        "objectId": obj.object_id,
        "createdAt": obj.created_at,
        "updatedAt": obj.updated_at,
    }
    row.update(obj.data)
    for field, target in relations.items():
        row[field] = {"__type": "Relation", "className": target}
    if obj.acl is not None:
        row["ACL"] = obj.acl
    return row


def to_membership(row: Any, target_class: Optional[str]) -> Membership:
    """A relation row ``{"owningId", "relatedId"[, "relatedClassName"]}``."""
    if not isinstance(row, dict):
        raise RowError("a relation row must be a JSON object")
    owner, target = row.get("owningId"), row.get("relatedId")
    target_class = row.get("relatedClassName") or target_class
    if not isinstance(owner, str) or not owner or not isinstance(target, str) or not target:
        raise RowError("a relation row needs string owningId and relatedId")
    if not isinstance(target_class, str) or not target_class:
        raise RowError("the relation's target class is unknown (no schema, no relatedClassName)")
    return owner, target_class, target
