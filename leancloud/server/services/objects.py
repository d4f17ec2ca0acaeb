"""Objects of any class: create, get, update, delete, query, scan and the schema.

Every write is one ``storage.write()`` transaction: read the row, check the write ACL,
check the ``where`` condition, apply the field operations, validate the types and
write back. Nothing is read-modified-written across transactions, so concurrent
increments are never lost.

Objects created without an ``ACL`` get none (open to everyone); LeanCloud's per-class
default ACLs are not configurable here yet.

LeanEngine class hooks (``hooks``, see ``leancloud/server/hooks/classes.py``): ``before*``
hooks run before the write's transaction opens, since the Engine may call the server
back, and a refusal stops the write before anything is stored; ``after*`` hooks run once
the transaction has committed.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from leancloud.codec import format_date
from leancloud.server import safe_json
from leancloud.server.errors import ApiError
from leancloud.server.hooks.classes import ClassHooks
from leancloud.server.names import INTERNAL_CLASSES, check_class_name, check_field_name
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import (
    DEFAULT_LIMIT,
    Query,
    parse_query,
    parse_where,
    resolve_redirect,
)
from leancloud.server.services.ops import Changes, acl_allows, apply_changes, check_acl
from leancloud.server.storage.base import ACL, Storage, StoredObject, WriteTx

_MISSING_CLASS = "Class or object doesn't exists."
_NO_EFFECT = "No effect on updating/deleting a document."
_SINGLE_OBJECT_PARAMS = ("keys", "include", "returnACL")
_SCAN_PARAMS = ("where", "keys", "limit", "returnACL")  # no order, skip or include in a scan


def new_object_id() -> str:
    """24 lowercase hex characters, like LeanCloud's (MongoDB-style) ids."""
    return secrets.token_hex(12)


def now() -> str:
    return format_date(_dt.datetime.now(_dt.timezone.utc))


def decode_where(where: Any) -> Any:
    """``where`` as sent in a query string (JSON text, bounded by ``safe_json``) or
    already decoded."""
    if not isinstance(where, str):
        return where
    try:
        return safe_json.loads(where)
    except safe_json.JsonInputError:
        raise ApiError(107, "Malformed json object. A json dictionary is expected.") from None


def _by_id(class_name: str, object_id: str, params: Optional[Mapping[str, Any]] = None) -> Query:
    wanted = {k: v for k, v in (params or {}).items() if k in _SINGLE_OBJECT_PARAMS}
    return parse_query(class_name, {**wanted, "where": {"objectId": object_id}, "limit": 1})


def _split_acl(body: Mapping[str, Any]) -> Tuple[bool, Optional[ACL], Dict[str, Any]]:
    """``(given, acl, other fields)``; ``{"__op": "Delete"}`` on ``ACL`` removes it."""
    fields = {k: v for k, v in body.items() if k != "ACL"}
    if "ACL" not in body:
        return False, None, fields
    value = body["ACL"]
    if isinstance(value, dict) and value.get("__op") == "Delete":
        return True, None, fields
    return True, check_acl(value), fields


def _apply_relations(tx: WriteTx, obj: StoredObject, changes: Changes) -> None:
    for change in changes.relations:
        if change.adds:
            tx.relation_add(
                obj.class_name, change.field, obj.object_id, change.target_class, change.adds
            )
        if change.removes:
            tx.relation_remove(obj.class_name, change.field, obj.object_id, change.removes)


def _read_back(tx: WriteTx, class_name: str, object_id: str, keys: Optional[Sequence[str]]) -> dict:
    params = {"keys": ",".join(keys)} if keys else {}
    rows = tx.find(_by_id(class_name, object_id, params), MASTER)
    return rows[0] if rows else {}


def check_writable_class(principal: Principal, class_name: str) -> None:
    """A valid class name that this caller may write to: the server's own bookkeeping
    classes (failed log-ins, SMS codes, captchas, ...) are for the master key only."""
    check_class_name(class_name)
    if class_name in INTERNAL_CLASSES and not principal.master:
        raise ApiError(119, f"The class {class_name} is internal to the server.", 403)


def _snapshot(reader: Any, class_name: str, object_id: str) -> dict:
    """The object in its wire form with its ACL, as hooks receive it."""
    rows = reader.find(_by_id(class_name, object_id, {"returnACL": "true"}), MASTER)
    return rows[0] if rows else {}


def snapshot_for_hook(
    storage: Storage, hooks: Optional[ClassHooks], class_name: str, hook: str, object_id: str
) -> Optional[dict]:
    """The object as ``hook`` would receive it; None when that hook is not to run."""
    if hooks is None or not hooks.wants(class_name, hook):
        return None
    return _snapshot(storage, class_name, object_id)


