"""Our extension for ``leancloud.ndb`` transactions: versioned reads, atomic commits.

NDB transactions are optimistic: read entities, compute, then write everything or
nothing, failing if anything read has changed meanwhile (the client retries).
LeanCloud offers neither piece, so:

* ``read_versions`` answers the objects asked for (as a query by objectId answers them:
  read ACL applied, hidden fields left out) each with a *version*: a digest of the
  object as this caller sees it, ``updatedAt`` and ``ACL`` included; None if the object
  is missing or unreadable.
* ``commit`` runs inside one write transaction (the database's write lock): it checks
  every ``{className, objectId, version}`` against the object's current version, then
  applies every write, an entity replace (``services/entities.py``'s ``put_entity``) or
  a delete, each with the usual write-ACL check. A changed version is error 305 (HTTP
  409), LeanCloud's code for a condition that did not hold; any failure rolls back all.

A digest rather than ``updatedAt`` alone: two writes within one millisecond share an
``updatedAt``, and a lost update must not hide behind that.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from leancloud.server.errors import ApiError
from leancloud.server.hooks.classes import ClassHooks
from leancloud.server.names import check_class_name
from leancloud.server.principal import Principal
from leancloud.server.query import parse_query
from leancloud.server.services.entities import (
    check_entity_class,
    check_object_id,
    check_unhooked,
    put_entity,
)
from leancloud.server.services.objects import check_write
from leancloud.server.storage.base import Storage, WriteTx

__all__ = ["COLLISION", "MAX_ITEMS", "commit", "read_versions", "version_of"]

COLLISION = 305
MAX_ITEMS = 500
Ref = Tuple[str, str]


def version_of(row: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The digest of an object as read (None for a missing one)."""
    if row is None:
        return None
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ref(item: Any, what: str) -> Ref:
    if not isinstance(item, dict):
        raise ApiError(107, f"Each {what} must be an object with className and objectId.")
    return check_class_name(item.get("className")), check_object_id(item.get("objectId"))


def _items(body: Mapping[str, Any], name: str) -> List[Any]:
    items = body.get(name, [])
    if not isinstance(items, list):
        raise ApiError(107, f"{name} must be an array.")
    if len(items) > MAX_ITEMS:
        raise ApiError(107, f"At most {MAX_ITEMS} {name} per request.")
    return items


def _rows(reader: Any, principal: Principal, refs: Sequence[Ref]) -> Dict[Ref, dict]:
    """The readable objects among ``refs``: one query per class."""
    by_class: Dict[str, List[str]] = {}
    for class_name, object_id in refs:
        by_class.setdefault(class_name, []).append(object_id)
    found: Dict[Ref, dict] = {}
    for class_name, ids in by_class.items():
        query = parse_query(
            class_name,
            {
                "where": {"objectId": {"$in": sorted(set(ids))}},
                "limit": str(MAX_ITEMS),
                "returnACL": "true",
            },
        )
        for row in reader.find(query, principal):
            found[(class_name, row["objectId"])] = row
    return found


def read_versions(
    storage: Storage, principal: Principal, body: Mapping[str, Any]
) -> List[Dict[str, Any]]:
    """``[{"object": row or None, "version": digest or None}]``, one per ``objects`` item."""
    refs = [_ref(item, "object") for item in _items(body, "objects")]
    found = _rows(storage, principal, refs)
    return [{"object": found.get(ref), "version": version_of(found.get(ref))} for ref in refs]


def _parse_write(item: Any) -> Tuple[Ref, Optional[Dict[str, Any]]]:
    """``(ref, body)``; body None for a delete."""
    ref = _ref(item, "write")
    if item.get("delete") is True:
        return ref, None
    body = item.get("body")
    if not isinstance(body, dict):
        raise ApiError(107, "A write needs a body object, or delete: true.")
    return ref, body


def _check(tx: WriteTx, principal: Principal, checks: Sequence[Tuple[Ref, Optional[str]]]) -> None:
    current = _rows(tx, principal, [ref for ref, _ in checks])
    for ref, version in checks:
        if version_of(current.get(ref)) != version:
            raise ApiError(
                COLLISION,
                f"Transaction collision: {ref[0]} {ref[1]} changed since it was read.",
                409,
            )


def _delete(tx: WriteTx, principal: Principal, ref: Ref) -> Dict[str, Any]:
    check_entity_class(principal, ref[0])
    obj = tx.get(*ref)
    if obj is not None:
        check_write(principal, obj)
        tx.delete(*ref)
    return {"objectId": ref[1], "deleted": obj is not None}


def commit(
    storage: Storage,
    principal: Principal,
    body: Mapping[str, Any],
    hooks: Optional[ClassHooks] = None,
) -> List[Dict[str, Any]]:
    """Check ``checks``, apply ``writes``, all or nothing; one result per write.

    ``hooks``: the Engine hooks the caller may not skip; a written class with any is
    refused (``entities.check_unhooked``), before the write lock is taken."""
    checks = []
    for item in _items(body, "checks"):
        version = item.get("version") if isinstance(item, dict) else None
        if version is not None and not isinstance(version, str):
            raise ApiError(107, "A check's version must be a string or null.")
        checks.append((_ref(item, "check"), version))
    writes = [_parse_write(item) for item in _items(body, "writes")]
    check_unhooked(hooks, [class_name for (class_name, _), _ in writes])
    with storage.write() as tx:
        _check(tx, principal, checks)
        return [
            _delete(tx, principal, ref)
            if fields is None
            else put_entity(tx, principal, ref[0], ref[1], fields)
            for ref, fields in writes
        ]
