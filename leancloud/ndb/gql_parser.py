"""The GQL subset that maps onto one LeanCloud query, parsed into a ``Query``.

::

    SELECT [DISTINCT] * | __key__ | prop [, prop ...] [FROM Kind]
      [WHERE cond [AND cond ...]]
      [ORDER BY prop [ASC | DESC] [, ...]]
      [LIMIT [offset,] count] [OFFSET offset]

``cond`` is ``prop op value`` (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``IN``) or
``ANCESTOR IS value``; ``prop`` may be ``__key__`` or a dotted subproperty
(``address.city``). Values: ``'text'`` (``''`` escapes a quote), numbers, ``TRUE``,
``FALSE``, ``NULL``, ``(v, ...)`` lists for ``IN``, ``KEY('Kind', id, ...)`` or
``KEY('<urlsafe>')``, ``DATETIME('YYYY-MM-DD HH:MM:SS[.ffffff]')`` or
``DATETIME(y, m, d, H, M, S)``, ``DATE('YYYY-MM-DD')`` or ``DATE(y, m, d)``,
``TIME('HH:MM:SS')`` or ``TIME(H, M, S)``, ``GEOPT(lat, lon)``, ``USER('email')``, and parameters ``:1`` / ``:name`` bound by
``Query.bind`` (or the extra arguments of ``gql()``). Literals go through the
property's own comparison operator, exactly as ``Model.prop == value`` does.
``LIMIT``/``OFFSET`` and ``__key__`` become the query's default options.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable, List, Optional, Tuple

from leancloud.ndb.errors import KindError
from leancloud.ndb.key import Key
from leancloud.ndb.query import (
    BadQueryError,
    ConjunctionNode,
    Node,
    Parameter,
    ParameterNode,
    PropertyOrder,
    Query,
    QueryOptions,
    apply_operator,
)

__all__ = ["parse"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
      | (?P<param>:\w+)
      | (?P<op><=|>=|!=|==|=|<|>|\(|\)|,|\*)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_Token = Tuple[str, str]


def _tokenize(text: str) -> List[_Token]:
    tokens: List[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise BadQueryError(
                f"GQL: unexpected text at {position}: {text[position : position + 20]!r}"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.model: Optional[type] = None
        self.kind: Optional[str] = None

    # -- tokens --------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Optional[_Token]:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise BadQueryError("GQL: unexpected end of the query")
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        """Consume the keywords if they come next."""
        for offset, word in enumerate(words):
            token = self.peek(offset)
            if token is None or token[0] != "name" or token[1].upper() != word:
                return False
        self.index += len(words)
        return True

    def expect_keyword(self, *words: str) -> None:
        if not self.keyword(*words):
            raise BadQueryError(f"GQL: expected {' '.join(words)} at {self.peek()!r}")

    def symbol(self, symbol: str) -> bool:
        token = self.peek()
        if token == ("op", symbol):
            self.index += 1
            return True
        return False

    def expect_symbol(self, symbol: str) -> None:
        if not self.symbol(symbol):
            raise BadQueryError(f"GQL: expected {symbol!r} at {self.peek()!r}")

    def name(self) -> str:
        kind, text = self.next()
        if kind != "name":
            raise BadQueryError(f"GQL: expected a name, got {text!r}")
        return text

    def integer(self) -> int:
        kind, text = self.next()
        if kind != "number" or not re.fullmatch(r"\d+", text):
            raise BadQueryError(f"GQL: expected a non-negative integer, got {text!r}")
        return int(text)

    # -- statement -----------------------------------------------------------------------

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        distinct = self.keyword("DISTINCT")
        keys_only, projection = self.select_list()
        if self.keyword("FROM"):
            self.set_kind(self.name())
        filters: List[Node] = []
        ancestor: Any = None
        if self.keyword("WHERE"):
            while True:
                if self.keyword("ANCESTOR", "IS"):
                    if ancestor is not None:
                        raise BadQueryError("GQL: only one ANCESTOR IS condition")
                    ancestor = self.value()
                else:
                    filters.append(self.condition())
                if not self.keyword("AND"):
                    break
        orders = self.orders() if self.keyword("ORDER", "BY") else []
        options = self.limits()
        if keys_only:
            options["keys_only"] = True
        if self.peek() is not None:
            raise BadQueryError(f"GQL: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        if ancestor is not None and not isinstance(ancestor, (Key, Parameter)):
            raise BadQueryError(f"GQL: ANCESTOR IS needs a key, got {ancestor!r}")
        return Query(
            kind=self.kind,
            ancestor=ancestor,
            filters=ConjunctionNode(*filters) if filters else None,
            orders=orders,
            projection=projection,
            distinct=distinct,
            default_options=QueryOptions(**options) if options else None,
        )

    def select_list(self) -> Tuple[bool, Optional[List[str]]]:
        if self.symbol("*"):
            return False, None
        if self.keyword("__KEY__"):
            return True, None
        names = [self.name()]
        while self.symbol(","):
            names.append(self.name())
        return False, names

    def set_kind(self, name: str) -> None:
        from leancloud.ndb.model import Model

        try:
            self.model = Model._lookup_model(name)
        except KindError:
            # Model.gql names the class; its kind may differ (``_get_kind`` overridden)
            matches = [m for m in Model._kind_map.values() if m._class_name() == name]
            self.model = matches[0] if matches else None
        self.kind = self.model._get_kind() if self.model is not None else name

    def limits(self) -> dict:
        options = {}
        if self.keyword("LIMIT"):
            first = self.integer()
            if self.symbol(","):
                options["offset"], options["limit"] = first, self.integer()
            else:
                options["limit"] = first
        if self.keyword("OFFSET"):
            options["offset"] = self.integer()
        return options

    def orders(self) -> List[PropertyOrder]:
        orders = []
        while True:
            name = self.name()
            field = "objectId" if name.lower() == "__key__" else self.property(name)._name
            descending = self.keyword("DESC")
            if not descending:
                self.keyword("ASC")
            orders.append(PropertyOrder(field, descending))
            if not self.symbol(","):
                return orders

    # -- conditions ----------------------------------------------------------------------

    def condition(self) -> Node:
        prop = self.property(self.name())
        if self.keyword("IN"):
            op = "in"
        else:
            kind, text = self.next()
            if kind != "op" or text not in _OPERATORS:
                raise BadQueryError(f"GQL: expected a comparison operator, got {text!r}")
            op = _OPERATORS[text]
        value = self.value()
        if isinstance(value, Parameter):
            return ParameterNode(prop, op, value)
        return apply_operator(prop, op, value)

    def property(self, name: str) -> Any:
        """The model's property for a stored name (dotted for subproperties)."""
        if name.lower() == "__key__":
            from leancloud.ndb.model import Model

            return (self.model or Model).key
        from leancloud.ndb.properties import GenericProperty

        if self.model is None:
            return GenericProperty(name)
        first, _, rest = name.partition(".")
        prop = self.model._properties.get(first)
        if prop is None:
            from leancloud.ndb.model import Expando

            if issubclass(self.model, Expando):
                return GenericProperty(name)
            raise BadQueryError(f"GQL: {self.model.__name__} has no property {first!r}")
        for part in rest.split(".") if rest else []:
            sub = getattr(prop, "_modelclass", None)
            inner = sub._properties.get(part) if sub is not None else None
            if inner is None:
                raise BadQueryError(f"GQL: {prop._name} has no subproperty {part!r}")
            prop = getattr(prop, inner._code_name)
        return prop

    # -- values --------------------------------------------------------------------------

    def value(self) -> Any:
        kind, text = self.next()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text) if re.search(r"[.eE]", text) else int(text)
        if kind == "param":
            key = text[1:]
            return Parameter(int(key) if key.isdigit() else key)
        if (kind, text) == ("op", "("):
            values = [self.value()]
            while self.symbol(","):
                values.append(self.value())
            self.expect_symbol(")")
            return values
        if kind == "name":
            word = text.upper()
            constants = {"TRUE": True, "FALSE": False, "NULL": None}
            if word in constants:
                return constants[word]
            if word in _CONSTRUCTORS:
                self.expect_symbol("(")
                args = [self.value()]
                while self.symbol(","):
                    args.append(self.value())
                self.expect_symbol(")")
                return _construct(word, args)
        raise BadQueryError(f"GQL: expected a value, got {text!r}")