def run_after_hook(
    storage: Storage,
    hooks: Optional[ClassHooks],
    class_name: str,
    hook: str,
    object_id: str,
    extra: Optional[Mapping[str, Any]] = None,
) -> None:
    """Run an ``after*`` hook on the committed object, if the Engine has one."""
    snapshot = snapshot_for_hook(storage, hooks, class_name, hook, object_id)
    if snapshot is not None:
        hooks.after(class_name, hook, {**snapshot, **(extra or {})})  # type: ignore[union-attr]


def _load_for_write(
    tx: WriteTx, principal: Principal, class_name: str, object_id: str
) -> StoredObject:
    obj = tx.get(class_name, object_id)
    if obj is None:
        raise ApiError(
            1, f"Could not find object by id '{object_id}' for class '{class_name}'.", 404
        )
    check_write(principal, obj)
    return obj


def run_before_update(
    storage: Storage,
    principal: Principal,
    hooks: Optional[ClassHooks],
    class_name: str,
    object_id: str,
    body: Mapping[str, Any],
) -> Mapping[str, Any]:
    """The update's body after ``beforeUpdate`` (if the Engine has one), which sees the
    object as it would become."""
    if hooks is None or not hooks.wants(class_name, "beforeUpdate"):
        return body
    acl_given, acl, fields = _split_acl(body)
    with storage.write() as tx:
        obj = _load_for_write(tx, principal, class_name, object_id)
        changes = apply_changes(obj.data, fields, creating=False)
        preview = _snapshot(tx, class_name, object_id)
    for name in changes.touched:
        if name in changes.data:
            preview[name] = changes.data[name]
        else:
            preview.pop(name, None)
    if acl_given:
        preview["ACL"] = acl
    return hooks.before_update(class_name, preview, body)


def check_write(principal: Principal, obj: StoredObject) -> None:
    """Master writes anything; a user row only its own session; others by ACL."""
    if principal.master:
        return
    if obj.class_name == "_User":
        if principal.user_id != obj.object_id:
            raise ApiError(206, "The user cannot be altered by a client without the session.", 403)
        return
    if not acl_allows(obj.acl, principal.acl_keys(), "write"):
        raise ApiError(403, "Forbidden writing by object's ACL.", 403)


def create_object(
    storage: Storage,
    principal: Principal,
    class_name: str,
    body: Mapping[str, Any],
    fetch: bool = False,
    check: Optional[Callable[[WriteTx, StoredObject], None]] = None,
    hooks: Optional[ClassHooks] = None,
) -> dict:
    """``{"objectId", "createdAt"}``, or the whole stored object when ``fetch``.

    ``check`` runs inside the transaction before the insert: a system class's rule that
    must see the database as the insert will (a unique role name).
    """
    check_writable_class(principal, class_name)
    if hooks is not None and hooks.wants(class_name, "beforeSave"):
        body = hooks.before_save(class_name, body)
    _, acl, fields = _split_acl(body)
    changes = apply_changes({}, fields, creating=True)
    stamp = now()
    obj = StoredObject(class_name, new_object_id(), stamp, stamp, changes.data, acl)
    with storage.write() as tx:
        if check is not None:
            check(tx, obj)
        tx.ensure_fields(class_name, changes.field_types())
        tx.insert(obj)
        _apply_relations(tx, obj, changes)
        if fetch:
            result = _read_back(tx, class_name, obj.object_id, None)
        else:
            result = {"objectId": obj.object_id, "createdAt": stamp}
    run_after_hook(storage, hooks, class_name, "afterSave", obj.object_id)
    return result


def update_object(
    storage: Storage,
    principal: Principal,
    class_name: str,
    object_id: str,
    body: Mapping[str, Any],
    where: Any = None,
    fetch: bool = False,
    hooks: Optional[ClassHooks] = None,
) -> dict:
    """``{"updatedAt", "objectId"}``; with ``fetch`` also the written fields' new values."""
    check_writable_class(principal, class_name)
    condition = parse_where(class_name, decode_where(where)) if where else None
    body = run_before_update(storage, principal, hooks, class_name, object_id, body)
    acl_given, acl, fields = _split_acl(body)
    with storage.write() as tx:
        obj = _load_for_write(tx, principal, class_name, object_id)
        if condition is not None and not tx.matches(class_name, object_id, condition):
            raise ApiError(305, _NO_EFFECT)
        changes = apply_changes(obj.data, fields, creating=False)
        tx.ensure_fields(class_name, changes.field_types())
        obj.data, obj.updated_at = changes.data, now()
        if acl_given:
            obj.acl = acl
        tx.update(obj)
        _apply_relations(tx, obj, changes)
        result = {"updatedAt": obj.updated_at, "objectId": object_id}
        if fetch and changes.touched:
            written = _read_back(tx, class_name, object_id, changes.touched)
            result = {**{k: written[k] for k in changes.touched if k in written}, **result}
    run_after_hook(
        storage, hooks, class_name, "afterUpdate", object_id, {"_updatedKeys": changes.touched}
    )
    return result


