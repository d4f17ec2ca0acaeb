"""NDB queries, compiled to one LeanCloud ``where`` each and run by the server.

Filters are trees of ``FilterNode`` (``Person.age >= 18``), ``ConjunctionNode``
(``AND``) and ``DisjunctionNode`` (``OR``); property operators build them with the
stored field name and the *wire* value, so nothing here knows property types. A query
becomes ``GET /1.1/classes/<class>`` with ``where``, ``order``, ``keys``, ``limit`` and
``skip``; no result is ever filtered here. NDB's meanings are kept where LeanCloud's
differ:

* ``prop != v`` is NDB's ``prop < v OR prop > v`` (for numbers, strings and dates),
  else ``$ne`` plus ``$exists``: an entity without the property never matches;
* ``prop == None`` matches a stored None, not a missing property;
* ordering by a property leaves out entities that lack it (as the datastore does);
* every order ends with ``objectId``, so the order is total;
* a projection fetches only its fields (``keys``); a repeated property comes back as
  its whole list, not one entity per element as in NDB;
* ``distinct`` is the one thing done here: LeanCloud cannot group, so rows whose
  projected values were already seen are skipped (``count`` then counts by iterating).

Cursors are positions in that total order: the order values and objectId of the last
row (``where`` conditions "after this row"), so pages neither repeat nor skip rows
when others are written meanwhile. Where a row's order values cannot be compared by
the server (a Key, a GeoPt), the cursor falls back to "N rows after the last
comparable row" (``skip``).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from leancloud import client
from leancloud.ndb import tasklets
from leancloud.ndb.errors import (
    BadArgumentError,
    BadRequestError,
    BadValueError,
    Error,
    InvalidPropertyError,
)
from leancloud.ndb.key import Key

__all__ = [
    "BadQueryError",
    "Node",
    "FilterNode",
    "ConjunctionNode",
    "DisjunctionNode",
    "AND",
    "OR",
    "PropertyOrder",
    "Parameter",
    "ParameterNode",
    "Cursor",
    "QueryOptions",
    "Query",
    "QueryIterator",
    "gql",
    "Index",
    "IndexProperty",
    "IndexState",
    "get_indexes",
    "get_indexes_async",
]

Where = Dict[str, Any]

_OPS = ("=", "!=", "<", "<=", ">", ">=", "in")
_INEQUALITY = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_KEY_FIELD = "objectId"
_MAX_BATCH = 1000  # the server's largest page
_OPTIONS = frozenset(
    {
        "keys_only", "projection", "offset", "limit", "batch_size", "prefetch_size",
        "produce_cursors", "start_cursor", "end_cursor", "deadline", "read_policy",
        "use_cache", "use_memcache", "use_datastore", "memcache_timeout",
        "max_memcache_items", "force_writes",
    }
)  # fmt: skip


def _is_date(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "Date"


def _is_orderable(value: Any) -> bool:
    """Values the server compares with ``$lt``/``$gt``: numbers, strings, dates."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float, str)) or _is_date(value)


class BadQueryError(Error):
    """A GQL string that cannot be parsed, or a query that cannot be run."""


# -- filters -------------------------------------------------------------------------------


class Node:
    """A filter expression; ``_where()`` is its LeanCloud ``where``."""

    def _where(self) -> Where:
        raise NotImplementedError

    def _resolve(self, bindings: Dict[Any, Any], used: Dict[Any, bool]) -> "Node":
        """This node with GQL parameters replaced by bound values (see ``gql_parser.py``)."""
        return self

    def __eq__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._state() == other._state()

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self._state())))

    def _state(self) -> Any:
        raise NotImplementedError


class FilterNode(Node):
    """``name <op> value``: ``name`` the stored field path, ``value`` the wire value."""

    __slots__ = ("_name", "_opsymbol", "_value")

    def __init__(self, name: str, opsymbol: str, value: Any) -> None:
        if not isinstance(name, str) or not name:
            raise BadArgumentError(f"Filter needs a field name, got {name!r}")
        if opsymbol not in _OPS:
            raise BadArgumentError(f"Unknown filter operator {opsymbol!r}; use one of {_OPS}")
        if opsymbol == "in":
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise BadArgumentError(f"IN expects a list, tuple or set, got {value!r}")
            value = list(value)
        elif opsymbol in _INEQUALITY and not _is_orderable(value):
            raise BadArgumentError(
                f"Inequality filter {name} {opsymbol} {value!r}: the value must be a number, "
                "a string or a date"
            )
        self._name, self._opsymbol, self._value = name, opsymbol, value

    def _state(self) -> Any:
        return (self._name, self._opsymbol, self._value)

    def _where(self) -> Where:
        name, op, value = self._name, self._opsymbol, self._value
        if op == "=":
            return _equal(name, value)
        if op == "in":
            return {name: {"$in": value}}
        if op == "!=":
            return _not_equal(name, value)
        return {name: {_INEQUALITY[op]: value}}

    def __repr__(self) -> str:
        return f"FilterNode({self._name!r}, {self._opsymbol!r}, {self._value!r})"


