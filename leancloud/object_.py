"""``Object``: one LeanCloud object, its class registry, and save/fetch/destroy/batch.

An object holds its current values (``attributes``, including local estimates of
pending operations) and one pending operation per changed field (``_changes``, see
``leancloud.operation``). ``save()`` sends exactly the pending operations.

Class registry. Every subclass is registered under its LeanCloud class name: its
``class_name`` attribute if given, else its Python name, with the built-in names
mapped (``User`` -> ``_User``, ...). ``Object.extend(name)`` and ``Object.as_class(name)``
return the registered class, creating a plain subclass on first use, so that
``Object.extend("Album") is Object.extend("Album")`` and the server's ``_User`` pointers
decode to ``leancloud.User`` once it is defined. A class statement always takes the
name over (the official SDK silently returned the first class of that name instead).

Deliberate differences from the official SDK (same wire requests otherwise):

* ``save()`` saves unsaved children in dependency order (one ``/batch`` per level,
  usually a single one) and raises ``ValueError`` for a cycle of unsaved objects; the
  official SDK sent pointers without ``objectId``.
* Batch failures raise the first item's ``LeanCloudError`` with every failure in its
  ``errors`` attribute: ``[(obj, LeanCloudError), ...]``.
* ``objectId``/``createdAt``/``updatedAt`` given to ``set()`` update the object's
  metadata but are not sent as changes, and ``clear()`` leaves them alone.
* Bytes values round-trip (the official SDK decoded them to ``None``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Type, TypeVar

from leancloud import client, codec, operation
from leancloud.acl import ACL
from leancloud.errors import BAD_RESPONSE, LeanCloudError
from leancloud.relation import Relation

__all__ = ["BATCH_SIZE", "Object", "ObjectMeta"]

# Items per /batch request: LeanCloud advises at most 100.
BATCH_SIZE = 100

_BUILTIN_CLASS_NAMES = {
    "User": "_User",
    "Role": "_Role",
    "Installation": "_Installation",
    "Notification": "_Notification",
    "Conversation": "_Conversation",
    "SysMessage": "_SysMessage",
    "File": "_File",
}
_METADATA_KEYS = ("objectId", "createdAt", "updatedAt")
_HOOK_NAMES = (
    "beforeSave",
    "afterSave",
    "beforeUpdate",
    "afterUpdate",
    "beforeDelete",
    "afterDelete",
)

_classes: Dict[str, ObjectMeta] = {}

T = TypeVar("T", bound="Object")


def _wire_class_name(name: str) -> str:
    return _BUILTIN_CLASS_NAMES.get(name, name)


def _check_class_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a class name must be a non-empty string, not {name!r}")
    return name


class ObjectMeta(type):
    """Registers every ``Object`` subclass and gives classes the ``query`` property."""

    def __new__(
        mcs, name: str, bases: Tuple[type, ...], namespace: Dict[str, Any], **kwargs: Any
    ) -> ObjectMeta:
        class_name = namespace.pop("class_name", None)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if not any(isinstance(base, ObjectMeta) for base in bases):
            cls._class_name = name  # Object itself
            return cls
        cls._class_name = (
            _check_class_name(class_name) if class_name is not None else _wire_class_name(name)
        )
        _classes[cls._class_name] = cls
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # ``@Object.as_class("Student")`` on a class statement: as_class returns the
        # class registered as Student, which is then called with the decorated class.
        if len(args) == 1 and not kwargs and isinstance(args[0], ObjectMeta):
            return cls._adopt(args[0])
        return super().__call__(*args, **kwargs)

    def _adopt(cls, other: ObjectMeta) -> ObjectMeta:
        """Make ``other`` the class registered under this class's LeanCloud name."""
        if _classes.get(other._class_name) is other:
            del _classes[other._class_name]
        other._class_name = cls._class_name
        _classes[other._class_name] = other
        return other

    @property
    def query(cls) -> Any:
        """A new ``leancloud.Query`` over this class."""
        from leancloud.query import Query  # late: query imports this module

        return Query(cls)


