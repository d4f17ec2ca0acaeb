"""CQL (LeanCloud's SQL-like Cloud Query Language) -> REST query parameters -> ``Query``.

CQL has no semantics of its own: a ``select`` becomes the REST parameters a client
would send to ``GET /1.1/classes/<C>`` (``where`` JSON, ``order``, ``limit``, ``skip``,
``keys``, ``include``, ``count``), validated and turned into the ``Query`` AST by
``parse_query``, so every operator keeps exactly its REST meaning. Writes become the
bodies and ``where`` conditions of the REST object requests.

Decisions where LeanCloud's grammar was loose or unknown:

* Keywords are case-insensitive and contextual; a field named like a keyword can be
  written in backquotes (`` `order` ``). Paths may be dotted (``a.b``).
* Strings take single or double quotes; a quote is escaped by doubling it or with a
  backslash; ``\\\\`` is a backslash; any other backslash is kept (``regexp '\\d+'``).
* ``like``: ``%`` is any run of characters, ``_`` one character, ``[...]`` a character
  class (LeanCloud's documented way to match brackets), everything else literal; the
  pattern must match the whole value. ``not like`` / ``not regexp`` match the string
  values that do not match (a missing value is not matched, as SQL's NULL).
* ``where``, ``limit`` and ``order by`` may come in any order (LeanCloud demands
  this one); a trailing ``;`` is allowed. ``select count(*) from C`` alone returns no
  rows, only the count.
* Subqueries without ``limit`` are unlimited, like REST ``$inQuery``/``$select``.
* ``[lng, lat]`` is longitude first wherever a geo query takes a point, also as a pvalue.
* Placeholders (``?``) take ``pvalues`` in textual order; their number must match.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from leancloud.codec import format_date
from leancloud.server import safe_json
from leancloud.server.errors import ApiError
from leancloud.server.names import check_class_name
from leancloud.server.query.ast import Query
from leancloud.server.query.rest import parse_query
from leancloud.server.query.where import parse_path, parse_where

__all__ = [
    "CQL_ERROR",
    "MAX_CQL_BYTES",
    "CqlDelete",
    "CqlInsert",
    "CqlSelect",
    "CqlUpdate",
    "Statement",
    "decode_pvalues",
    "parse_cql",
]

CQL_ERROR = 300  # LeanCloud's "CQL syntax error"
MAX_CQL_BYTES = 4096
MAX_NESTING = 32  # parentheses and subqueries; far beyond real queries, well within the stack
_DISTANCE_UNITS = {"km": "InKilometers", "miles": "InMiles", "radians": "InRadians"}
_COMPARE = {
    "=": "$eq",
    "!=": "$ne",
    "<>": "$ne",
    "<": "$lt",
    "<=": "$lte",
    ">": "$gt",
    ">=": "$gte",
}
_OBJECT_ID = re.compile(r"[^/,?#\s]+\Z")


# --- statements ---------------------------------------------------------------


@dataclass(frozen=True)
class CqlSelect:
    """A query: ``params`` are the REST query parameters (``where`` still decoded JSON)."""

    class_name: str
    params: Dict[str, Any]
    with_count: bool = False
    rows: bool = True  # False for ``select count(*) from C``: the count only

    def query(self) -> Query:
        return parse_query(self.class_name, self.params)


@dataclass(frozen=True)
class CqlInsert:
    class_name: str
    rows: Tuple[Dict[str, Any], ...]  # REST create bodies


@dataclass(frozen=True)
class CqlUpdate:
    class_name: str
    object_id: str
    body: Dict[str, Any]  # REST update body (values and ``__op`` operations)
    where: Optional[Dict[str, Any]] = None  # the other conditions: a conditional update


@dataclass(frozen=True)
class CqlDelete:
    class_name: str
    object_id: str
    where: Optional[Dict[str, Any]] = None


Statement = Union[CqlSelect, CqlInsert, CqlUpdate, CqlDelete]


def parse_cql(cql: str, pvalues: Sequence[Any] = ()) -> Statement:
    """Parse one CQL statement with its placeholder values; ``ApiError`` 300 on bad syntax
    (the message names the position), REST's codes for bad names and values."""
    if not isinstance(cql, str) or not cql.strip():
        raise ApiError(CQL_ERROR, "A CQL statement is required.")
    size = len(cql.encode("utf-8"))
    if size > MAX_CQL_BYTES:
        raise ApiError(CQL_ERROR, f"The CQL statement is {size} bytes; at most {MAX_CQL_BYTES}.")
    return _Parser(cql, list(pvalues)).statement()


