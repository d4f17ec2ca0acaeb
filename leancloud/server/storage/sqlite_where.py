"""Compiles the query AST into SQLite SQL: the one place each operator gets its meaning.

Every value and every JSON path is a bound parameter; the SQL text only contains our
own identifiers, so it depends on the *shape* of a query, not its values, and
sqlite3's statement cache reuses it. Long value lists travel as one JSON array
parameter (``json_each(?)``) for the same reason.

Type-correct comparisons: ``json_extract`` returns SQL values in which ``true`` is 1
and ``"1"`` compares with 1 by affinity rules, so every comparison is guarded by
``json_type`` (``'integer'/'real'``, ``'text'``, ``'true'/'false'``, ...). Dates compare
on their normalised ``iso`` text, Pointers on ``className`` + ``objectId``. A field
holding an array matches when the array itself or any element matches (MongoDB's
rule, which LeanCloud follows). A predicate on a missing field may be NULL, which
WHERE treats as false; negations make that explicit (``NOT IFNULL(p, 0)``).
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from leancloud.server.errors import ApiError
from leancloud.server.names import INTERNAL_CLASSES, MASTER_LISTED_CLASSES
from leancloud.server.query.ast import (
    All,
    And,
    Compare,
    Exists,
    In,
    InQuery,
    Near,
    Node,
    Or,
    Path,
    Query,
    Regex,
    RelatedTo,
    Select,
    Size,
    Within,
)
from leancloud.server.query.where import normalize_iso
from leancloud.server.storage.output import PROTECTED_FIELDS

__all__ = ["OBJECT_COLUMNS", "Compiler", "Frag", "json_path", "register_functions"]

Frag = Tuple[str, List[Any]]
TRUE: Frag = ("1", [])
# Our own constant class names (never user input), spelled into the read filter.
_INTERNAL_LITERALS = ", ".join(f"'{name}'" for name in sorted(INTERNAL_CLASSES))
FALSE: Frag = ("0", [])
OBJECT_COLUMNS = "{a}.id, {a}.created_at, {a}.updated_at, {a}.data"
_COLUMNS = {"objectId": "id", "createdAt": "created_at", "updatedAt": "updated_at"}
# (class, path) -> JSON path of an expression index (see sqlite.py); the SQL must use the
# same literal text for SQLite to pick the index, and the class as a literal too.
INDEXED_PATHS = {
    ("_User", ("username",)): "$.username",
    ("_User", ("email",)): "$.email",
    ("_User", ("mobilePhoneNumber",)): "$.mobilePhoneNumber",
}
_CLASS_LITERALS = {"_User": "'_User'"}
_SQL_OPS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_NUMBER_TYPES = "('integer', 'real')"
_GUARD_SCHEMA_TYPES = {"IN " + _NUMBER_TYPES: "Number", "IS 'text'": "String"}
_FLAT_TERMS = 8  # AND/OR terms joined flat before the join nests
_IN_JSON_ARRAY = "{v} IN (SELECT value FROM json_each(?))"
# Compared field by field, so key order in the stored JSON does not matter.
_TYPED_KEYS = {
    "Date": ("iso",),
    "Pointer": ("className", "objectId"),
    "GeoPoint": ("latitude", "longitude"),
    "Bytes": ("base64",),
}


def json_path(path: Sequence[str]) -> str:
    """``("a", "b")`` -> ``$."a"."b"``; names are validated, so quoting them is enough."""
    return "$" + "".join(f'."{name}"' for name in path)


def _and(frags: Iterable[Frag]) -> Frag:
    return _join(" AND ", list(frags), TRUE)


def _or(frags: Iterable[Frag]) -> Frag:
    return _join(" OR ", list(frags), FALSE)


def _join(glue: str, frags: List[Frag], empty: Frag) -> Frag:
    """Balanced, so a thousand ``$or`` branches nest ten deep, not past SQLite's depth limit."""
    if not frags:
        return empty
    if len(frags) == 1:
        return frags[0]
    if len(frags) > _FLAT_TERMS:
        half = len(frags) // 2
        frags = [_join(glue, frags[:half], empty), _join(glue, frags[half:], empty)]
    params: List[Any] = []
    for _, p in frags:
        params.extend(p)
    return "(" + glue.join(sql for sql, _ in frags) + ")", params


