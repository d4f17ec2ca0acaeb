"""Queries over LeanCloud classes: ``Query``, ``FriendshipQuery`` and CQL results.

A ``Query`` accumulates REST query parameters (``where`` JSON, ``order``, ``limit``, ...)
and sends them with the official SDK's wire shapes, so a server cannot tell the two
SDKs apart. Values in conditions go through ``leancloud.codec.encode``.

Two attributes are a contract with ``leancloud.relation``: ``_where`` (the condition
dict) and ``_extra`` (extra request parameters such as ``redirectClassNameForKey``,
sent with every request and included in ``dump()``).

Kept on purpose: ``contains``/``startswith``/``endswith`` send the string unescaped, as
the official SDK does, so it is a regular expression (``contains("k", "a.b")`` matches
``"axb"``); apps may rely on that, and escaping would change the wire request.

Deliberate differences from the official SDK (same wire request otherwise):

* Bad arguments (wrong types, a negative ``limit`` or ``skip``) raise before any request.
* ``do_cloud_query(cql, [a, b])`` sends ``pvalues`` as a JSON array, like
  ``do_cloud_query(cql, a, b)``; the official SDK sends a JSON *string* in the first form.
  Values are encoded with the codec, so dates and objects work as placeholders.
* A condition added to a key that holds an ``equal_to`` value replaces that value
  (the official SDK raises ``TypeError`` or corrupts the value).
* ``FriendshipQuery.scan`` yields users, like its ``find``.
* ``find``/``first`` build objects of the class named by a top-level ``className`` in
  the response (sent for ``redirectClassNameForKey``), as the JS SDK does; the official
  Python SDK builds them as the queried (parent) class.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Type, Union
from urllib.parse import quote

from leancloud import client, codec
from leancloud.errors import BAD_RESPONSE, OBJECT_NOT_FOUND, LeanCloudError
from leancloud.geo_point import EARTH_RADIUS_KM, EARTH_RADIUS_MILES, GeoPoint

if TYPE_CHECKING:
    from leancloud.object_ import Object

__all__ = ["Query", "FriendshipQuery", "CQLResult"]

MAX_LIMIT = 1000

# Python regex flags that LeanCloud's ``$options`` can express, in the order sent.
_REGEX_OPTIONS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_FRIENDSHIP_FIELDS = {"_Follower": "follower", "_Followee": "followee"}

QueryClass = Union[str, "Type[Object]"]


def _object_base() -> Type[Object]:
    # Imported late: object_ needs Query for ``Object.query`` and ``save(where=...)``.
    from leancloud.object_ import Object

    return Object


def _resolve_class(query_class: QueryClass) -> Type[Object]:
    base = _object_base()
    if isinstance(query_class, str) and query_class:
        return base.as_class(query_class)  # the registry maps "User" to _User, "File" to _File
    if isinstance(query_class, type) and (
        issubclass(query_class, base) or _registered(base, query_class)
    ):
        return query_class
    raise ValueError(
        f"Query takes a class name or a leancloud.Object subclass, not {query_class!r}"
    )


def _registered(base: Type[Object], cls: type) -> bool:
    """Classes outside the Object hierarchy that the registry serves, such as File."""
    name = getattr(cls, "_class_name", None)
    return isinstance(name, str) and bool(name) and base.as_class(name) is cls


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise TypeError(f"a field name must be a non-empty string, not {key!r}")
    return key


def _check_int(name: str, value: Any, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        raise ValueError(f"{name} must be between {low}{upper}, got {value}")
    return value


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {value!r}")
    return value


def _check_values(values: Any) -> Any:
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise TypeError(f"values must be a list or tuple, not {values!r}")
    return values


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {value!r}")
    return value


def _check_point(name: str, value: Any) -> Any:
    """A GeoPoint, or a ``(latitude, longitude)`` pair (sent as given), range-checked
    here so that a bad point fails before the request rather than as error 302."""
    if isinstance(value, GeoPoint):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        GeoPoint(*value)  # raises TypeError / ValueError
        return value
    raise TypeError(f"{name} must be a GeoPoint or a (latitude, longitude) pair, not {value!r}")


def _key_list(keys: Tuple[Any, ...]) -> List[str]:
    """``f(a, b)`` and ``f([a, b])`` both mean the keys a and b, as in the official SDK."""
    if len(keys) == 1 and isinstance(keys[0], (list, tuple)):
        keys = tuple(keys[0])
    return [_check_key(k) for k in keys]


def _is_operator_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.startswith("$") for k in value)


def _content(path: str, params: Dict[str, Any]) -> Dict[str, Any]:
    content = client.get(path, params).json()
    if not isinstance(content, dict):
        raise LeanCloudError(BAD_RESPONSE, f"expected a JSON object from {path}")
    return content


def _results(content: Dict[str, Any]) -> List[Dict[str, Any]]:
    results = content.get("results")
    if not isinstance(results, list):
        raise LeanCloudError(BAD_RESPONSE, "expected a 'results' list in the response")
    return results


class CQLResult:
    """What ``Query.do_cloud_query`` returns: objects, the ``count(*)`` value and the class."""

    __slots__ = ("results", "count", "class_name")

    def __init__(
        self, results: List[Object], count: Optional[int], class_name: Optional[str]
    ) -> None:
        self.results = results
        self.count = count
        self.class_name = class_name

    def __repr__(self) -> str:
        return f"<CQLResult {self.class_name} results={len(self.results)} count={self.count}>"


class Query:
    """Conditions and options for one class; every builder method returns the query."""

    def __init__(self, query_class: QueryClass) -> None:
        self._query_class: Type[Object] = _resolve_class(query_class)
        self._where: Dict[str, Any] = {}
        self._include: List[str] = []
        self._select: List[str] = []
        self._include_acl: Optional[bool] = None
        self._limit = -1
        self._skip = 0
        self._order: List[str] = []
        self._extra: Dict[str, Any] = {}

    @property
    def _class_name(self) -> str:
        return self._query_class._class_name

    # -- combining queries ---------------------------------------------------------

    @classmethod
    def or_(cls, *queries: Query) -> Query:
        """A query matching objects that match any of ``queries`` (their ``where`` only)."""
        return cls._combine("$or", queries)

    @classmethod
    def and_(cls, *queries: Query) -> Query:
        """A query matching objects that match all of ``queries`` (their ``where`` only)."""
        return cls._combine("$and", queries)

    @staticmethod
    def _combine(operator: str, queries: Tuple[Query, ...]) -> Query:
        if len(queries) < 2:
            raise ValueError(f"{operator} needs at least two queries")
        if not all(isinstance(q, Query) for q in queries):
            raise TypeError(f"{operator} takes Query objects")
        class_name = queries[0]._class_name
        if any(q._class_name != class_name for q in queries):
            raise TypeError("All queries must be for the same class")
        combined = Query(queries[0]._query_class)
        combined._where[operator] = [copy.deepcopy(q._where) for q in queries]
        return combined

    # -- conditions ----------------------------------------------------------------

    def equal_to(self, key: str, value: Any) -> Query:
        """The field equals ``value`` (an array field: contains it); replaces other conditions."""
        self._where[_check_key(key)] = codec.encode(value)
        return self

    def _add_condition(self, key: str, operator: str, value: Any) -> Query:
        _check_key(key)
        if not _is_operator_dict(self._where.get(key)):
            self._where[key] = {}
        self._where[key][operator] = codec.encode(value)
        return self

    def not_equal_to(self, key: str, value: Any) -> Query:
        return self._add_condition(key, "$ne", value)

    def less_than(self, key: str, value: Any) -> Query:
        return self._add_condition(key, "$lt", value)

    def less_than_or_equal_to(self, key: str, value: Any) -> Query:
        return self._add_condition(key, "$lte", value)

    def greater_than(self, key: str, value: Any) -> Query:
        return self._add_condition(key, "$gt", value)

    def greater_than_or_equal_to(self, key: str, value: Any) -> Query:
        return self._add_condition(key, "$gte", value)

    def contained_in(self, key: str, values: Iterable[Any]) -> Query:
        return self._add_condition(key, "$in", _check_values(values))

    def not_contained_in(self, key: str, values: Iterable[Any]) -> Query:
        return self._add_condition(key, "$nin", _check_values(values))

    def contains_all(self, key: str, values: Iterable[Any]) -> Query:
        return self._add_condition(key, "$all", _check_values(values))

    def size_equal_to(self, key: str, size: int) -> Query:
        return self._add_condition(key, "$size", _check_int("size", size, 0))

    def exists(self, key: str) -> Query:
        return self._add_condition(key, "$exists", True)

    def does_not_exist(self, key: str) -> Query:
        return self._add_condition(key, "$exists", False)

    def startswith(self, key: str, value: str) -> Query:
        """Sent as the regex ``^value``, unescaped like the official SDK."""
        return self._add_condition(key, "$regex", "^" + _check_str("value", value))

    def endswith(self, key: str, value: str) -> Query:
        """Sent as the regex ``value$``, unescaped like the official SDK."""
        return self._add_condition(key, "$regex", _check_str("value", value) + "$")

    def contains(self, key: str, value: str) -> Query:
        """Sent as the regex ``value``, unescaped like the official SDK."""
        return self._add_condition(key, "$regex", _check_str("value", value))

    def matched(
        self,
        key: str,
        regex: Union[str, "re.Pattern[str]"],
        ignore_case: bool = False,
        multi_line: bool = False,
    ) -> Query:
        """The field matches ``regex``; a compiled pattern brings its i/m/s/x flags along."""
        flags = 0
        if isinstance(regex, re.Pattern):
            flags = regex.flags
            regex = regex.pattern
        _check_str("regex", regex)
        flags |= (re.IGNORECASE if ignore_case else 0) | (re.MULTILINE if multi_line else 0)
        options = "".join(letter for flag, letter in _REGEX_OPTIONS if flags & flag)
        self._add_condition(key, "$regex", regex)
        if options:
            self._where[key]["$options"] = options
        else:
            self._where[key].pop("$options", None)
        return self

    def _subquery(self, query: Query) -> Dict[str, Any]:
        if not isinstance(query, Query):
            raise TypeError(f"expected a Query, not {query!r}")
        dumped = query.dump()
        dumped["className"] = query._class_name
        return dumped

    def matches_query(self, key: str, query: Query) -> Query:
        """The pointer field points to an object that ``query`` finds."""
        return self._add_condition(key, "$inQuery", self._subquery(query))

    def does_not_match_query(self, key: str, query: Query) -> Query:
        return self._add_condition(key, "$notInQuery", self._subquery(query))

    def matches_key_in_query(self, key: str, query_key: str, query: Query) -> Query:
        """The field equals the ``query_key`` field of some object that ``query`` finds."""
        return self._add_condition(
            key, "$select", {"key": _check_key(query_key), "query": self._subquery(query)}
        )

    def does_not_match_key_in_query(self, key: str, query_key: str, query: Query) -> Query:
        return self._add_condition(
            key, "$dontSelect", {"key": _check_key(query_key), "query": self._subquery(query)}
        )

    # -- geo -------------------------------------------------------------------------

    def near(self, key: str, point: Any) -> Query:
        """Sort by distance from ``point`` (nearest first) unless an order is given."""
        if point is None:
            raise ValueError("near query does not accept None")
        return self._add_condition(key, "$nearSphere", _check_point("point", point))

    def within_radians(
        self, key: str, point: Any, max_distance: float, min_distance: Optional[float] = None
    ) -> Query:
        self.near(key, point)
        self._add_condition(key, "$maxDistance", _check_number("max_distance", max_distance))
        if min_distance is not None:
            self._add_condition(key, "$minDistance", _check_number("min_distance", min_distance))
        return self

    def within_kilometers(
        self, key: str, point: Any, max_distance: float, min_distance: Optional[float] = None
    ) -> Query:
        return self._within_scaled(key, point, max_distance, min_distance, EARTH_RADIUS_KM)

    def within_miles(
        self, key: str, point: Any, max_distance: float, min_distance: Optional[float] = None
    ) -> Query:
        return self._within_scaled(key, point, max_distance, min_distance, EARTH_RADIUS_MILES)

    def _within_scaled(
        self, key: str, point: Any, max_d: float, min_d: Optional[float], radius: float
    ) -> Query:
        # The wire carries radians ($maxDistance), as the official SDK sends it.
        max_radians = _check_number("max_distance", max_d) / radius
        min_radians = None if min_d is None else _check_number("min_distance", min_d) / radius
        return self.within_radians(key, point, max_radians, min_radians)

    def within_geo_box(self, key: str, southwest: Any, northeast: Any) -> Query:
        corners = [_check_point("southwest", southwest), _check_point("northeast", northeast)]
        return self._add_condition(key, "$within", {"$box": corners})

    # -- options ---------------------------------------------------------------------

    def ascending(self, key: str) -> Query:
        """Order by ``key`` ascending, replacing any previous order."""
        self._order = [_check_key(key)]
        return self

    def descending(self, key: str) -> Query:
        self._order = ["-" + _check_key(key)]
        return self

    def add_ascending(self, key: str) -> Query:
        """Add a lower-priority ascending sort key."""
        self._order.append(_check_key(key))
        return self

    def add_descending(self, key: str) -> Query:
        self._order.append("-" + _check_key(key))
        return self

    def select(self, *keys: str) -> Query:
        """Return only these fields (cumulative across calls)."""
        self._select += _key_list(keys)
        return self

    def include(self, *keys: str) -> Query:
        """Expand these pointer fields (``a.b`` for nested ones) in the results."""
        self._include += _key_list(keys)
        return self

    def include_acl(self, value: bool = True) -> Query:
        """Ask for each object's ACL (the app must allow it in its settings)."""
        if not isinstance(value, bool):
            raise TypeError(f"include_acl takes a bool, not {value!r}")
        self._include_acl = value
        return self

    def limit(self, n: int) -> Query:
        """At most ``n`` results (0..1000; the server's default is 100)."""
        self._limit = _check_int("limit", n, 0, MAX_LIMIT)
        return self

    def skip(self, n: int) -> Query:
        self._skip = _check_int("skip", n, 0)
        return self

    def dump(self) -> Dict[str, Any]:
        """The REST parameters of this query, as the official SDK lays them out."""
        params: Dict[str, Any] = {"where": copy.deepcopy(self._where)}
        if self._include:
            params["include"] = ",".join(self._include)
        if self._select:
            params["keys"] = ",".join(self._select)
        if self._include_acl is not None:
            params["returnACL"] = json.dumps(self._include_acl)
        if self._limit >= 0:
            params["limit"] = self._limit
        if self._skip > 0:
            params["skip"] = self._skip
        if self._order:
            params["order"] = ",".join(self._order)
        params.update(self._extra)
        return params

    # -- actions -------------------------------------------------------------------

    def _make_object(self, data: Dict[str, Any], cls: Type[Object]) -> Object:
        """One result row -> an object; FriendshipQuery turns rows into users instead."""
        obj = cls()
        obj._update_data(data)
        return obj

    def _objects(self, content: Dict[str, Any]) -> List[Object]:
        """The result rows as objects.

        A top-level ``className`` names their class: LeanCloud sends it for CQL and for
        ``redirectClassNameForKey`` (a relation queried through its parent's class).
        """
        name = content.get("className")
        cls = self._query_class
        if isinstance(name, str) and name and name != self._class_name:
            cls = _resolve_class(name)
        return [self._make_object(row, cls) for row in _results(content)]

    def _find(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return _content(f"/classes/{self._class_name}", params)

    def find(self) -> List[Object]:
        """All objects matching the query (up to ``limit``, the server's default 100)."""
        return self._objects(self._find(self.dump()))

    def first(self) -> Object:
        """The first matching object; ``LeanCloudError(101)`` if there is none."""
        params = self.dump()
        params["limit"] = 1
        found = self._objects(self._find(params))
        if not found:
            raise LeanCloudError(OBJECT_NOT_FOUND, "Object not found")
        return found[0]

    def get(self, object_id: str) -> Object:
        """The object with this id (ignores ``where``; honours ``select`` and ``include``).

        Like the official SDK, a missing object gives an object with only its id set:
        the server answers ``{}`` rather than an error.
        """
        if not object_id:
            raise LeanCloudError(OBJECT_NOT_FOUND, "Object not found.")
        _check_str("object_id", object_id)
        params: Dict[str, Any] = {}
        if self._select:
            params["keys"] = ",".join(self._select)
        if self._include:
            params["include"] = ",".join(self._include)
        content = _content(f"/classes/{self._class_name}/{quote(object_id, safe='')}", params)
        obj = self._query_class.create_without_data(object_id)
        obj._update_data(content)
        return obj

    def count(self) -> int:
        """How many objects match (``limit=0&count=1``)."""
        params = self.dump()
        params["limit"] = 0
        params["count"] = 1
        count = self._find(params).get("count")
        if not isinstance(count, int):
            raise LeanCloudError(BAD_RESPONSE, "expected a 'count' in the response")
        return count

    def scan(
        self, batch_size: Optional[int] = None, scan_key: Optional[str] = None
    ) -> Iterator[Object]:
        """Every matching object, fetched in batches through ``/scan`` (needs the master key).

        Arguments are checked now; requests are sent as the iterator is consumed.
        """
        params = self.dump()
        for option in ("skip", "limit"):
            if option in params:
                raise LeanCloudError(1, f"Query.scan does not support the {option} option")
        if batch_size is not None:
            params["limit"] = _check_int("batch_size", batch_size, 1, MAX_LIMIT)
        if scan_key is not None:
            params["scan_key"] = _check_key(scan_key)
        return self._scan_pages(params)

    def _scan_pages(self, params: Dict[str, Any]) -> Iterator[Object]:
        path = f"/scan/classes/{self._class_name}"
        while True:
            content = _content(path, params)
            for row in _results(content):
                yield self._make_object(row, self._query_class)
            cursor = content.get("cursor")
            if not cursor:
                return
            params["cursor"] = cursor

    @classmethod
    def do_cloud_query(cls, cql: str, *pvalues: Any) -> CQLResult:
        """Run a CQL statement; ``pvalues`` fill its ``?`` placeholders (or pass one list)."""
        params: Dict[str, Any] = {"cql": _check_str("cql", cql)}
        if len(pvalues) == 1 and isinstance(pvalues[0], (list, tuple)):
            pvalues = tuple(pvalues[0])
        if pvalues:
            params["pvalues"] = codec.encode(list(pvalues))
        content = _content("/cloudQuery", params)
        class_name = content.get("className")
        if not isinstance(class_name, str) or not class_name:
            if _results(content):
                raise LeanCloudError(BAD_RESPONSE, "expected a 'className' in the CQL response")
            return CQLResult([], content.get("count"), None)
        return CQLResult(Query(class_name)._objects(content), content.get("count"), class_name)


class FriendshipQuery(Query):
    """A query over ``_Follower`` or ``_Followee`` whose results are the users themselves.

    Each row's ``follower`` (or ``followee``) pointer becomes a user object, expanded
    when the query ``include``s it.
    """

    def __init__(self, query_class: str) -> None:
        class_name = query_class
        if isinstance(query_class, str) and not query_class.startswith("_"):
            class_name = "_" + query_class  # the official SDK also accepts "Follower"
        if class_name not in _FRIENDSHIP_FIELDS:
            raise TypeError("FriendshipQuery takes only _Follower or _Followee")
        super().__init__(class_name)
        self._friendship_field = _FRIENDSHIP_FIELDS[class_name]

    def _make_object(self, data: Dict[str, Any], cls: Type[Object]) -> Object:
        user_data = data.get(self._friendship_field)
        if not isinstance(user_data, dict):
            raise LeanCloudError(
                BAD_RESPONSE, f"a {self._class_name} row without '{self._friendship_field}'"
            )
        user_data = {k: v for k, v in user_data.items() if k not in ("__type", "className")}
        user = _object_base().as_class("_User")()
        user._update_data(user_data)
        return user
