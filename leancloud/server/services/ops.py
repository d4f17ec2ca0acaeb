"""Field operations and plain values of a write body, applied to a row's fields.

Everything here is pure: it takes the row's current fields (read inside the write
transaction) and returns the new ones, so ``Increment`` & co. are atomic because the
caller holds the transaction, not because of anything clever here.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from leancloud.codec import format_date, parse_date, wire_type
from leancloud.server.errors import ApiError
from leancloud.server.names import check_class_name, check_field_name, check_field_path

MISSING: Any = object()
# Fields clients echo back (or clear) that the server owns: silently ignored.
IGNORED_FIELDS = frozenset({"objectId", "createdAt", "updatedAt", "className"})
RELATION_OPS = frozenset({"AddRelation", "RemoveRelation", "Batch"})
MAX_RELATION_OBJECTS = 1000


@dataclass
class RelationChange:
    field: str
    target_class: str
    adds: List[str] = field(default_factory=list)
    removes: List[str] = field(default_factory=list)


@dataclass
class Changes:
    """The outcome of applying a body: new fields, what was touched, relation edits."""

    data: Dict[str, Any]
    touched: List[str]
    relations: List[RelationChange]

    def field_types(self) -> Dict[str, dict]:
        """Schema entries for the touched fields (``ensure_fields`` input)."""
        types: Dict[str, dict] = {}
        for name in self.touched:
            value = self.data.get(name)
            if value is not None:
                types[name] = schema_type(value)
        for change in self.relations:
            types[change.field] = {"type": "Relation", "className": change.target_class}
        return types


def schema_type(value: Any) -> dict:
    kind = wire_type(value)
    if kind == "Pointer":
        return {"type": "Pointer", "className": value["className"]}
    return {"type": kind}


def _invalid(message: str) -> ApiError:
    return ApiError(111, message)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------- plain values


def _typed_value(value: Dict[str, Any]) -> Dict[str, Any]:
    kind = value["__type"]
    if kind == "Date":
        try:
            return {"__type": "Date", "iso": format_date(parse_date(value.get("iso")))}
        except ValueError:
            raise _invalid(f"Invalid Date value: {value!r}.") from None
    if kind in ("Pointer", "Object"):
        class_name, object_id = value.get("className"), value.get("objectId")
        if not isinstance(object_id, str) or not object_id:
            raise ApiError(106, f"Malformed pointer: {value!r}.")
        return {
            "__type": "Pointer",
            "className": check_class_name(class_name),
            "objectId": object_id,
        }
    if kind == "GeoPoint":
        lat, lng = value.get("latitude"), value.get("longitude")
        if not (_is_number(lat) and _is_number(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
            raise ApiError(302, f"Invalid GeoPoint: {value!r}.")
        return {"__type": "GeoPoint", "latitude": lat, "longitude": lng}
    if kind == "File":
        file_id = value.get("id") or value.get("objectId")
        if not isinstance(file_id, str):
            raise _invalid(f"Invalid File value: {value!r}.")
        return {"__type": "File", "id": file_id}
    if kind == "Bytes":
        try:
            base64.b64decode(value.get("base64"), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise _invalid("Invalid Bytes value.") from None
        return {"__type": "Bytes", "base64": value["base64"]}
    raise _invalid(f"Unsupported __type: {kind!r}.")


def normalize_value(value: Any) -> Any:
    """Validate a value to store and bring typed values to their canonical form."""
    if isinstance(value, dict):
        if "__op" in value:
            raise _invalid("Operations are only allowed on fields, not inside values.")
        if "__type" in value:
            return _typed_value(value)
        for key in value:
            if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
                raise ApiError(
                    121,
                    f"Invalid nested key: {key!r}; keys must not start with '$' or contain '.'.",
                )
        return {key: normalize_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize_value(item) for item in value]
    return value


def same_value(a: Any, b: Any) -> bool:
    """JSON equality that keeps ``true`` apart from ``1`` and compares Pointers by id."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.get("__type") == b.get("__type") == "Pointer":
            return a.get("className") == b.get("className") and a.get("objectId") == b.get(
                "objectId"
            )
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


# ---------------------------------------------------------------- operations


