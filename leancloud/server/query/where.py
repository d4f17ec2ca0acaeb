"""The REST ``where`` language -> AST, validating everything once.

Error codes (LeanCloud's table has no dedicated "invalid query" code, so a query the
server cannot understand is code 1, its generic parameter error, like Role/ACL
parameter errors): unknown ``$`` operators and badly typed operator arguments -> 1;
malformed values (dates, JSON) -> 107; malformed Pointers -> 106; bad GeoPoints -> 302;
bad field names -> 105 (``names.check_field_path``); bad class names -> 103.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from leancloud.codec import format_date, parse_date
from leancloud.server.errors import ApiError
from leancloud.server.names import check_class_name, check_field_name, check_field_path
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
from leancloud.server.query.regex_guard import is_nested_repetition

__all__ = ["INVALID_QUERY", "parse_order", "parse_path", "parse_value", "parse_where"]

INVALID_QUERY = 1
MAX_DEPTH = 64  # JSON levels in one where; far beyond real queries, well within every stack
MAX_CONDITIONS = 1500  # leaf conditions in one where, subqueries included (see _conditions)
MAX_ORDER_KEYS = 100  # each key is a few ORDER BY terms; SQLite allows 2000 at most
EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_MILES = 3958.8
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_DISTANCE_UNITS = {
    "": 1.0,
    "InRadians": 1.0,
    "InKilometers": 1 / EARTH_RADIUS_KM,
    "InMiles": 1 / EARTH_RADIUS_MILES,
}
_MAX_DISTANCE = {"$maxDistance" + unit: scale for unit, scale in _DISTANCE_UNITS.items()}
_MIN_DISTANCE = {"$minDistance" + unit: scale for unit, scale in _DISTANCE_UNITS.items()}
_CANONICAL_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # what SQLite binds as an integer
_COMPARE_OPS = {"$eq": "eq", "$ne": "ne", "$lt": "lt", "$lte": "lte", "$gt": "gt", "$gte": "gte"}


def _invalid(message: str) -> ApiError:
    return ApiError(INVALID_QUERY, message)


def parse_path(text: Any) -> Path:
    """A validated field path (``a`` or ``a.b.c``) as a tuple of names."""
    return tuple(check_field_path(text).split("."))


def parse_order(text: str) -> Tuple[Tuple[Path, bool], ...]:
    """``a,-b`` -> ((("a",), False), (("b",), True)); blanks between commas are ignored."""
    order = []
    for part in text.split(","):
        part = part.strip()
        if part:
            descending = part.startswith("-")
            order.append((parse_path(part[1:] if descending else part), descending))
    if len(order) > MAX_ORDER_KEYS:
        raise _invalid(f"Cannot sort by more than {MAX_ORDER_KEYS} keys.")
    return tuple(order)


def parse_where(class_name: str, where: Any) -> Optional[Node]:
    """A decoded ``where`` (object, or array = implicit ``$and``) -> AST; None matches all."""
    check_class_name(class_name)
    if _depth(where) > MAX_DEPTH:
        raise _invalid(f"The query is nested more than {MAX_DEPTH} levels deep.")
    node = _where(where)
    if _conditions(node) > MAX_CONDITIONS:
        raise _invalid(f"The query has more than {MAX_CONDITIONS} conditions.")
    return node


def _conditions(node: Optional[Node]) -> int:
    """Leaf conditions in a where, subqueries' included. SQLite takes time quadratic in
    them to prepare a statement, and no deadline can interrupt preparing: ten thousand
    conditions (a 200 kB body) held a worker for most of a minute."""
    count, stack = 0, [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend(item.children)
        elif item is not None:
            count += max(1, len(item.values)) if isinstance(item, All) else 1
            if isinstance(item, (InQuery, Select)):
                stack.append(item.query.where)
    return count


def _depth(value: Any) -> int:
    """How deeply JSON is nested, without recursion (a hostile query must not blow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _where(where: Any) -> Optional[Node]:
    if isinstance(where, list):
        return _combine(And, [_where(item) for item in where])
    if not isinstance(where, dict):
        raise ApiError(107, "Malformed json object. A json dictionary is expected.")
    return _combine(And, [_condition(key, value) for key, value in where.items()])


def _combine(kind: Callable[..., Node], nodes: List[Optional[Node]]) -> Optional[Node]:
    nodes = [node for node in nodes if node is not None]
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def _condition(key: str, value: Any) -> Optional[Node]:
    if key in ("$or", "$and"):
        if not isinstance(value, list) or not value:
            raise _invalid(f"{key} expects a non-empty array of queries.")
        children = [_where(item) for item in value]
        if key == "$and":
            return _combine(And, children)
        if any(child is None for child in children):
            return None  # one branch matches everything
        return _combine(Or, children)
    if key == "$relatedTo":
        return _related_to(value)
    if isinstance(key, str) and key.startswith("$"):
        raise _invalid(f"Unknown operator: {key}.")
    path = parse_path(key)
    if isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value):
        return _operators(path, value)
    return Compare(path, "eq", parse_value(value))


