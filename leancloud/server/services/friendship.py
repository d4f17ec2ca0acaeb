"""Follow and unfollow: the ``_Followee``/``_Follower`` row pairs and their queries.

A follow of ``target`` by ``user`` is two rows written in one transaction:
``_Followee {user: user, followee: target, ...attrs}`` (whom ``user`` follows) and
``_Follower {user: target, follower: user, ...attrs}`` (who follows ``target``).
Following again updates the attributes of the existing pair instead of adding one.

Both rows get LeanCloud's default "shared" friendship ACL: only the two users (and the
master key) read or change them. Unfollowing someone not followed is not an error,
like deleting an object that is already gone.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Tuple

from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import parse_query
from leancloud.server.services import objects
from leancloud.server.services.objects import new_object_id
from leancloud.server.services.objects import now as timestamp
from leancloud.server.services.ops import apply_changes
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

FOLLOWER_CLASS = "_Follower"
FOLLOWEE_CLASS = "_Followee"
USER_CLASS = "_User"
# Per class: the field naming the other user of the pair.
OTHER_FIELD = {FOLLOWER_CLASS: "follower", FOLLOWEE_CLASS: "followee"}
_RESERVED = frozenset({"user", "follower", "followee", "ACL"})


def user_pointer(user_id: str) -> Dict[str, str]:
    return {"__type": "Pointer", "className": USER_CLASS, "objectId": user_id}


def resolve_user_id(principal: Principal, user_id: str) -> str:
    """``self`` (the JS SDK's spelling) is the session's user."""
    if user_id != "self":
        return user_id
    if principal.user_id is None:
        raise ApiError(211, "Could not find user.")
    return principal.user_id


def _check_acting_as(principal: Principal, user_id: str) -> None:
    """Only the user itself (or master) changes whom it follows, as with any user write."""
    if not principal.master and principal.user_id != user_id:
        raise ApiError(206, "The user cannot be altered by a client without the session.", 403)


def _attributes(body: Mapping[str, Any]) -> Dict[str, Any]:
    reserved = _RESERVED.intersection(body)
    if reserved:
        raise ApiError(105, f"Reserved friendship fields: {', '.join(sorted(reserved))}.")
    return apply_changes({}, body, creating=True).data


def _pair(tx: WriteTx, user_id: str, target_id: str) -> Tuple[Optional[StoredObject], ...]:
    """The existing ``(_Followee, _Follower)`` rows of ``user_id`` following ``target_id``."""
    rows = []
    for class_name, owner, other in (
        (FOLLOWEE_CLASS, user_id, target_id),
        (FOLLOWER_CLASS, target_id, user_id),
    ):
        where = {"user": user_pointer(owner), OTHER_FIELD[class_name]: user_pointer(other)}
        found = tx.find(parse_query(class_name, {"where": where, "limit": 1}), MASTER)
        rows.append(tx.get(class_name, found[0]["objectId"]) if found else None)
    return tuple(rows)


def _write_row(
    tx: WriteTx,
    row: Optional[StoredObject],
    class_name: str,
    data: Dict[str, Any],
    acl: Dict[str, Dict[str, bool]],
) -> None:
    tx.ensure_fields(class_name, apply_changes({}, data, creating=True).field_types())
    stamp = timestamp()
    if row is None:
        tx.insert(StoredObject(class_name, new_object_id(), stamp, stamp, data, acl))
    else:
        row.data, row.updated_at = {**row.data, **data}, stamp
        tx.update(row)


def follow(
    storage: Storage,
    principal: Principal,
    user_id: str,
    target_id: str,
    body: Mapping[str, Any],
) -> None:
    """``user_id`` follows ``target_id``; the body's attributes go on both rows."""
    user_id = resolve_user_id(principal, user_id)
    _check_acting_as(principal, user_id)
    if target_id == user_id:
        raise ApiError(1, "A user cannot follow itself.")
    attrs = _attributes(body)
    acl = {user_id: {"read": True, "write": True}, target_id: {"read": True, "write": True}}
    with storage.write() as tx:
        for needed in (user_id, target_id):
            if tx.get(USER_CLASS, needed) is None:
                raise ApiError(211, "Could not find user.")
        followee_row, follower_row = _pair(tx, user_id, target_id)
        followee = {"user": user_pointer(user_id), "followee": user_pointer(target_id)}
        follower = {"user": user_pointer(target_id), "follower": user_pointer(user_id)}
        _write_row(tx, followee_row, FOLLOWEE_CLASS, {**attrs, **followee}, acl)
        _write_row(tx, follower_row, FOLLOWER_CLASS, {**attrs, **follower}, acl)


def unfollow(storage: Storage, principal: Principal, user_id: str, target_id: str) -> None:
    """Remove the pair of rows; nothing to remove is fine."""
    user_id = resolve_user_id(principal, user_id)
    _check_acting_as(principal, user_id)
    with storage.write() as tx:
        for row in _pair(tx, user_id, target_id):
            if row is not None:
                tx.delete(row.class_name, row.object_id)


def _scoped_params(params: Mapping[str, Any], user_id: str) -> Dict[str, Any]:
    """The caller's query parameters, with ``where`` narrowed to ``user = user_id``."""
    scoped = dict(params)
    given = objects.decode_where(params.get("where")) or {}
    mine = {"user": user_pointer(user_id)}
    scoped["where"] = json.dumps({"$and": [given, mine]} if given else mine)
    return scoped


def find_rows(
    storage: Storage,
    principal: Principal,
    class_name: str,
    user_id: str,
    params: Mapping[str, Any],
) -> Dict[str, Any]:
    """``/users/<id>/followers`` or ``/followees``: that user's rows, read with the
    caller's ACL, with the usual query parameters (``include=follower`` and so on)."""
    user_id = resolve_user_id(principal, user_id)
    return objects.find_objects(storage, principal, class_name, _scoped_params(params, user_id))


def find_both(
    storage: Storage, principal: Principal, user_id: str, params: Mapping[str, Any]
) -> Dict[str, Any]:
    """``{followers, followees}``, plus ``followers_count``/``followees_count`` with ``count``."""
    result: Dict[str, Any] = {}
    for key, class_name in (("followers", FOLLOWER_CLASS), ("followees", FOLLOWEE_CLASS)):
        found = find_rows(storage, principal, class_name, user_id, params)
        result[key] = found["results"]
        if "count" in found:
            result[f"{key}_count"] = found["count"]
    return result
