"""``Key``: an immutable path of (kind, id) pairs plus app and namespace, as in NDB.

``serialized()`` is App Engine's ``entity_pb.Reference`` protocol buffer, byte for byte,
and ``urlsafe()`` its unpadded web-safe base64, so keys exchanged with App Engine code
(URLs, stored strings) decode here and the other way round. How a key is stored in
LeanCloud (class, objectId, ancestor path) is ``mapping.py``'s business.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from leancloud.ndb.errors import BadArgumentError, BadKeyError

__all__ = ["Key", "Reference", "default_app"]

Id = Union[int, str, None]
Pair = Tuple[str, Id]

_MAX_INT_ID = (1 << 63) - 1
_MAX_NAME_BYTES = 1500
_REFERENCE_FORMS = ("urlsafe", "serialized", "reference")
_ALL_FORMS = ("pairs", "flat") + _REFERENCE_FORMS


def default_app() -> str:
    """The LeanCloud app id the SDK is initialised with (keys' default ``app``)."""
    from leancloud import client

    return client._app_id() or "_"


class Reference:
    """The decoded form of ``serialized()``: app, namespace and the path of pairs."""

    __slots__ = ("app", "name_space", "path")

    def __init__(self, app: str, name_space: str, path: Tuple[Pair, ...]) -> None:
        self.app, self.name_space, self.path = app, name_space, tuple(path)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Reference):
            return NotImplemented
        return (self.app, self.name_space, self.path) == (other.app, other.name_space, other.path)

    def __hash__(self) -> int:
        return hash((self.app, self.name_space, self.path))

    def __repr__(self) -> str:
        return f"Reference(app={self.app!r}, name_space={self.name_space!r}, path={self.path!r})"


