"""``Role``: a named group of users and roles, granted access through ``role:<name>`` ACL keys.

A role's members are its ``users`` relation; the roles in its ``roles`` relation inherit
everything granted to it. LeanCloud requires an ACL on every role: a role created
without one gets public read access and no write access (only the master key can change
it), as in the official SDK.

Deliberate differences from the official SDK (same wire requests otherwise):

* Names may contain spaces, as LeanCloud's error message (and the JS SDK) say; an invalid
  name raises ``RoleNameError``, which is both LeanCloud's error 139 and the official
  SDK's ``TypeError``.
* The default ACL is given when a role is constructed with a name, or when a new role
  is saved without an ACL; ``Role()`` alone (as built for ``create_without_data`` and
  server answers) has no local ACL, so it can never send an ACL the server did not hold.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from leancloud.acl import ACL
from leancloud.errors import LeanCloudError
from leancloud.object_ import Object
from leancloud.relation import Relation

__all__ = ["INVALID_ROLE_NAME", "Role", "RoleNameError"]

INVALID_ROLE_NAME = 139
_NAME = re.compile(r"[0-9A-Za-z_\- ]+")


class RoleNameError(LeanCloudError, TypeError):
    """An invalid role name: LeanCloud's error 139, and a ``TypeError`` as in the official SDK."""


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RoleNameError(
            INVALID_ROLE_NAME,
            f"invalid role name {name!r}: a role's name can only contain alphanumeric "
            "characters, _, -, and spaces",
        )


def _default_acl() -> ACL:
    acl = ACL()
    acl.set_public_read_access(True)
    return acl


class Role(Object):
    """A LeanCloud role (class ``_Role``)."""

    def __init__(self, name: Optional[str] = None, acl: Optional[ACL] = None) -> None:
        super().__init__()
        if name is not None:
            self.set_name(name)
        if acl is not None:
            self.set_acl(acl)
        elif name is not None:
            self.set_acl(_default_acl())

    def validate(self, attrs: Dict[str, Any]) -> bool:
        if "name" in attrs:
            _check_name(attrs["name"])
        return super().validate(attrs)

    def _dump_save(self) -> Dict[str, Any]:
        # Every save goes through here (single and batched): the one place to make sure
        # a new role carries the ACL LeanCloud requires.
        if self.is_new() and self.get_acl() is None:
            self.set_acl(_default_acl())
        return super()._dump_save()

    @property
    def name(self) -> Optional[str]:
        return self.get("name")

    @name.setter
    def name(self, name: str) -> None:
        self.set("name", name)

    def get_name(self) -> Optional[str]:
        return self.get("name")

    def set_name(self, name: str) -> Role:
        return self.set("name", name)

    @property
    def users(self) -> Relation:
        """The users directly in this role."""
        return self.relation("users")

    def get_users(self) -> Relation:
        return self.relation("users")

    @property
    def roles(self) -> Relation:
        """The roles that inherit this role's permissions."""
        return self.relation("roles")

    def get_roles(self) -> Relation:
        return self.relation("roles")