def _key(args: List[Any]) -> Key:
    if len(args) == 1 and isinstance(args[0], str):
        return Key(urlsafe=args[0])
    return Key(flat=args)


def _numeric(args: List[Any], count: int, build: Callable[..., Any], name: str) -> Any:
    """GQL's numeric form, e.g. ``DATE(2020, 5, 17)``; None when ``args`` are not it."""
    if len(args) != count or not all(type(arg) is int for arg in args):
        return None
    try:
        return build(*args)
    except ValueError as exc:
        raise BadQueryError(f"GQL: {name}{tuple(args)}: {exc}") from None


def _parsed(args: List[Any], name: str, layouts: Tuple[str, ...]) -> _dt.datetime:
    """GQL's quoted form, e.g. ``DATE('2020-05-17')``."""
    for layout in layouts:
        try:
            return _dt.datetime.strptime(_one_text(args, name), layout)
        except ValueError:
            continue
    raise BadQueryError(f"GQL: {name} expects {layouts[-1]!r} or numbers, got {args!r}")


def _datetime(args: List[Any]) -> _dt.datetime:
    numeric = _numeric(args, 6, _dt.datetime, "DATETIME")
    if numeric is not None:
        return numeric
    return _parsed(args, "DATETIME", ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"))


def _date(args: List[Any]) -> _dt.date:
    numeric = _numeric(args, 3, _dt.date, "DATE")
    return numeric if numeric is not None else _parsed(args, "DATE", ("%Y-%m-%d",)).date()


def _time(args: List[Any]) -> _dt.time:
    numeric = _numeric(args, 3, _dt.time, "TIME")
    return numeric if numeric is not None else _parsed(args, "TIME", ("%H:%M:%S",)).time()


def _user(args: List[Any]) -> Any:
    from leancloud.ndb.properties import User

    return User(_one_text(args, "USER"))


def _geopt(args: List[Any]) -> Any:
    from leancloud.ndb.properties import GeoPt

    if len(args) != 2:
        raise BadQueryError("GQL: GEOPT expects (latitude, longitude)")
    return GeoPt(*args)


def _one_text(args: List[Any], name: str) -> str:
    if len(args) != 1 or not isinstance(args[0], str):
        raise BadQueryError(f"GQL: {name} expects one quoted string")
    return args[0]


_CONSTRUCTORS = {
    "KEY": _key,
    "DATETIME": _datetime,
    "DATE": _date,
    "TIME": _time,
    "GEOPT": _geopt,
    "USER": _user,
}


def _construct(word: str, args: List[Any]) -> Any:
    if any(isinstance(arg, Parameter) for arg in args):
        raise BadQueryError(f"GQL: {word}(...) takes literals, not parameters")
    return _CONSTRUCTORS[word](args)


def parse(query_string: str) -> Query:
    """The Query a GQL string stands for (``BadQueryError`` when it cannot be parsed)."""
    if not isinstance(query_string, str):
        raise BadQueryError(f"GQL must be a string, got {query_string!r}")
    return _Parser(query_string).parse()