class Key:
    """An immutable datastore key; see the module docstring and NDB's documentation."""

    __slots__ = ("_Key__app", "_Key__namespace", "_Key__pairs")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 1 and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
            args = ()
        app, namespace, pairs = _parse(args, kwargs)
        object.__setattr__(self, "_Key__app", app)
        object.__setattr__(self, "_Key__namespace", namespace)
        object.__setattr__(self, "_Key__pairs", pairs)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Key is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Key is immutable")

    # -- contents -------------------------------------------------------------------

    def pairs(self) -> Tuple[Pair, ...]:
        return self.__pairs

    def flat(self) -> Tuple[Any, ...]:
        return tuple(part for pair in self.__pairs for part in pair)

    def app(self) -> str:
        """The app id; keys made without one follow the SDK's (also if initialised later)."""
        return self.__app or default_app()

    def namespace(self) -> str:
        return self.__namespace

    def kind(self) -> str:
        return self.__pairs[-1][0]

    def id(self) -> Id:
        return self.__pairs[-1][1]

    def string_id(self) -> Optional[str]:
        value = self.id()
        return value if isinstance(value, str) else None

    def integer_id(self) -> Optional[int]:
        value = self.id()
        return value if isinstance(value, int) else None

    def parent(self) -> Optional["Key"]:
        if len(self.__pairs) == 1:
            return None
        return Key(pairs=self.__pairs[:-1], app=self.__app, namespace=self.__namespace)

    def root(self) -> "Key":
        if len(self.__pairs) == 1:
            return self
        return Key(pairs=self.__pairs[:1], app=self.__app, namespace=self.__namespace)

    def is_complete(self) -> bool:
        """Whether the last pair has an id (NDB has it as ``id() is not None``)."""
        return self.id() is not None

    # -- encodings ------------------------------------------------------------------

    def reference(self) -> Reference:
        return Reference(self.app(), self.__namespace, self.__pairs)

    def serialized(self) -> bytes:
        return _encode_reference(self.app(), self.__namespace, self.__pairs)

    def urlsafe(self) -> str:
        return base64.urlsafe_b64encode(self.serialized()).rstrip(b"=").decode("ascii")

    @classmethod
    def from_old_key(cls, old_key: Any) -> "Key":
        """App Engine's old ``db`` keys do not exist here; use ``Key(urlsafe=str(old_key))``."""
        raise NotImplementedError("there is no old db API; decode its string with Key(urlsafe=...)")

    def to_old_key(self) -> Any:
        raise NotImplementedError("there is no old db API; pass key.urlsafe() instead")

    # -- storage --------------------------------------------------------------------

    def get(self, **ctx_options: Any) -> Any:
        """The entity stored under this key, or None."""
        return self.get_async(**ctx_options).get_result()

    def get_async(self, **ctx_options: Any) -> Any:
        from leancloud.ndb import batch

        return batch.get_multi_async([self], **ctx_options)[0]

    def delete(self, **ctx_options: Any) -> None:
        """Delete the entity; deleting a missing one is a no-op."""
        return self.delete_async(**ctx_options).get_result()

    def delete_async(self, **ctx_options: Any) -> Any:
        from leancloud.ndb import batch

        return batch.delete_multi_async([self], **ctx_options)[0]

    # -- Python protocols -----------------------------------------------------------

    def _state(self) -> Tuple[Optional[str], str, Tuple[Pair, ...]]:
        return (self.__app, self.__namespace, self.__pairs)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return self._state() == other._state()

    def __ne__(self, other: Any) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self._state())

    def _order(self) -> Tuple[Any, ...]:
        # Datastore order: integer ids before string ids, an incomplete id first.
        path = tuple(
            (kind, _id_rank(id_), id_ if id_ is not None else 0) for kind, id_ in self.__pairs
        )
        return (self.__app or "", self.__namespace, path)

    def __lt__(self, other: "Key") -> bool:
        return self._order() < _as_key(other)._order()

    def __le__(self, other: "Key") -> bool:
        return self._order() <= _as_key(other)._order()

    def __gt__(self, other: "Key") -> bool:
        return self._order() > _as_key(other)._order()

    def __ge__(self, other: "Key") -> bool:
        return self._order() >= _as_key(other)._order()

    def __reduce__(self) -> Tuple[Any, ...]:
        return (Key, ({"pairs": self.__pairs, "app": self.__app, "namespace": self.__namespace},))

    def __repr__(self) -> str:
        args = [repr(part) for part in self.flat()]
        if self.__app is not None:
            args.append(f"app={self.__app!r}")
        if self.__namespace:
            args.append(f"namespace={self.__namespace!r}")
        return f"Key({', '.join(args)})"

    __str__ = __repr__


def _as_key(other: Any) -> Key:
    if not isinstance(other, Key):
        raise TypeError(f"cannot compare a Key with {type(other).__name__}")
    return other


def _id_rank(value: Id) -> int:
    return 0 if value is None else (1 if isinstance(value, int) else 2)


# -- constructor forms ------------------------------------------------------------------


def _parse(
    args: Sequence[Any], kwargs: Dict[str, Any]
) -> Tuple[Optional[str], str, Tuple[Pair, ...]]:
    unknown = set(kwargs) - set(_ALL_FORMS) - {"parent", "app", "namespace"}
    if unknown:
        raise TypeError(f"Key() got unexpected keyword arguments: {sorted(unknown)}")
    forms = [name for name in _ALL_FORMS if kwargs.get(name) is not None]
    if args:
        forms.insert(0, "positional")
    if len(forms) != 1:
        raise TypeError(
            "Key() takes exactly one of positional pairs, pairs=, flat=, urlsafe=, "
            f"serialized= or reference= (got {forms or 'none'})"
        )
    app, namespace = kwargs.get("app"), kwargs.get("namespace")
    form = forms[0]
    if form in _REFERENCE_FORMS:
        if kwargs.get("parent") is not None:
            raise TypeError("Key() cannot combine parent= with a reference")
        return _from_reference(form, kwargs[form], app, namespace)
    if form == "positional":
        pairs = _pairs_from_flat(args)
    elif form == "flat":
        pairs = _pairs_from_flat(kwargs["flat"])
    else:
        pairs = tuple(_check_pair(pair) for pair in kwargs["pairs"])
    parent = kwargs.get("parent")
    if parent is not None:
        app, namespace, pairs = _under_parent(parent, app, namespace, pairs)
    return _check(app, namespace, pairs)


