"""Who is asking: resolved once per request, then handed to every read and write.

Storage filters rows with ``acl_keys()``; services check write ACLs with it. Role
inheritance is applied before a ``Principal`` is built (``Storage.role_names``), so
nothing downstream walks the role graph again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional, Tuple

__all__ = ["ANONYMOUS", "MASTER", "Principal"]


@dataclass(frozen=True)
class Principal:
    master: bool = False
    user_id: Optional[str] = None
    roles: FrozenSet[str] = frozenset()

    def acl_keys(self) -> Tuple[str, ...]:
        """The ACL keys that grant this principal access: ``*``, its user id, ``role:<name>``."""
        keys = ["*"]
        if self.user_id:
            keys.append(self.user_id)
        keys.extend("role:" + name for name in sorted(self.roles))
        return tuple(keys)


ANONYMOUS = Principal()
MASTER = Principal(master=True)