def _not(frag: Frag) -> Frag:
    """Negation where an unknown (NULL, e.g. a missing field) predicate counts as false."""
    return f"(NOT IFNULL({frag[0]}, 0))", frag[1]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _JsonSource:
    """A value inside the ``data`` JSON of a row: ``doc`` column + SQL for its JSON path."""

    is_json = True

    def __init__(
        self, doc: str, path_sql: str, path_params: List[Any], known_type: Optional[str] = None
    ) -> None:
        self.doc, self.path_sql, self.path_params = doc, path_sql, path_params
        self.known_type = known_type  # the schema's type of a top-level field, if known

    def sub(self, key: str) -> "_JsonSource":
        suffix = f'."{key}"'
        if self.path_sql == "?":
            return _JsonSource(self.doc, "?", [self.path_params[0] + suffix])
        return _JsonSource(self.doc, f"({self.path_sql} || ?)", self.path_params + [suffix])

    def type_(self) -> Frag:
        return f"json_type({self.doc}, {self.path_sql})", list(self.path_params)

    def value(self) -> Frag:
        return f"json_extract({self.doc}, {self.path_sql})", list(self.path_params)

    def _guarded(
        self, types: str, test: str, before: Sequence[Any] = (), after: Sequence[Any] = ()
    ) -> Frag:
        """``json_type(...) <types> AND <test>``; ``{v}`` in ``test`` is the value, bound
        between the ``before`` and ``after`` parameters.

        A field the schema types as Number or String holds nothing else (or null), so its
        type test is implied by the schema, and a test for another type can never pass."""
        value_sql, value_params = self.value()
        guard_type = _GUARD_SCHEMA_TYPES.get(types)
        if guard_type is not None and self.known_type not in (None, "Array"):
            if guard_type != self.known_type:
                return FALSE
            return f"({test.format(v=value_sql)})", [*before, *value_params, *after]
        type_sql, type_params = self.type_()
        return f"({type_sql} {types} AND {test.format(v=value_sql)})", type_params + [
            *before,
            *value_params,
            *after,
        ]

    def _tagged(self, type_name: str) -> Frag:
        sql, params = self.sub("__type").value()
        return f"{sql} IS ?", params + [type_name]

    def eq(self, value: Any) -> Frag:
        if value is None:  # MongoDB: null matches a null or a missing field
            sql, params = self.type_()
            return f"IFNULL({sql}, 'null') = 'null'", params
        if isinstance(value, bool):
            sql, params = self.type_()
            return f"{sql} IS ?", params + ["true" if value else "false"]
        if _is_number(value):
            return self._guarded("IN " + _NUMBER_TYPES, "{v} = ?", after=[value])
        if isinstance(value, str):
            return self._guarded("IS 'text'", "{v} = ?", after=[value])
        if isinstance(value, dict) and value.get("__type") == "File":
            file_id = self.sub("id").value()
            legacy_id = self.sub("objectId").value()
            return _and(
                [
                    self._tagged("File"),
                    (
                        f"IFNULL({file_id[0]}, {legacy_id[0]}) IS ?",
                        file_id[1] + legacy_id[1] + [value["id"]],
                    ),
                ]
            )
        if isinstance(value, dict) and value.get("__type") in _TYPED_KEYS:
            checks = [self._tagged(value["__type"])]
            for key in _TYPED_KEYS[value["__type"]]:
                sql, params = self.sub(key).value()
                checks.append((f"{sql} IS ?", params + [value[key]]))
            return _and(checks)
        return self._guarded(
            "IN ('object', 'array')", "lc_json_equal({v}, ?)", after=[_canonical(value)]
        )

    def compare(self, op: str, value: Any) -> Frag:
        """``$lt``-style ordering, only between values of the same type."""
        sql_op = _SQL_OPS[op]
        if _is_number(value):
            return self._guarded("IN " + _NUMBER_TYPES, "{v} " + sql_op + " ?", after=[value])
        if isinstance(value, str):
            return self._guarded("IS 'text'", "{v} " + sql_op + " ?", after=[value])
        iso_sql, iso_params = self.sub("iso").value()
        return _and([self._tagged("Date"), (f"{iso_sql} {sql_op} ?", iso_params + [value["iso"]])])

    def in_(self, values: Sequence[Any]) -> Frag:
        """Strings and numbers as one JSON-array parameter each; other values one by one."""
        strings = [v for v in values if isinstance(v, str)]
        numbers = [v for v in values if _is_number(v)]
        others = [v for v in values if not isinstance(v, str) and not _is_number(v)]
        frags = [self.eq(v) for v in others]
        if strings:
            frags.append(self._guarded("IS 'text'", _IN_JSON_ARRAY, after=[json.dumps(strings)]))
        if numbers:
            frags.append(
                self._guarded("IN " + _NUMBER_TYPES, _IN_JSON_ARRAY, after=[json.dumps(numbers)])
            )
        return _or(frags)

    def regex(self, pattern: str, flags: int) -> Frag:
        return self._guarded("IS 'text'", "lc_regexp(?, ?, {v})", before=[pattern, flags])

    def exists(self, exists: bool) -> Frag:
        sql, params = self.type_()
        return f"{sql} IS {'NOT ' if exists else ''}NULL", params

    def size(self, size: int) -> Frag:
        type_sql, type_params = self.type_()
        return (
            f"({type_sql} IS 'array' AND json_array_length({self.doc}, {self.path_sql}) = ?)",
            type_params + self.path_params + [size],
        )

    def pointer_in(self, class_name: str, ids: Frag) -> Frag:
        id_sql, id_params = self.sub("objectId").value()
        class_sql, class_params = self.sub("className").value()
        return _and(
            [
                self._tagged("Pointer"),
                (f"{class_sql} IS ?", class_params + [class_name]),
                (f"{id_sql} IN ({ids[0]})", id_params + ids[1]),
            ]
        )

    def pair(self) -> Frag:
        """(type, value): what ``$select`` compares between two fields."""
        type_sql, type_params = self.type_()
        value_sql, value_params = self.value()
        return f"{type_sql}, {value_sql}", type_params + value_params

    def sort_key(self, known_type: Optional[str] = None) -> Frag:
        """Dates sort by their iso text, everything else by its JSON value.

        Without a schema type the field may mix types: booleans become BLOBs so they sort
        after numbers and strings (MongoDB's order) instead of among the numbers as 0/1.
        """
        if known_type is not None and known_type != "Date":
            return self.value()
        iso_sql, iso_params = self.sub("iso").value()
        value_sql, value_params = self.value()
        if known_type == "Date":
            return f"IFNULL({iso_sql}, {value_sql})", iso_params + value_params
        type_sql, type_params = self.type_()
        return (
            f"CASE {type_sql} WHEN 'true' THEN x'01' WHEN 'false' THEN x'00' "
            f"ELSE IFNULL({iso_sql}, {value_sql}) END",
            type_params + iso_params + value_params,
        )

    def geo(self) -> Tuple[Frag, Frag, Frag]:
        """(is-a-GeoPoint test, latitude, longitude)."""
        return self._tagged("GeoPoint"), self.sub("latitude").value(), self.sub("longitude").value()


