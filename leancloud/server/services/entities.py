"""Our extension for ``leancloud.ndb``: write an object under an objectId the client chose.

App Engine keys are chosen by the application (``Key('Person', 'arthur')``) and
``put()`` replaces the whole entity, creating it when missing. LeanCloud has neither, so
``PUT /1.1/entities/<class>/<objectId>`` does both, in one write transaction:

* the body is the complete set of fields (no ``__op`` values): the stored object ends
  up with exactly these fields, whatever it held before;
* a missing object is created with that objectId (no ACL unless one is given);
  an existing one keeps its createdAt and ACL (unless ``ACL`` is given) and must be
  writable by the caller, as on any update;
* with ``if_absent`` an existing object is left untouched (``created`` tells which).

objectIds are 1 to 4096 characters of ``A-Z a-z 0-9 . _ - ~``: safe in a URL path and
never a ``,`` (which separates ids in a delete).

LeanEngine class hooks do not run here (nor in ``transactions.commit``, whose writes
happen under the write lock, where an Engine calling back would deadlock). So that no
client skips a ``beforeSave`` through this door, ``check_unhooked`` refuses a class the
Engine hooks unless the caller may skip hooks anyway (master or hook key).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Mapping, Optional

from leancloud.codec import is_op
from leancloud.engine.registry import CLASS_HOOKS
from leancloud.server.errors import ApiError
from leancloud.server.hooks.classes import ClassHooks
from leancloud.server.names import SYSTEM_CLASSES, check_class_name
from leancloud.server.principal import Principal
from leancloud.server.services.objects import _split_acl, check_write, now
from leancloud.server.services.ops import apply_changes
from leancloud.server.storage.base import StoredObject, WriteTx

_OBJECT_ID = re.compile(r"[A-Za-z0-9._~-]{1,4096}\Z")


def check_object_id(object_id: Any) -> str:
    if not isinstance(object_id, str) or not _OBJECT_ID.match(object_id):
        raise ApiError(104, f"Invalid objectId: {object_id!r}.")
    return object_id


def check_entity_class(principal: Principal, class_name: Any) -> str:
    """A valid class name this caller may replace or delete entities of."""
    check_class_name(class_name)
    if class_name in SYSTEM_CLASSES and not principal.master:
        raise ApiError(119, f"Entities of {class_name} need the master key.", 403)
    return class_name


def check_unhooked(hooks: Optional[ClassHooks], class_names: Iterable[str]) -> None:
    """Refuse classes with Engine class hooks (``hooks``: None when there is no Engine or
    the caller may skip hooks); see the module docstring."""
    if hooks is None:
        return
    for class_name in sorted(set(class_names)):
        if any(hooks.wants(class_name, hook) for hook in CLASS_HOOKS):
            raise ApiError(
                119,
                f"{class_name} has LeanEngine hooks, which entity writes do not run: "
                "write it through /1.1/classes, or with the master key.",
                403,
            )


def put_entity(
    tx: WriteTx,
    principal: Principal,
    class_name: str,
    object_id: str,
    body: Mapping[str, Any],
    if_absent: bool = False,
) -> Dict[str, Any]:
    """Replace (or create) one object inside ``tx``; see the module docstring."""
    check_entity_class(principal, class_name)
    check_object_id(object_id)
    acl_given, acl, fields = _split_acl(body)
    if any(is_op(value) for value in fields.values()):
        raise ApiError(107, "An entity body holds values, not operations.")
    existing = tx.get(class_name, object_id)
    if existing is not None and if_absent:
        return {"objectId": object_id, "created": False}
    changes = apply_changes({}, fields, creating=True)
    if changes.relations:
        raise ApiError(107, "An entity body cannot hold relations.")
    tx.ensure_fields(class_name, changes.field_types())
    stamp = now()
    if existing is None:
        tx.insert(StoredObject(class_name, object_id, stamp, stamp, changes.data, acl))
        return {"objectId": object_id, "createdAt": stamp, "created": True}
    check_write(principal, existing)
    existing.data, existing.updated_at = changes.data, stamp
    if acl_given:
        existing.acl = acl
    tx.update(existing)
    return {"objectId": object_id, "updatedAt": stamp, "created": False}