def _operand(op: Mapping[str, Any], key: str, check, what: str) -> Any:
    value = op.get(key)
    if not check(value):
        raise ApiError(1, f"{op['__op']} needs '{key}' to be {what}.")
    return value


def _current(current: Any, check, op_name: str, path: str, empty: Any) -> Any:
    if current is MISSING or current is None:
        return empty
    if not check(current):
        raise _invalid(f"Cannot apply {op_name} to field '{path}' holding {wire_type(current)}.")
    return current


def _objects(op: Mapping[str, Any]) -> List[Any]:
    return [
        normalize_value(v)
        for v in _operand(op, "objects", lambda v: isinstance(v, list), "an array")
    ]


def _increment(current: Any, op: Mapping[str, Any], path: str) -> Any:
    amount = _operand(op, "amount", _is_number, "a number")
    if op["__op"] == "Decrement":
        amount = -amount
    total = _current(current, _is_number, op["__op"], path, 0) + amount
    if isinstance(total, float) and not math.isfinite(total):
        raise _invalid(f"{op['__op']} of '{path}' overflows: numbers must stay finite.")
    return total


def _add(current: Any, op: Mapping[str, Any], path: str) -> Any:
    return list(_current(current, lambda v: isinstance(v, list), "Add", path, [])) + _objects(op)


def _add_unique(current: Any, op: Mapping[str, Any], path: str) -> Any:
    result = list(_current(current, lambda v: isinstance(v, list), "AddUnique", path, []))
    for item in _objects(op):
        if not any(same_value(item, existing) for existing in result):
            result.append(item)
    return result


def _remove(current: Any, op: Mapping[str, Any], path: str) -> Any:
    items = _objects(op)
    if current is MISSING:
        return MISSING  # like MongoDB's $pullAll: nothing to remove from, nothing created
    existing = _current(current, lambda v: isinstance(v, list), "Remove", path, [])
    return [value for value in existing if not any(same_value(value, item) for item in items)]


def _bit(current: Any, op: Mapping[str, Any], path: str) -> Any:
    operand = _operand(op, "value", _is_int, "an integer")
    name = op["__op"]
    if current is MISSING or current is None:
        return 0 if name == "BitAnd" else operand  # LeanCloud's results on a missing field
    base = _current(current, _is_int, name, path, 0)
    if name == "BitAnd":
        return base & operand
    if name == "BitOr":
        return base | operand
    return base ^ operand


_APPLY = {
    "Delete": lambda current, op, path: MISSING,
    "Increment": _increment,
    "Decrement": _increment,
    "Add": _add,
    "AddUnique": _add_unique,
    "Remove": _remove,
    "BitAnd": _bit,
    "BitOr": _bit,
    "BitXor": _bit,
}


def op_name(value: Mapping[str, Any]) -> Optional[str]:
    """A value's ``__op``, if it is text: clients may send a list or an object there,
    which cannot even be looked up in a table of operations."""
    name = value.get("__op")
    return name if isinstance(name, str) else None


def apply_op(current: Any, op: Mapping[str, Any], path: str) -> Any:
    """The field's new value (``MISSING`` = removed) after one non-relation operation."""
    apply = _APPLY.get(op_name(op))  # type: ignore[arg-type]
    if apply is None:
        raise ApiError(1, f"Unknown operation: {op.get('__op')!r}.")
    return apply(current, op, path)


def _relation_change(name: str, op: Mapping[str, Any]) -> RelationChange:
    parts: Sequence[Mapping[str, Any]] = op.get("ops") if op["__op"] == "Batch" else [op]  # type: ignore[assignment]
    if not isinstance(parts, list) or not parts:
        raise ApiError(1, "Batch needs 'ops' to be a non-empty array.")
    change: Optional[RelationChange] = None
    for part in parts:
        kind = part.get("__op") if isinstance(part, dict) else None
        if kind not in ("AddRelation", "RemoveRelation"):
            raise ApiError(1, f"Unsupported operation in Batch: {kind!r}.")
        pointers = _objects(part)
        if not pointers or len(pointers) > MAX_RELATION_OBJECTS:
            raise ApiError(128, f"{kind} needs 1 to {MAX_RELATION_OBJECTS} objects.")
        classes = {
            p.get("className")
            for p in pointers
            if isinstance(p, dict) and p.get("__type") == "Pointer"
        }
        if len(classes) != 1 or any(
            not isinstance(p, dict) or p.get("__type") != "Pointer" for p in pointers
        ):
            raise ApiError(128, f"{kind} needs Pointers to objects of one class.")
        target = classes.pop()
        if change is None:
            change = RelationChange(name, target)
        elif change.target_class != target:
            raise ApiError(128, "All relation operations on a field must target one class.")
        ids = [p["objectId"] for p in pointers]
        (change.adds if kind == "AddRelation" else change.removes).extend(ids)
    return change  # type: ignore[return-value]


