"""The storage contract: what services may ask of a database, and nothing about SQL.

Values are wire JSON. Reads apply the principal's read ACL inside the database query
(so ``limit``, ``skip``, ``count``, ``include`` and subqueries all obey it). Writes run in
one transaction that holds the database's write lock, so a read-modify-write inside
``write()`` is atomic.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ContextManager, Dict, FrozenSet, List, Optional, Sequence, Tuple

from leancloud.server.principal import Principal
from leancloud.server.query.ast import Node, Query

__all__ = ["ACL", "ImportOutcome", "Storage", "StoredObject", "WriteTx"]

ACL = Dict[str, Dict[str, bool]]
ImportOutcome = str  # "inserted", "updated" or "skipped"


@dataclass
class StoredObject:
    class_name: str
    object_id: str
    created_at: str  # "YYYY-MM-DDTHH:MM:SS.mmmZ"
    updated_at: str
    data: Dict[str, Any] = field(default_factory=dict)  # fields, wire JSON, no builtins/ACL
    acl: Optional[ACL] = None  # None = no ACL = open to everyone


class Reader(abc.ABC):
    """Reads shared by ``Storage`` (autocommit) and ``WriteTx`` (inside the transaction)."""

    @abc.abstractmethod
    def find(self, query: Query, principal: Principal) -> List[dict]:
        """Wire objects (``objectId``, ``createdAt``, ``updatedAt``, fields), ACL-filtered."""

    @abc.abstractmethod
    def count(self, query: Query, principal: Principal) -> int:
        """How many objects match, ignoring limit and skip."""


class Storage(Reader):
    @abc.abstractmethod
    def scan(
        self, query: Query, scan_key: str, cursor: Optional[str], principal: Principal
    ) -> Tuple[List[dict], Optional[str]]:
        """One page of ``query.limit`` rows ordered by ``scan_key`` (``-field`` = descending)
        and the next cursor (None at the end); ``query``'s order and skip are not used, its
        where, keys and returnACL are, as in ``find``."""

    @abc.abstractmethod
    def role_names(self, user_id: str) -> FrozenSet[str]:
        """Names of the user's roles, including every role they inherit."""

    @abc.abstractmethod
    def session_user(self, token: str) -> Optional[str]:
        """The id of the user owning this session token, if any."""

    @abc.abstractmethod
    def schema(self, class_name: Optional[str] = None) -> Dict[str, Dict[str, dict]]:
        """``{"Class": {"field": {"type": "String"}, ...}}``, builtin fields included."""

    @abc.abstractmethod
    def class_exists(self, class_name: str) -> bool: ...

    @abc.abstractmethod
    def dump(self, class_name: str, after_id: Optional[str], limit: int) -> List[StoredObject]:
        """Raw objects (hidden fields included) with ids after ``after_id``, in id order.

        For exports: a page per call, so a huge class never sits in memory.
        """

    @abc.abstractmethod
    def dump_relations(
        self, class_name: str, field: str, after: Optional[Tuple[str, str]], limit: int
    ) -> List[Tuple[str, str, str]]:
        """``(owner_id, target_class, target_id)`` rows of one Relation column after
        ``after = (owner_id, target_id)``, in that order."""

    @abc.abstractmethod
    def write(self) -> ContextManager["WriteTx"]:
        """One transaction: committed when the block ends, rolled back if it raises."""


class WriteTx(Reader):
    @abc.abstractmethod
    def get(self, class_name: str, object_id: str) -> Optional[StoredObject]:
        """The raw object (hidden fields included, no ACL check), or None."""

    @abc.abstractmethod
    def matches(self, class_name: str, object_id: str, where: Optional[Node]) -> bool:
        """Whether the object exists and matches ``where`` (conditional writes)."""

    @abc.abstractmethod
    def insert(self, obj: StoredObject) -> None: ...

    @abc.abstractmethod
    def update(self, obj: StoredObject) -> None:
        """Replace the object's data, ACL and updatedAt (ApiError 101 if it does not exist)."""

    @abc.abstractmethod
    def delete(self, class_name: str, object_id: str) -> None:
        """Delete the object with its relation rows and read-ACL entries."""

    @abc.abstractmethod
    def ensure_fields(self, class_name: str, types: Dict[str, dict]) -> None:
        """Add new fields to the schema; ApiError 111 when a field already has another type."""

    @abc.abstractmethod
    def relation_add(
        self,
        class_name: str,
        field: str,
        owner_id: str,
        target_class: str,
        target_ids: Sequence[str],
    ) -> None: ...

    @abc.abstractmethod
    def relation_remove(
        self, class_name: str, field: str, owner_id: str, target_ids: Sequence[str]
    ) -> None: ...

    def import_objects(self, objects: Sequence[StoredObject]) -> List[ImportOutcome]:
        """Write objects as given (objectId, createdAt, updatedAt kept), one outcome each:
        a new id is inserted, a known one updated only when its ``updated_at`` is newer
        (so re-running an import changes nothing). Adapters override this with a bulk
        version; this one is the reference behaviour."""
        outcomes = []
        for obj in objects:
            current = self.get(obj.class_name, obj.object_id)
            if current is None:
                self.insert(obj)
                outcomes.append("inserted")
            elif obj.updated_at > current.updated_at:
                self.update(obj)
                outcomes.append("updated")
            else:
                outcomes.append("skipped")
        return outcomes

    @abc.abstractmethod
    def import_relations(
        self, class_name: str, field: str, rows: Sequence[Tuple[str, str, str]]
    ) -> int:
        """Add ``(owner_id, target_class, target_id)`` memberships; answers how many were new."""

    @abc.abstractmethod
    def set_session(self, user_id: str, token: str) -> None:
        """Make ``token`` the user's one session token (replacing any previous one)."""
