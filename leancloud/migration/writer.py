"""Write one batch of exported rows into a storage: one transaction per batch.

The same functions serve ``leancloud import --data`` (called directly) and a running
server's ``POST /1.1/import`` (called by its handler), so both targets validate and
count rows identically. A row that cannot be stored fails alone: the others in its
batch are still written. A dry run does all the work and rolls the transaction back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from leancloud.migration.records import (
    Membership,
    RowError,
    is_stamped,
    schema_types,
    to_membership,
    to_stored,
)
from leancloud.server.errors import ApiError
from leancloud.server.services.users import USER_CLASS, find_user_ids
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

__all__ = ["BatchResult", "write_objects", "write_relations", "write_schema"]


@dataclass
class BatchResult:
    """What one batch did; ``failed`` holds ``(index in the batch, message)``."""

    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    failed: List[Tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": [list(item) for item in self.failed],
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "BatchResult":
        return cls(
            value.get("inserted", 0),
            value.get("updated", 0),
            value.get("skipped", 0),
            [(int(index), str(message)) for index, message in value.get("failed", [])],
        )


# Each names one user at log-in (authData too, but unindexed: checking it per row would
# make a big _User import quadratic).
_UNIQUE_USER_FIELDS = ("username", "email", "mobilePhoneNumber")


class _Rollback(Exception):
    """Raised to end a dry run's transaction without committing it."""


class _Transaction:
    """``storage.write()`` that rolls back instead of committing on a dry run."""

    def __init__(self, storage: Storage, dry_run: bool) -> None:
        self._storage = storage
        self._dry_run = dry_run

    def run(self, work) -> BatchResult:
        result: Optional[BatchResult] = None
        try:
            with self._storage.write() as tx:
                result = work(tx)
                if self._dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        assert result is not None
        return result


def _same_type(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a.get("type"), a.get("className")) == (b.get("type"), b.get("className"))


def _type_conflict(known: Dict[str, dict], types: Mapping[str, dict]) -> Optional[str]:
    for name, spec in types.items():
        current = known.get(name)
        if current is None or current == spec:  # the common case, one C comparison
            continue
        if not _same_type(current, spec):
            return f"field '{name}' is {current['type']} in the schema, this row has {spec['type']}"
    return None


def _user_conflict(
    tx: WriteTx, obj: StoredObject, claimed: Dict[Tuple[str, str], str]
) -> Optional[str]:
    """Another user (stored, or earlier in the batch) with this username, email or phone:
    a log-in must find one user. ``claimed`` maps (field, value) to the batch's user."""
    values = [(name, obj.data.get(name)) for name in _UNIQUE_USER_FIELDS]
    values = [(name, value) for name, value in values if isinstance(value, str) and value]
    for name, value in values:
        owners = [claimed.get((name, value)), *find_user_ids(tx, name, value)]
        other = next((i for i in owners if i and i != obj.object_id), None)
        if other:
            return f"{name} {value!r} belongs to another user ({other})"
    claimed.update(((name, value), obj.object_id) for name, value in values)
    return None


def _prepare(
    storage: Storage, tx: WriteTx, class_name: str, rows: Sequence[Any], result: BatchResult
) -> Tuple[List[StoredObject], Dict[str, dict]]:
    """Valid rows as objects plus the schema they add; bad rows go to ``result.failed``,
    unstamped rows whose object exists are skipped."""
    known = dict(storage.schema(class_name).get(class_name, {}))
    claimed: Dict[Tuple[str, str], str] = {}
    added: Dict[str, dict] = {}
    objects: List[StoredObject] = []
    for index, row in enumerate(rows):
        try:
            obj, types = to_stored(class_name, row)
        except RowError as exc:
            result.failed.append((index, str(exc)))
            continue
        if not is_stamped(row) and tx.get(class_name, obj.object_id) is not None:
            result.skipped += 1
            continue
        conflict = _type_conflict(known, types) or (
            _user_conflict(tx, obj, claimed) if class_name == USER_CLASS else None
        )
        if conflict:
            result.failed.append((index, conflict))
            continue
        new = {name: spec for name, spec in types.items() if name not in known}
        known.update(new)
        added.update(new)
        objects.append(obj)
    return objects, added


