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
from typing import Any, Dict, List, Mapping, Optional, Tuple

from leancloud.codec import format_date
from leancloud.server.errors import ApiError
from leancloud.server.names import (
    check_class_name,
    check_field_name,
    is_valid_class_name,
    is_valid_field_name,
)
from leancloud.server.query.where import normalize_iso
from leancloud.server.services.entities import check_object_id
from leancloud.server.services.ops import check_acl, normalize_value, schema_type
from leancloud.server.storage.base import StoredObject

__all__ = [
    "RowError",
    "Membership",
    "to_stored",
    "to_row",
    "to_membership",
    "schema_types",
    "is_stamped",
    "UNTYPED_FIELDS",
]

BUILTINS = ("objectId", "createdAt", "updatedAt", "ACL")
# Hidden bookkeeping the server keeps out of the schema (as services/users.py does).
UNTYPED_FIELDS: Mapping[str, Tuple[str, ...]] = {"_User": ("salt", "sessionToken")}
Membership = Tuple[str, str, str]  # (owner_id, target_class, target_id)
# What /1.1/schemas reports; a declared type binds every later row, so no others.
SCHEMA_TYPES = frozenset(
    {"String", "Number", "Boolean", "Date", "Object", "Array"}
    | {"Pointer", "File", "GeoPoint", "Relation", "Bytes"}
)
_TARGETED = ("Pointer", "Relation")


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


def _relation_type(value: Dict[str, Any]) -> dict:
    """A Relation placeholder's schema type; its target must be a real class name."""
    return {"type": "Relation", "className": check_class_name(value.get("className"))}


def to_stored(class_name: str, row: Any) -> Tuple[StoredObject, Dict[str, dict]]:
    """The object to store and the schema types its fields imply. A row without
    ``updatedAt`` is stamped now (see ``is_stamped``)."""
    if not isinstance(row, dict):
        raise RowError("a row must be a JSON object")
    object_id = row.get("objectId") or derived_id(class_name, row)
    created = _stamp(row.get("createdAt")) or _stamp(row.get("updatedAt"))
    created = created or format_date(_dt.datetime.now(_dt.timezone.utc))
    updated = _stamp(row.get("updatedAt")) or created
    untyped = UNTYPED_FIELDS.get(class_name, ())
    data: Dict[str, Any] = {}
    types: Dict[str, dict] = {}
    try:
        check_object_id(object_id)  # the server's rule: one that URLs can address
        acl = check_acl(row.get("ACL"))
        for key, value in row.items():
            if key in BUILTINS or key == "className":  # REST writes ignore className too
                continue
            _check_field_name(key)
            if _is_relation(value):
                types[key] = _relation_type(value)
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
    """A relation row ``{"owningId", "relatedId"[, "relatedClassName"]}``; a relation
    has one target class, so a row naming another than ``target_class`` is refused."""
    if not isinstance(row, dict):
        raise RowError("a relation row must be a JSON object")
    owner, target = row.get("owningId"), row.get("relatedId")
    named = row.get("relatedClassName")
    if not isinstance(owner, str) or not owner or not isinstance(target, str) or not target:
        raise RowError("a relation row needs string owningId and relatedId")
    if named and target_class and named != target_class:
        raise RowError(f"relatedClassName {named!r}: this relation points to {target_class}")
    target_class = named or target_class
    if not target_class:
        raise RowError("the relation's target class is unknown (no schema, no relatedClassName)")
    if not is_valid_class_name(target_class):
        raise RowError(f"invalid relatedClassName: {target_class!r}")
    return owner, target_class, target


def _field_type(name: str, spec: Any) -> dict:
    """One exported field spec as the type to declare; RowError says why not."""
    check_field_name(name)
    if not isinstance(spec, dict) or spec.get("type") not in SCHEMA_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise RowError(f"field '{name}': unknown type {kind!r}")
    if spec["type"] not in _TARGETED:
        return {"type": spec["type"]}
    if not is_valid_class_name(spec.get("className")):
        # The rows' own values declare it (with their target) when they arrive.
        raise RowError(f"field '{name}': a {spec['type']} needs a valid className")
    return {"type": spec["type"], "className": spec["className"]}


def schema_types(class_name: str, fields: Any) -> Tuple[Dict[str, dict], List[str]]:
    """An exported class schema (``/1.1/schemas`` shape) as the field types to declare,
    plus a message per field left out. Built-in and hidden fields are the server's own."""
    if not isinstance(fields, dict):
        return {}, ["the fields must be a JSON object"]
    types: Dict[str, dict] = {}
    problems: List[str] = []
    for name, spec in fields.items():
        if name in BUILTINS or name in UNTYPED_FIELDS.get(class_name, ()):
            continue
        try:
            types[name] = _field_type(name, spec)
        except RowError as exc:
            problems.append(str(exc))
        except ApiError as exc:
            problems.append(exc.message)
    return types, problems