class _ColumnSource:
    """objectId / createdAt / updatedAt: their own columns, always present, always text."""

    is_json = False

    def __init__(self, column: str, is_date: bool) -> None:
        self.column, self.is_date = column, is_date

    def _coerce(self, value: Any) -> Optional[str]:
        """The column text a query value stands for; None when it can never match."""
        if self.is_date:
            if isinstance(value, dict) and value.get("__type") == "Date":
                return value["iso"]
            if isinstance(value, str):
                return normalize_iso(value)
            return None
        return value if isinstance(value, str) else None

    def eq(self, value: Any) -> Frag:
        text = self._coerce(value)
        return FALSE if text is None else (f"{self.column} = ?", [text])

    def compare(self, op: str, value: Any) -> Frag:
        text = self._coerce(value)
        return FALSE if text is None else (f"{self.column} {_SQL_OPS[op]} ?", [text])

    def in_(self, values: Sequence[Any]) -> Frag:
        texts = [t for t in (self._coerce(v) for v in values) if t is not None]
        if not texts:
            return FALSE
        return f"{self.column} IN (SELECT value FROM json_each(?))", [json.dumps(texts)]

    def regex(self, pattern: str, flags: int) -> Frag:
        return f"lc_regexp(?, ?, {self.column})", [pattern, flags]

    def exists(self, exists: bool) -> Frag:
        return TRUE if exists else FALSE

    def size(self, size: int) -> Frag:
        return FALSE

    def pointer_in(self, class_name: str, ids: Frag) -> Frag:
        return FALSE

    def pair(self) -> Frag:
        return f"'text', {self.column}", []

    def sort_key(self, known_type: Optional[str] = None) -> Frag:
        return self.column, []