def _equal(name: str, value: Any) -> Where:
    if value is None:  # LeanCloud's null also matches a missing field; NDB's does not
        return {"$and": [{name: None}, {name: {"$exists": True}}]}
    if isinstance(value, dict) and "__type" not in value:
        return {name: {"$eq": value}}  # a plain object would read as operators
    return {name: value}


def _not_equal(name: str, value: Any) -> Where:
    if _is_orderable(value):
        return {"$or": [{name: {"$lt": value}}, {name: {"$gt": value}}]}
    return {name: {"$ne": value, "$exists": True}}


class _Junction(Node):
    _operator = ""

    def __new__(cls, *nodes: Node) -> Any:
        flat = _flatten(cls, nodes)
        if len(flat) == 1:
            return flat[0]
        self = super().__new__(cls)
        self._nodes = tuple(flat)
        return self

    def __init__(self, *nodes: Node) -> None:
        """Built in ``__new__``: one node is returned as itself, nested ones are flattened."""

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes)

    def _state(self) -> Any:
        return self._nodes

    def _where(self) -> Where:
        return {self._operator: [node._where() for node in self._nodes]}

    def _resolve(self, bindings: Dict[Any, Any], used: Dict[Any, bool]) -> Node:
        return type(self)(*[node._resolve(bindings, used) for node in self._nodes])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._nodes))})"

    def __getnewargs__(self) -> Tuple[Node, ...]:
        return self._nodes


def _flatten(cls: type, nodes: Sequence[Any]) -> List[Node]:
    if not nodes:
        raise BadArgumentError(f"{cls.__name__} needs at least one filter")
    flat: List[Node] = []
    for node in nodes:
        if not isinstance(node, Node):
            raise BadArgumentError(f"Expected a filter (Node), got {node!r}")
        flat.extend(node._nodes if type(node) is cls else [node])
    return flat


class ConjunctionNode(_Junction):
    """All of the filters (``AND``)."""

    _operator = "$and"


class DisjunctionNode(_Junction):
    """Any of the filters (``OR``)."""

    _operator = "$or"


AND = ConjunctionNode
OR = DisjunctionNode


class Parameter:
    """A GQL placeholder, ``:1`` or ``:name``, bound by ``Query.bind``."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve(self, bindings: Dict[Any, Any], used: Dict[Any, bool]) -> Any:
        if self.key not in bindings:
            raise BadArgumentError(f"Parameter :{self.key} is not bound.")
        used[self.key] = True
        return bindings[self.key]

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Parameter) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Parameter({self.key!r})"


class ParameterNode(Node):
    """``prop <op> :param``: a filter whose value comes when the query is bound."""

    def __init__(self, prop: Any, op: str, param: Parameter) -> None:
        if op not in _OPS:
            raise BadArgumentError(f"Unknown filter operator {op!r}")
        self._prop, self._op, self._param = prop, op, param

    def _state(self) -> Any:
        return (self._prop._name, self._op, self._param)

    def _where(self) -> Where:
        raise BadArgumentError(f"Parameter :{self._param.key} is not bound.")

    def _resolve(self, bindings: Dict[Any, Any], used: Dict[Any, bool]) -> Node:
        return apply_operator(self._prop, self._op, self._param.resolve(bindings, used))

    def __repr__(self) -> str:
        return f"ParameterNode({self._prop._name!r}, {self._op!r}, {self._param!r})"


def apply_operator(prop: Any, op: str, value: Any) -> Node:
    """``prop <op> value`` through the property's own operator (its validation, its wire value)."""
    if op == "in":
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise BadArgumentError(f"IN expects a list, got {value!r}")
        return prop._IN(value)
    operators = {
        "=": prop.__eq__, "!=": prop.__ne__, "<": prop.__lt__,
        "<=": prop.__le__, ">": prop.__gt__, ">=": prop.__ge__,
    }  # fmt: skip
    return operators[op](value)


