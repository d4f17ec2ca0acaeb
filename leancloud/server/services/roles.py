"""Roles: ``_Role`` objects with the rules LeanCloud adds to the generic object ones.

* ``name`` is required, made of letters, digits, ``_``, ``-`` and spaces (139), unique
  (137, checked inside the insert's transaction) and never changes after creation
  (139): ACLs grant access by ``role:<name>``, so renaming would silently move rights.
* An ``ACL`` is required on creation and cannot be removed later
  (``{"code": 1, "error": "Role ACL is required."}``).
* ``users`` (Relation to ``_User``) and ``roles`` (Relation to ``_Role``) are ordinary
  relations; ``Storage.role_names`` reads them (with inheritance) when a request's
  ``Principal`` is built.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import parse_query
from leancloud.server.services import objects
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

ROLE_CLASS = "_Role"
_NAME = re.compile(r"[0-9A-Za-z_\- ]+\Z")
_ACL_REQUIRED = "Role ACL is required."


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ApiError(
            139,
            "Invalid role name: a role's name can only contain alphanumeric characters, "
            "_, -, and spaces.",
        )
    return name


def _acl_removed(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and value.get("__op") == "Delete")


def _check_unique(tx: WriteTx, role: StoredObject) -> None:
    query = parse_query(
        ROLE_CLASS, {"where": {"name": role.data["name"]}, "limit": 1, "keys": "objectId"}
    )
    if tx.find(query, MASTER):
        raise ApiError(137, f"A role named {role.data['name']!r} already exists.")


def create_role(
    storage: Storage, principal: Principal, body: Mapping[str, Any], fetch: bool = False
) -> dict:
    """A new role: ``{"objectId", "createdAt"}`` (or the whole role with ``fetch``)."""
    check_name(body.get("name"))
    if _acl_removed(body.get("ACL")):
        raise ApiError(1, _ACL_REQUIRED)
    return objects.create_object(storage, principal, ROLE_CLASS, body, fetch, _check_unique)


def _stored_name(storage: Storage, role_id: str) -> Optional[str]:
    """The role's name; read outside the write, which is safe because it never changes."""
    query = parse_query(ROLE_CLASS, {"where": {"objectId": role_id}, "limit": 1, "keys": "name"})
    rows = storage.find(query, MASTER)
    return rows[0].get("name") if rows else None


def update_role(
    storage: Storage,
    principal: Principal,
    role_id: str,
    body: Mapping[str, Any],
    where: Any = None,
    fetch: bool = False,
) -> dict:
    """A PUT on a role: the generic update, except that the name and the ACL must stay."""
    if "ACL" in body and _acl_removed(body["ACL"]):
        raise ApiError(1, _ACL_REQUIRED)
    if "name" in body:
        current = _stored_name(storage, role_id)  # None: the update answers "not found"
        if current is not None and body["name"] != current:
            raise ApiError(139, "A role's name cannot be changed.")
    return objects.update_object(storage, principal, ROLE_CLASS, role_id, body, where, fetch)