Source = Any  # _JsonSource | _ColumnSource


def source(
    alias: str, path: Path, class_name: Optional[str] = None, known_type: Optional[str] = None
) -> Source:
    """Where the value at ``path`` lives for rows aliased ``alias``."""
    if len(path) == 1 and path[0] in _COLUMNS:
        return _ColumnSource(f"{alias}.{_COLUMNS[path[0]]}", path[0] != "objectId")
    indexed = INDEXED_PATHS.get((class_name, path))
    if indexed is not None:  # a constant of ours, spelled as the expression index spells it
        return _JsonSource(f"{alias}.data", f"'{indexed}'", [], known_type)
    return _JsonSource(f"{alias}.data", "?", [json_path(path)], known_type)


class Compiler:
    """Compiles one request's AST. ``acl_keys`` None = master (no read filter).

    ``field_type(class, field)`` is the schema (``{"type": ..., "className": ...}``): it
    turns ``{"rel": Pointer}`` on a Relation column into a reverse-relation lookup, and
    lets fields that cannot hold arrays skip the array-element test (so indexes apply).
    """

    def __init__(
        self, acl_keys: Optional[Sequence[str]], field_type: Callable[[str, str], Optional[dict]]
    ) -> None:
        self.acl_keys = None if acl_keys is None else json.dumps(list(acl_keys))
        self.field_type = field_type
        self._aliases = 0

    def _source(self, alias: str, path: Path, class_name: str) -> Source:
        """A field's source; hidden fields (``_User.password``, ...) only for master, so no
        condition, order or subquery can probe them."""
        if self.acl_keys is not None and path[0] in PROTECTED_FIELDS.get(class_name, ()):
            raise ApiError(105, f"Cannot query on the hidden field '{path[0]}'.")
        return source(alias, path, class_name, self._known_type(class_name, path))

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    # --- whole statements --------------------------------------------------

    def select(
        self,
        query: Query,
        alias: str,
        columns: Frag,
        extra: Frag = TRUE,
        order: Optional[str] = None,
    ) -> Frag:
        """``SELECT columns FROM objects alias WHERE ... ORDER BY ... LIMIT ...`` for a query
        (``order``: an ORDER BY over the columns' own aliases instead of the query's)."""
        where_sql, where_params = self.filter(query, alias, extra)
        order_sql, order_params = (order, []) if order else self.order_by(query, alias)
        sql = f"SELECT {columns[0]} FROM objects {alias} WHERE {where_sql} ORDER BY {order_sql}"
        params = columns[1] + where_params + order_params
        if query.limit is not None or query.skip:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if query.limit is None else query.limit, query.skip]
        return sql, params

    def page(self, query: Query, alias: str, columns: Frag) -> Frag:
        """``select`` for whole objects. A sorted query first sorts narrow rows (id and sort
        keys) and then fetches the page's objects, so SQLite's sorter never copies whole
        objects (2-3x faster on a large class)."""
        if not query.order and _top_level_near(query.where) is None:
            return self.select(query, alias, columns)  # objectId order: the primary key's
        inner = self.alias("p")
        keys = self._order_terms(query, inner)[:-1]
        key_columns = ", ".join(f"{sql} AS k{i}" for i, (sql, _, _) in enumerate(keys))
        key_params = [p for _, params, _ in keys for p in params]
        directions = [" DESC" if descending else "" for _, _, descending in keys]
        inner_order = ", ".join(f"k{i}{d}" for i, d in enumerate(directions)) + f", {inner}.id"
        page_sql, page_params = self.select(
            query, inner, (f"{inner}.id AS id, {key_columns}", key_params), order=inner_order
        )
        outer_order = ", ".join(f"page.k{i}{d}" for i, d in enumerate(directions))
        return (
            f"SELECT {columns[0]} FROM ({page_sql}) AS page JOIN objects {alias}"
            f" ON {alias}.class = ? AND {alias}.id = page.id ORDER BY {outer_order}, page.id",
            columns[1] + page_params + [query.class_name],
        )

    def count(self, query: Query, alias: str = "o") -> Frag:
        where_sql, params = self.filter(query, alias)
        return f"SELECT COUNT(*) FROM objects {alias} WHERE {where_sql}", params

    def filter(self, query: Query, alias: str, extra: Frag = TRUE) -> Frag:
        """The class, the read ACL, the query's condition (and ``extra``), ANDed."""
        literal = _CLASS_LITERALS.get(query.class_name)
        frags = [
            (f"{alias}.class = {literal}", [])
            if literal
            else (f"{alias}.class = ?", [query.class_name]),
            self.readable(alias),
        ]
        if query.where is not None:
            frags.append(self.condition(query.where, alias, query.class_name))
        if extra is not TRUE:
            frags.append(extra)
        return _and(f for f in frags if f is not TRUE)

    def readable(self, alias: str) -> Frag:
        """Rows readable by the principal: public ones, or ones listing one of its ACL keys.

        A correlated probe of the readers index per non-public candidate row, so a point
        lookup costs one probe however many rows the principal can read."""
        if self.acl_keys is None:
            return TRUE
        return (
            (
                f"{alias}.class NOT IN ({_INTERNAL_LITERALS}) AND"
                f" ({alias}.public_read = 1 OR EXISTS (SELECT 1 FROM readers r"
                f" WHERE r.class = {alias}.class AND r.object_id = {alias}.id"
                " AND r.principal IN (SELECT value FROM json_each(?))))"
            ),
            [self.acl_keys],
        )

    def order_by(self, query: Query, alias: str) -> Frag:
        """The query's order; else distance for a top-level ``$nearSphere``; objectId breaks ties."""
        terms = self._order_terms(query, alias)
        sql = ", ".join(term + (" DESC" if descending else "") for term, _, descending in terms)
        return sql, [p for _, params, _ in terms for p in params]

    def _order_terms(self, query: Query, alias: str) -> List[Tuple[str, List[Any], bool]]:
        """(sort key SQL, its parameters, descending) in precedence order, objectId last."""
        terms = []
        for path, descending in query.order:
            known_type = self._known_type(query.class_name, path)
            sql, params = self._source(alias, path, query.class_name).sort_key(known_type)
            terms.append((sql, params, descending))
        if not query.order:
            near = _top_level_near(query.where)
            if near is not None:
                src = self._source(alias, near.path, query.class_name)
                terms.append((*self._distance(src, near), False))
        terms.append((f"{alias}.id", [], False))
        return terms

    # --- conditions ----------------------------------------------------------

    def condition(self, node: Node, alias: str, class_name: str) -> Frag:
        return getattr(self, "_" + type(node).__name__)(node, alias, class_name)

    def _And(self, node: And, alias: str, class_name: str) -> Frag:
        return _and(self.condition(child, alias, class_name) for child in node.children)

    def _Or(self, node: Or, alias: str, class_name: str) -> Frag:
        return _or(self.condition(child, alias, class_name) for child in node.children)

    def _Compare(self, node: Compare, alias: str, class_name: str) -> Frag:
        value = node.value
        if node.op in ("eq", "ne"):
            frag = self._reverse_relation(node, alias, class_name)
            if frag is None:
                src = self._source(alias, node.path, class_name)
                if isinstance(value, list):
                    frag = src.eq(value)
                else:
                    frag = self._any(src, node.path, class_name, lambda s: s.eq(value))
            return _not(frag) if node.op == "ne" else frag
        return self._any(
            self._source(alias, node.path, class_name),
            node.path,
            class_name,
            lambda s: s.compare(node.op, value),
        )

    def _reverse_relation(self, node: Compare, alias: str, class_name: str) -> Optional[Frag]:
        """``{"rel": Pointer(child)}`` on a Relation column: owners whose relation holds child."""
        value = node.value
        if len(node.path) != 1 or not (
            isinstance(value, dict) and value.get("__type") == "Pointer"
        ):
            return None
        spec = self.field_type(class_name, node.path[0])
        if spec is None or spec.get("type") != "Relation":
            return None
        return (
            (
                f"{alias}.id IN (SELECT owner_id FROM relations WHERE class = ? AND field = ?"
                " AND target_class = ? AND target_id = ?)"
            ),
            [class_name, node.path[0], value["className"], value["objectId"]],
        )

    def _In(self, node: In, alias: str, class_name: str) -> Frag:
        frag = self._any(
            self._source(alias, node.path, class_name),
            node.path,
            class_name,
            lambda s: s.in_(node.values),
        )
        return _not(frag) if node.negate else frag

    def _All(self, node: All, alias: str, class_name: str) -> Frag:
        if not node.values:
            return FALSE  # MongoDB: $all of nothing matches nothing
        src = self._source(alias, node.path, class_name)
        return _and(
            self._any(src, node.path, class_name, lambda s, v=v: s.eq(v)) for v in node.values
        )

    def _Size(self, node: Size, alias: str, class_name: str) -> Frag:
        return self._source(alias, node.path, class_name).size(node.size)

    def _Exists(self, node: Exists, alias: str, class_name: str) -> Frag:
        return self._source(alias, node.path, class_name).exists(node.exists)

    def _Regex(self, node: Regex, alias: str, class_name: str) -> Frag:
        return self._any(
            self._source(alias, node.path, class_name),
            node.path,
            class_name,
            lambda s: s.regex(node.pattern, node.flags),
        )

    def _searchable(self, class_name: str) -> bool:
        """Whether this caller's subqueries may search the class (see MASTER_LISTED_CLASSES)."""
        return self.acl_keys is None or class_name not in MASTER_LISTED_CLASSES

    def _InQuery(self, node: InQuery, alias: str, class_name: str) -> Frag:
        if not self._searchable(node.query.class_name):
            return TRUE if node.negate else FALSE
        sub = self.alias("s")
        ids = self.select(node.query, sub, (f"{sub}.id", []))
        frag = self._any(
            self._source(alias, node.path, class_name),
            node.path,
            class_name,
            lambda s: s.pointer_in(node.query.class_name, ids),
        )
        return _not(frag) if node.negate else frag

    def _Select(self, node: Select, alias: str, class_name: str) -> Frag:
        if not self._searchable(node.query.class_name):
            return TRUE if node.negate else FALSE
        sub = self.alias("s")
        values = self.select(
            node.query, sub, self._source(sub, node.key, node.query.class_name).pair()
        )

        def matches(src: Source) -> Frag:
            pair_sql, pair_params = src.pair()
            return f"({pair_sql}) IN ({values[0]})", pair_params + values[1]

        frag = self._any(self._source(alias, node.path, class_name), node.path, class_name, matches)
        return _not(frag) if node.negate else frag

    def _RelatedTo(self, node: RelatedTo, alias: str, class_name: str) -> Frag:
        return (
            (
                f"{alias}.id IN (SELECT target_id FROM relations WHERE class = ? AND field = ?"
                " AND owner_id = ? AND target_class = ?)"
            ),
            [node.owner_class, node.key, node.owner_id, class_name],
        )

    def _Near(self, node: Near, alias: str, class_name: str) -> Frag:
        src = self._source(alias, node.path, class_name)
        if not src.is_json:
            return FALSE
        frags = [src.geo()[0]]
        for bound, op in ((node.max_distance, "<="), (node.min_distance, ">=")):
            if bound is not None:
                sql, params = self._distance(src, node)
                frags.append((f"{sql} {op} ?", params + [bound]))
        return _and(frags)

    def _Within(self, node: Within, alias: str, class_name: str) -> Frag:
        src = self._source(alias, node.path, class_name)
        if not src.is_json:
            return FALSE
        is_geo, (lat_sql, lat_params), (lng_sql, lng_params) = src.geo()
        latitude = (f"{lat_sql} BETWEEN ? AND ?", lat_params + [node.south, node.north])
        if node.west <= node.east:
            longitude = (f"{lng_sql} BETWEEN ? AND ?", lng_params + [node.west, node.east])
        else:  # the box crosses the antimeridian
            longitude = (
                f"({lng_sql} >= ? OR {lng_sql} <= ?)",
                lng_params + [node.west] + lng_params + [node.east],
            )
        return _and([is_geo, latitude, longitude])

    # --- helpers -------------------------------------------------------------

    def _distance(self, src: Source, near: Near) -> Frag:
        if not src.is_json:
            return "0", []
        _, (lat_sql, lat_params), (lng_sql, lng_params) = src.geo()
        return f"lc_distance(?, ?, {lat_sql}, {lng_sql})", [
            near.latitude,
            near.longitude,
        ] + lat_params + lng_params

    def _known_type(self, class_name: str, path: Path) -> Optional[str]:
        """The schema type of a top-level field, None when unknown (or nested)."""
        spec = self.field_type(class_name, path[0]) if len(path) == 1 else None
        return None if spec is None else spec["type"]

    def _any(
        self, src: Source, path: Path, class_name: str, predicate: Callable[[Source], Frag]
    ) -> Frag:
        """The predicate on the value itself, or on any element when it is an array.

        Fields whose schema type is known and not Array skip the element test."""
        direct = predicate(src)
        if not src.is_json:
            return direct
        if self._known_type(class_name, path) not in (None, "Array"):
            return direct
        each = self.alias("je")
        elem_sql, elem_params = predicate(_JsonSource(src.doc, f"{each}.fullkey", []))
        type_sql, type_params = src.type_()
        return (
            (
                f"({direct[0]} OR ({type_sql} IS 'array' AND EXISTS (SELECT 1 FROM json_each({src.doc}, {src.path_sql})"
                f" AS {each} WHERE {elem_sql})))"
            ),
            direct[1] + type_params + src.path_params + elem_params,
        )