def _related_to(value: Any) -> RelatedTo:
    if not isinstance(value, dict) or "object" not in value or "key" not in value:
        raise _invalid("$relatedTo expects {object: Pointer, key: field}.")
    owner = _pointer(value["object"])
    return RelatedTo(owner["className"], owner["objectId"], check_field_name(value["key"]))


def _operators(path: Path, ops: Dict[str, Any]) -> Node:
    nodes: List[Node] = []
    for op, arg in ops.items():
        if op in _COMPARE_OPS:
            nodes.append(_compare(path, _COMPARE_OPS[op], arg))
        elif op in ("$in", "$nin"):
            nodes.append(In(path, tuple(parse_value(v) for v in _list(op, arg)), op == "$nin"))
        elif op == "$all":
            nodes.append(All(path, tuple(parse_value(v) for v in _list(op, arg))))
        elif op == "$size":
            if not _is_int(arg) or not 0 <= arg <= _INT64_MAX:
                raise _invalid("$size expects a non-negative integer.")
            nodes.append(Size(path, arg))
        elif op == "$exists":
            if not isinstance(arg, bool):
                raise _invalid("$exists expects true or false.")
            nodes.append(Exists(path, arg))
        elif op == "$regex":
            nodes.append(_regex(path, arg, ops.get("$options", "")))
        elif op in ("$inQuery", "$notInQuery"):
            nodes.append(InQuery(path, _subquery(arg), op == "$notInQuery"))
        elif op in ("$select", "$dontSelect"):
            nodes.append(_select(path, arg, op == "$dontSelect"))
        elif op == "$nearSphere":
            nodes.append(_near(path, arg, ops))
        elif op == "$within":
            nodes.append(_within(path, arg))
        elif op == "$options":
            if "$regex" not in ops:
                raise _invalid("$options needs $regex.")
        elif op in _MAX_DISTANCE or op in _MIN_DISTANCE:
            if "$nearSphere" not in ops:
                raise _invalid(f"{op} needs $nearSphere.")
        else:
            raise _invalid(f"Unknown operator: {op}.")
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _compare(path: Path, op: str, arg: Any) -> Compare:
    value = parse_value(arg)
    if op not in ("eq", "ne") and not _is_orderable(value):
        raise _invalid(f"${op} expects a number, a string or a Date.")
    return Compare(path, op, value)


