"""Access control lists: who may read and write one object.

The wire form maps ``"*"``, user ids and ``"role:<name>"`` to ``{"read": true,
"write": true}``. As in the official SDK, revoking a permission removes its key (and an
entry left empty) instead of storing ``false``.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional

__all__ = ["ACL", "PUBLIC_KEY"]

PUBLIC_KEY = "*"

Permissions = Dict[str, Dict[str, bool]]


def _principal_key(user_or_id: Any) -> str:
    """A user id, ``"*"`` or ``"role:<name>"`` for a str, a User or a Role."""
    if isinstance(user_or_id, str):
        return user_or_id
    class_name = getattr(user_or_id, "_class_name", None)
    if class_name == "_Role":
        return "role:" + _role_name(user_or_id)
    if class_name is not None:
        object_id = getattr(user_or_id, "id", None)
        if not object_id:
            raise ValueError("the user must be saved before it can be granted access")
        return object_id
    raise TypeError(f"expected a user id, a User or a Role, not {user_or_id!r}")


def _role_name(role: Any) -> str:
    if isinstance(role, str):
        return role
    if getattr(role, "_class_name", None) != "_Role":
        raise TypeError(f"role must be a leancloud.Role or a role name, not {role!r}")
    get_name = getattr(role, "get_name", None)
    name = get_name() if get_name is not None else role.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("the role has no name")
    return name


class ACL:
    """Read/write permissions for the public, users and roles."""

    def __init__(self, permissions_by_id: Optional[Permissions] = None) -> None:
        if permissions_by_id is not None and not isinstance(permissions_by_id, dict):
            raise TypeError(f"ACL takes a dict of permissions, not {permissions_by_id!r}")
        self.permissions_by_id: Permissions = (
            copy.deepcopy(permissions_by_id) if permissions_by_id else {}
        )

    def dump(self) -> Permissions:
        """The wire form (a copy: changing it does not change the ACL)."""
        return copy.deepcopy(self.permissions_by_id)

    def _lc_encode(self, dump_objects: bool = False) -> Permissions:
        return self.dump()

    def _set_access(self, access_type: str, key: str, allowed: bool) -> None:
        if allowed:
            self.permissions_by_id.setdefault(key, {})[access_type] = True
            return
        permissions = self.permissions_by_id.get(key)
        if permissions is None:
            return
        permissions.pop(access_type, None)
        if not permissions:
            del self.permissions_by_id[key]

    def _get_access(self, access_type: str, key: str) -> bool:
        return bool(self.permissions_by_id.get(key, {}).get(access_type, False))

    def set_read_access(self, user_id: Any, allowed: bool) -> None:
        self._set_access("read", _principal_key(user_id), allowed)

    def get_read_access(self, user_id: Any) -> bool:
        return self._get_access("read", _principal_key(user_id))

    def set_write_access(self, user_id: Any, allowed: bool) -> None:
        self._set_access("write", _principal_key(user_id), allowed)

    def get_write_access(self, user_id: Any) -> bool:
        return self._get_access("write", _principal_key(user_id))

    def set_public_read_access(self, allowed: bool) -> None:
        self._set_access("read", PUBLIC_KEY, allowed)

    def get_public_read_access(self) -> bool:
        return self._get_access("read", PUBLIC_KEY)

    def set_public_write_access(self, allowed: bool) -> None:
        self._set_access("write", PUBLIC_KEY, allowed)

    def get_public_write_access(self) -> bool:
        return self._get_access("write", PUBLIC_KEY)

    def set_role_read_access(self, role: Any, allowed: bool) -> None:
        self._set_access("read", "role:" + _role_name(role), allowed)

    def get_role_read_access(self, role: Any) -> bool:
        return self._get_access("read", "role:" + _role_name(role))

    def set_role_write_access(self, role: Any, allowed: bool) -> None:
        self._set_access("write", "role:" + _role_name(role), allowed)

    def get_role_write_access(self, role: Any) -> bool:
        return self._get_access("write", "role:" + _role_name(role))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ACL):
            return NotImplemented
        return self.permissions_by_id == other.permissions_by_id

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ACL({self.permissions_by_id!r})"