def _top_level_near(node: Optional[Node]) -> Optional[Near]:
    if isinstance(node, Near):
        return node
    if isinstance(node, And):
        for child in node.children:
            found = _top_level_near(child)
            if found is not None:
                return found
    return None


# --- SQL functions ---------------------------------------------------------------


@lru_cache(maxsize=256)
def _pattern(pattern: str, flags: int) -> "re.Pattern[str]":
    return re.compile(pattern, flags)


def _regexp(pattern: str, flags: int, value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return 1 if _pattern(pattern, flags).search(value) else 0
    except re.error:
        return 0


def _haversine(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Optional[float]:
    """Great-circle distance in radians (haversine), NULL for missing coordinates."""
    if not all(_is_number(v) for v in (lat1, lng1, lat2, lng2)):
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * math.asin(min(1.0, math.sqrt(h)))


def _json_equal(stored: Any, wanted: Any) -> int:
    try:
        return 1 if _canonical(json.loads(stored)) == wanted else 0
    except (TypeError, ValueError):
        return 0


def register_functions(conn: Any) -> None:
    """The Python functions compiled SQL relies on; none of them can raise."""
    conn.create_function("lc_regexp", 3, _regexp, deterministic=True)
    conn.create_function("lc_distance", 4, _haversine, deterministic=True)
    conn.create_function("lc_json_equal", 2, _json_equal, deterministic=True)