class PropertyOrder:
    """One sort key: ``+Model.prop`` / ``-Model.prop`` (``name`` is the stored path)."""

    __slots__ = ("name", "descending")

    def __init__(self, name: str, descending: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise BadArgumentError(f"Order needs a field name, got {name!r}")
        self.name, self.descending = name, bool(descending)

    def __neg__(self) -> "PropertyOrder":
        return PropertyOrder(self.name, not self.descending)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, PropertyOrder):
            return NotImplemented
        return (self.name, self.descending) == (other.name, other.descending)

    def __hash__(self) -> int:
        return hash((self.name, self.descending))

    def __repr__(self) -> str:
        return f"PropertyOrder({self.name!r}, descending={self.descending})"

    @property
    def _wire(self) -> str:
        return ("-" if self.descending else "") + self.name


def _to_order(arg: Any) -> PropertyOrder:
    if isinstance(arg, PropertyOrder):
        return arg
    if isinstance(arg, str):
        text = arg.strip()
        name = text.lstrip("-+")
        return PropertyOrder(_KEY_FIELD if name == "__key__" else name, text.startswith("-"))
    if hasattr(arg, "_name") and hasattr(arg, "__pos__"):  # a Property: ascending
        return +arg
    raise BadArgumentError(f"Expected a property or a PropertyOrder, got {arg!r}")


# -- cursors -------------------------------------------------------------------------------


class Cursor:
    """An opaque position in a query's order; ``urlsafe()`` is its token."""

    __slots__ = ("_state",)

    def __init__(self, urlsafe: Any = None, _state: Optional[Dict[str, Any]] = None) -> None:
        if _state is None:
            _state = _decode_cursor(urlsafe)
        self._state = _state

    def urlsafe(self) -> str:
        raw = json.dumps(self._state, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    to_websafe_string = urlsafe

    @classmethod
    def from_websafe_string(cls, urlsafe: str) -> "Cursor":
        return cls(urlsafe=urlsafe)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Cursor):
            return NotImplemented
        return self._state == other._state

    def __hash__(self) -> int:
        return hash(self.urlsafe())

    def __repr__(self) -> str:
        return f"Cursor(urlsafe={self.urlsafe()!r})"


def _decode_cursor(urlsafe: Any) -> Dict[str, Any]:
    if isinstance(urlsafe, bytes):
        urlsafe = urlsafe.decode("ascii", "replace")
    if not isinstance(urlsafe, str) or not urlsafe:
        raise BadValueError(f"Invalid cursor {urlsafe!r}")
    try:
        raw = base64.urlsafe_b64decode(urlsafe + "=" * (-len(urlsafe) % 4))
        state = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise BadValueError(f"Invalid cursor {urlsafe!r}") from exc
    if not (
        isinstance(state, dict)
        and isinstance(state.get("order"), list)
        and isinstance(state.get("skip"), int)
        and (state.get("after") is None or isinstance(state["after"], list))
    ):
        raise BadValueError(f"Invalid cursor {urlsafe!r}")
    return state


# -- options -------------------------------------------------------------------------------


class QueryOptions:
    """NDB's query options (``keys_only``, ``limit``, cursors, ...) as one value."""

    def __init__(self, **options: Any) -> None:
        _check_options(options)
        self._options = options

    def __getattr__(self, name: str) -> Any:
        if name in _OPTIONS:
            return self._options.get(name)
        raise AttributeError(name)

    def _merged(self, options: Dict[str, Any]) -> Dict[str, Any]:
        return {**self._options, **options}

    def __repr__(self) -> str:
        return f"QueryOptions({', '.join(f'{k}={v!r}' for k, v in self._options.items())})"


def _check_options(options: Dict[str, Any]) -> None:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise TypeError(f"Unknown query options: {', '.join(sorted(unknown))}")
    for name in ("limit", "offset", "batch_size"):
        value = options.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise BadArgumentError(f"{name} must be a non-negative integer, got {value!r}")
    if options.get("batch_size") == 0:
        raise BadArgumentError("batch_size must be positive")
    for name in ("start_cursor", "end_cursor"):
        if options.get(name) is not None and not isinstance(options[name], Cursor):
            raise BadArgumentError(f"{name} must be a Cursor, got {options[name]!r}")
    if options.get("keys_only") and options.get("projection"):
        raise BadArgumentError("keys_only and projection cannot be combined")


# -- the query -----------------------------------------------------------------------------


