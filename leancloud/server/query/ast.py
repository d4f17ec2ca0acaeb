"""The query AST: what every query language (REST ``where``, CQL, ndb filters) parses into.

Nodes carry validated field paths (tuples of names) and wire JSON values with Dates
already normalised to ``YYYY-MM-DDTHH:MM:SS.mmmZ``. They say *what* is asked, never
how: each storage adapter compiles them, so every operator has exactly one meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

__all__ = [
    "BUILTIN_COLUMNS",
    "COMPARISONS",
    "All",
    "And",
    "Compare",
    "Exists",
    "In",
    "InQuery",
    "Near",
    "Node",
    "Or",
    "Path",
    "Query",
    "Regex",
    "RelatedTo",
    "Select",
    "Size",
    "Within",
]

Path = Tuple[str, ...]
# eq/ne: equality (arrays match when they contain the value); the others order values.
COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
# Fields kept outside ``data``; every adapter stores them as their own columns.
BUILTIN_COLUMNS = frozenset({"objectId", "createdAt", "updatedAt"})


@dataclass(frozen=True)
class Compare:
    path: Path
    op: str  # one of COMPARISONS
    value: Any


@dataclass(frozen=True)
class In:
    """``$in`` (negate=False) / ``$nin`` (negate=True)."""

    path: Path
    values: Tuple[Any, ...]
    negate: bool = False


@dataclass(frozen=True)
class All:
    path: Path
    values: Tuple[Any, ...]


@dataclass(frozen=True)
class Size:
    path: Path
    size: int


@dataclass(frozen=True)
class Exists:
    path: Path
    exists: bool


@dataclass(frozen=True)
class Regex:
    """``pattern`` is already in Python ``re`` syntax (``\\Q...\\E`` translated); flags are ``re`` flags."""

    path: Path
    pattern: str
    flags: int = 0


@dataclass(frozen=True)
class InQuery:
    """The Pointer at ``path`` points (negate: does not point) into the subquery's results."""

    path: Path
    query: "Query"
    negate: bool = False


@dataclass(frozen=True)
class Select:
    """The value at ``path`` equals (negate: equals none of) ``key`` of the subquery's results."""

    path: Path
    query: "Query"
    key: Path
    negate: bool = False


@dataclass(frozen=True)
class RelatedTo:
    """Objects in the relation ``key`` of the object ``owner_class``/``owner_id``."""

    owner_class: str
    owner_id: str
    key: str


@dataclass(frozen=True)
class Near:
    """``$nearSphere``: distances in radians; results sort by distance unless ordered."""

    path: Path
    latitude: float
    longitude: float
    max_distance: Optional[float] = None
    min_distance: Optional[float] = None


@dataclass(frozen=True)
class Within:
    """``$within: {$box: [southwest, northeast]}``."""

    path: Path
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class And:
    children: Tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    children: Tuple["Node", ...]


Node = Union[
    Compare, In, All, Size, Exists, Regex, InQuery, Select, RelatedTo, Near, Within, And, Or
]


@dataclass(frozen=True)
class Query:
    """A whole query. ``limit=None`` means unlimited (subqueries without an explicit limit)."""

    class_name: str
    where: Optional[Node] = None
    order: Tuple[Tuple[Path, bool], ...] = ()  # (path, descending)
    limit: Optional[int] = 100
    skip: int = 0
    keys: Optional[Tuple[Path, ...]] = None  # selected fields; None = all
    exclude_keys: Tuple[Path, ...] = ()
    include: Tuple[Path, ...] = ()
    count: bool = False
    return_acl: bool = False
    redirect_class_name_for_key: Optional[str] = None