def _sessions(
    objects: Sequence[StoredObject], outcomes: Sequence[str]
) -> Iterator[Tuple[str, str]]:
    """Exported session tokens of users just written: they keep working after the move."""
    for obj, outcome in zip(objects, outcomes):
        token = obj.data.get("sessionToken")
        if outcome != "skipped" and isinstance(token, str) and token:
            yield obj.object_id, token


def write_objects(
    storage: Storage, class_name: str, rows: Sequence[Any], dry_run: bool = False
) -> BatchResult:
    """Store rows of one class: new ids inserted, newer ``updatedAt`` updated, rest skipped."""
    result = BatchResult()

    def work(tx: WriteTx) -> BatchResult:
        objects, added = _prepare(storage, tx, class_name, rows, result)
        if added:
            tx.ensure_fields(class_name, added)
        outcomes = tx.import_objects(objects) if objects else []
        if class_name == USER_CLASS:
            for user_id, token in _sessions(objects, outcomes):
                tx.set_session(user_id, token)
        result.inserted += outcomes.count("inserted")
        result.updated += outcomes.count("updated")
        result.skipped += outcomes.count("skipped")
        return result

    return _Transaction(storage, dry_run).run(work)


def write_relations(
    storage: Storage,
    class_name: str,
    field_name: str,
    rows: Sequence[Any],
    dry_run: bool = False,
    target_class: Optional[str] = None,
) -> BatchResult:
    """Add relation memberships of ``class_name.field_name``; existing ones are skipped.

    The target class comes from the schema, else ``target_class`` (what the import saw
    in the rows' Relation placeholders), else the first row's ``relatedClassName``;
    rows naming another class fail, as do all rows when the field is not a Relation."""
    result = BatchResult()

    def work(tx: WriteTx) -> BatchResult:
        spec = storage.schema(class_name).get(class_name, {}).get(field_name) or {}
        if spec and spec.get("type") != "Relation":
            message = f"field '{field_name}' is {spec.get('type')} in the schema, not a Relation"
            result.failed.extend((index, message) for index in range(len(rows)))
            return result
        default_target = spec.get("className") or target_class
        memberships: List[Membership] = []
        for index, row in enumerate(rows):
            try:
                memberships.append(to_membership(row, default_target))
            except RowError as exc:
                result.failed.append((index, str(exc)))
                continue
            default_target = memberships[-1][1]
        if memberships and not spec:
            target = memberships[0][1]
            tx.ensure_fields(class_name, {field_name: {"type": "Relation", "className": target}})
        added = tx.import_relations(class_name, field_name, memberships) if memberships else 0
        result.inserted += added
        result.skipped += len(memberships) - added
        return result

    return _Transaction(storage, dry_run).run(work)


def write_schema(
    storage: Storage, schema: Mapping[str, Mapping[str, Any]], dry_run: bool = False
) -> BatchResult:
    """Declare classes and fields from an exported schema (``/1.1/schemas`` shape), so
    empty classes and never-set fields survive the move; a failure per field left out
    (unknown type, Pointer without its class) and per class refused."""
    result = BatchResult()

    def work(tx: WriteTx) -> BatchResult:
        for index, (class_name, fields) in enumerate(schema.items()):
            types, problems = schema_types(class_name, fields)
            result.failed.extend((index, f"{class_name}: {problem}") for problem in problems)
            if not isinstance(fields, dict):
                continue
            try:
                tx.ensure_fields(class_name, types)
            except ApiError as exc:
                result.failed.append((index, f"{class_name}: {exc.message}"))
                continue
            result.inserted += 1
        return result

    return _Transaction(storage, dry_run).run(work)