def _under_parent(
    parent: Any, app: Optional[str], namespace: Optional[str], pairs: Tuple[Pair, ...]
) -> Tuple[str, str, Tuple[Pair, ...]]:
    if not isinstance(parent, Key):
        raise BadArgumentError(f"parent must be a Key, not {parent!r}")
    if not parent.is_complete():
        raise BadArgumentError("parent must be a complete Key")
    for given, own, what in (
        (app, parent.app(), "app"),
        (namespace, parent.namespace(), "namespace"),
    ):
        if given is not None and given != own:
            raise BadArgumentError(f"{what} {given!r} differs from the parent's {own!r}")
    return parent.app(), parent.namespace(), parent.pairs() + pairs


def _pairs_from_flat(flat: Sequence[Any]) -> Tuple[Pair, ...]:
    flat = list(flat)
    if len(flat) % 2:
        raise BadArgumentError("Key() needs an even number of kind/id values")
    return tuple(_check_pair((flat[i], flat[i + 1])) for i in range(0, len(flat), 2))


def _check_pair(pair: Sequence[Any]) -> Pair:
    kind, id_ = pair
    if isinstance(kind, type) and hasattr(kind, "_get_kind"):
        kind = kind._get_kind()
    if not isinstance(kind, str) or not kind:
        raise BadArgumentError(f"a kind must be a non-empty string or a Model class, not {kind!r}")
    if id_ is None:
        return (kind, None)
    if isinstance(id_, bool) or not isinstance(id_, (int, str)):
        raise BadArgumentError(f"an id must be an int or a str, not {id_!r}")
    if isinstance(id_, int) and not 0 < id_ <= _MAX_INT_ID:
        raise BadArgumentError(f"an integer id must be in 1..2**63-1, not {id_}")
    if isinstance(id_, str) and not 0 < len(id_.encode("utf-8")) <= _MAX_NAME_BYTES:
        raise BadArgumentError(f"a string id must be 1 to {_MAX_NAME_BYTES} bytes, not {id_!r}")
    return (kind, id_)


def _check(
    app: Optional[str], namespace: Optional[str], pairs: Tuple[Pair, ...]
) -> Tuple[Optional[str], str, Tuple[Pair, ...]]:
    """Validated parts; ``app`` is None for the default app (resolved when asked)."""
    if not pairs:
        raise BadArgumentError("Key() needs at least one (kind, id) pair")
    if any(id_ is None for _, id_ in pairs[:-1]):
        raise BadArgumentError("only the last pair of a Key may lack an id")
    if namespace is None:
        namespace = ""
    if app is not None and (not isinstance(app, str) or not app):
        raise BadArgumentError(f"app must be a non-empty string, not {app!r}")
    if not isinstance(namespace, str):
        raise BadArgumentError(f"namespace must be a string, not {namespace!r}")
    return (None if app == default_app() else app), namespace, pairs


def _from_reference(
    form: str, value: Any, app: Optional[str], namespace: Optional[str]
) -> Tuple[Optional[str], str, Tuple[Pair, ...]]:
    if form == "urlsafe":
        value = _decode_urlsafe(value)
    if form in ("urlsafe", "serialized"):
        if not isinstance(value, (bytes, bytearray)):
            raise BadArgumentError(f"serialized must be bytes, not {value!r}")
        value = _decode_reference(bytes(value))
    if not isinstance(value, Reference):
        raise BadArgumentError(f"reference must be a Reference, not {value!r}")
    if app is not None and app != value.app:
        raise BadArgumentError(f"app {app!r} differs from the reference's {value.app!r}")
    if namespace is not None and namespace != value.name_space:
        raise BadArgumentError(
            f"namespace {namespace!r} differs from the reference's {value.name_space!r}"
        )
    pairs = tuple(_check_pair(pair) for pair in value.path)
    return _check(value.app, value.name_space, pairs)