def delete_objects(
    storage: Storage,
    principal: Principal,
    class_name: str,
    object_ids: Sequence[str],
    where: Any = None,
    hooks: Optional[ClassHooks] = None,
) -> None:
    """Delete in one transaction; ids already gone are not an error unless ``where`` is given.

    ``beforeDelete`` runs for every object first: one refusal and nothing is deleted.
    """
    check_writable_class(principal, class_name)
    condition = parse_where(class_name, decode_where(where)) if where else None
    run_before_delete(storage, principal, hooks, class_name, object_ids)
    after = hooks is not None and hooks.wants(class_name, "afterDelete")
    deleted: List[dict] = []
    with storage.write() as tx:
        for object_id in object_ids:
            obj = tx.get(class_name, object_id)
            if obj is None:
                if condition is not None:
                    raise ApiError(305, _NO_EFFECT)
                continue
            check_write(principal, obj)
            if condition is not None and not tx.matches(class_name, object_id, condition):
                raise ApiError(305, _NO_EFFECT)
            if after:
                deleted.append(_snapshot(tx, class_name, object_id))
            tx.delete(class_name, object_id)
    for snapshot in deleted:
        hooks.after(class_name, "afterDelete", snapshot)  # type: ignore[union-attr]


def run_before_delete(
    storage: Storage,
    principal: Principal,
    hooks: Optional[ClassHooks],
    class_name: str,
    object_ids: Sequence[str],
) -> None:
    """``beforeDelete`` (if the Engine has one) for each object this caller may delete;
    ids already gone have none."""
    if hooks is None or not hooks.wants(class_name, "beforeDelete"):
        return
    for object_id in object_ids:
        with storage.write() as tx:
            found = tx.get(class_name, object_id)
            if found is None:
                continue
            check_write(principal, found)
            snapshot = _snapshot(tx, class_name, object_id)
        hooks.before_delete(class_name, snapshot)


def get_object(
    storage: Storage,
    principal: Principal,
    class_name: str,
    object_id: str,
    params: Mapping[str, Any],
) -> dict:
    """The object, ``{}`` when it is missing or unreadable, 101 when the class is unknown."""
    rows = storage.find(_by_id(class_name, object_id, params), principal)
    if rows:
        return rows[0]
    if not storage.class_exists(class_name):
        raise ApiError(101, _MISSING_CLASS, 404)
    return {}


def find_objects(
    storage: Storage, principal: Principal, class_name: str, params: Mapping[str, Any]
) -> dict:
    """``{"results": [...]}`` plus ``count`` when asked; an unknown class has no rows."""
    query = parse_query(class_name, params)
    result: Dict[str, Any] = {"results": storage.find(query, principal) if query.limit else []}
    if query.count:
        result["count"] = storage.count(query, principal)
    redirected = _redirected_class(storage, query)
    if redirected is not None:
        result["className"] = redirected
    return result


def _redirected_class(storage: Storage, query: Query) -> Optional[str]:
    """The relation's target class when ``redirectClassNameForKey`` moved the query there:
    the rows are of that class, and SDKs build them from the response's ``className``."""
    if not query.redirect_class_name_for_key:
        return None

    def field_type(owner_class: str, field: str) -> Optional[dict]:
        return storage.schema(owner_class).get(owner_class, {}).get(field)

    target = resolve_redirect(query, field_type).class_name
    return target if target != query.class_name else None


def scan_objects(
    storage: Storage, principal: Principal, class_name: str, params: Mapping[str, Any]
) -> dict:
    """One page of a full-table walk: ``{"results", "cursor"}``; cursor None at the end."""
    query = parse_query(class_name, {k: params[k] for k in _SCAN_PARAMS if k in params})
    scan_key = params.get("scan_key") or "objectId"
    check_field_name(scan_key.removeprefix("-"))
    query = replace(query, limit=query.limit or DEFAULT_LIMIT)
    rows, cursor = storage.scan(query, scan_key, params.get("cursor") or None, principal)
    return {"results": rows, "cursor": cursor}


def get_schema(storage: Storage, class_name: Optional[str] = None) -> Dict[str, Any]:
    """All classes' fields, or one class's fields (101 if there is no such class)."""
    if class_name is None:
        return storage.schema()
    check_class_name(class_name)
    schema = storage.schema(class_name)
    if class_name not in schema:
        raise ApiError(101, _MISSING_CLASS, 404)
    return schema[class_name]


def parse_ids(text: str) -> List[str]:
    """``id1,id2`` in a DELETE path (the JS SDK's ``destroyAll``)."""
    return [part for part in text.split(",") if part]