class Query:
    """An immutable query on one kind; ``filter``/``order`` return new queries."""

    def __init__(
        self,
        kind: Optional[str] = None,
        ancestor: Optional[Key] = None,
        filters: Optional[Node] = None,
        orders: Optional[Sequence[Any]] = None,
        app: Optional[str] = None,
        namespace: Optional[str] = None,
        default_options: Optional[QueryOptions] = None,
        projection: Optional[Sequence[Any]] = None,
        group_by: Optional[Sequence[Any]] = None,
        distinct: bool = False,
    ) -> None:
        if kind is not None and not isinstance(kind, str):
            raise BadArgumentError(f"kind must be a string, got {kind!r}")
        if ancestor is not None and not isinstance(ancestor, Parameter):
            if not isinstance(ancestor, Key) or not ancestor.is_complete():
                raise BadArgumentError(f"ancestor must be a complete Key, got {ancestor!r}")
            if namespace is not None and namespace != ancestor.namespace():
                raise BadArgumentError("ancestor and namespace disagree")
            namespace = ancestor.namespace()
        if filters is not None and not isinstance(filters, Node):
            raise BadArgumentError(f"filters must be a Node, got {filters!r}")
        if default_options is not None and not isinstance(default_options, QueryOptions):
            raise BadArgumentError("default_options must be a QueryOptions")
        self._kind = kind
        self._ancestor = ancestor
        self._filters = filters
        self._orders = tuple(_to_order(order) for order in orders or ())
        self._app = app
        self._namespace = namespace or ""
        self._default_options = default_options
        self._projection = _names(projection, "projection")
        group_by = self._projection if distinct and group_by is None else group_by
        self._group_by = _names(group_by, "group_by")
        if self._group_by and not set(self._group_by) <= set(self._projection or ()):
            raise BadArgumentError("group_by must be a subset of the projection")
        if self._projection:
            self._check_projection(self._projection)

    # -- NDB's read-only attributes ---------------------------------------------------

    kind = property(lambda self: self._kind)
    ancestor = property(lambda self: self._ancestor)
    filters = property(lambda self: self._filters)
    orders = property(lambda self: self._orders or None)
    app = property(lambda self: self._app)
    namespace = property(lambda self: self._namespace)
    default_options = property(lambda self: self._default_options)
    projection = property(lambda self: self._projection)
    group_by = property(lambda self: self._group_by)
    is_distinct = property(lambda self: bool(self._group_by))

    def _replace(self, **changes: Any) -> "Query":
        state = dict(
            kind=self._kind, ancestor=self._ancestor, filters=self._filters,
            orders=self._orders, app=self._app, namespace=self._namespace or None,
            default_options=self._default_options, projection=self._projection,
            group_by=self._group_by,
        )  # fmt: skip
        state.update(changes)
        return Query(**state)

    def _state(self) -> Tuple[Any, ...]:
        return (
            self._kind, self._ancestor, self._filters, self._orders, self._app,
            self._namespace, self._projection, self._group_by,
        )  # fmt: skip

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self._state() == other._state()

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # filters may hold unhashable values

    def filter(self, *args: Node) -> "Query":
        """This query AND the given filters."""
        if not args:
            return self
        nodes = ([self._filters] if self._filters is not None else []) + list(args)
        return self._replace(filters=ConjunctionNode(*nodes))

    def order(self, *args: Any) -> "Query":
        """This query sorted also by the given properties (``-Model.prop``: descending)."""
        if not args:
            return self
        return self._replace(orders=self._orders + tuple(_to_order(arg) for arg in args))

    def __repr__(self) -> str:
        parts = [f"kind={self._kind!r}"]
        for name in ("ancestor", "filters", "orders", "projection", "group_by"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value!r}")
        return f"Query({', '.join(parts)})"

    # -- GQL parameters ----------------------------------------------------------------

    def bind(self, *args: Any, **kwds: Any) -> "Query":
        """The query with GQL parameters ``:1``, ``:name`` replaced by these values."""
        bindings: Dict[Any, Any] = dict(enumerate(args, 1))
        bindings.update(kwds)
        used: Dict[Any, bool] = {}
        filters = self._filters._resolve(bindings, used) if self._filters is not None else None
        ancestor = self._ancestor
        if isinstance(ancestor, Parameter):
            ancestor = ancestor.resolve(bindings, used)
        unused = [key for key in bindings if key not in used and isinstance(key, int)]
        if unused:
            raise BadArgumentError(f"Positional arguments {unused} were given but not used")
        return self._replace(filters=filters, ancestor=ancestor)

    def analyze(self) -> List[Any]:
        """The keys of the GQL parameters still unbound (``1``, ``'name'``)."""
        found: List[Any] = []
        if isinstance(self._ancestor, Parameter):
            found.append(self._ancestor.key)
        pending = [self._filters] if self._filters is not None else []
        while pending:
            node = pending.pop(0)
            if isinstance(node, ParameterNode):
                found.append(node._param.key)
            elif isinstance(node, _Junction):
                pending.extend(node)
        return list(dict.fromkeys(found))

    # -- running -----------------------------------------------------------------------

    def _options(self, options: Dict[str, Any]) -> Dict[str, Any]:
        _check_options(options)
        if self._default_options is not None:
            options = self._default_options._merged(options)
        projection = options.get("projection")
        if projection:
            options["projection"] = _names(projection, "projection")
            self._check_projection(options["projection"])
        elif self._projection:
            options["projection"] = self._projection
        if options.get("keys_only") and options.get("projection"):
            raise BadArgumentError("keys_only and projection cannot be combined")
        return options

    def _check_projection(self, names: Tuple[str, ...]) -> None:
        """NDB's rules: indexed, known (unless Expando), never whole sub-entities."""
        model = self._model_class(required=False)
        for name in names:
            if name in ("objectId", "__key__"):
                raise InvalidPropertyError(f"Cannot project {name}; use keys_only")
            if model is None:
                continue
            first, _, rest = name.partition(".")
            prop = model._properties.get(first)
            if prop is None:
                if _is_expando(model):
                    continue
                raise InvalidPropertyError(f"Unknown property name {name!r} for {model.__name__}")
            prop._check_property(rest or None)
        if self._filters is not None:
            for node in _equality_nodes(self._filters):
                if node._name in names:
                    raise BadRequestError(
                        f"Cannot use projection on a property with an equality filter: {node._name}"
                    )

    def _model_class(self, required: bool = True) -> Optional[type]:
        if self._kind is None:
            if required:
                raise BadRequestError("A query without a kind cannot be run here")
            return None
        from leancloud.ndb.model import Model

        try:
            return Model._lookup_model(self._kind)
        except Exception:
            if required:
                raise
            return None

    def _plan(self, options: Dict[str, Any]) -> "_Plan":
        from leancloud.ndb import mapping
        from leancloud.ndb.transaction import in_transaction

        if in_transaction() and self._ancestor is None:
            raise BadRequestError("Only ancestor queries are allowed inside transactions")
        model = None if options.get("keys_only") else self._model_class()
        class_name = mapping.class_name_for_kind(self._kind or "", self._namespace)
        conditions: List[Where] = []
        if self._filters is not None:
            conditions.append(self._filters._where())
        if isinstance(self._ancestor, Parameter):
            raise BadArgumentError(f"Parameter :{self._ancestor.key} is not bound.")
        if self._ancestor is not None:
            field, value = mapping.ancestor_condition(self._ancestor)
            conditions.append({field: value})
        orders = list(self._orders)
        if _KEY_FIELD not in [order.name for order in orders]:
            orders.append(PropertyOrder(_KEY_FIELD))
        conditions.extend(
            {order.name: {"$exists": True}} for order in orders if order.name != _KEY_FIELD
        )
        return _Plan(self, class_name, model, conditions, tuple(orders), options)

    def iter(self, **options: Any) -> "QueryIterator":
        """An iterator over the results, fetched in batches, with cursors."""
        return QueryIterator(self._plan(self._options(options)))

    __iter__ = iter

    def fetch(self, limit: Optional[int] = None, **options: Any) -> List[Any]:
        """A list of the (first ``limit``) results."""
        if limit is not None:
            options["limit"] = limit
        return list(self.iter(**options))

    def get(self, **options: Any) -> Any:
        """The first result, or None."""
        results = self.fetch(1, **options)
        return results[0] if results else None

    def map(self, callback: Callable[[Any], Any], **options: Any) -> List[Any]:
        """``[callback(result) for result in self]``; results are keys when keys_only."""
        options.pop("merge_future", None)
        return [callback(result) for result in self.iter(**options)]

    def fetch_page(
        self, page_size: int, start_cursor: Optional[Cursor] = None, **options: Any
    ) -> Tuple[List[Any], Optional[Cursor], bool]:
        """``(results, cursor, more)``: a page, the cursor after it, whether more follow."""
        if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
            raise BadArgumentError(f"page_size must be a positive integer, got {page_size!r}")
        options.update(start_cursor=start_cursor, limit=page_size + 1)
        iterator = self.iter(**options)
        results = list(itertools.islice(iterator, page_size))
        more = iterator.has_next()
        cursor = iterator.cursor_after() if results else start_cursor
        return results, cursor, more

    def count(self, limit: Optional[int] = None, **options: Any) -> int:
        """How many results there are (at most ``limit``), counted by the server."""
        if limit is not None:
            options["limit"] = limit
        plan = self._plan(self._options(options))
        if plan.group_by:
            return sum(1 for _ in QueryIterator(plan))
        return plan.count()

    # -- async forms ---------------------------------------------------------------------

    def fetch_async(self, limit: Optional[int] = None, **options: Any) -> tasklets.Future:
        return tasklets.run_async(self.fetch, limit, **options)

    def get_async(self, **options: Any) -> tasklets.Future:
        return tasklets.run_async(self.get, **options)

    def count_async(self, limit: Optional[int] = None, **options: Any) -> tasklets.Future:
        return tasklets.run_async(self.count, limit, **options)

    def map_async(self, callback: Callable[[Any], Any], **options: Any) -> tasklets.Future:
        return tasklets.run_async(self.map, callback, **options)

    def fetch_page_async(
        self, page_size: int, start_cursor: Optional[Cursor] = None, **options: Any
    ) -> tasklets.Future:
        return tasklets.run_async(self.fetch_page, page_size, start_cursor, **options)