def _decode_urlsafe(value: Any) -> bytes:
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    if not isinstance(value, (bytes, bytearray)):
        raise BadArgumentError(f"urlsafe must be a string, not {value!r}")
    padded = bytes(value) + b"=" * (-len(value) % 4)
    try:
        return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError) as exc:
        raise BadKeyError(f"invalid urlsafe key: {value!r}") from exc


# -- entity_pb.Reference: app = 13, path = 14 (groups Element = 1 of type = 2, id = 3,
#    name = 4), name_space = 20 ----------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _encode_reference(app: str, namespace: str, pairs: Tuple[Pair, ...]) -> bytes:
    path = bytearray()
    for kind, id_ in pairs:
        path += _varint(1 << 3 | 3) + _string_field(2, kind.encode("utf-8"))
        if isinstance(id_, int):
            path += _varint(3 << 3) + _varint(id_)
        elif isinstance(id_, str):
            path += _string_field(4, id_.encode("utf-8"))
        path += _varint(1 << 3 | 4)
    out = _string_field(13, app.encode("utf-8")) + _string_field(14, bytes(path))
    if namespace:
        out += _string_field(20, namespace.encode("utf-8"))
    return out


class _Reader:
    """Just enough protocol buffer decoding for a Reference (unknown fields skipped)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise BadKeyError("truncated or malformed serialized key")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    def fields(self) -> Iterator[Tuple[int, int, Any]]:
        """(number, wire type, value) until the end or an end-group tag."""
        while self.pos < len(self.data):
            tag = self.varint()
            number, wire = tag >> 3, tag & 7
            if wire == 4:
                return
            yield number, wire, self._value(wire)

    def _value(self, wire: int) -> Any:
        if wire == 0:
            return self.varint()
        if wire == 2:
            size = self.varint()
            if self.pos + size > len(self.data):
                raise BadKeyError("truncated serialized key")
            chunk = self.data[self.pos : self.pos + size]
            self.pos += size
            return chunk
        if wire == 3:
            return list(self.fields())
        if wire in (1, 5):
            size = 8 if wire == 1 else 4
            self.pos += size
            return None
        raise BadKeyError(f"unsupported wire type {wire} in a serialized key")


def _text(value: Any) -> str:
    try:
        return bytes(value).decode("utf-8")
    except (TypeError, UnicodeDecodeError) as exc:
        raise BadKeyError("malformed text in a serialized key") from exc


def _decode_element(fields: List[Tuple[int, int, Any]]) -> Pair:
    kind: Optional[str] = None
    id_: Id = None
    for number, wire, value in fields:
        if number == 2 and wire == 2:
            kind = _text(value)
        elif number == 3 and wire == 0:
            id_ = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 4 and wire == 2:
            id_ = _text(value)
    if kind is None:
        raise BadKeyError("a serialized key element has no kind")
    return (kind, id_)


def _decode_reference(data: bytes) -> Reference:
    app, namespace, path = None, "", []
    for number, wire, value in _Reader(data).fields():
        if number == 13 and wire == 2:
            app = _text(value)
        elif number == 20 and wire == 2:
            namespace = _text(value)
        elif number == 14 and wire == 2:
            path = [
                _decode_element(el) for n, w, el in _Reader(value).fields() if n == 1 and w == 3
            ]
    if app is None or not path:
        raise BadKeyError("a serialized key needs an app and a path")
    return Reference(app, namespace, tuple(path))