def _is_orderable(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("__type") == "Date"
    return isinstance(value, str) or _is_number(value)


def _list(op: str, arg: Any) -> list:
    if not isinstance(arg, list):
        raise _invalid(f"{op} expects an array.")
    return arg


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- values ---------------------------------------------------------------


def parse_value(value: Any) -> Any:
    """Validate a wire value used in a query and normalise its Dates, Pointers and Files."""
    if isinstance(value, dict):
        type_name = value.get("__type")
        if type_name is None:
            for key in value:
                if not isinstance(key, str) or key.startswith("$"):
                    raise _invalid(f"Unknown operator: {key}.")
            return {key: parse_value(item) for key, item in value.items()}
        return _typed(type_name, value)
    if isinstance(value, list):
        return [parse_value(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(107, "Malformed json object: numbers must be finite.")
    if _is_int(value) and not _INT64_MIN <= value <= _INT64_MAX:
        return _as_float(value)  # as SQLite reads such a number from stored JSON
    return value


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ApiError(107, "Malformed json object: numbers must be finite.") from None


def _typed(type_name: Any, value: Dict[str, Any]) -> Dict[str, Any]:
    if type_name == "Date":
        return {"__type": "Date", "iso": normalize_iso(value.get("iso"))}
    if type_name in ("Pointer", "Object"):
        return _pointer(value)
    if type_name == "GeoPoint":
        latitude, longitude = _geo_point(value)
        return {"__type": "GeoPoint", "latitude": latitude, "longitude": longitude}
    if type_name == "File":
        file_id = value.get("id", value.get("objectId"))
        if not isinstance(file_id, str) or not file_id:
            raise ApiError(107, "A File value needs its id.")
        return {"__type": "File", "id": file_id}
    if type_name == "Bytes":
        if not isinstance(value.get("base64"), str):
            raise ApiError(107, "A Bytes value needs base64 text.")
        return {"__type": "Bytes", "base64": value["base64"]}
    raise _invalid(f"Cannot query by a {type_name!r} value.")


def normalize_iso(iso: Any) -> str:
    """Any ISO 8601 text -> LeanCloud's UTC millisecond form, so text order is time order."""
    if isinstance(iso, str) and _CANONICAL_ISO.match(iso):
        return iso
    try:
        return format_date(parse_date(iso))
    except ValueError:
        raise ApiError(107, f"Invalid date: {iso!r}.") from None


def _pointer(value: Any) -> Dict[str, str]:
    if not isinstance(value, dict) or value.get("__type") not in ("Pointer", "Object"):
        raise ApiError(
            106, "Malformed pointer. Pointers must be {__type: Pointer, className, objectId}."
        )
    class_name, object_id = value.get("className"), value.get("objectId")
    if not isinstance(object_id, str) or not object_id or not isinstance(class_name, str):
        raise ApiError(
            106, "Malformed pointer. Pointers must be {__type: Pointer, className, objectId}."
        )
    check_class_name(class_name)
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def _geo_point(value: Any) -> Tuple[float, float]:
    """A GeoPoint object or a ``[latitude, longitude]`` pair -> (lat, lng), range-checked."""
    if isinstance(value, dict) and value.get("__type") == "GeoPoint":
        latitude, longitude = value.get("latitude"), value.get("longitude")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        latitude, longitude = value
    else:
        raise ApiError(302, "Invalid GeoPoint.")
    if not (_is_number(latitude) and _is_number(longitude)):
        raise ApiError(302, "Invalid GeoPoint: latitude and longitude must be numbers.")
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ApiError(
            302, "Invalid GeoPoint: latitude must be in [-90, 90], longitude in [-180, 180]."
        )
    return float(latitude), float(longitude)


# --- operators with structured arguments ------------------------------------


def _regex(path: Path, pattern: Any, options: Any) -> Regex:
    if not isinstance(pattern, str):
        raise _invalid("$regex expects a string.")
    if not isinstance(options, str) or any(flag not in _REGEX_FLAGS for flag in options):
        raise _invalid(f"Invalid $options: {options!r}; supported flags are i, m, s and x.")
    flags = 0
    for flag in options:
        flags |= _REGEX_FLAGS[flag]
    translated = translate_regex(pattern)
    try:
        re.compile(translated, flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise _invalid(f"Invalid $regex {pattern!r}: {exc}.") from None
    if is_nested_repetition(translated, flags):
        raise _invalid(
            f"$regex {pattern!r} repeats a repetition (like (a+)+), which can take "
            "exponential time; use a simpler pattern."
        )
    return Regex(path, translated, flags)


def translate_regex(pattern: str) -> str:
    """PCRE's ``\\Q...\\E`` literal spans (sent by the JS SDK) -> escaped Python text."""
    if "\\Q" not in pattern:
        return pattern
    out: List[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "\\" or i + 1 == len(pattern):
            out.append(char)
            i += 1
        elif pattern[i + 1] == "Q":
            end = pattern.find("\\E", i + 2)
            literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
            out.append(re.escape(literal))
            i = len(pattern) if end < 0 else end + 2
        else:
            out.append(pattern[i : i + 2])
            i += 2
    return "".join(out)


def _subquery(spec: Any) -> Query:
    """``{className, where, limit, skip, order}`` of ``$inQuery`` / ``$select``."""
    if not isinstance(spec, dict) or "className" not in spec:
        raise _invalid("A subquery needs a className.")
    unknown = set(spec) - {"className", "where", "limit", "skip", "order", "keys", "include"}
    if unknown:
        raise _invalid(f"Unknown subquery parameter: {min(unknown)}.")
    class_name = check_class_name(spec["className"])
    limit = spec.get("limit")
    skip = spec.get("skip", 0)
    if limit is not None and (not _is_int(limit) or limit < 0):
        raise _invalid("A subquery limit must be a non-negative integer.")
    if not _is_int(skip) or skip < 0:
        raise _invalid("A subquery skip must be a non-negative integer.")
    order = spec.get("order", "")
    if not isinstance(order, str):
        raise _invalid("A subquery order must be a string such as 'a,-b'.")
    where = spec.get("where")
    return Query(
        class_name,
        where=None if where is None else _where(where),
        order=parse_order(order),
        limit=min(limit, 1000) if limit is not None else None,
        skip=skip,
    )


def _select(path: Path, spec: Any, negate: bool) -> Select:
    if not isinstance(spec, dict) or not isinstance(spec.get("query"), dict) or "key" not in spec:
        raise _invalid("$select expects {query: {className, where}, key: field}.")
    return Select(path, _subquery(spec["query"]), parse_path(spec["key"]), negate)


def _near(path: Path, point: Any, ops: Mapping[str, Any]) -> Near:
    latitude, longitude = _geo_point(point)
    return Near(
        path, latitude, longitude, _distance(ops, _MAX_DISTANCE), _distance(ops, _MIN_DISTANCE)
    )


def _distance(ops: Mapping[str, Any], forms: Mapping[str, float]) -> Optional[float]:
    for op, scale in forms.items():
        if op in ops:
            value = ops[op]
            if not _is_number(value) or value < 0 or not math.isfinite(value):
                raise _invalid(f"{op} expects a non-negative number.")
            return value * scale
    return None


def _within(path: Path, arg: Any) -> Within:
    if not isinstance(arg, dict) or set(arg) != {"$box"}:
        raise _invalid("$within expects {$box: [southwest, northeast]}.")
    box = arg["$box"]
    if not isinstance(box, list) or len(box) != 2:
        raise _invalid("$box expects [southwest, northeast].")
    (south, west), (north, east) = _geo_point(box[0]), _geo_point(box[1])
    if south > north:
        raise ApiError(302, "Invalid $box: the southwest corner is north of the northeast corner.")
    return Within(path, south, west, north, east)
