"""The SQLite storage adapter (stdlib ``sqlite3`` with its JSON functions).

Schema::

    objects(class, id, created_at, updated_at, data, acl, public_read)
        PRIMARY KEY (class, id), WITHOUT ROWID. ``data`` is the fields' wire JSON
        (Dates normalised to ``YYYY-MM-DDTHH:MM:SS.mmmZ``), ``acl`` the ACL JSON or NULL
        (open), ``public_read`` 1 when the ACL is NULL or grants ``*`` read.
        Partial expression indexes make ``_User`` lookups by username, email and
        mobilePhoneNumber indexed.
    readers(class, object_id, principal)
        One row per non-``*`` ACL key granting read; a query keeps a row when
        ``public_read = 1 OR EXISTS (SELECT 1 FROM readers WHERE class = row.class AND
        object_id = row.id AND principal IN (<the principal's ACL keys>))``: one primary
        key probe per non-public candidate row.
    relations(class, field, owner_id, target_class, target_id)
        Relation columns; indexed both ways (``$relatedTo`` and reverse lookups).
    classes(name), schema_fields(class, field, type, target_class)
        The schema, cached per process and invalidated by the commit that changes it;
        classes and fields new to a process's cache are checked against the database.
    sessions(token, user_id)
        One session token per user.

Durability: WAL with ``synchronous=FULL`` by default. NORMAL already keeps every
acknowledged write across a process kill (the WAL is written before COMMIT returns);
FULL also fsyncs each commit, so acknowledged writes survive an OS crash or power
loss too, as PostgreSQL's default does. Pass ``synchronous="NORMAL"`` to trade that
for write latency.

Statements: a find is one statement (sorted ones sort narrow rows, then fetch the page's
objects), plus one per include level, plus one per batch of objects holding File values.
Reads past ``query_timeout`` are interrupted by SQLite's progress handler (error 124).

Connections: a small pool, one connection per thread at a time (the server is
threaded; sqlite3 connections are not shared between concurrent threads); a write
transaction pins its connection to its thread, so reads inside it see its writes.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Optional, Sequence, Tuple

from leancloud.server.errors import ApiError
from leancloud.server.names import check_class_name, check_field_name
from leancloud.server.principal import Principal
from leancloud.server.query.ast import BUILTIN_COLUMNS, Node, Query
from leancloud.server.query.rest import resolve_redirect
from leancloud.server.query.where import normalize_iso, parse_path
from leancloud.server.storage.base import ACL, Storage, StoredObject, WriteTx
from leancloud.server.storage.output import Ref, clean, expand_files, include, project
from leancloud.server.storage.sqlite_where import (
    OBJECT_COLUMNS,
    TRUE,
    Compiler,
    register_functions,
    source,
)

__all__ = ["SQLiteStorage"]

_DDL = """
CREATE TABLE IF NOT EXISTS objects (
    class TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    data TEXT NOT NULL, acl TEXT, public_read INTEGER NOT NULL,
    PRIMARY KEY (class, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_user_username ON objects (json_extract(data, '$.username')) WHERE class = '_User';
CREATE INDEX IF NOT EXISTS objects_user_email ON objects (json_extract(data, '$.email')) WHERE class = '_User';
CREATE INDEX IF NOT EXISTS objects_user_phone ON objects (json_extract(data, '$.mobilePhoneNumber')) WHERE class = '_User';
CREATE TABLE IF NOT EXISTS readers (
    class TEXT NOT NULL, object_id TEXT NOT NULL, principal TEXT NOT NULL,
    PRIMARY KEY (class, object_id, principal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS relations (
    class TEXT NOT NULL, field TEXT NOT NULL, owner_id TEXT NOT NULL,
    target_class TEXT NOT NULL, target_id TEXT NOT NULL,
    PRIMARY KEY (class, field, owner_id, target_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_by_target ON relations (class, field, target_id, target_class, owner_id);
CREATE TABLE IF NOT EXISTS classes (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schema_fields (
    class TEXT NOT NULL, field TEXT NOT NULL, type TEXT NOT NULL, target_class TEXT,
    PRIMARY KEY (class, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
"""

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_MAX_IDLE_CONNECTIONS = 16
_PROGRESS_STEPS = 10000  # SQLite VM steps between deadline checks
_OPEN_ACL = {"*": {"read": True, "write": True}}
_RESERVED = BUILTIN_COLUMNS | {"ACL"}
# How a File value starts in the stored JSON (compact, typed values' __type first).
_FILE_MARK = '"__type":"File"'
BUILTIN_FIELDS: Dict[str, dict] = {
    "objectId": {"type": "String"},
    "createdAt": {"type": "Date"},
    "updatedAt": {"type": "Date"},
    "ACL": {"type": "ACL"},
}
_STRING, _BOOLEAN = {"type": "String"}, {"type": "Boolean"}
SYSTEM_SCHEMAS: Dict[str, Dict[str, dict]] = {
    "_User": {
        "username": _STRING,
        "password": _STRING,
        "email": _STRING,
        "emailVerified": _BOOLEAN,
        "mobilePhoneNumber": _STRING,
        "mobilePhoneVerified": _BOOLEAN,
        "authData": {"type": "Object"},
    },
    "_Role": {
        "name": _STRING,
        "users": {"type": "Relation", "className": "_User"},
        "roles": {"type": "Relation", "className": "_Role"},
    },
    "_File": {
        "name": _STRING,
        "url": _STRING,
        "key": _STRING,
        "mime_type": _STRING,
        "bucket": _STRING,
        "provider": _STRING,
        "metaData": {"type": "Object"},
    },
    "_Installation": {
        "deviceType": _STRING,
        "deviceToken": _STRING,
        "installationId": _STRING,
        "channels": {"type": "Array"},
        "badge": {"type": "Number"},
        "timeZone": _STRING,
    },
}

Schema = Dict[str, Dict[str, dict]]  # class -> field -> {"type", "className"?}, without builtins


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _data_json(data: Dict[str, Any]) -> str:
    """The ``data`` column: fields only (builtins live in columns), Dates normalised."""
    return _dumps({key: _normalized(value) for key, value in data.items() if key not in _RESERVED})


def _normalized(value: Any) -> Any:
    """A copy of wire JSON with every Date's iso in LeanCloud's form (text order = time order)
    and typed values' keys in one order, so equal Pointers are equal JSON text ($select)."""
    if isinstance(value, dict):
        type_name = value.get("__type")
        if type_name is None:
            return {key: _normalized(item) for key, item in value.items()}
        if type_name == "Date":
            value = {**value, "iso": normalize_iso(value.get("iso"))}
        return {"__type": type_name, **{key: _normalized(value[key]) for key in sorted(value)}}
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def _acl_columns(acl: Optional[ACL]) -> Tuple[Optional[str], int, List[str]]:
    """(acl JSON, public_read, reader keys other than ``*``)."""
    if acl is None:
        return None, 1, []
    readers = [
        key
        for key, grants in acl.items()
        if isinstance(grants, dict) and grants.get("read") is True
    ]
    public = "*" in readers
    return _dumps(acl), int(public), [key for key in readers if key != "*"]


def _wire(row: Sequence[Any]) -> Dict[str, Any]:
    """(id, created_at, updated_at, data[, acl]) -> a wire object."""
    obj = {"objectId": row[0], "createdAt": row[1], "updatedAt": row[2]}
    obj.update(json.loads(row[3]))
    if len(row) > 4:
        obj["ACL"] = json.loads(row[4]) if row[4] is not None else dict(_OPEN_ACL)
    return obj


def _encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(_dumps(value).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> Any:
    """The previous page's last key value: cursors come back from clients, who may send
    anything, so only a value SQLite can bind is accepted (else error 1, not a 500)."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError):
        value = ()
    if not _bindable(value):
        raise ApiError(1, "Invalid scan cursor.")
    return value


def _bindable(value: Any) -> bool:
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return value is None or isinstance(value, (str, float))


class _Connection(sqlite3.Connection):
    """A connection that interrupts a statement running past its ``deadline``."""

    deadline: Optional[float] = None

    def expired(self) -> int:
        return 1 if self.deadline is not None and time.monotonic() > self.deadline else 0


class _Reads:
    """Queries over one connection: shared by the storage (autocommit) and a transaction."""

    def __init__(self, storage: "SQLiteStorage", conn: "_Connection") -> None:
        self._storage = storage
        self._conn = conn

    def _schema(self) -> Schema:
        return self._storage._schema_cache()

    def _field_type(self, class_name: str, field: str) -> Optional[dict]:
        return self._schema().get(class_name, {}).get(field)

    def _relations(self, class_name: str) -> Dict[str, str]:
        fields = self._schema().get(class_name, {})
        return {
            name: spec["className"] for name, spec in fields.items() if spec["type"] == "Relation"
        }

    def _compiler(self, principal: Principal) -> Compiler:
        return Compiler(None if principal.master else principal.acl_keys(), self._field_type)

    def find(self, query: Query, principal: Principal) -> List[dict]:
        if query.limit == 0:
            return []
        query = resolve_redirect(query, self._field_type)
        columns = OBJECT_COLUMNS.format(a="o") + (", o.acl" if query.return_acl else "")
        sql, params = self._compiler(principal).page(query, "o", (columns, []))
        return self._present(self._objects(self._query(sql, params)), query, principal)

    def count(self, query: Query, principal: Principal) -> int:
        sql, params = self._compiler(principal).count(resolve_redirect(query, self._field_type))
        return self._query(sql, params)[0][0]

    def _present(self, objects: List[dict], query: Query, principal: Principal) -> List[dict]:
        relations = self._relations(query.class_name)
        for obj in objects:
            clean(obj, query.class_name, principal, relations)
        if query.include:
            include(objects, query.include, lambda refs: self._fetch(refs, principal))
        if query.keys or query.exclude_keys:
            keys = query.keys
            if keys:  # included pointers stay, unless a key already narrows them
                roots = {path[0] for path in keys}
                keys = keys + tuple((path[0],) for path in query.include if path[0] not in roots)
            objects = [project(obj, keys, query.exclude_keys) for obj in objects]
        return objects

    def _fetch(self, refs: List[Ref], principal: Principal) -> Dict[Ref, dict]:
        """Readable objects of any classes by (class, id): one statement for all of them."""
        compiler = self._compiler(principal)
        acl_sql, acl_params = compiler.readable("o")
        sql = (
            "SELECT o.class, o.id, o.created_at, o.updated_at, o.data FROM objects o WHERE (o.class, o.id) IN"
            " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
            f" AND {acl_sql}"
        )
        rows = self._query(sql, [_dumps(refs)] + acl_params)
        objects = self._objects([row[1:] for row in rows])
        return {
            (row[0], row[1]): clean(obj, row[0], principal, self._relations(row[0]))
            for row, obj in zip(rows, objects)
        }

    def _query(self, sql: str, params: Sequence[Any]) -> List[tuple]:
        """Run a read; past the storage's query timeout SQLite interrupts it -> ApiError 124."""
        self._conn.deadline = time.monotonic() + self._storage.query_timeout
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                raise ApiError(124, "The request timed out on the server.") from None
            raise
        finally:
            self._conn.deadline = None

    def _objects(self, rows: Sequence[Sequence[Any]]) -> List[dict]:
        """Rows (id, created_at, updated_at, data, ...) -> wire objects, their File values
        expanded; only rows whose stored JSON mentions a File are walked (one query for all)."""
        objects = [_wire(row) for row in rows]
        with_files = [obj for obj, row in zip(objects, rows) if _FILE_MARK in row[3]]
        if with_files:
            expand_files(with_files, self._files)
        return objects

    def _files(self, ids: List[str]) -> Dict[str, dict]:
        sql = f"SELECT {OBJECT_COLUMNS.format(a='o')} FROM objects o WHERE o.class = ? AND o.id IN (SELECT value FROM json_each(?))"
        return {row[0]: _wire(row) for row in self._query(sql, ["_File", _dumps(ids)])}


class SQLiteStorage(Storage):
    """``SQLiteStorage(path)``. Reads running past ``query_timeout`` seconds fail with 124;
    ``on_connect`` is called with each new connection (tracing, tests)."""

    def __init__(
        self,
        path: str,
        synchronous: str = "FULL",
        busy_timeout: float = 10.0,
        query_timeout: float = 10.0,
        on_connect: Optional[Callable[[sqlite3.Connection], None]] = None,
    ) -> None:
        if str(path) == ":memory:" or not str(path):
            raise ValueError("SQLiteStorage needs a database file: pooled connections share it")
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {_SYNCHRONOUS}, not {synchronous!r}")
        self.path = str(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self.query_timeout = query_timeout
        self._on_connect = on_connect
        self._lock = threading.Lock()
        self._idle: List[_Connection] = []
        self._local = threading.local()
        self._schema: Optional[Schema] = None
        self._schema_generation = 0
        with self._pooled() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_DDL)

    # --- connections ----------------------------------------------------------

    def _connect(self) -> _Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=512,
            factory=_Connection,
        )
        conn.set_progress_handler(conn.expired, _PROGRESS_STEPS)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        register_functions(conn)
        if self._on_connect is not None:
            self._on_connect(conn)
        return conn

    @contextmanager
    def _pooled(self) -> Iterator[_Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # never hand a half-finished transaction to the next user
                conn.rollback()
            with self._lock:
                if len(self._idle) < _MAX_IDLE_CONNECTIONS:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    @contextmanager
    def _reads(self) -> Iterator[_Reads]:
        """The current thread's transaction if it has one (read-your-writes), else a pooled connection."""
        tx = getattr(self._local, "tx", None)
        if tx is not None:
            yield tx
            return
        with self._pooled() as conn:
            yield _Reads(self, conn)

    def close(self) -> None:
        """Close idle connections (connections in use close when returned past the pool size)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # --- schema cache -----------------------------------------------------------

    def _schema_cache(self) -> Schema:
        """Every class's fields (system fields included, builtins excluded), loaded once per change."""
        schema = self._schema
        if schema is not None:
            return schema
        generation = self._schema_generation
        with self._pooled() as conn:  # committed state only, never a transaction's
            schema = {name: dict(fields) for name, fields in SYSTEM_SCHEMAS.items()}
            for (name,) in conn.execute("SELECT name FROM classes"):
                schema.setdefault(name, {})
            for class_name, field, type_name, target in conn.execute(
                "SELECT class, field, type, target_class FROM schema_fields"
            ):
                schema.setdefault(class_name, {})[field] = _spec(type_name, target)
        with self._lock:
            if generation == self._schema_generation:
                self._schema = schema
        return schema

    def _invalidate_schema(self) -> None:
        with self._lock:
            self._schema_generation += 1
            self._schema = None

    # --- reads ------------------------------------------------------------------

    def find(self, query: Query, principal: Principal) -> List[dict]:
        with self._reads() as reads:
            return reads.find(query, principal)

    def count(self, query: Query, principal: Principal) -> int:
        with self._reads() as reads:
            return reads.count(query, principal)

    def scan(
        self, query: Query, scan_key: str, cursor: Optional[str], principal: Principal
    ) -> Tuple[List[dict], Optional[str]]:
        """Pages ordered by a strictly monotonic key; the cursor encodes the last key value."""
        check_class_name(query.class_name)
        descending = scan_key.startswith("-")
        path = parse_path(scan_key[1:] if descending else scan_key)
        query = replace(query, order=((path, descending),), skip=0)
        key_sql, key_params = source("o", path, query.class_name).sort_key()
        after = TRUE
        if cursor:
            after = (
                f"{key_sql} {'<' if descending else '>'} ?",
                key_params + [_decode_cursor(cursor)],
            )
        columns = OBJECT_COLUMNS.format(a="o") + (", o.acl" if query.return_acl else "")
        columns += ", " + key_sql
        with self._reads() as reads:
            sql, params = reads._compiler(principal).select(
                query, "o", (columns, key_params), after
            )
            rows = reads._query(sql, params)
            objects = reads._present(reads._objects([row[:-1] for row in rows]), query, principal)
        next_cursor = _encode_cursor(rows[-1][-1]) if rows and len(rows) == query.limit else None
        return objects, next_cursor

    def role_names(self, user_id: str) -> FrozenSet[str]:
        """Roles whose ``users`` hold the user, then every role whose ``roles`` hold one of those."""
        sql = """
            WITH RECURSIVE member(id) AS (
                SELECT owner_id FROM relations
                WHERE class = ? AND field = ? AND target_class = ? AND target_id = ?
                UNION
                SELECT r.owner_id FROM relations r JOIN member m ON r.target_id = m.id
                WHERE r.class = ? AND r.field = ?
            )
            SELECT json_extract(o.data, '$.name') FROM member m JOIN objects o ON o.class = ? AND o.id = m.id
        """
        params = ["_Role", "users", "_User", user_id, "_Role", "roles", "_Role"]
        with self._reads() as reads:
            rows = reads._conn.execute(sql, params).fetchall()
        return frozenset(name for (name,) in rows if isinstance(name, str))

    def session_user(self, token: str) -> Optional[str]:
        with self._reads() as reads:
            row = reads._conn.execute(
                "SELECT user_id FROM sessions WHERE token = ?", [token]
            ).fetchone()
        return row[0] if row else None

    def schema(self, class_name: Optional[str] = None) -> Dict[str, Dict[str, dict]]:
        with self._reads() as reads:
            schema = reads._schema()
        names = [class_name] if class_name is not None else sorted(schema)
        return {
            name: {
                **{k: dict(v) for k, v in BUILTIN_FIELDS.items()},
                **{k: dict(v) for k, v in schema[name].items()},
            }
            for name in names
            if name in schema
        }

    def class_exists(self, class_name: str) -> bool:
        """Cached; a miss asks the database, since another process may have created it."""
        with self._reads() as reads:
            if class_name in reads._schema():
                return True
            found = reads._conn.execute(
                "SELECT 1 FROM classes WHERE name = ?", [class_name]
            ).fetchone()
        if found:
            self._invalidate_schema()
        return found is not None

    def dump(self, class_name: str, after_id: Optional[str], limit: int) -> List[StoredObject]:
        sql = (
            "SELECT id, created_at, updated_at, data, acl FROM objects"
            " WHERE class = ? AND id > ? ORDER BY id LIMIT ?"
        )
        with self._reads() as reads:
            rows = reads._conn.execute(sql, [class_name, after_id or "", limit]).fetchall()
        return [_stored(class_name, row) for row in rows]

    def dump_relations(
        self, class_name: str, field: str, after: Optional[Tuple[str, str]], limit: int
    ) -> List[Tuple[str, str, str]]:
        sql = (
            "SELECT owner_id, target_class, target_id FROM relations"
            " WHERE class = ? AND field = ? AND (owner_id, target_id) > (?, ?)"
            " ORDER BY owner_id, target_id LIMIT ?"
        )
        owner, target = after or ("", "")
        with self._reads() as reads:
            rows = reads._conn.execute(sql, [class_name, field, owner, target, limit]).fetchall()
        return [tuple(row) for row in rows]

    # --- writes -----------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        if getattr(self._local, "tx", None) is not None:
            raise RuntimeError("write transactions do not nest; use the WriteTx you already have")
        with self._pooled() as conn:
            conn.execute("BEGIN IMMEDIATE")
            tx = _SQLiteTx(self, conn)
            self._local.tx = tx
            try:
                yield tx
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._local.tx = None
                if tx.schema_changed:
                    self._invalidate_schema()


class _SQLiteTx(_Reads, WriteTx):
    """One ``BEGIN IMMEDIATE`` transaction; schema changes stay private until it commits."""

    def __init__(self, storage: SQLiteStorage, conn: _Connection) -> None:
        super().__init__(storage, conn)
        self._pending: Schema = {}

    @property
    def schema_changed(self) -> bool:
        return bool(self._pending)

    def _schema(self) -> Schema:
        committed = self._storage._schema_cache()
        if not self._pending:
            return committed
        merged = dict(committed)
        for class_name, fields in self._pending.items():
            merged[class_name] = {**committed.get(class_name, {}), **fields}
        return merged

    def get(self, class_name: str, object_id: str) -> Optional[StoredObject]:
        row = self._conn.execute(
            "SELECT id, created_at, updated_at, data, acl FROM objects WHERE class = ? AND id = ?",
            [class_name, object_id],
        ).fetchone()
        return None if row is None else _stored(class_name, row)

    def matches(self, class_name: str, object_id: str, where: Optional[Node]) -> bool:
        compiler = Compiler(None, self._field_type)
        extra = ("o.id = ?", [object_id])
        sql, params = compiler.select(Query(class_name, where, limit=1), "o", ("1", []), extra)
        return self._conn.execute(sql, params).fetchone() is not None

    def insert(self, obj: StoredObject) -> None:
        check_class_name(obj.class_name)
        self._register_class(obj.class_name)
        acl, public_read, readers = _acl_columns(obj.acl)
        try:
            self._conn.execute(
                "INSERT INTO objects (class, id, created_at, updated_at, data, acl, public_read) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    obj.class_name,
                    obj.object_id,
                    normalize_iso(obj.created_at),
                    normalize_iso(obj.updated_at),
                    _data_json(obj.data),
                    acl,
                    public_read,
                ],
            )
        except sqlite3.IntegrityError:
            raise ApiError(
                137, f"An object with objectId '{obj.object_id}' already exists."
            ) from None
        self._add_readers(obj.class_name, obj.object_id, readers)

    def update(self, obj: StoredObject) -> None:
        acl, public_read, readers = _acl_columns(obj.acl)
        cursor = self._conn.execute(
            "UPDATE objects SET updated_at = ?, data = ?, acl = ?, public_read = ? WHERE class = ? AND id = ?",
            [
                normalize_iso(obj.updated_at),
                _data_json(obj.data),
                acl,
                public_read,
                obj.class_name,
                obj.object_id,
            ],
        )
        if cursor.rowcount == 0:
            raise ApiError(
                101,
                f"Could not find object by id '{obj.object_id}' for class '{obj.class_name}'.",
                404,
            )
        self._conn.execute(
            "DELETE FROM readers WHERE class = ? AND object_id = ?", [obj.class_name, obj.object_id]
        )
        self._add_readers(obj.class_name, obj.object_id, readers)

    def import_objects(self, objects: Sequence[StoredObject]) -> List[str]:
        """The bulk version: one lookup of the known ids per class, then ``executemany``."""
        stamped = [
            (obj, normalize_iso(obj.created_at), normalize_iso(obj.updated_at)) for obj in objects
        ]
        known: Dict[Tuple[str, str], str] = {}
        for class_name in {obj.class_name for obj in objects}:
            check_class_name(class_name)
            self._register_class(class_name)
            ids = [obj.object_id for obj in objects if obj.class_name == class_name]
            rows = self._conn.execute(
                "SELECT id, updated_at FROM objects WHERE class = ? AND id IN (SELECT value FROM json_each(?))",
                [class_name, _dumps(ids)],
            )
            known.update(((class_name, row[0]), row[1]) for row in rows)
        outcomes, inserts, updates, readers = [], [], [], []
        for obj, created_at, updated_at in stamped:
            key = (obj.class_name, obj.object_id)
            current = known.get(key)
            if current is not None and updated_at <= current:
                outcomes.append("skipped")
                continue
            acl, public_read, keys = _acl_columns(obj.acl)
            data = _data_json(obj.data)
            if current is None:
                inserts.append((*key, created_at, updated_at, data, acl, public_read))
                outcomes.append("inserted")
            else:
                updates.append((updated_at, data, acl, public_read, *key))
                outcomes.append("updated")
            known[key] = updated_at
            readers.append((key, keys))
        self._conn.executemany(
            "INSERT INTO objects (class, id, created_at, updated_at, data, acl, public_read) VALUES (?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        self._conn.executemany(
            "UPDATE objects SET updated_at = ?, data = ?, acl = ?, public_read = ? WHERE class = ? AND id = ?",
            updates,
        )
        self._conn.executemany(
            "DELETE FROM readers WHERE class = ? AND object_id = ?",
            [update[-2:] for update in updates],
        )
        self._conn.executemany(
            "INSERT OR IGNORE INTO readers (class, object_id, principal) VALUES (?, ?, ?)",
            [(*key, principal) for key, keys in readers for principal in keys],
        )
        return outcomes

    def _add_readers(self, class_name: str, object_id: str, readers: List[str]) -> None:
        if readers:
            self._conn.executemany(
                "INSERT INTO readers (class, object_id, principal) VALUES (?, ?, ?)",
                [(class_name, object_id, key) for key in readers],
            )

    def delete(self, class_name: str, object_id: str) -> None:
        key = [class_name, object_id]
        self._conn.execute("DELETE FROM objects WHERE class = ? AND id = ?", key)
        self._conn.execute("DELETE FROM readers WHERE class = ? AND object_id = ?", key)
        self._conn.execute("DELETE FROM relations WHERE class = ? AND owner_id = ?", key)
        if class_name == "_User":
            self._conn.execute("DELETE FROM sessions WHERE user_id = ?", [object_id])

    def _register_class(self, class_name: str) -> None:
        if class_name not in self._schema():
            self._conn.execute("INSERT OR IGNORE INTO classes (name) VALUES (?)", [class_name])
            self._pending.setdefault(class_name, {})

    def ensure_fields(self, class_name: str, types: Dict[str, dict]) -> None:
        """Known fields are checked against the cached schema; fields new to this process are
        checked against the database (another process may have added them) before insert."""
        check_class_name(class_name)
        self._register_class(class_name)
        known = {**BUILTIN_FIELDS, **self._schema().get(class_name, {})}
        added: Dict[str, dict] = {}
        for field, spec in types.items():
            check_field_name(field)
            spec = {k: v for k, v in spec.items() if k in ("type", "className")}
            if spec.get("type") in (None, "Null"):
                continue  # a null value says nothing about the field's type
            current = known.get(field) or added.get(field)
            if current is None:
                added[field] = spec
            else:
                _check_type(field, current, spec)
        if not added:
            return
        for field, current in self._stored_fields(class_name, list(added)).items():
            self._storage._invalidate_schema()  # our cache missed another process's field
            _check_type(field, current, added.pop(field))
        self._conn.executemany(
            "INSERT INTO schema_fields (class, field, type, target_class) VALUES (?, ?, ?, ?)",
            [
                (class_name, field, spec["type"], spec.get("className"))
                for field, spec in added.items()
            ],
        )
        self._pending.setdefault(class_name, {}).update(added)

    def _stored_fields(self, class_name: str, fields: List[str]) -> Dict[str, dict]:
        rows = self._conn.execute(
            "SELECT field, type, target_class FROM schema_fields"
            " WHERE class = ? AND field IN (SELECT value FROM json_each(?))",
            [class_name, _dumps(fields)],
        )
        return {field: _spec(type_name, target) for field, type_name, target in rows}

    def relation_add(
        self,
        class_name: str,
        field: str,
        owner_id: str,
        target_class: str,
        target_ids: Sequence[str],
    ) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO relations (class, field, owner_id, target_class, target_id) VALUES (?, ?, ?, ?, ?)",
            [(class_name, field, owner_id, target_class, target_id) for target_id in target_ids],
        )

    def import_relations(
        self, class_name: str, field: str, rows: Sequence[Tuple[str, str, str]]
    ) -> int:
        cursor = self._conn.executemany(
            "INSERT OR IGNORE INTO relations (class, field, owner_id, target_class, target_id) VALUES (?, ?, ?, ?, ?)",
            [(class_name, field, *row) for row in rows],
        )
        return max(cursor.rowcount, 0)

    def relation_remove(
        self, class_name: str, field: str, owner_id: str, target_ids: Sequence[str]
    ) -> None:
        self._conn.executemany(
            "DELETE FROM relations WHERE class = ? AND field = ? AND owner_id = ? AND target_id = ?",
            [(class_name, field, owner_id, target_id) for target_id in target_ids],
        )

    def set_session(self, user_id: str, token: str) -> None:
        self._conn.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
        self._conn.execute(
            "INSERT OR REPLACE INTO sessions (token, user_id) VALUES (?, ?)", [token, user_id]
        )


def _stored(class_name: str, row: Sequence[Any]) -> StoredObject:
    """(id, created_at, updated_at, data, acl) -> the raw object."""
    return StoredObject(
        class_name,
        row[0],
        row[1],
        row[2],
        json.loads(row[3]),
        json.loads(row[4]) if row[4] else None,
    )


def _spec(type_name: str, target: Optional[str]) -> dict:
    return {"type": type_name} if target is None else {"type": type_name, "className": target}


def _check_type(field: str, current: dict, spec: dict) -> None:
    if (current["type"], current.get("className")) != (spec["type"], spec.get("className")):
        raise ApiError(
            111,
            f"Invalid value type for field '{field}' expected {_type_label(current)}"
            f" but got {_type_label(spec)}.",
        )


def _type_label(spec: dict) -> str:
    if spec.get("className"):
        return f"{spec['type']}<{spec['className']}>"
    return spec["type"]
