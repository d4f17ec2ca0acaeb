"""REST query parameters (``GET /1.1/classes/<C>?where=...&order=...``) -> ``Query``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, List, Mapping, Optional, Tuple

from leancloud.server import safe_json
from leancloud.server.errors import ApiError
from leancloud.server.names import check_class_name, check_field_name
from leancloud.server.query.ast import And, Node, Path, Query, RelatedTo
from leancloud.server.query.where import INVALID_QUERY, parse_order, parse_path, parse_where

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "parse_query", "resolve_redirect"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_INCLUDE_DEPTH = 32
_MAX_SKIP = 2**63 - 1  # SQLite's largest integer
_TRUE = ("1", "true", "True")


def parse_query(class_name: str, params: Mapping[str, Any]) -> Query:
    """Parse and validate a REST query once; raises ``ApiError`` with LeanCloud's codes.

    ``limit`` outside 0..1000 falls back to the default 100, as LeanCloud documents;
    ``limit=0`` asks for no rows (with ``count=1``: the count only).
    """
    check_class_name(class_name)
    selected, excluded = _keys(params.get("keys"))
    redirect = params.get("redirectClassNameForKey")
    skip = _integer("skip", params.get("skip"), 0)
    if skip < 0:
        raise ApiError(INVALID_QUERY, f"Invalid skip: {skip}; it must not be negative.")
    if skip > _MAX_SKIP:
        raise ApiError(INVALID_QUERY, f"Invalid skip: {skip}; it is too large.")
    limit = _integer("limit", params.get("limit"), DEFAULT_LIMIT)
    return Query(
        class_name,
        where=parse_where(class_name, _json(params.get("where"))),
        order=parse_order(_text(params.get("order"))),
        limit=limit if 0 <= limit <= MAX_LIMIT else DEFAULT_LIMIT,
        skip=skip,
        keys=selected,
        exclude_keys=excluded,
        include=_includes(params.get("include")),
        count=_flag(params.get("count")),
        return_acl=_flag(params.get("returnACL")),
        redirect_class_name_for_key=check_field_name(redirect) if redirect else None,
    )


def _includes(value: Any) -> Tuple[Path, ...]:
    """Include paths, at most ``MAX_INCLUDE_DEPTH`` pointers deep: every level nests the
    answer one object deeper, and an object that points at itself would otherwise nest
    until rendering the JSON exhausts the stack."""
    paths = tuple(parse_path(part) for part in _split(value))
    for path in paths:
        if len(path) > MAX_INCLUDE_DEPTH:
            raise ApiError(
                INVALID_QUERY, f"Cannot include more than {MAX_INCLUDE_DEPTH} levels deep."
            )
    return paths


def _json(value: Any) -> Any:
    """``where`` arrives as JSON text (or already decoded inside a batch item)."""
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        return value
    try:
        return safe_json.loads(value)
    except safe_json.JsonInputError:
        raise ApiError(107, "Malformed json object. A json dictionary is expected.") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(INVALID_QUERY, f"Expected a comma-separated list, got {value!r}.")
    return value


def _split(value: Any) -> List[str]:
    """``"a, b ,,c"`` -> ``["a", "b", "c"]`` (LeanCloud tolerates spaces after commas)."""
    return [part.strip() for part in _text(value).split(",") if part.strip()]


def _keys(value: Any) -> Tuple[Optional[Tuple[Path, ...]], Tuple[Path, ...]]:
    """``keys=a,b.c,-d`` -> (selected paths or None for all, excluded paths)."""
    parts = _split(value)
    selected = tuple(parse_path(part) for part in parts if not part.startswith("-"))
    excluded = tuple(parse_path(part[1:]) for part in parts if part.startswith("-"))
    return selected or None, excluded


def _integer(name: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ApiError(INVALID_QUERY, f"Invalid {name}: {value!r}.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(INVALID_QUERY, f"Invalid {name}: {value!r}.") from None


def _flag(value: Any) -> bool:
    return value is True or value in _TRUE


def resolve_redirect(query: Query, field_type: Callable[[str, str], Optional[dict]]) -> Query:
    """Honour ``redirectClassNameForKey``: a ``$relatedTo`` query sent to the *owner's* class
    (the client did not know the relation's target) becomes a query on the target class.

    ``field_type(class, field)`` is the schema lookup; the returned query's ``class_name``
    is what the response's top-level ``className`` should say.
    """
    key = query.redirect_class_name_for_key
    related = _related_to(query.where) if key else None
    if related is None or related.key != key:
        return query
    spec = field_type(related.owner_class, key)
    if not spec or spec.get("type") != "Relation":
        return query
    return replace(query, class_name=spec["className"], redirect_class_name_for_key=None)


def _related_to(node: Optional[Node]) -> Optional[RelatedTo]:
    if isinstance(node, RelatedTo):
        return node
    if isinstance(node, And):
        return next((child for child in node.children if isinstance(child, RelatedTo)), None)
    return None
