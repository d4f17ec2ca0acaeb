"""Every NDB Property class, with NDB's stackable validation and conversion.

A *user value* is what application code sets and reads; a *base value* is what is
stored. ``_validate``, ``_to_base_type`` and ``_from_base_type`` stack along the class
hierarchy exactly as NDB's docstring explains: setting a value runs the ``_validate``
methods down to the first class that defines ``_to_base_type``; writing runs every
``_validate`` and ``_to_base_type`` from the most derived class to ``Property``;
reading runs every ``_from_base_type`` the other way round. None, repeated lists and
the ``_BaseValue`` wrapper are the infrastructure's job, never the methods'.

Base values become LeanCloud wire JSON in ``_to_wire`` / ``_from_wire``: text as JSON
strings, bytes as ``Bytes``, datetimes as ``Date`` (UTC, millisecond precision),
``GeoPt`` as ``GeoPoint``, keys as Pointers, structured values as nested objects. A
stored value of the wrong wire type is ignored on read, as NDB ignores mistyped values.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import pickle
import zlib
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from leancloud import codec
from leancloud.ndb.errors import (
    BadArgumentError,
    BadValueError,
    ComputedPropertyError,
    InvalidPropertyError,
    ReadonlyPropertyError,
    UnprojectedPropertyError,
)
from leancloud.ndb.key import Key

__all__ = [
    "ModelAttribute",
    "Property",
    "ModelKey",
    "BlobProperty",
    "TextProperty",
    "StringProperty",
    "IntegerProperty",
    "FloatProperty",
    "BooleanProperty",
    "DateTimeProperty",
    "DateProperty",
    "TimeProperty",
    "GeoPt",
    "GeoPtProperty",
    "KeyProperty",
    "BlobKey",
    "BlobKeyProperty",
    "User",
    "UserProperty",
    "StructuredProperty",
    "LocalStructuredProperty",
    "GenericProperty",
    "ComputedProperty",
    "JsonProperty",
    "PickleProperty",
    "BadFilterError",
]

_MAX_INDEXED_BYTES = 1500
_MAX_STRING_BYTES = 500
_INT64 = (-(1 << 63), (1 << 63) - 1)
_EPOCH = _dt.datetime(1970, 1, 1)
_UTC = _dt.timezone.utc


class BadFilterError(BadValueError):
    """A filter on a property that cannot be queried (unindexed)."""


class _BaseValue:
    """Marks a value in ``entity._values`` as a base value (already converted)."""

    __slots__ = ("b_val",)

    def __init__(self, b_val: Any) -> None:
        self.b_val = b_val

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _BaseValue) and self.b_val == other.b_val

    def __repr__(self) -> str:
        return f"_BaseValue({self.b_val!r})"


class _CompressedValue:
    """A zlib-compressed blob, stored as such and inflated on read."""

    __slots__ = ("z_val",)

    def __init__(self, z_val: bytes) -> None:
        self.z_val = z_val

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _CompressedValue) and self.z_val == other.z_val


def _projected(name: str, projection: Tuple[str, ...]) -> bool:
    """``address`` is readable when ``address.city`` was projected."""
    return any(p == name or p.startswith(name + ".") for p in projection)


class ModelAttribute:
    """Anything the model class fixes up at class creation (``_fix_up``)."""

    def _fix_up(self, cls: type, code_name: str) -> None:
        pass


# -- wire helpers ------------------------------------------------------------------------


def _bytes_to_wire(value: bytes) -> Dict[str, str]:
    return codec.encode(value)


def _bytes_from_wire(wire: Any) -> Optional[bytes]:
    if isinstance(wire, dict) and wire.get("__type") == "Bytes":
        try:
            return codec.decode(wire)
        except (KeyError, ValueError):
            return None
    return None


def _datetime_to_wire(value: _dt.datetime) -> Dict[str, str]:
    """A naive datetime is UTC (App Engine's rule), not local time."""
    return codec.date_to_wire(value.replace(tzinfo=_UTC) if value.tzinfo is None else value)


def _datetime_from_wire(wire: Any) -> Optional[_dt.datetime]:
    if isinstance(wire, dict) and wire.get("__type") == "Date":
        try:
            return codec.parse_date(wire.get("iso")).replace(tzinfo=None)
        except ValueError:
            return None
    return None


def utc_now() -> _dt.datetime:
    """Now, naive UTC, truncated to the milliseconds LeanCloud stores."""
    now = _dt.datetime.now(_UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


# -- Property ----------------------------------------------------------------------------


class Property(ModelAttribute):
    """A typed, persistent attribute of a model; see the module docstring."""

    _code_name: Optional[str] = None
    _name: Optional[str] = None
    _indexed = True
    _repeated = False
    _required = False
    _default: Any = None
    _choices: Optional[frozenset] = None
    _validator: Optional[Callable[[Any, Any], Any]] = None
    _verbose_name: Optional[str] = None
    _write_empty_list = False

    _attributes = [
        "_name",
        "_indexed",
        "_repeated",
        "_required",
        "_default",
        "_choices",
        "_validator",
        "_verbose_name",
        "_write_empty_list",
    ]

    def __init__(
        self,
        name: Optional[str] = None,
        indexed: Optional[bool] = None,
        repeated: Optional[bool] = None,
        required: Optional[bool] = None,
        default: Any = None,
        choices: Optional[Iterable[Any]] = None,
        validator: Optional[Callable[[Any, Any], Any]] = None,
        verbose_name: Optional[str] = None,
        write_empty_list: Optional[bool] = None,
    ) -> None:
        if name is not None:
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            if not isinstance(name, str):
                raise TypeError(f"Name {name!r} is not a string")
            if "." in name:
                raise ValueError(f"Name {name!r} cannot contain period characters")
            self._name = name
        for option, value in (
            ("_indexed", indexed),
            ("_repeated", repeated),
            ("_required", required),
            ("_write_empty_list", write_empty_list),
        ):
            if value is not None:
                setattr(self, option, bool(value))
        if default is not None:
            self._default = default
        if verbose_name is not None:
            self._verbose_name = verbose_name
        if self._repeated and (self._required or self._default is not None):
            raise ValueError("repeated is incompatible with required or default")
        if choices is not None:
            if not isinstance(choices, (list, tuple, set, frozenset)):
                raise TypeError(f"choices must be a list, tuple or set; received {choices!r}")
            self._choices = frozenset(choices)
        if validator is not None:
            if not callable(validator):
                raise TypeError(f"validator must be callable; received {validator!r}")
            self._validator = validator

    def __repr__(self) -> str:
        args = [repr(self._name)] if self._name is not None else []
        modelclass = self.__dict__.get("_modelclass")
        if modelclass is not None:
            args.insert(0, modelclass.__name__)
        for attr in self._attributes:
            if attr in ("_name", "_modelclass", "_func"):
                continue
            value = getattr(self, attr)
            if value != getattr(type(self), attr, None):
                shown = sorted(value, key=repr) if isinstance(value, frozenset) else value
                args.append(f"{attr.lstrip('_')}={shown!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    # -- model class wiring -------------------------------------------------------------

    def _fix_up(self, cls: type, code_name: str) -> None:
        if self._code_name is not None and self._code_name != code_name:
            raise TypeError(
                f"the same {type(self).__name__} object is used for both {self._code_name!r} "
                f"and {code_name!r}; each property needs its own object"
            )
        self._code_name = code_name
        if self._name is None:
            self._name = code_name

    # -- the descriptor protocol --------------------------------------------------------

    def __get__(self, entity: Any, unused_cls: Optional[type] = None) -> Any:
        if entity is None:
            return self  # class access, as in Person.name == 'x'
        return self._get_value(entity)

    def __set__(self, entity: Any, value: Any) -> None:
        self._set_value(entity, value)

    def __delete__(self, entity: Any) -> None:
        self._delete_value(entity)

    # -- the stackable methods ----------------------------------------------------------

    @classmethod
    def _find_methods(cls, *names: str, reverse: bool = False) -> List[Callable[..., Any]]:
        cache = cls.__dict__.get("_method_cache")
        if cache is None:
            cache = {}
            cls._method_cache = cache  # type: ignore[attr-defined]
        key = (names, reverse)
        if key not in cache:
            methods = [c.__dict__[n] for c in cls.__mro__ for n in names if n in c.__dict__]
            cache[key] = methods[::-1] if reverse else methods
        return cache[key]

    def _apply_list(self, methods: List[Callable[..., Any]], value: Any) -> Any:
        for method in methods:
            new_value = method(self, value)
            if new_value is not None:
                value = new_value
        return value

    def _call_shallow_validation(self, value: Any) -> Any:
        """The ``_validate`` methods down to the first class defining ``_to_base_type``."""
        methods = []
        for method in self._find_methods("_validate", "_to_base_type"):
            if method.__name__ == "_to_base_type":
                break
            methods.append(method)
        return self._apply_list(methods, value)

    def _call_to_base_type(self, value: Any) -> Any:
        return self._apply_list(self._find_methods("_validate", "_to_base_type"), value)

    def _call_from_base_type(self, value: Any) -> Any:
        return self._apply_list(self._find_methods("_from_base_type", reverse=True), value)

    def _do_validate(self, value: Any) -> Any:
        if isinstance(value, _BaseValue):
            return value
        value = self._call_shallow_validation(value)
        if self._validator is not None:
            new_value = self._validator(self, value)
            if new_value is not None:
                value = new_value
        if self._choices is not None and value not in self._choices:
            raise BadValueError(
                f"Value {value!r} for property {self._name} is not an allowed choice"
            )
        return value

    # -- values in an entity ------------------------------------------------------------

    def _store_value(self, entity: Any, value: Any) -> None:
        entity._values[self._name] = value

    def _retrieve_value(self, entity: Any, default: Any = None) -> Any:
        return entity._values.get(self._name, default)

    def _has_value(self, entity: Any) -> bool:
        return self._name in entity._values

    def _set_value(self, entity: Any, value: Any) -> None:
        if entity._projection:
            raise ReadonlyPropertyError("You cannot set property values of a projection entity")
        if self._repeated:
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise BadValueError(f"Expected list or tuple, got {value!r}")
            value = [self._do_validate(v) for v in value]
        elif value is not None:
            value = self._do_validate(value)
        self._store_value(entity, value)

    def _delete_value(self, entity: Any) -> None:
        entity._values.pop(self._name, None)

    def _get_value(self, entity: Any) -> Any:
        if entity._projection and not _projected(self._name, entity._projection):
            raise UnprojectedPropertyError(f"Property {self._name} is not in the projection")
        return self._get_user_value(entity)

    def _apply_to_values(self, entity: Any, function: Callable[[Any], Any]) -> Any:
        value = self._retrieve_value(entity, self._default)
        if self._repeated:
            if value is None:
                value = []
                self._store_value(entity, value)
            else:
                value[:] = [function(v) for v in value]
        elif value is not None:
            new_value = function(value)
            if new_value is not None and new_value is not value:
                self._store_value(entity, new_value)
                value = new_value
        return value

    def _opt_call_from_base_type(self, value: Any) -> Any:
        if isinstance(value, _BaseValue):
            value = self._call_from_base_type(value.b_val)
        return value

    def _opt_call_to_base_type(self, value: Any) -> Any:
        if not isinstance(value, _BaseValue):
            value = _BaseValue(self._call_to_base_type(value))
        return value

    def _get_user_value(self, entity: Any) -> Any:
        return self._apply_to_values(entity, self._opt_call_from_base_type)

    def _get_base_value(self, entity: Any) -> Any:
        return self._apply_to_values(entity, self._opt_call_to_base_type)

    def _get_for_dict(self, entity: Any) -> Any:
        return self._get_value(entity)

    def _is_initialized(self, entity: Any) -> bool:
        return not self._required or (
            (self._has_value(entity) or self._default is not None)
            and self._get_value(entity) is not None
        )

    def _prepare_for_put(self, entity: Any) -> None:
        pass

    def _check_property(self, rest: Optional[str] = None, require_indexed: bool = True) -> None:
        """For projections and orders: the property must be indexed and have no subpath."""
        if require_indexed and not self._indexed:
            raise InvalidPropertyError(f"Property is unindexed {self._name}")
        if rest:
            raise InvalidPropertyError(
                f"Referencing subproperty {self._name}.{rest} but {self._name} is not a structured property"
            )

    # -- storage ------------------------------------------------------------------------

    def _serialize(self, entity: Any, out: Dict[str, Any]) -> None:
        """Add this property's wire value to ``out`` (repeated values are revalidated)."""
        if self._repeated:
            values = self._retrieve_value(entity) or []
            values[:] = [self._do_validate(v) for v in values]
            base = self._get_base_value(entity)
            if base or self._write_empty_list:
                out[self._name] = [self._to_wire(v.b_val) for v in base]
            return
        base = self._get_base_value(entity)
        out[self._name] = None if base is None else self._to_wire(base.b_val)

    def _deserialize(self, entity: Any, wire: Any) -> None:
        """Store a wire value read from LeanCloud; mistyped values are ignored."""
        if self._repeated:
            items = wire if isinstance(wire, list) else [wire]
            values = [self._from_wire(item) for item in items if item is not None]
            self._store_value(entity, [_BaseValue(v) for v in values if v is not None])
            return
        if wire is None:
            self._store_value(entity, None)
            return
        value = self._from_wire(wire)
        if value is not None:
            self._store_value(entity, _BaseValue(value))

    def _to_wire(self, base: Any) -> Any:
        return base

    def _from_wire(self, wire: Any) -> Any:
        """The base value for ``wire``, or None when the wire type does not fit."""
        return wire

    def _value_to_wire(self, value: Any) -> Any:
        """A user value (one element for repeated properties) as a filter's wire value."""
        if value is None:
            return None
        value = self._do_validate(value)
        if isinstance(value, _BaseValue):
            return self._to_wire(value.b_val)
        return self._to_wire(self._call_to_base_type(value))

    # -- queries (leancloud.ndb.query builds the nodes) -----------------------------------

    def _comparison(self, op: str, value: Any) -> Any:
        from leancloud.ndb import query

        if not self._indexed:
            raise BadFilterError(f"Cannot query for unindexed property {self._name}")
        return query.FilterNode(self._name, op, self._value_to_wire(value))

    def __eq__(self, value: Any) -> Any:  # type: ignore[override]
        return self._comparison("=", value)

    def __ne__(self, value: Any) -> Any:  # type: ignore[override]
        return self._comparison("!=", value)

    def __lt__(self, value: Any) -> Any:
        return self._comparison("<", value)

    def __le__(self, value: Any) -> Any:
        return self._comparison("<=", value)

    def __gt__(self, value: Any) -> Any:
        return self._comparison(">", value)

    def __ge__(self, value: Any) -> Any:
        return self._comparison(">=", value)

    __hash__ = object.__hash__

    def _IN(self, values: Iterable[Any]) -> Any:
        from leancloud.ndb import query

        if not self._indexed:
            raise BadFilterError(f"Cannot query for unindexed property {self._name}")
        if not isinstance(values, (list, tuple, set, frozenset)):
            raise BadArgumentError(f"Expected list, tuple or set, got {values!r}")
        return query.FilterNode(self._name, "in", [self._value_to_wire(v) for v in values])

    IN = _IN

    def __neg__(self) -> Any:
        from leancloud.ndb import query

        return query.PropertyOrder(self._name, True)

    def __pos__(self) -> Any:
        from leancloud.ndb import query

        return query.PropertyOrder(self._name, False)


class ModelKey(Property):
    """``Model.key``: the entity's Key, queryable as ``Model.key == key`` (on objectId)."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "__key__"

    def _comparison(self, op: str, value: Any) -> Any:
        from leancloud.ndb import mapping, query

        if op == "in":
            wire: Any = [mapping.object_id_for_key(self._validate(v)) for v in value]
        else:
            wire = mapping.object_id_for_key(self._validate(value))
        return query.FilterNode("objectId", op, wire)

    def _IN(self, values: Iterable[Any]) -> Any:
        return self._comparison("in", list(values))

    IN = _IN

    def __neg__(self) -> Any:
        from leancloud.ndb import query

        return query.PropertyOrder("objectId", True)

    def __pos__(self) -> Any:
        from leancloud.ndb import query

        return query.PropertyOrder("objectId", False)

    def _validate(self, value: Any) -> Key:
        if not isinstance(value, Key):
            raise BadValueError(f"Expected Key, got {value!r}")
        return value

    def __get__(self, entity: Any, unused_cls: Optional[type] = None) -> Any:
        if entity is None:
            return self
        return entity._entity_key

    def __set__(self, entity: Any, value: Any) -> None:
        entity._set_key(value)

    def __delete__(self, entity: Any) -> None:
        entity._set_key(None)


# -- bytes and text ----------------------------------------------------------------------


class BlobProperty(Property):
    """A byte string, unindexed by default; ``compressed=True`` stores it zlib-compressed."""

    _indexed = False
    _compressed = False
    _attributes = Property._attributes + ["_compressed"]
    _text = False  # TextProperty and below: uncompressed base values travel as JSON strings

    def __init__(self, name: Optional[str] = None, compressed: bool = False, **kwds: Any) -> None:
        super().__init__(name=name, **kwds)
        self._compressed = bool(compressed)
        if self._compressed and self._indexed:
            raise NotImplementedError(f"BlobProperty {self._name} cannot be compressed and indexed")

    def _value_limit(self) -> Optional[int]:
        return _MAX_INDEXED_BYTES if self._indexed else None

    def _validate(self, value: Any) -> None:
        if not isinstance(value, bytes):
            raise BadValueError(f"Expected bytes, got {value!r}")
        limit = self._value_limit()
        if limit is not None and len(value) > limit:
            raise BadValueError(f"Indexed value {self._name} must be at most {limit} bytes")

    def _to_base_type(self, value: bytes) -> Any:
        if self._compressed:
            return _CompressedValue(zlib.compress(value))
        return None

    def _from_base_type(self, value: Any) -> Any:
        if isinstance(value, _CompressedValue):
            return zlib.decompress(value.z_val)
        return None

    def _to_wire(self, base: Any) -> Any:
        if isinstance(base, _CompressedValue):
            return _bytes_to_wire(base.z_val)
        if self._text:
            return base.decode("utf-8")
        return _bytes_to_wire(base)

    def _from_wire(self, wire: Any) -> Any:
        if self._text and isinstance(wire, str):
            return wire.encode("utf-8")
        raw = _bytes_from_wire(wire)
        if raw is not None and self._compressed:
            return _CompressedValue(raw) if _is_zlib(raw) else raw
        return raw


def _is_zlib(raw: bytes) -> bool:
    try:
        zlib.decompress(raw)
    except zlib.error:
        return False
    return True


class TextProperty(BlobProperty):
    """Unlimited text, never indexed (stored as a JSON string, or compressed bytes)."""

    _text = True

    def __init__(self, *args: Any, **kwds: Any) -> None:
        indexed = kwds.pop("indexed", False)
        if indexed and type(self) is TextProperty:
            raise NotImplementedError(f"TextProperty {args[0] if args else ''} cannot be indexed")
        super().__init__(*args, indexed=indexed, **kwds)

    def _validate(self, value: Any) -> None:
        if isinstance(value, bytes):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadValueError(f"Expected valid UTF-8, got {value!r}") from exc
            size = len(value)
        elif isinstance(value, str):
            size = len(value.encode("utf-8"))
        else:
            raise BadValueError(f"Expected string, got {value!r}")
        limit = self._value_limit()
        if limit is not None and size > limit:
            raise BadValueError(f"Indexed value {self._name} must be at most {limit} bytes")

    def _to_base_type(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.encode("utf-8")
        return None

    def _from_base_type(self, value: Any) -> Any:
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


class StringProperty(TextProperty):
    """An indexed string of at most 500 bytes (UTF-8)."""

    _indexed = True

    def __init__(self, *args: Any, **kwds: Any) -> None:
        kwds.setdefault("indexed", True)
        super().__init__(*args, **kwds)

    def _value_limit(self) -> Optional[int]:
        return _MAX_STRING_BYTES if self._indexed else None


# -- numbers and booleans ----------------------------------------------------------------


class IntegerProperty(Property):
    """A signed 64-bit integer (bools are accepted and stored as 0/1)."""

    def _validate(self, value: Any) -> int:
        if not isinstance(value, int):
            raise BadValueError(f"Expected integer, got {value!r}")
        if not _INT64[0] <= value <= _INT64[1]:
            raise BadValueError(f"Value {value} of {self._name} does not fit in 64 bits")
        return int(value)

    def _from_wire(self, wire: Any) -> Any:
        if isinstance(wire, bool):
            return None
        if isinstance(wire, float) and wire.is_integer():
            return int(wire)
        return wire if isinstance(wire, int) else None


class FloatProperty(Property):
    """A double; ints and bools are accepted and converted."""

    def _validate(self, value: Any) -> float:
        if not isinstance(value, (int, float)):
            raise BadValueError(f"Expected float, got {value!r}")
        return float(value)

    def _from_wire(self, wire: Any) -> Any:
        if isinstance(wire, bool) or not isinstance(wire, (int, float)):
            return None
        return float(wire)


class BooleanProperty(Property):
    """True or False."""

    def _validate(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise BadValueError(f"Expected bool, got {value!r}")

    def _from_wire(self, wire: Any) -> Any:
        return wire if isinstance(wire, bool) else None


# -- dates and times ---------------------------------------------------------------------


class DateTimeProperty(Property):
    """A datetime, naive UTC (or aware in ``tzinfo``); ``auto_now`` / ``auto_now_add``."""

    _auto_now = False
    _auto_now_add = False
    _tzinfo: Optional[_dt.tzinfo] = None
    _attributes = Property._attributes + ["_auto_now", "_auto_now_add", "_tzinfo"]

    def __init__(
        self,
        name: Optional[str] = None,
        auto_now: bool = False,
        auto_now_add: bool = False,
        tzinfo: Optional[_dt.tzinfo] = None,
        **kwds: Any,
    ) -> None:
        super().__init__(name=name, **kwds)
        if self._repeated and (auto_now or auto_now_add):
            raise ValueError("DateTimeProperty cannot be repeated with auto_now or auto_now_add")
        if auto_now and self._default is not None:
            raise ValueError("auto_now does not take a default")
        self._auto_now, self._auto_now_add, self._tzinfo = (
            bool(auto_now),
            bool(auto_now_add),
            tzinfo,
        )

    def _validate(self, value: Any) -> None:
        if not isinstance(value, _dt.datetime):
            raise BadValueError(f"Expected datetime, got {value!r}")
        if self._tzinfo is None and value.tzinfo is not None:
            raise BadValueError(
                f"DateTimeProperty {self._name} takes naive datetimes (UTC); pass tzinfo= for aware ones"
            )

    def _to_base_type(self, value: _dt.datetime) -> Any:
        if value.tzinfo is not None:
            return value.astimezone(_UTC).replace(tzinfo=None)
        return None

    def _from_base_type(self, value: _dt.datetime) -> Any:
        if self._tzinfo is not None and value.tzinfo is None:
            return value.replace(tzinfo=_UTC).astimezone(self._tzinfo)
        return None

    def _now(self) -> Any:
        now = utc_now()
        return now.replace(tzinfo=_UTC).astimezone(self._tzinfo) if self._tzinfo else now

    def _prepare_for_put(self, entity: Any) -> None:
        if self._auto_now or (self._auto_now_add and self._retrieve_value(entity) is None):
            self._store_value(entity, self._now())

    def _to_wire(self, base: Any) -> Any:
        return _datetime_to_wire(base)

    def _from_wire(self, wire: Any) -> Any:
        return _datetime_from_wire(wire)


class DateProperty(DateTimeProperty):
    """A date (stored as midnight UTC)."""

    def _validate(self, value: Any) -> None:
        if not isinstance(value, _dt.date) or isinstance(value, _dt.datetime):
            raise BadValueError(f"Expected date, got {value!r}")

    def _to_base_type(self, value: _dt.date) -> _dt.datetime:
        return _dt.datetime(value.year, value.month, value.day)

    def _from_base_type(self, value: _dt.datetime) -> _dt.date:
        return value.date()

    def _now(self) -> Any:
        return utc_now().date()


class TimeProperty(DateTimeProperty):
    """A time of day (stored on 1970-01-01, UTC)."""

    def _validate(self, value: Any) -> None:
        if not isinstance(value, _dt.time):
            raise BadValueError(f"Expected time, got {value!r}")

    def _to_base_type(self, value: _dt.time) -> _dt.datetime:
        return _dt.datetime.combine(_EPOCH.date(), value)

    def _from_base_type(self, value: _dt.datetime) -> _dt.time:
        return value.time()

    def _now(self) -> Any:
        return utc_now().time()


# -- geo points, keys, blob keys, users ----------------------------------------------------


class GeoPt:
    """Latitude in [-90, 90] and longitude in [-180, 180]; ``GeoPt('lat,lon')`` parses."""

    __slots__ = ("lat", "lon")

    def __init__(self, lat: Any, lon: Any = None) -> None:
        if lon is None:
            if not isinstance(lat, str):
                raise BadValueError(f"Expected 'lat,lon', got {lat!r}")
            parts = lat.split(",")
            if len(parts) != 2:
                raise BadValueError(f"Expected 'lat,lon', got {lat!r}")
            lat, lon = parts
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError) as exc:
            raise BadValueError(f"GeoPt coordinates must be numbers, got {lat!r}, {lon!r}") from exc
        if not -90 <= lat <= 90:
            raise BadValueError(f"Latitude must be between -90 and 90; received {lat}")
        if not -180 <= lon <= 180:
            raise BadValueError(f"Longitude must be between -180 and 180; received {lon}")
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("GeoPt is immutable")

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, GeoPt):
            return NotImplemented
        return (self.lat, self.lon) == (other.lat, other.lon)

    def __hash__(self) -> int:
        return hash((self.lat, self.lon))

    def __repr__(self) -> str:
        return f"GeoPt({self.lat!r}, {self.lon!r})"

    def __str__(self) -> str:
        return f"{self.lat},{self.lon}"

    def ToXml(self) -> str:
        return f"<georss:point>{self.lat} {self.lon}</georss:point>"


def _geo_to_wire(value: GeoPt) -> Dict[str, Any]:
    return {"__type": "GeoPoint", "latitude": value.lat, "longitude": value.lon}


def _geo_from_wire(wire: Any) -> Optional[GeoPt]:
    if isinstance(wire, dict) and wire.get("__type") == "GeoPoint":
        try:
            return GeoPt(wire.get("latitude"), wire.get("longitude"))
        except BadValueError:
            return None
    return None


class GeoPtProperty(Property):
    """A GeoPt, stored as a LeanCloud GeoPoint so ``$near`` / ``$within`` queries work."""

    def _validate(self, value: Any) -> None:
        if not isinstance(value, GeoPt):
            raise BadValueError(f"Expected GeoPt, got {value!r}")

    def _to_wire(self, base: Any) -> Any:
        return _geo_to_wire(base)

    def _from_wire(self, wire: Any) -> Any:
        return _geo_from_wire(wire)


def _key_to_wire(key: Key) -> Dict[str, Any]:
    from leancloud.ndb import mapping

    return mapping.key_to_wire(key)


def _key_from_wire(wire: Any) -> Optional[Key]:
    from leancloud.ndb import mapping

    if isinstance(wire, dict) and wire.get("__type") == "Pointer":
        try:
            return mapping.key_from_object_id(wire.get("objectId"))
        except BadValueError:
            return None
    return None


class KeyProperty(Property):
    """A complete Key, optionally of one kind (``kind=`` a string or a Model class)."""

    _kind: Optional[str] = None
    _attributes = Property._attributes + ["_kind"]

    def __init__(self, *args: Any, **kwds: Any) -> None:
        name, kind = None, kwds.pop("kind", None)
        for arg in args:
            if isinstance(arg, str) and name is None:
                name = arg
            elif kind is None and (isinstance(arg, str) or hasattr(arg, "_get_kind")):
                kind = arg
            else:
                raise TypeError(f"KeyProperty takes a name and a kind, got {args!r}")
        if kind is not None and hasattr(kind, "_get_kind"):
            kind = kind._get_kind()
        if kind is not None and not isinstance(kind, str):
            raise TypeError(f"kind must be a Model class or a string, not {kind!r}")
        super().__init__(name=name, **kwds)
        self._kind = kind

    def _validate(self, value: Any) -> None:
        if not isinstance(value, Key):
            raise BadValueError(f"Expected Key, got {value!r}")
        if value.id() is None:
            raise BadValueError(f"Expected complete Key, got {value!r}")
        if self._kind is not None and value.kind() != self._kind:
            raise BadValueError(f"Expected Key with kind={self._kind!r}, got {value!r}")

    def _to_wire(self, base: Any) -> Any:
        return _key_to_wire(base)

    def _from_wire(self, wire: Any) -> Any:
        return _key_from_wire(wire)


class BlobKey:
    """An opaque Blobstore key (a string), kept for App Engine schemas."""

    __slots__ = ("_key",)

    def __init__(self, blob_key: str) -> None:
        if not isinstance(blob_key, str):
            raise BadValueError(f"BlobKey takes a string, not {blob_key!r}")
        self._key = blob_key

    def __str__(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"BlobKey({self._key!r})"

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, BlobKey):
            return NotImplemented
        return self._key == other._key

    def __lt__(self, other: "BlobKey") -> bool:
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def ToXml(self) -> str:
        return f"<blobkey>{self._key}</blobkey>"


class BlobKeyProperty(Property):
    """A BlobKey, stored as its string."""

    def _validate(self, value: Any) -> None:
        if not isinstance(value, BlobKey):
            raise BadValueError(f"Expected BlobKey, got {value!r}")

    def _to_base_type(self, value: BlobKey) -> str:
        return str(value)

    def _from_base_type(self, value: str) -> BlobKey:
        return BlobKey(value)

    def _from_wire(self, wire: Any) -> Any:
        return wire if isinstance(wire, str) else None


class User:
    """App Engine's user value (email, auth domain, user id), for old schemas only."""

    __slots__ = ("_email", "_auth_domain", "_user_id")

    def __init__(
        self,
        email: Optional[str] = None,
        _auth_domain: Optional[str] = None,
        _user_id: Optional[str] = None,
    ) -> None:
        if not email:
            raise BadValueError("User needs an email address")
        self._email, self._auth_domain, self._user_id = email, _auth_domain or "gmail.com", _user_id

    def email(self) -> str:
        return self._email

    def nickname(self) -> str:
        return self._email.split("@", 1)[0]

    def auth_domain(self) -> str:
        return self._auth_domain

    def user_id(self) -> Optional[str]:
        return self._user_id

    def _state(self) -> Tuple[str, str, Optional[str]]:
        return (self._email, self._auth_domain, self._user_id)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self._state() == other._state()

    def __hash__(self) -> int:
        return hash(self._state())

    def __repr__(self) -> str:
        return f"users.User(email={self._email!r}, _user_id={self._user_id!r})"


def current_user() -> Optional[User]:
    """The SDK's logged-in LeanCloud user as an App Engine User (email or username, id)."""
    from leancloud import context

    user = context.current_user.get()
    if user is None:
        return None
    email = user.get_email() or user.get_username()
    return User(email, "leancloud", user.id) if email else None


class UserProperty(Property):
    """A User, stored as ``{"email", "auth_domain", "user_id"}``; kept for compatibility.

    ``auto_current_user`` / ``auto_current_user_add`` take the SDK's logged-in user.
    """

    _auto_current_user = False
    _auto_current_user_add = False
    _attributes = Property._attributes + ["_auto_current_user", "_auto_current_user_add"]

    def __init__(
        self,
        name: Optional[str] = None,
        auto_current_user: bool = False,
        auto_current_user_add: bool = False,
        **kwds: Any,
    ) -> None:
        super().__init__(name=name, **kwds)
        if self._repeated and (auto_current_user or auto_current_user_add):
            raise ValueError("UserProperty cannot be repeated with auto_current_user(_add)")
        self._auto_current_user = bool(auto_current_user)
        self._auto_current_user_add = bool(auto_current_user_add)

    def _prepare_for_put(self, entity: Any) -> None:
        if self._auto_current_user or (
            self._auto_current_user_add and self._retrieve_value(entity) is None
        ):
            user = current_user()
            if user is not None:
                self._store_value(entity, user)

    def _validate(self, value: Any) -> None:
        if not isinstance(value, User):
            raise BadValueError(f"Expected User, got {value!r}")

    def _to_wire(self, base: User) -> Dict[str, Any]:
        return {"email": base.email(), "auth_domain": base.auth_domain(), "user_id": base.user_id()}

    def _from_wire(self, wire: Any) -> Any:
        if isinstance(wire, dict) and isinstance(wire.get("email"), str) and "__type" not in wire:
            return User(wire["email"], wire.get("auth_domain"), wire.get("user_id"))
        return None


# -- structures --------------------------------------------------------------------------


def _check_model_class(modelclass: Any) -> type:
    if not (isinstance(modelclass, type) and hasattr(modelclass, "_properties")):
        raise TypeError(f"Expected a Model class, got {modelclass!r}")
    return modelclass


class _StructuredGetForDictMixin(Property):
    """``to_dict()`` turns sub-entities into dicts too."""

    _modelclass: type

    def _get_for_dict(self, entity: Any) -> Any:
        value = self._get_value(entity)
        if self._repeated:
            return [v._to_dict() for v in value]
        return value._to_dict() if value is not None else None

    def _check_entity(self, value: Any) -> Any:
        """A sub-entity of the model class (a dict is taken as its keyword arguments)."""
        if isinstance(value, dict):
            return self._modelclass(**value)
        if not isinstance(value, self._modelclass):
            raise BadValueError(f"Expected {self._modelclass.__name__} instance, got {value!r}")
        return None

    def _sub_entities(self, entity: Any) -> List[Any]:
        value = self._get_value(entity)
        return [v for v in (value if self._repeated else [value]) if v is not None]

    def _prepare_for_put(self, entity: Any) -> None:
        for item in self._sub_entities(entity):
            item._prepare_for_put()


class StructuredProperty(_StructuredGetForDictMixin):
    """A sub-entity stored as a nested object (``address.city``), queryable by subfield."""

    _attributes = ["_modelclass"] + Property._attributes

    def __init__(self, modelclass: type, name: Optional[str] = None, **kwds: Any) -> None:
        super().__init__(name=name, **kwds)
        self._modelclass = _check_model_class(modelclass)
        if self._repeated and modelclass._has_repeated:
            raise TypeError(
                f"This StructuredProperty cannot use repeated=True because its model class "
                f"({modelclass.__name__}) contains repeated properties (directly or indirectly)."
            )

    def __getattr__(self, attrname: str) -> Property:
        """``Person.address.city``: the subproperty, renamed to its dotted path."""
        if attrname.startswith("_"):
            raise AttributeError(attrname)
        prop = getattr(self._modelclass, attrname, None)
        if not isinstance(prop, Property) or isinstance(prop, ModelKey):
            raise AttributeError(
                f"Model subclass {self._modelclass.__name__} has no attribute {attrname}"
            )
        clone = copy.copy(prop)
        for name, cached in list(vars(clone).items()):
            if isinstance(cached, Property):  # subproperties cached under the old path
                del clone.__dict__[name]
        clone._name = f"{self._name}.{prop._name}"
        clone._code_name = f"{self._code_name}.{prop._code_name}"
        self.__dict__[attrname] = clone
        return clone

    def _comparison(self, op: str, value: Any) -> Any:
        from leancloud.ndb import query

        if op != "=" or not isinstance(value, self._modelclass):
            raise BadFilterError(
                f"StructuredProperty {self._name} can only be compared with == to an entity"
            )
        filters = [
            getattr(self, prop._code_name) == prop._get_value(value)
            for prop in value._properties.values()
            if prop._has_value(value) and not prop._repeated
        ]
        if not filters:
            raise BadFilterError(f"{value!r} sets no property to compare {self._name} with")
        return filters[0] if len(filters) == 1 else query.ConjunctionNode(*filters)

    def _IN(self, values: Iterable[Any]) -> Any:
        from leancloud.ndb import query

        return query.DisjunctionNode(*[self == value for value in values])

    IN = _IN

    def _check_property(self, rest: Optional[str] = None, require_indexed: bool = True) -> None:
        if not rest:
            raise InvalidPropertyError(f"Structured property {self._name} requires a subproperty")
        first, _, deeper = rest.partition(".")
        prop = getattr(self._modelclass, first, None)
        if not isinstance(prop, Property):
            raise InvalidPropertyError(
                f"Structured property {self._name} has no subproperty {first}"
            )
        prop._check_property(deeper or None, require_indexed=require_indexed)

    def _is_initialized(self, entity: Any) -> bool:
        if not super()._is_initialized(entity):
            return False
        return all(item._is_initialized_all() for item in self._sub_entities(entity))

    def _sub_entities(self, entity: Any) -> List[Any]:
        """The sub-entities as stored (after any user ``_to_base_type``)."""
        base = self._get_base_value(entity)
        values = base if self._repeated else [base]
        return [v.b_val for v in values if v is not None]

    def _validate(self, value: Any) -> Any:
        return self._check_entity(value)

    def _to_wire(self, base: Any) -> Any:
        from leancloud.ndb import mapping

        return mapping.entity_fields(base)

    def _from_wire(self, wire: Any) -> Any:
        from leancloud.ndb import mapping

        if isinstance(wire, dict) and "__type" not in wire:
            return mapping.entity_from_fields(self._modelclass, wire)
        return None

    def _serialize(self, entity: Any, out: Dict[str, Any]) -> None:
        """Repeated: one list per subfield (see ``mapping.columns_from_rows``)."""
        from leancloud.ndb import mapping

        super()._serialize(entity, out)
        if self._repeated and self._name in out:
            out[self._name] = mapping.columns_from_rows(out[self._name])

    def _deserialize(self, entity: Any, wire: Any) -> None:
        from leancloud.ndb import mapping

        if self._repeated and isinstance(wire, dict) and "__type" not in wire:
            wire = mapping.rows_from_columns(wire)
        super()._deserialize(entity, wire)


class LocalStructuredProperty(_StructuredGetForDictMixin, BlobProperty):
    """A sub-entity stored as an opaque blob (JSON, zlib with ``compressed=True``)."""

    _attributes = ["_modelclass"] + BlobProperty._attributes + ["_keep_keys"]
    _keep_keys = False

    def __init__(
        self,
        modelclass: type,
        name: Optional[str] = None,
        compressed: bool = False,
        keep_keys: bool = False,
        **kwds: Any,
    ) -> None:
        super().__init__(name=name, compressed=compressed, **kwds)
        if self._indexed:
            raise NotImplementedError(f"LocalStructuredProperty {self._name} cannot be indexed")
        self._modelclass = _check_model_class(modelclass)
        self._keep_keys = bool(keep_keys)

    def _validate(self, value: Any) -> Any:
        return self._check_entity(value)

    def _to_base_type(self, value: Any) -> bytes:
        from leancloud.ndb import mapping

        data = mapping.entity_fields(value)
        if self._keep_keys and value.key is not None:
            data["__key__"] = mapping.key_to_wire(value.key)
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def _from_base_type(self, value: bytes) -> Any:
        from leancloud.ndb import mapping

        data = json.loads(value.decode("utf-8"))
        key = data.pop("__key__", None)
        entity = mapping.entity_from_fields(self._modelclass, data)
        if key is not None and self._keep_keys:
            entity._set_key(_key_from_wire(key))
        return entity


# -- generic, computed, JSON, pickle ---------------------------------------------------------

_GENERIC_TYPES = (str, bytes, int, float, bool, _dt.datetime, GeoPt, Key)


class GenericProperty(Property):
    """Any base type (text, bytes, numbers, booleans, datetimes, GeoPt, Key); Expando's."""

    _compressed = False
    _attributes = Property._attributes + ["_compressed"]

    def __init__(self, name: Optional[str] = None, compressed: bool = False, **kwds: Any) -> None:
        if compressed:
            kwds.setdefault("indexed", False)
        super().__init__(name=name, **kwds)
        self._compressed = bool(compressed)
        if self._compressed and self._indexed:
            raise NotImplementedError(
                f"GenericProperty {self._name} cannot be compressed and indexed"
            )

    def _validate(self, value: Any) -> None:
        if (
            not isinstance(value, _GENERIC_TYPES)
            or isinstance(value, _dt.datetime)
            and value.tzinfo
        ):
            raise BadValueError(
                f"Unsupported value for {type(self).__name__} {self._name}: {value!r}"
            )
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not _INT64[0] <= value <= _INT64[1]
        ):
            raise BadValueError(f"Value {value} of {self._name} does not fit in 64 bits")
        if isinstance(value, (str, bytes)) and self._indexed:
            size = len(value.encode("utf-8") if isinstance(value, str) else value)
            if size > _MAX_INDEXED_BYTES:
                raise BadValueError(
                    f"Indexed value {self._name} must be at most {_MAX_INDEXED_BYTES} bytes"
                )
        if self._compressed and not isinstance(value, bytes):
            raise BadValueError(
                f"Compressed GenericProperty {self._name} takes bytes, not {value!r}"
            )

    def _to_base_type(self, value: Any) -> Any:
        if self._compressed and isinstance(value, bytes):
            return _CompressedValue(zlib.compress(value))
        return None

    def _from_base_type(self, value: Any) -> Any:
        if isinstance(value, _CompressedValue):
            return zlib.decompress(value.z_val)
        return None

    def _to_wire(self, base: Any) -> Any:
        if isinstance(base, _CompressedValue):
            return _bytes_to_wire(base.z_val)
        if isinstance(base, bytes):
            return _bytes_to_wire(base)
        if isinstance(base, _dt.datetime):
            return _datetime_to_wire(base)
        if isinstance(base, GeoPt):
            return _geo_to_wire(base)
        if isinstance(base, Key):
            return _key_to_wire(base)
        return base

    def _from_wire(self, wire: Any) -> Any:
        if isinstance(wire, (str, int, float, bool)):
            return wire
        if not isinstance(wire, dict):
            return None
        decoder = _GENERIC_DECODERS.get(wire.get("__type"))
        value = decoder(wire) if decoder is not None else None
        if isinstance(value, bytes) and self._compressed and _is_zlib(value):
            return _CompressedValue(value)
        return value


_GENERIC_DECODERS: Dict[Any, Callable[[Any], Any]] = {
    "Bytes": _bytes_from_wire,
    "Date": _datetime_from_wire,
    "GeoPoint": _geo_from_wire,
    "Pointer": _key_from_wire,
}


class ComputedProperty(GenericProperty):
    """A value computed from the entity by ``func``; written so queries can use it."""

    _attributes = ["_func"] + Property._attributes

    def __init__(
        self,
        func: Callable[[Any], Any],
        name: Optional[str] = None,
        indexed: Optional[bool] = None,
        repeated: Optional[bool] = None,
        verbose_name: Optional[str] = None,
    ) -> None:
        super().__init__(name=name, indexed=indexed, repeated=repeated, verbose_name=verbose_name)
        self._func = func

    def _set_value(self, entity: Any, value: Any) -> None:
        raise ComputedPropertyError("Cannot assign to a ComputedProperty")

    def _delete_value(self, entity: Any) -> None:
        raise ComputedPropertyError("Cannot delete a ComputedProperty")

    def _get_value(self, entity: Any) -> Any:
        if entity._projection:
            return super()._get_value(entity)
        value = self._func(entity)
        self._store_value(entity, value)
        return value

    def _prepare_for_put(self, entity: Any) -> None:
        self._get_value(entity)

    def _deserialize(self, entity: Any, wire: Any) -> None:
        if entity._projection:  # a projection keeps the stored value; otherwise it is recomputed
            super()._deserialize(entity, wire)


class JsonProperty(BlobProperty):
    """Any JSON-serialisable value, stored as JSON bytes (``json_type=`` restricts it)."""

    _json_type: Optional[type] = None
    _attributes = BlobProperty._attributes + ["_json_type"]

    def __init__(
        self,
        name: Optional[str] = None,
        compressed: bool = False,
        json_type: Optional[type] = None,
        **kwds: Any,
    ) -> None:
        super().__init__(name=name, compressed=compressed, **kwds)
        self._json_type = json_type

    def _validate(self, value: Any) -> None:
        if self._json_type is not None and not isinstance(value, self._json_type):
            raise TypeError(f"JSON property must be a {self._json_type}")

    def _to_base_type(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode("utf-8")

    def _from_base_type(self, value: bytes) -> Any:
        return json.loads(value.decode("utf-8"))


class PickleProperty(BlobProperty):
    """Any picklable value, pickled with the highest protocol."""

    def _to_base_type(self, value: Any) -> bytes:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def _from_base_type(self, value: bytes) -> Any:
        return pickle.loads(value)