def _names(values: Optional[Sequence[Any]], what: str) -> Optional[Tuple[str, ...]]:
    """Property names from names or Property objects (their stored names)."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise BadArgumentError(f"{what} must be a list or tuple, got {values!r}")
    names = []
    for value in values:
        name = value if isinstance(value, str) else getattr(value, "_name", None)
        if not isinstance(name, str) or not name:
            raise BadArgumentError(f"{what} expects property names or properties, got {value!r}")
        names.append(name)
    if not names:
        raise BadArgumentError(f"{what} cannot be empty")
    return tuple(names)


def _is_expando(model: type) -> bool:
    from leancloud.ndb.model import Expando

    return issubclass(model, Expando)


def _equality_nodes(node: Node) -> Iterator[FilterNode]:
    if isinstance(node, FilterNode):
        if node._opsymbol == "=":
            yield node
    elif isinstance(node, ConjunctionNode):
        for child in node:
            yield from _equality_nodes(child)


# -- execution -----------------------------------------------------------------------------


def _combine(conditions: List[Where]) -> Optional[Where]:
    conditions = [c for c in conditions if c]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _field(row: Dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING = object()


def _is_anchorable(value: Any) -> bool:
    """Values a "rows after this one" condition can be written for."""
    return value is None or isinstance(value, bool) or _is_orderable(value)


def _beyond(name: str, value: Any, greater: bool) -> Optional[Where]:
    """Rows whose ``name`` sorts strictly after (``greater``) or before ``value``.

    The server sorts null first and compares within one type; None means "no row"."""
    if value is None:
        return {name: {"$ne": None}} if greater else None
    if isinstance(value, bool):
        if greater:
            return None if value else {name: True}
        return {"$or": [{name: False}, {name: None}]} if value else {name: None}
    if greater:
        return {name: {"$gt": value}}
    return {"$or": [{name: {"$lt": value}}, {name: None}]}


def _position(orders: Sequence[PropertyOrder], values: Sequence[Any], after: bool) -> Where:
    """Rows strictly after the anchor (``after``), or at or before it."""
    branches: List[Where] = []
    prefix: List[Where] = []
    for order, value in zip(orders, values):
        strict = _beyond(order.name, value, greater=after != order.descending)
        if strict is not None:
            branches.append(_combine(prefix + [strict]))  # type: ignore[arg-type]
        prefix.append({order.name: value})
    if not after:
        branches.append(_combine(prefix))  # type: ignore[arg-type]
    if not branches:
        return {_KEY_FIELD: {"$in": []}}
    return branches[0] if len(branches) == 1 else {"$or": branches}


class _Plan:
    """A query compiled for the server, plus the options of one run."""

    def __init__(
        self,
        query: Query,
        class_name: str,
        model: Optional[type],
        conditions: List[Where],
        orders: Tuple[PropertyOrder, ...],
        options: Dict[str, Any],
    ) -> None:
        self.query, self.class_name, self.model = query, class_name, model
        self.conditions, self.orders = conditions, orders
        self.keys_only = bool(options.get("keys_only"))
        self.projection: Optional[Tuple[str, ...]] = options.get("projection")
        self.group_by = query.group_by if self.projection else None
        self.limit: Optional[int] = options.get("limit")
        self.offset: int = options.get("offset") or 0
        self.batch_size = min(options.get("batch_size") or _MAX_BATCH, _MAX_BATCH)
        self.start = self._cursor_state(options.get("start_cursor"))
        self.end = self._cursor_state(options.get("end_cursor"))
        if self.end is not None and self.end["skip"]:
            raise BadArgumentError("end_cursor must be a position the server can compare")

    def _cursor_state(self, cursor: Optional[Cursor]) -> Optional[Dict[str, Any]]:
        if cursor is None:
            return None
        state = cursor._state
        if state["order"] != [order._wire for order in self.orders]:
            raise BadArgumentError("The cursor belongs to a query with another order")
        if state["after"] is not None and len(state["after"]) != len(self.orders):
            raise BadValueError("Invalid cursor")
        return state

    def where(self, anchor: Optional[List[Any]]) -> Optional[Where]:
        conditions = list(self.conditions)
        if anchor is not None:
            conditions.append(_position(self.orders, anchor, after=True))
        if self.end is not None and self.end["after"] is not None:
            conditions.append(_position(self.orders, self.end["after"], after=False))
        return _combine(conditions)

    def keys(self) -> Optional[str]:
        if self.keys_only:
            wanted: Sequence[str] = (_KEY_FIELD,)
        elif self.projection:
            wanted = self.projection
        else:
            return None
        names = list(dict.fromkeys([*wanted, *(order.name for order in self.orders)]))
        return ",".join(names)

    def params(self, anchor: Optional[List[Any]], skip: int, limit: int) -> Dict[str, Any]:
        params: Dict[str, Any] = {
            "order": ",".join(order._wire for order in self.orders),
            "limit": limit,
        }
        where = self.where(anchor)
        if where is not None:
            params["where"] = where
        if skip:
            params["skip"] = skip
        keys = self.keys()
        if keys is not None:
            params["keys"] = keys
        return params

    def fetch_rows(
        self, anchor: Optional[List[Any]], skip: int, limit: int
    ) -> List[Dict[str, Any]]:
        path = f"/classes/{self.class_name}"
        return client.get(path, self.params(anchor, skip, limit)).json()["results"]

    def count(self) -> int:
        anchor, skip = self.start_position()
        params = self.params(anchor, 0, 0)
        params["count"] = 1
        params.pop("order")
        total = client.get(f"/classes/{self.class_name}", params).json()["count"]
        total = max(total - skip, 0)
        return total if self.limit is None else min(total, self.limit)

    def start_position(self) -> Tuple[Optional[List[Any]], int]:
        if self.start is None:
            return None, self.offset
        return self.start["after"], self.start["skip"] + self.offset

    def anchor_of(self, row: Dict[str, Any]) -> Optional[List[Any]]:
        values = [_field(row, order.name) for order in self.orders]
        if all(value is not _MISSING and _is_anchorable(value) for value in values):
            return values
        return None

    def cursor(self, anchor: Optional[List[Any]], skip: int) -> Cursor:
        return Cursor(
            _state={"order": [o._wire for o in self.orders], "after": anchor, "skip": skip}
        )

    def result(self, row: Dict[str, Any]) -> Any:
        from leancloud.ndb import mapping

        if self.keys_only:
            return mapping.key_from_wire(self.query.kind, row)
        return mapping.entity_from_wire(self.model, row, self.projection)

    def group_key(self, row: Dict[str, Any]) -> str:
        values = [_field(row, name) for name in self.group_by or ()]
        return json.dumps([None if v is _MISSING else v for v in values], sort_keys=True)


class QueryIterator:
    """Results of one run, fetched a batch at a time; knows the cursor around each."""

    def __init__(self, plan: _Plan) -> None:
        self._plan = plan
        self._rows = self._generate()
        self._peeked: Optional[Tuple[Any, Cursor, Cursor]] = None
        self._last: Optional[Tuple[Any, Cursor, Cursor]] = None

    def _generate(self) -> Iterator[Tuple[Any, Cursor, Cursor]]:
        plan = self._plan
        anchor, skip = plan.start_position()
        remaining = plan.limit
        seen: set = set()
        while remaining is None or remaining > 0:
            want = plan.batch_size if remaining is None else min(remaining, plan.batch_size)
            rows = plan.fetch_rows(anchor, skip, want)
            for row in rows:
                before = plan.cursor(anchor, skip)
                row_anchor = plan.anchor_of(row)
                anchor, skip = (row_anchor, 0) if row_anchor is not None else (anchor, skip + 1)
                if plan.group_by is not None:
                    group = plan.group_key(row)
                    if group in seen:
                        continue
                    seen.add(group)
                yield plan.result(row), before, plan.cursor(anchor, skip)
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            if len(rows) < want:
                return

    def _advance(self) -> Optional[Tuple[Any, Cursor, Cursor]]:
        if self._peeked is not None:
            item, self._peeked = self._peeked, None
            return item
        return next(self._rows, None)

    def has_next(self) -> bool:
        if self._peeked is None:
            self._peeked = next(self._rows, None)
        return self._peeked is not None

    probably_has_next = has_next

    def __iter__(self) -> "QueryIterator":
        return self

    def __next__(self) -> Any:
        item = self._advance()
        if item is None:
            raise StopIteration
        self._last = item
        return item[0]

    next = __next__

    def cursor_before(self) -> Cursor:
        """The position just before the result last returned."""
        if self._last is None:
            raise BadArgumentError("There is no cursor before the first result is read")
        return self._last[1]

    def cursor_after(self) -> Cursor:
        """The position just after the result last returned."""
        if self._last is None:
            raise BadArgumentError("There is no cursor before the first result is read")
        return self._last[2]


def gql(query_string: str, *args: Any, **kwds: Any) -> Query:
    """A Query for a GQL ``SELECT`` (see ``leancloud/ndb/gql_parser.py`` for the subset)."""
    from leancloud.ndb.gql_parser import parse

    query = parse(query_string)
    return query.bind(*args, **kwds) if args or kwds else query


# -- indexes -------------------------------------------------------------------------------


class IndexProperty:
    """One property of an index and its direction (``asc``/``desc``)."""

    def __init__(self, name: str, direction: str = "asc") -> None:
        self.name, self.direction = name, direction

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, IndexProperty) and (self.name, self.direction) == (
            other.name,
            other.direction,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __repr__(self) -> str:
        return f"IndexProperty(name={self.name!r}, direction={self.direction!r})"


class Index:
    """An index: the kind, its properties, whether it is an ancestor index."""

    def __init__(self, kind: str, properties: Sequence[IndexProperty], ancestor: bool) -> None:
        self.kind, self.properties, self.ancestor = kind, list(properties), ancestor

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Index) and (self.kind, self.properties, self.ancestor) == (
            other.kind,
            other.properties,
            other.ancestor,
        )

    def __hash__(self) -> int:
        return hash((self.kind, tuple(self.properties), self.ancestor))

    def __repr__(self) -> str:
        return (
            f"Index(kind={self.kind!r}, properties={self.properties!r}, ancestor={self.ancestor})"
        )


class IndexState:
    """An index with its id and state (always ``serving`` here)."""

    def __init__(self, definition: Index, state: str, id: int) -> None:
        self.definition, self.state, self.id = definition, state, id

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, IndexState) and (self.definition, self.state, self.id) == (
            other.definition,
            other.state,
            other.id,
        )

    def __hash__(self) -> int:
        return hash((self.definition, self.state, self.id))

    def __repr__(self) -> str:
        return f"IndexState(definition={self.definition!r}, state={self.state!r}, id={self.id})"


_SYSTEM_FIELDS = frozenset({"objectId", "createdAt", "updatedAt", "ACL"})


def get_indexes(**ctx_options: Any) -> List[IndexState]:
    """The server's queryable fields, one single-property index each, read from
    ``/1.1/schemas`` (master key). LeanCloud needs no composite indexes: any filter and
    order combination is served, so there is nothing else to report."""
    from leancloud.ndb.mapping import ANCESTORS_FIELD

    schema = client.get("/schemas").json()
    states: List[IndexState] = []
    for class_name in sorted(schema):
        fields = schema[class_name]
        ancestor = ANCESTORS_FIELD in fields
        for field in sorted(set(fields) - _SYSTEM_FIELDS - {ANCESTORS_FIELD}):
            index = Index(class_name, [IndexProperty(field, "asc")], ancestor)
            states.append(IndexState(index, "serving", len(states) + 1))
    return states


def get_indexes_async(**ctx_options: Any) -> tasklets.Future:
    return tasklets.run_async(get_indexes, **ctx_options)