# ---------------------------------------------------------------- paths


def _get_path(data: Dict[str, Any], parts: Sequence[str]) -> Any:
    value: Any = data
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _set_path(data: Dict[str, Any], parts: Sequence[str], value: Any) -> None:
    if value is MISSING and not isinstance(_get_path(data, parts[:-1]), dict):
        return  # nothing to remove from: the parents are not created (as MongoDB's $unset)
    target = data
    for depth, part in enumerate(parts[:-1]):
        child = target.get(part)
        if child is None:
            child = target[part] = {}
        elif not isinstance(child, dict):
            raise _invalid(
                f"Cannot set '{'.'.join(parts)}': '{'.'.join(parts[: depth + 1])}' is not an object."
            )
        target = child
    if value is MISSING:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value


# ---------------------------------------------------------------- whole body


def apply_changes(data: Mapping[str, Any], body: Mapping[str, Any], creating: bool) -> Changes:
    """Apply a write body (fields and ``__op`` values, without ``ACL``) to ``data``.

    Dotted keys address nested fields on update; on create they are refused, since
    there is nothing to reach into yet.
    """
    new_data = copy.deepcopy(dict(data))
    touched: List[str] = []
    relations: List[RelationChange] = []
    for key, value in body.items():
        if key in IGNORED_FIELDS:
            continue
        if creating and isinstance(key, str) and "." in key:
            raise ApiError(
                105, f"Invalid key name: {key!r}; dotted keys are only allowed on update."
            )
        parts = check_field_path(key).split(".")
        check_field_name(parts[0])
        if parts[0] in IGNORED_FIELDS or parts[0] == "ACL":
            raise ApiError(105, f"Invalid key name: {key!r}.")
        if isinstance(value, dict) and op_name(value) in RELATION_OPS:
            if len(parts) > 1:
                raise ApiError(105, f"Relation operations need a top-level field, not {key!r}.")
            relations.append(_relation_change(key, value))
            continue
        if isinstance(value, dict) and value.get("__type") == "Relation":
            relations.append(RelationChange(key, check_class_name(value.get("className"))))
            continue
        if isinstance(value, dict) and "__op" in value:
            new_value = apply_op(_get_path(new_data, parts), value, key)
        else:
            new_value = normalize_value(value)
        _set_path(new_data, parts, new_value)
        if parts[0] not in touched:
            touched.append(parts[0])
    return Changes(new_data, touched, relations)


def check_acl(value: Any) -> Optional[Dict[str, Dict[str, bool]]]:
    """A stored ACL: ``{key: {"read": true, "write": true}}``; ``false`` entries dropped."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(123, "Invalid ACL.")
    acl: Dict[str, Dict[str, bool]] = {}
    for key, rights in value.items():
        if not isinstance(key, str) or not isinstance(rights, dict):
            raise ApiError(123, "Invalid ACL.")
        granted = {}
        for right, flag in rights.items():
            if right not in ("read", "write") or not isinstance(flag, bool):
                raise ApiError(123, "Invalid ACL.")
            if flag:
                granted[right] = True
        if granted:
            acl[key] = granted
    return acl


def acl_allows(
    acl: Optional[Mapping[str, Mapping[str, bool]]], keys: Tuple[str, ...], right: str
) -> bool:
    """No ACL means open to everyone (rows imported or created without one)."""
    if acl is None:
        return True
    return any(acl.get(key, {}).get(right) for key in keys)