def _unwrap(value: Any) -> Any:
    """The object behind a werkzeug ``LocalProxy`` (LeanEngine hands those out)."""
    get_current = getattr(value, "_get_current_object", None)
    return get_current() if callable(get_current) else value


def _incoming(key: Any, value: Any) -> Any:
    value = _unwrap(value)
    if isinstance(value, operation.BaseOp):
        return value
    if key == "ACL" and isinstance(value, dict):
        return ACL(value)  # the wire form, as the official SDK accepts it
    return codec.decode(value)


def _metadata(key: str, value: Any) -> Any:
    """objectId as a str, createdAt/updatedAt as datetimes; ``_UNSET`` for no value."""
    if value is None or value is operation._UNSET:
        return operation._UNSET
    if key != "objectId":
        return _to_datetime(value)
    if not isinstance(value, str):
        raise TypeError(f"objectId must be a string, not {value!r}")
    return value


def _to_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        value = {"__type": "Date", "iso": value}
    if isinstance(value, dict) and value.get("__type") == "Date":
        return codec.decode(value)
    raise TypeError(f"expected a date, not {value!r}")


class Object(metaclass=ObjectMeta):
    """One object of a LeanCloud class; subclass it or use ``Object.extend(name)``."""

    _class_name: str

    def __init__(self, **attrs: Any) -> None:
        self.id: Optional[str] = None
        self.created_at: Optional[_dt.datetime] = None
        self.updated_at: Optional[_dt.datetime] = None
        self._attributes: Dict[str, Any] = {}
        self._changes: Dict[str, operation.BaseOp] = {}
        self._flags: Dict[str, Any] = {}
        if attrs:
            self.set(attrs)

    # -- classes -----------------------------------------------------------------

    @classmethod
    def extend(cls, name: str) -> Type[Object]:
        """The class registered as ``name``, created as a subclass of ``cls`` if new."""
        existing = _classes.get(_wire_class_name(_check_class_name(name)))
        if existing is not None:
            return existing
        return ObjectMeta(name, (cls,), {"__module__": cls.__module__})

    @staticmethod
    def as_class(arg: str) -> Type[Object]:
        """The class registered as ``arg`` (see ``extend``).

        Also works as the official SDK's class decorator:
        ``@Object.as_class("Student") class Physicist(Object)`` stores Physicist in
        the ``Student`` class.
        """
        return Object.extend(arg)

    @classmethod
    def create(cls, class_name: str, **attributes: Any) -> Object:
        """A new object of the class registered as ``class_name``."""
        return cls.extend(class_name)(**attributes)

    @classmethod
    def create_without_data(cls: Type[T], id_: str) -> T:
        """A reference to an existing object, to ``fetch()`` or to point at."""
        if cls is Object:
            raise RuntimeError("can not call create_without_data on leancloud.Object")
        obj = cls()
        obj.id = id_
        return obj

    # -- state -------------------------------------------------------------------

    @property
    def attributes(self) -> Dict[str, Any]:
        """The current values, pending changes included."""
        return self._attributes

    def is_new(self) -> bool:
        """True while the object has no objectId (``save()`` will POST)."""
        return not self.id

    def is_existed(self) -> bool:
        """True once data of the object came from the server."""
        return self.has("createdAt")

    def is_dirty(self, attr: Optional[str] = None) -> bool:
        """Whether ``attr`` (or, without it, anything) has to be saved."""
        if attr:
            return attr in self._changes
        return bool(not self.id or self._changes)

    def get(self, attr: str, default: Any = None, deafult: Any = None) -> Any:
        """The field's value, or ``default`` (``deafult``: the official SDK's old spelling)."""
        if deafult is not None and default is None:
            default = deafult
        if attr == "createdAt":
            return self.created_at  # as the official SDK: the property is the truth
        if attr == "updatedAt":
            return self.updated_at
        return self._attributes.get(attr, default)

    def has(self, attr: str) -> bool:
        return attr in self._attributes

    def get_acl(self) -> Optional[ACL]:
        return self.get("ACL")

    def set_acl(self, acl: ACL) -> Object:
        return self.set("ACL", acl)

    def relation(self, attr: str) -> Relation:
        """The relation stored in field ``attr``."""
        value = self.get(attr)
        if value is None:
            return Relation(self, attr)
        if not isinstance(value, Relation):
            raise TypeError(f"field {attr!r} is not a Relation")
        value._ensure_parent_and_key(self, attr)
        return value

    # -- changes -----------------------------------------------------------------

    def validate(self, attrs: Dict[str, Any]) -> bool:
        """Refuse values the server would refuse; subclasses may add rules."""
        acl = attrs.get("ACL")
        if "ACL" in attrs and not isinstance(acl, (ACL, operation.Unset)):
            raise TypeError("acl must be a ACL")
        return True

    def set(self, key_or_attrs: Any, value: Any = None, unset: bool = False) -> Object:
        """Set one field (``set(key, value)``) or several (``set({key: value})``)."""
        if isinstance(key_or_attrs, dict) and value is None:
            attrs = {k: _incoming(k, v) for k, v in key_or_attrs.items()}
        else:
            attrs = {key_or_attrs: _incoming(key_or_attrs, value)}
        for key in attrs:
            if not isinstance(key, str) or not key:
                raise TypeError(f"a field name must be a non-empty string, not {key!r}")
        if unset:
            attrs = {key: operation.Unset() for key in attrs}
        self.validate(attrs)
        updates = [self._prepare(key, value) for key, value in attrs.items()]
        for key, estimate, merged in updates:
            if key in _METADATA_KEYS:
                self._set_metadata(key, None if estimate is operation._UNSET else estimate)
            if estimate is operation._UNSET:
                self._attributes.pop(key, None)
            else:
                self._attributes[key] = estimate
            if merged is not None:
                self._changes[key] = merged
        return self

    def _prepare(self, key: str, value: Any) -> Tuple[str, Any, Optional[operation.BaseOp]]:
        """(key, estimated value, merged pending op) for one change, without applying it.

        Metadata keys get no pending op: they describe the object, they are not data.
        """
        op = value if isinstance(value, operation.BaseOp) else operation.Set(value)
        old = self._attributes.get(key, operation._UNSET)
        if key in _METADATA_KEYS:
            return key, _metadata(key, op._apply(old, self, key)), None
        merged = op._merge(self._changes.get(key))
        return key, op._apply(old, self, key), merged

    def _set_metadata(self, key: str, value: Any) -> None:
        if key == "objectId":
            self.id = value
        elif key == "createdAt":
            self.created_at = value
        else:
            self.updated_at = value

    def unset(self, attr: str) -> Object:
        return self.set(attr, None, unset=True)

    def clear(self) -> Object:
        """Remove every field (metadata stays)."""
        return self.set({k: None for k in self._attributes if k not in _METADATA_KEYS}, unset=True)

    def increment(self, attr: str, amount: float = 1) -> Object:
        return self.set(attr, operation.Increment(amount))

    def add(self, attr: str, item: Any) -> Object:
        return self.set(attr, operation.Add([item]))

    def add_unique(self, attr: str, item: Any) -> Object:
        return self.set(attr, operation.AddUnique([item]))

    def remove(self, attr: str, item: Any) -> Object:
        return self.set(attr, operation.Remove([item]))

    def bit_and(self, attr: str, value: int) -> Object:
        return self.set(attr, operation.BitAnd(value))

    def bit_or(self, attr: str, value: int) -> Object:
        return self.set(attr, operation.BitOr(value))

    def bit_xor(self, attr: str, value: int) -> Object:
        return self.set(attr, operation.BitXor(value))

    # -- hooks -------------------------------------------------------------------

    def ignore_hook(self, hook_name: str) -> Object:
        """Ask the server to skip one LeanEngine hook for this object's writes."""
        if hook_name not in _HOOK_NAMES:
            raise ValueError(f"invalid hook name: {hook_name!r}")
        hooks = self._flags.setdefault("__ignore_hooks", [])
        if hook_name not in hooks:
            hooks.append(hook_name)
        return self

    def disable_before_hook(self) -> Object:
        return self._ignore_hooks("before")

    def disable_after_hook(self) -> Object:
        return self._ignore_hooks("after")

    def _ignore_hooks(self, when: str) -> Object:
        # The server honours __ignore_hooks only with the master key or the hook key.
        info = client.get_app_info()
        if not (info["hook_key"] or info["master_key"]):
            raise ValueError(f"disable_{when}_hook needs the LeanCloud hook key or master key")
        for action in ("Save", "Update", "Delete"):
            self.ignore_hook(when + action)
        return self

    # -- wire forms --------------------------------------------------------------

    def _path(self) -> str:
        """The object's REST path; the id is percent-encoded, so that an id taken from
        user input (``create_without_data(request_arg)``) cannot reach another path
        with ``../`` or add a query string (the official SDK pasted it in as is)."""
        if self.id:
            return f"/classes/{self._class_name}/{client.segment(self.id)}"
        return f"/classes/{self._class_name}"

    def _to_pointer(self) -> Dict[str, Any]:
        return {"__type": "Pointer", "className": self._class_name, "objectId": self.id}

    def _lc_encode(self, dump_objects: bool = False) -> Dict[str, Any]:
        """A Pointer, or with ``dump_objects`` the full object (nested objects as Pointers)."""
        if not dump_objects:
            return self._to_pointer()
        data = self.dump()
        data["__type"] = "Object"
        data["className"] = self._class_name
        return data

    def dump(self) -> Dict[str, Any]:
        """The object's fields in wire form, with objectId and the dates as ISO strings."""
        data = {}
        for key, value in self._attributes.items():
            if key in ("createdAt", "updatedAt") and isinstance(value, _dt.datetime):
                data[key] = codec.format_date(value)
            else:
                data[key] = codec.encode(value)
        if self.id is not None:
            data["objectId"] = self.id
        return data

    def _dump_save(self) -> Dict[str, Any]:
        """The body of a save: the pending changes plus flags such as ``__ignore_hooks``."""
        body = {}
        for key, op in self._changes.items():
            dumped = op.dump()
            if isinstance(op, operation.Relation) and not dumped:
                continue  # a relation change that adds and removes nothing
            body[key] = dumped
        body.update(self._flags)
        return body

    def _batch_save_request(self) -> Dict[str, Any]:
        return {
            "method": "PUT" if self.id else "POST",
            "path": f"/{client.SERVER_VERSION}{self._path()}",
            "body": self._dump_save(),
        }

    def _update_data(self, server_data: Dict[str, Any]) -> None:
        """Merge an object as the server sent it; the object is clean afterwards."""
        for key, value in server_data.items():
            decoded = self._decode_field(key, value)
            if decoded is not operation._UNSET:
                self._attributes[key] = decoded
        if "updatedAt" not in server_data and server_data.get("createdAt") is not None:
            # A create answers only objectId and createdAt, but the server stored
            # updatedAt = createdAt; the official SDKs (Python, JS, Go) say so too.
            # Only the property: the fields (and dump()) hold what the server sent.
            self.updated_at = self.created_at
        self._changes = {}

    def _decode_field(self, key: str, value: Any) -> Any:
        if key in _METADATA_KEYS:
            value = _metadata(key, value)
            if value is not operation._UNSET:
                self._set_metadata(key, value)
            return value
        if key == "ACL" and isinstance(value, dict):
            return ACL(value)
        decoded = codec.decode(value)
        if isinstance(decoded, Relation) and decoded.parent is None:
            decoded.parent, decoded.key = self, key
        return decoded

    # -- requests ----------------------------------------------------------------

    def save(self, where: Any = None, fetch_when_save: Optional[bool] = None) -> None:
        """Save unsaved children, then this object's pending changes.

        ``where``: a Query on this (saved) object's class; the server applies the
        change only if the object matches it, else raises error 305.
        ``fetch_when_save``: have the server answer with the saved fields' values.
        """
        condition = self._where_condition(where)
        _save_children(self)
        if _unsaved_references(self):
            raise ValueError(f"{self._class_name} refers to itself before it has an objectId")
        query: Dict[str, Any] = {"fetchWhenSave": bool(fetch_when_save)}
        if condition is not None:
            query["where"] = condition
        if self.is_new():
            response = client.post(self._path(), self._dump_save(), query=query)
        else:
            response = client.put(self._path(), self._dump_save(), query=query)
        self._update_data(response.json())

    def _where_condition(self, where: Any) -> Optional[Dict[str, Any]]:
        if where is None:
            return None
        from leancloud.query import Query

        if not isinstance(where, Query):
            raise TypeError(f"where must be a leancloud.Query, not {type(where).__name__}")
        if where._query_class._class_name != self._class_name:
            raise TypeError("where must be a query on the object's own class")
        if self.is_new():
            raise TypeError("where only works for an object that has been saved")
        return where.dump()["where"]

    def fetch(
        self, select: Optional[Sequence[str]] = None, include: Optional[Sequence[str]] = None
    ) -> Object:
        """Merge the server's copy (only the ``select`` fields, if given) into the object.

        As in the official SDK, pending changes are forgotten and fields the answer
        lacks keep their local values; a missing object answers ``{}`` and changes nothing.
        """
        if not self.id:
            raise ValueError("cannot fetch an object that has no objectId")
        params = {}
        if select:
            params["keys"] = _joined("select", select)
        if include:
            params["include"] = _joined("include", include)
        response = client.get(self._path(), params)
        self._update_data(response.json())
        return self

    def destroy(self) -> None:
        """Delete the object on the server (nothing to do for an unsaved object)."""
        if not self.id:
            return
        client.delete(self._path(), dict(self._flags))

    @classmethod
    def save_all(cls, objs: Sequence[Object]) -> None:
        """Save objects (and their unsaved children) in as few ``/batch`` requests as possible."""
        if not objs:
            return
        _check_objects(objs)
        given = {id(o) for o in objs}
        children = [o for o in _unsaved_children(list(objs), exclude=None) if id(o) not in given]
        _save_in_order(children + list(objs))

    @classmethod
    def destroy_all(cls, objs: Sequence[Object]) -> None:
        """Delete saved objects with ``/batch`` requests."""
        if not objs:
            return
        _check_objects(objs)
        if any(obj.is_new() for obj in objs):
            raise ValueError("Could not destroy unsaved object")
        requests = [
            {
                "method": "DELETE",
                "path": f"/{client.SERVER_VERSION}{obj._path()}",
                "body": dict(obj._flags),
            }
            for obj in objs
        ]
        _raise_failures(list(zip(objs, _send_batch(requests))))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._class_name} objectId={self.id!r}>"


