"""How NDB keys and entities are stored in LeanCloud classes.

* **Class**: an entity of kind ``K`` lives in the LeanCloud class ``K`` (``K__ns`` in
  namespace ``ns``). Kinds and namespaces must therefore be valid class-name parts
  (``[A-Za-z][A-Za-z0-9_]*`` and ``[A-Za-z0-9_]+``), else ``KindError``.
* **objectId**: the key's whole path, readable and reversible, so a key is found with
  one ``GET`` and rebuilt from any row or Pointer. Each ``(kind, id)`` pair is
  ``Kind-n<id, 19 digits>`` for integer ids or ``Kind-s<base32hex of UTF-8>`` for string
  ids; pairs are joined by ``.``, and a namespace is prefixed as ``ns~``. Examples:
  ``Person-n0000000000000000042``, ``Parent-sC9GMSPBF.Child-n0000000000000000007``.
  The encoding sorts like NDB keys (parents before children, integer ids before string
  ids, both in order), so ``order(Model.key)`` is an order on objectId.
* **Ancestor path**: ``ndbAncestors`` holds the objectIds of the key and of every
  ancestor, so an ancestor query is the array condition ``{"ndbAncestors": <objectId>}``
  (``ancestor_condition``).
* **Fields**: each property under its stored name (``name=``), as wire JSON; a
  StructuredProperty is a nested object, so ``address.city`` is a path the server
  queries. A *repeated* StructuredProperty is stored as NDB lays it out: one list per
  subfield (``{"city": ["London", "Paris"], "zip": [1, 2]}``, ``columns_from_rows``),
  because the server reaches into a list only at the end of a path, so
  ``address.city == 'London'`` matches any element. ``objectId``, ``createdAt``, ``updatedAt``, ``ACL`` and ``ndbAncestors`` are
  not property names.

Entities are written with our ``PUT /1.1/entities/<class>/<objectId>`` extension
(replace-or-create, see ``leancloud/server/services/entities.py``) and read and
deleted through the ordinary ``/1.1/classes`` routes.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from leancloud.ndb.errors import BadArgumentError, BadKeyError, BadValueError, KindError
from leancloud.ndb.key import Key, Pair

__all__ = [
    "ANCESTORS_FIELD",
    "RESERVED_FIELDS",
    "class_name_for_kind",
    "check_property_name",
    "object_id_for_key",
    "key_from_object_id",
    "key_to_wire",
    "key_from_wire",
    "ancestor_condition",
    "entity_fields",
    "columns_from_rows",
    "looks_like_columns",
    "rows_from_columns",
    "entity_from_fields",
    "entity_from_wire",
]

ANCESTORS_FIELD = "ndbAncestors"
RESERVED_FIELDS = frozenset({"objectId", "createdAt", "updatedAt", "ACL", ANCESTORS_FIELD})
MAX_OBJECT_ID = 4096

_KIND = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}\Z")
_NAMESPACE = re.compile(r"[A-Za-z0-9_]{1,100}\Z")
_ID_DIGITS = 19
_B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32HEX = b"0123456789ABCDEFGHIJKLMNOPQRSTUV"
_TO_HEX = bytes.maketrans(_B32, _B32HEX)
_FROM_HEX = bytes.maketrans(_B32HEX, _B32)


def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise KindError(
            f"Kind {kind!r} is not usable as a LeanCloud class name ([A-Za-z][A-Za-z0-9_]*)"
        )
    return kind


def _check_namespace(namespace: str) -> str:
    if namespace and not _NAMESPACE.match(namespace):
        raise BadValueError(f"Namespace {namespace!r} must be letters, digits and underscores")
    return namespace


def check_property_name(name: str) -> str:
    """A stored property name: a LeanCloud field name, not one of the built-in fields."""
    if not isinstance(name, str) or not _KIND.match(name):
        raise BadArgumentError(
            f"Property name {name!r} is not a LeanCloud field name ([A-Za-z][A-Za-z0-9_]*)"
        )
    if name in RESERVED_FIELDS:
        raise BadArgumentError(f"{name!r} is a LeanCloud built-in field, not a property name")
    return name


def class_name_for_kind(kind: str, namespace: str = "") -> str:
    """The LeanCloud class holding entities of ``kind`` (in ``namespace``)."""
    _check_kind(kind)
    if _check_namespace(namespace):
        return _check_kind(f"{kind}__{namespace}")  # still a class name (length)
    return kind


# -- objectIds ----------------------------------------------------------------------------


def _b32hex(raw: bytes) -> str:
    return base64.b32encode(raw).translate(_TO_HEX).rstrip(b"=").decode("ascii")


def _from_b32hex(text: str) -> bytes:
    data = text.encode("ascii").translate(_FROM_HEX)
    return base64.b32decode(data + b"=" * (-len(data) % 8))


def _pair_token(kind: str, id_: Any) -> str:
    _check_kind(kind)
    if id_ is None:
        raise BadKeyError(f"Key of kind {kind} is incomplete; it has no objectId yet")
    if isinstance(id_, int):
        return f"{kind}-n{id_:0{_ID_DIGITS}d}"
    return f"{kind}-s{_b32hex(id_.encode('utf-8'))}"


def object_id_for_key(key: Key) -> str:
    """The objectId that stores ``key`` (a complete key); see the module docstring."""
    if not isinstance(key, Key):
        raise BadValueError(f"Expected Key, got {key!r}")
    path = ".".join(_pair_token(kind, id_) for kind, id_ in key.pairs())
    namespace = _check_namespace(key.namespace())
    object_id = f"{namespace}~{path}" if namespace else path
    if len(object_id) > MAX_OBJECT_ID:
        raise BadKeyError(
            f"Key {key!r} is too long to store (objectId over {MAX_OBJECT_ID} characters)"
        )
    return object_id


def _parse_pair(token: str) -> Pair:
    kind, sep, rest = token.partition("-")
    if not sep or not _KIND.match(kind) or not rest:
        raise BadKeyError(f"not an ndb objectId part: {token!r}")
    tag, body = rest[0], rest[1:]
    try:
        if tag == "n" and body.isdigit():
            return (kind, int(body))
        if tag == "s":
            return (kind, _from_b32hex(body).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadKeyError(f"not an ndb objectId part: {token!r}") from exc
    raise BadKeyError(f"not an ndb objectId part: {token!r}")


def key_from_object_id(object_id: Any) -> Key:
    """The key an objectId stands for (``BadKeyError`` if it is not one of ours)."""
    if not isinstance(object_id, str) or not object_id:
        raise BadKeyError(f"not an ndb objectId: {object_id!r}")
    namespace, sep, path = object_id.rpartition("~")
    if sep and not _NAMESPACE.match(namespace):
        raise BadKeyError(f"not an ndb objectId: {object_id!r}")
    pairs = tuple(_parse_pair(token) for token in path.split("."))
    return Key(pairs=pairs, namespace=namespace)


def key_to_wire(key: Key) -> Dict[str, str]:
    """The Pointer for ``key``: its class and objectId (also a KeyProperty's wire value)."""
    return {
        "__type": "Pointer",
        "className": class_name_for_kind(key.kind(), key.namespace()),
        "objectId": object_id_for_key(key),
    }


def key_from_wire(kind: str, data: Dict[str, Any]) -> Key:
    """The key of a stored row or Pointer of ``kind`` (from its objectId)."""
    key = key_from_object_id(data.get("objectId"))
    if key.kind() != kind:
        raise KindError(f"objectId {data.get('objectId')!r} is a {key.kind()}, not a {kind}")
    return key


def ancestor_condition(key: Key) -> Tuple[str, str]:
    """``(field, value)``: the ``where`` equality that finds ``key`` and its descendants."""
    return (ANCESTORS_FIELD, object_id_for_key(key))


def _ancestor_ids(key: Key) -> list:
    pairs = key.pairs()
    return [
        object_id_for_key(Key(pairs=pairs[:n], namespace=key.namespace(), app=key.app()))
        for n in range(1, len(pairs) + 1)
    ]


# -- entities -----------------------------------------------------------------------------


def entity_fields(entity: Any) -> Dict[str, Any]:
    """The entity's properties as wire fields (sub-entities too); no key fields."""
    out: Dict[str, Any] = {}
    for prop in entity._properties.values():
        prop._serialize(entity, out)
    return out


def _is_nested(value: Any) -> bool:
    """A sub-entity's fields (a plain object), not a typed wire value such as a Date."""
    return isinstance(value, dict) and "__type" not in value


def columns_from_rows(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Sub-entities' fields as one list per field (nested sub-entities recursively)."""
    names: Dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns: Dict[str, Any] = {}
    for name in names:
        column = [row.get(name) for row in rows]
        present = [value for value in column if value is not None]
        if present and all(_is_nested(value) for value in present):
            columns[name] = columns_from_rows([value or {} for value in column])
        else:
            columns[name] = column
    return columns


def looks_like_columns(wire: Any) -> bool:
    """Whether a stored object has the layout of a repeated structure (every field a
    list, or an object of lists): how an Expando tells one when it reads it back."""
    return (
        _is_nested(wire)
        and bool(wire)
        and all(isinstance(value, list) or looks_like_columns(value) for value in wire.values())
    )


def rows_from_columns(columns: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The inverse of ``columns_from_rows``; a field that is neither list nor object is
    ignored, as any mistyped stored value is."""
    unpacked = {
        name: rows_from_columns(value) if _is_nested(value) else value
        for name, value in columns.items()
        if isinstance(value, list) or _is_nested(value)
    }
    count = max((len(column) for column in unpacked.values()), default=0)
    return [
        {name: column[index] for name, column in unpacked.items() if index < len(column)}
        for index in range(count)
    ]


def entity_from_fields(
    model_class: type, fields: Dict[str, Any], projection: Optional[Sequence[str]] = None
) -> Any:
    """A ``model_class`` instance from wire fields (unknown fields: Expando only)."""
    entity = model_class(projection=projection) if projection else model_class()
    for name, wire in fields.items():
        if name in RESERVED_FIELDS:
            continue
        prop = entity._properties.get(name)
        if prop is None:
            prop = entity._fake_property(name, wire)
        if prop is not None:
            prop._deserialize(entity, wire)
    if projection:
        entity._project_structures()
    return entity


def entity_from_wire(
    model_class: type, data: Dict[str, Any], projection: Optional[Sequence[str]] = None
) -> Any:
    """A ``model_class`` instance from a stored row, with its key from the objectId."""
    entity = entity_from_fields(model_class, data, projection)
    if data.get("objectId") is not None:
        entity._set_key(key_from_wire(model_class._get_kind(), data))
    return entity