def decode_pvalues(text: Optional[str]) -> List[Any]:
    """``pvalues`` as sent: a JSON array, or (the official Python SDK given one list) a JSON
    string holding the array."""
    if text is None or text == "":
        return []
    value = _json(text)
    if isinstance(value, str):
        value = _json(value)
    if not isinstance(value, list):
        raise ApiError(CQL_ERROR, "pvalues must be a JSON array.")
    return value


def _json(text: str) -> Any:
    try:
        return safe_json.loads(text)
    except safe_json.JsonInputError:
        raise ApiError(107, "Malformed json: pvalues must be a JSON array.") from None


# --- tokens -------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word, name (backquoted), string, number, punct, end
    text: str  # the word or punctuation as written
    value: Any
    pos: int

    def describe(self) -> str:
        return "the end" if self.kind == "end" else repr(self.text)


_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<word>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z0-9_$]+)*)
    |(?P<name>`[^`]+`)
    |(?P<punct><=|>=|<>|!=|[=<>(),\[\]{}:*?+\-;])
    |(?P<quote>['"])""",
    re.VERBOSE,
)


def _tokenize(text: str) -> List[_Token]:
    tokens: List[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _syntax(f"unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup
        if kind == "quote":
            value, end = _string(text, pos)
            tokens.append(_Token("string", text[pos:end], value, pos))
            pos = end
            continue
        raw = match.group()
        if kind == "number":
            tokens.append(_Token(kind, raw, _number(raw), pos))
        elif kind == "name":
            tokens.append(_Token(kind, raw, raw[1:-1], pos))
        elif kind != "space":
            tokens.append(_Token(kind, raw, raw, pos))
        pos = match.end()
    tokens.append(_Token("end", "", None, len(text)))
    return tokens


def _string(text: str, start: int) -> Tuple[str, int]:
    quote, out, pos = text[start], [], start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            following = text[pos + 1]
            out.append(following if following in (quote, "\\") else char + following)
            pos += 2
        elif char == quote:
            if text[pos + 1 : pos + 2] != quote:
                return "".join(out), pos + 1
            out.append(quote)
            pos += 2
        else:
            out.append(char)
            pos += 1
    raise _syntax("unterminated string", start)


def _number(raw: str) -> Union[int, float]:
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return float(raw)


def _syntax(message: str, pos: int) -> ApiError:
    return ApiError(CQL_ERROR, f"CQL syntax error at position {pos}: {message}.")


# --- the parser -----------------------------------------------------------------


_Where = Dict[str, Any]


@dataclass
class _Parser:
    text: str
    pvalues: List[Any]
    tokens: List[_Token] = field(init=False)
    index: int = 0
    used: int = 0  # placeholders consumed
    depth: int = 0  # open parentheses, subqueries, arrays and objects

    def __post_init__(self) -> None:
        self.tokens = _tokenize(self.text)

    # .. token helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def fail(self, expected: str, token: Optional[_Token] = None) -> ApiError:
        token = token or self.peek()
        return _syntax(f"expected {expected}, found {token.describe()}", token.pos)

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "word" and token.text.lower() in words

    def is_punct(self, *puncts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "punct" and token.text in puncts

    def accept_word(self, *words: str) -> Optional[str]:
        if self.is_word(*words):
            return self.take().text.lower()
        return None

    def accept_punct(self, *puncts: str) -> Optional[str]:
        if self.is_punct(*puncts):
            return self.take().text
        return None

    def expect_word(self, *words: str) -> str:
        found = self.accept_word(*words)
        if found is None:
            raise self.fail(" or ".join(repr(w) for w in words))
        return found

    def expect_punct(self, punct: str) -> None:
        if self.accept_punct(punct) is None:
            raise self.fail(repr(punct))

    def comma_list(self, item: Callable[[], Any]) -> List[Any]:
        items = [item()]
        while self.accept_punct(","):
            items.append(item())
        return items

    def nested(self, token: _Token, parse: Callable[[], Any]) -> Any:
        """Parse something inside brackets, refusing nesting that would exhaust the stack."""
        if self.depth >= MAX_NESTING:
            raise _syntax(f"nested more than {MAX_NESTING} levels deep", token.pos)
        self.depth += 1
        try:
            return parse()
        finally:
            self.depth -= 1

    def check(self, validate: Callable[[], Any], token: _Token) -> Any:
        """Run a REST validation, pointing its error at the CQL that caused it."""
        try:
            return validate()
        except ApiError as exc:
            message = f"{exc.message} (CQL position {token.pos})"
            raise ApiError(exc.code, message, exc.status) from None

    # .. statements

    def statement(self) -> Statement:
        token = self.peek()
        if self.accept_word("select"):
            result: Statement = self.select()
        elif self.accept_word("insert"):
            result = self.insert()
        elif self.accept_word("update"):
            result = self.update()
        elif self.accept_word("delete"):
            result = self.delete()
        else:
            raise self.fail("select, insert, update or delete", token)
        self.accept_punct(";")
        if self.peek().kind != "end":
            raise self.fail("the end of the statement")
        if self.used != len(self.pvalues):
            raise ApiError(
                CQL_ERROR,
                f"The statement has {self.used} placeholders but {len(self.pvalues)} pvalues.",
            )
        return result

    def class_name(self) -> str:
        token = self.take()
        if token.kind not in ("word", "name"):
            raise self.fail("a class name", token)
        return self.check(lambda: check_class_name(token.value), token)

    def path(self) -> str:
        token = self.take()
        if token.kind not in ("word", "name"):
            raise self.fail("a field name", token)
        self.check(lambda: parse_path(token.value), token)
        return token.value

    # .. select

    def select(self) -> CqlSelect:
        columns: List[str] = []
        includes: List[str] = []
        everything = count = False
        for item in self.comma_list(self.select_item):
            kind, value = item
            everything |= kind == "*"
            count |= kind == "count"
            if kind == "include":
                includes.append(value)
            elif kind == "column":
                columns.append(value)
        self.expect_word("from")
        class_name = self.class_name()
        params = self.clauses(class_name)
        if columns and not everything:
            roots = [path.split(".")[0] for path in includes]
            params["keys"] = ",".join(dict.fromkeys(columns + roots))
        if includes:
            params["include"] = ",".join(includes)
        rows = everything or bool(columns) or bool(includes) or not count
        if count:
            params["count"] = "1"
        if not rows:
            params["limit"] = 0
        statement = CqlSelect(class_name, params, count, rows)
        self.check(statement.query, self.peek())
        return statement

    def select_item(self) -> Tuple[str, Optional[str]]:
        if self.accept_punct("*"):
            return "*", None
        if self.is_word("count") and self.is_punct("(", ahead=1):
            self.take()
            self.take()
            if not self.accept_punct("*") and not self.accept_word("objectid"):
                raise self.fail("count(*) or count(objectId)")
            self.expect_punct(")")
            return "count", None
        followed_by_path = self.peek(1).kind in ("word", "name") and not self.is_word(
            "from", ahead=1
        )
        if self.is_word("include") and followed_by_path:
            self.take()
            return "include", self.path()
        return "column", self.path()

    def clauses(self, class_name: str) -> Dict[str, Any]:
        """``where``, ``limit`` and ``order by``, each at most once, as REST parameters."""
        params: Dict[str, Any] = {}
        while True:
            if "where" not in params and self.accept_word("where"):
                params["where"] = self.condition(class_name)
            elif "limit" not in params and self.accept_word("limit"):
                first = self.integer()
                if self.accept_punct(","):
                    params["skip"], params["limit"] = first, self.integer()
                else:
                    params["limit"] = first
            elif "order" not in params and self.accept_word("order"):
                self.expect_word("by")
                params["order"] = self.order()
            else:
                return params

    def integer(self) -> int:
        token = self.peek()
        value = self.value()
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _syntax(f"expected a non-negative integer, found {token.describe()}", token.pos)
        return value

    def order(self) -> str:
        """A sign wins, then the key's own asc/desc, then the one that ends the list."""
        items = self.comma_list(self.order_item)
        trailing = items[-1][2]
        keys = []
        for sign, path, word in items:
            descending = sign == "-" if sign else (word or trailing) == "desc"
            keys.append(("-" if descending else "") + path)
        return ",".join(keys)

    def order_item(self) -> Tuple[Optional[str], str, Optional[str]]:
        sign = self.accept_punct("+", "-")
        path = self.path()
        return sign, path, self.accept_word("asc", "desc")

    # .. writes

    def insert(self) -> CqlInsert:
        self.expect_word("into")
        class_name = self.class_name()
        self.expect_punct("(")
        named = self.comma_list(lambda: (self.peek(), self.path()))
        self.expect_punct(")")
        columns = [name for _, name in named]
        for index, (token, name) in enumerate(named):
            if name in columns[:index]:
                raise _syntax(f"column {name!r} is listed twice", token.pos)
        self.expect_word("values")
        return CqlInsert(class_name, tuple(self.comma_list(lambda: self.row(columns))))

    def row(self, columns: List[str]) -> Dict[str, Any]:
        token = self.peek()
        self.expect_punct("(")
        values = self.comma_list(lambda: self.value(operations=True))
        self.expect_punct(")")
        if len(values) != len(columns):
            raise _syntax(f"{len(columns)} columns but {len(values)} values", token.pos)
        return dict(zip(columns, values))

    def update(self) -> CqlUpdate:
        class_name = self.class_name()
        self.expect_word("set")
        body = dict(self.comma_list(self.assignment))
        object_id, where = self.target(class_name)
        return CqlUpdate(class_name, object_id, body, where)

    def assignment(self) -> Tuple[str, Any]:
        column = self.path()
        self.expect_punct("=")
        return column, self.value(operations=True)

    def delete(self) -> CqlDelete:
        self.expect_word("from")
        class_name = self.class_name()
        return CqlDelete(class_name, *self.target(class_name))

    def target(self, class_name: str) -> Tuple[str, Optional[_Where]]:
        """``where objectId = <id> [and ...]``: the one object, and the other conditions."""
        token = self.peek()
        self.expect_word("where")
        found = _split_object_id(self.condition(class_name))
        if found is None:
            raise _syntax(
                "update and delete need where objectId = '<id>' [and other conditions]",
                token.pos,
            )
        return found

    # .. conditions -> REST where JSON

    def condition(self, class_name: str) -> _Where:
        token = self.peek()
        where = self.disjunction()
        self.check(lambda: parse_where(class_name, where), token)
        return where

    def disjunction(self) -> _Where:
        parts = [self.conjunction()]
        while self.accept_word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else {"$or": parts}

    def conjunction(self) -> _Where:
        parts = [self.primary()]
        while self.accept_word("and"):
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def primary(self) -> _Where:
        if self.is_punct("("):
            where = self.nested(self.take(), self.disjunction)
            self.expect_punct(")")
            return where
        if self.is_word("related") and self.is_word("to", ahead=2):
            self.take()
            key = self.path()
            self.expect_word("to")
            return {"$relatedTo": {"object": self.value(), "key": key}}
        if self.is_word("size") and self.is_punct("(", ahead=1):
            self.take()
            self.expect_punct("(")
            path = self.path()
            self.expect_punct(")")
            self.expect_punct("=")
            return {path: {"$size": self.value()}}
        path = self.path()
        return {path: self.predicate()}

    def predicate(self) -> Dict[str, Any]:
        """What follows the field: its REST operator object."""
        token = self.peek()
        if token.kind == "punct" and token.text in _COMPARE:
            self.take()
            if self.is_punct("(") and self.is_word("select", ahead=1):
                if token.text not in ("=", "!=", "<>"):
                    raise _syntax("a subquery compares only with = or !=", token.pos)
                return self.subquery(token.text == "=")
            return {_COMPARE[token.text]: self.value()}
        negate = self.accept_word("not") is not None
        if self.accept_word("like"):
            return {"$regex": _negated(_like(self.string()), negate), "$options": "s"}
        if self.accept_word("regexp"):
            return {"$regex": _negated(self.string(), negate)}
        if self.accept_word("in"):
            if self.is_punct("(") and self.is_word("select", ahead=1):
                return self.subquery(not negate)
            return {"$nin" if negate else "$in": self.list_value()}
        if negate:
            raise self.fail("like, regexp or in after not")
        if self.accept_word("is"):
            exists = self.accept_word("not") is None
            self.expect_word("exists")
            return {"$exists": exists}
        if self.accept_word("all"):
            return {"$all": self.list_value()}
        if self.accept_word("near"):
            return self.near()
        if self.accept_word("within"):
            south_west = self.geo_point()
            self.expect_word("and")
            return {"$within": {"$box": [south_west, self.geo_point()]}}
        raise self.fail("an operator")

    def subquery(self, positive: bool) -> Dict[str, Any]:
        key, spec = self.nested(self.take(), self.inner_select)
        self.expect_punct(")")
        if key is None:
            return {"$inQuery" if positive else "$notInQuery": spec}
        return {"$select" if positive else "$dontSelect": {"query": spec, "key": key}}

    def inner_select(self) -> Tuple[Optional[str], Dict[str, Any]]:
        """``select <key|*> from C [where] [limit] [order by]`` -> (key, REST subquery)."""
        self.expect_word("select")
        key = None if self.accept_punct("*") else self.path()
        self.expect_word("from")
        spec: Dict[str, Any] = {"className": self.class_name()}
        spec.update(self.clauses(spec["className"]))
        return key, spec

    def near(self) -> Dict[str, Any]:
        where: Dict[str, Any] = {"$nearSphere": self.geo_point()}
        for bound in ("min", "max"):
            if self.accept_word(bound):
                token = self.peek()
                distance = self.value()
                if isinstance(distance, bool) or not isinstance(distance, (int, float)):
                    raise _syntax(f"expected a distance, found {token.describe()}", token.pos)
                unit = self.accept_word(*_DISTANCE_UNITS) or "radians"
                where[f"${bound}Distance{_DISTANCE_UNITS[unit]}"] = distance
        return where

    def geo_point(self) -> Any:
        """``[lng, lat]`` (longitude first, only here, also as a pvalue), ``geopoint(lng, lat)``,
        or a GeoPoint's REST JSON."""
        token = self.peek()
        value = self.value()
        if isinstance(value, list) and len(value) == 2:
            return _geo_point(value[0], value[1], token)
        return value

    def string(self) -> str:
        token = self.peek()
        value = self.value()
        if not isinstance(value, str):
            raise _syntax(f"expected a string, found {token.describe()}", token.pos)
        return value

    def list_value(self) -> List[Any]:
        """``(a, b, ...)``, or a placeholder whose value is an array."""
        token = self.peek()
        if self.accept_punct("("):
            values = self.comma_list(self.value)
            self.expect_punct(")")
            return values
        value = self.value()
        if not isinstance(value, list):
            raise self.fail("a parenthesised list", token)
        return value

    # .. values

    def value(self, operations: bool = False) -> Any:
        token = self.take()
        if token.kind in ("string", "number"):
            return token.value
        if token.kind == "punct":
            if token.text == "?":
                return self.placeholder(token)
            if token.text == "[":
                return self.nested(token, lambda: self.array(operations))
            if token.text == "{":
                return self.nested(token, lambda: self.json_object(operations))
        if token.kind == "word":
            literal = {"true": True, "false": False, "null": None}
            if token.text.lower() in literal:
                return literal[token.text.lower()]
            if self.is_punct("("):
                return self.nested(token, lambda: self.function(token, operations))
        raise self.fail("a value", token)

    def placeholder(self, token: _Token) -> Any:
        if self.used >= len(self.pvalues):
            raise _syntax(f"placeholder {self.used + 1} has no pvalue", token.pos)
        self.used += 1
        return self.pvalues[self.used - 1]

    def array(self, operations: bool) -> List[Any]:
        if self.accept_punct("]"):
            return []
        items = self.comma_list(lambda: self.value(operations))
        self.expect_punct("]")
        return items

    def json_object(self, operations: bool) -> Dict[str, Any]:
        """Raw REST JSON, keys quoted or not: ``{__type: 'Pointer', className: 'P', ...}``."""
        result: Dict[str, Any] = {}
        if self.accept_punct("}"):
            return result
        while True:
            key = self.take()
            if key.kind not in ("word", "name", "string"):
                raise self.fail("an object key", key)
            self.expect_punct(":")
            result[key.value] = self.value(operations)
            if not self.accept_punct(","):
                self.expect_punct("}")
                return result

    def function(self, name: _Token, operations: bool) -> Any:
        self.expect_punct("(")
        args: List[Any] = [] if self.is_punct(")") else self.comma_list(self.value)
        self.expect_punct(")")
        build = _FUNCTIONS.get(name.text.lower())
        if build is None or (name.text.lower() == "op" and not operations):
            raise _syntax(f"unknown function {name.text}()", name.pos)
        return build(args, name)


# --- functions and helpers ----------------------------------------------------------


def _args(args: List[Any], types: Tuple[type, ...], name: _Token, usage: str) -> List[Any]:
    if len(args) != len(types) or not all(
        isinstance(arg, kind) and not isinstance(arg, bool) for arg, kind in zip(args, types)
    ):
        raise _syntax(f"{name.text}() takes {usage}", name.pos)
    return args


def _date(args: List[Any], name: _Token) -> Dict[str, str]:
    (iso,) = _args(args, (str,), name, "one ISO date string")
    return {"__type": "Date", "iso": iso}


def _pointer(args: List[Any], name: _Token) -> Dict[str, str]:
    class_name, object_id = _args(args, (str, str), name, "a class name and an objectId")
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def _geo_function(args: List[Any], name: _Token) -> Dict[str, Any]:
    longitude, latitude = _args(args, ((int, float), (int, float)), name, "longitude, latitude")
    return _geo_point(longitude, latitude, name)


def _geo_point(longitude: Any, latitude: Any, token: _Token) -> Dict[str, Any]:
    for number in (longitude, latitude):
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ApiError(
                302,
                f"Invalid GeoPoint at CQL position {token.pos}: "
                "[longitude, latitude] must be numbers.",
            )
    return {"__type": "GeoPoint", "latitude": latitude, "longitude": longitude}


def _file(args: List[Any], name: _Token) -> Dict[str, str]:
    (file_id,) = _args(args, (str,), name, "a file objectId")
    return {"__type": "File", "id": file_id}


def _base64(args: List[Any], name: _Token) -> Dict[str, str]:
    (data,) = _args(args, (str,), name, "one base64 string")
    return {"__type": "Bytes", "base64": data}


def _now(args: List[Any], name: _Token) -> Dict[str, str]:
    _args(args, (), name, "no arguments")
    return {"__type": "Date", "iso": format_date(_dt.datetime.now(_dt.timezone.utc))}


def _operation(args: List[Any], name: _Token) -> Dict[str, Any]:
    op, spec = _args(args, (str, dict), name, "an operation name and a JSON object")
    return {**spec, "__op": op}


_FUNCTIONS: Dict[str, Callable[[List[Any], _Token], Any]] = {
    "date": _date,
    "pointer": _pointer,
    "geopoint": _geo_function,
    "file": _file,
    "base64": _base64,
    "current_timestamp": _now,
    "op": _operation,
}


def _split_object_id(where: _Where) -> Optional[Tuple[str, Optional[_Where]]]:
    """``objectId = '<id>'`` among the top-level ``and`` terms, and the other terms."""
    parts = where["$and"] if list(where) == ["$and"] else [where]
    for index, part in enumerate(parts):
        object_id = _object_id_equality(part)
        if object_id is not None:
            rest = parts[:index] + parts[index + 1 :]
            return object_id, (rest[0] if len(rest) == 1 else {"$and": rest} if rest else None)
    return None


def _object_id_equality(part: _Where) -> Optional[str]:
    condition = part.get("objectId") if len(part) == 1 else None
    if not isinstance(condition, dict) or list(condition) != ["$eq"]:
        return None
    object_id = condition["$eq"]
    return object_id if isinstance(object_id, str) and _OBJECT_ID.match(object_id) else None


def _like(pattern: str) -> str:
    """SQL ``like`` -> an anchored Python regex: ``%`` any run, ``_`` one character,
    ``[...]`` a character class, the rest literal."""
    out, pos = ["^"], 0
    while pos < len(pattern):
        char = pattern[pos]
        close = pattern.find("]", pos + 2) if char == "[" else -1
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif close > 0:
            out.append(_char_class(pattern[pos + 1 : close]))
            pos = close
        else:
            out.append(re.escape(char))
        pos += 1
    out.append(r"\Z")
    return "".join(out)


def _char_class(body: str) -> str:
    negate = body.startswith("^") and len(body) > 1
    if negate:
        body = body[1:]
    parts = [
        "-" if char == "-" and 0 < i < len(body) - 1 else re.escape(char)
        for i, char in enumerate(body)
    ]
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _negated(pattern: str, negate: bool) -> str:
    """A regex matching exactly the strings ``pattern`` does not match anywhere."""
    return rf"\A(?![\s\S]*?(?:{pattern}))" if negate else pattern