# -- saving graphs of objects ------------------------------------------------------


def _joined(name: str, keys: Any) -> str:
    if not isinstance(keys, (list, tuple)):
        raise TypeError(f"{name} must be a list or a tuple of field names")
    return ",".join(keys)


def _check_objects(objs: Sequence[Any]) -> None:
    for obj in objs:
        if not isinstance(obj, Object):
            raise TypeError(f"expected leancloud.Object instances, not {obj!r}")


def _is_savable_file(value: Any) -> bool:
    """Values saved before their parent, such as ``leancloud.File`` (the protocol:
    a ``_lc_save_before_parent()`` method that saves the value if it is not saved)."""
    return callable(getattr(value, "_lc_save_before_parent", None)) and not isinstance(value, type)


def _direct_refs(value: Any) -> Iterator[Any]:
    """Objects and savable files in ``value``, looking through lists and dicts only."""
    if isinstance(value, Object) or _is_savable_file(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _direct_refs(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _direct_refs(item)


def _unsaved_references(obj: Object) -> List[Object]:
    return [
        ref for ref in _direct_refs(obj._attributes) if isinstance(ref, Object) and ref.id is None
    ]


def _unsaved_children(roots: Any, exclude: Optional[Object]) -> List[Object]:
    """Dirty objects reachable from ``roots``, children before parents; savable files
    met on the way are saved. Iterative, so long chains of objects cannot overflow."""
    found: List[Object] = []
    seen = {id(exclude)} if exclude is not None else set()
    stack: List[Tuple[Any, bool]] = [(ref, False) for ref in reversed(list(_direct_refs(roots)))]
    while stack:
        ref, children_done = stack.pop()
        if children_done:
            if ref.is_dirty():
                found.append(ref)
            continue
        if id(ref) in seen:
            continue
        seen.add(id(ref))
        if not isinstance(ref, Object):
            ref._lc_save_before_parent()
            continue
        stack.append((ref, True))
        stack.extend((child, False) for child in reversed(list(_direct_refs(ref._attributes))))
    return found


def _save_children(parent: Object) -> None:
    _save_in_order(_unsaved_children(parent._attributes, exclude=parent))


def _save_in_order(objs: List[Object]) -> None:
    """Batch-save objects, each after the unsaved objects it points to."""
    pending = objs
    while pending:
        ready = [o for o in pending if not _unsaved_references(o)]
        if not ready:
            names = ", ".join(sorted({o._class_name for o in pending}))
            raise ValueError(
                f"unsaved objects ({names}) point at each other in a cycle; save one of them "
                "first without the reference, then set it and save again"
            )
        requests = [o._batch_save_request() for o in ready]
        results = _send_batch(requests)
        failures = []
        for obj, result in zip(ready, results):
            if "error" in result:
                failures.append((obj, _item_error(result["error"])))
            else:
                obj._update_data(result.get("success") or {})
        _raise_errors(failures)
        done = {id(o) for o in ready}
        pending = [o for o in pending if id(o) not in done]


def _send_batch(requests: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """POST /batch in chunks of ``BATCH_SIZE``; one result per request, in order.

    A chunk that fails as a whole (timeout, 5xx, a malformed answer) gives each of its
    items that error, and the other chunks still go: the callers must learn the
    results of the chunks that did succeed, or a retry would create those objects twice.
    """
    results: List[Dict[str, Any]] = []
    for start in range(0, len(requests), BATCH_SIZE):
        chunk = requests[start : start + BATCH_SIZE]
        try:
            results.extend(_send_chunk(chunk))
        except LeanCloudError as exc:
            results.extend({"error": {"code": exc.code, "error": exc.error}} for _ in chunk)
    return results


def _send_chunk(chunk: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    content = client.post("/batch", {"requests": chunk}).json()
    if not isinstance(content, list) or len(content) != len(chunk):
        raise LeanCloudError(BAD_RESPONSE, "the /batch response does not match its requests")
    return [item if isinstance(item, dict) else {} for item in content]


def _item_error(error: Any) -> LeanCloudError:
    if not isinstance(error, dict):
        return LeanCloudError(1, str(error))
    return LeanCloudError(error.get("code") or 1, str(error.get("error", "")))


def _raise_failures(pairs: List[Tuple[Object, Dict[str, Any]]]) -> None:
    _raise_errors(
        [(obj, _item_error(result["error"])) for obj, result in pairs if "error" in result]
    )


def _raise_errors(failures: List[Tuple[Object, LeanCloudError]]) -> None:
    """Raise the first failure, carrying all of them in ``errors``."""
    if not failures:
        return
    first = failures[0][1]
    error = LeanCloudError(first.code, first.error)
    error.errors = failures  # type: ignore[attr-defined]
    raise error


# -- decoding ----------------------------------------------------------------------


def _fields(value: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in value.items() if k not in ("__type", "className")}


def _class_of(value: Dict[str, Any]) -> Type[Object]:
    class_name = value.get("className")
    if not isinstance(class_name, str) or not class_name:
        raise ValueError(f"malformed {value.get('__type')}: no className")
    return Object.as_class(class_name)


@codec.register_decoder("Pointer")
def _decode_pointer(value: Dict[str, Any]) -> Object:
    """A reference, or a fully fetched object when the server included its fields."""
    obj = _class_of(value)()
    fields = _fields(value)
    if set(fields) - {"objectId"}:
        obj._update_data(fields)
    else:
        obj.id = fields.get("objectId")
    return obj


@codec.register_decoder("Object")
def _decode_object(value: Dict[str, Any]) -> Object:
    obj = _class_of(value)()
    obj._update_data(_fields(value))
    return obj
