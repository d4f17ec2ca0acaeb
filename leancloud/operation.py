"""Field operations (``{"__op": ...}``) and how successive ones on one field merge.

An ``Object`` keeps at most one pending operation per field. When the app changes a
field twice before saving, the new operation is merged with the pending one
(``_merge``) so that a single wire value still says exactly what the app meant; the
object's local value is estimated with ``_apply``. Merges follow the official SDK
(rest-api.md §3.3), with three deliberate improvements:

* Bit operations merge exactly whenever the result is still one bit operation.
  Every bit operation is the per-bit map ``x -> (x & A) ^ B``
  (``BitAnd(c)``: A=c, B=0; ``BitOr(c)``: A=~c, B=c; ``BitXor(c)``: A=-1, B=c), and
  these maps compose: ``(A1, B1)`` then ``(A2, B2)`` is ``(A1 & A2, (B1 & A2) ^ B2)``.
  The composition is sent as ``BitAnd(A)`` when B == 0, ``BitXor(B)`` when A == -1 and
  ``BitOr(B)`` when A == ~B. So ``BitAnd`` after ``BitAnd`` is ``BitAnd(a & b)``,
  ``BitOr`` after ``BitOr`` is ``BitOr(a | b)``, ``BitXor`` after ``BitXor`` is
  ``BitXor(a ^ b)``, and some mixes merge too. Any other mix (for example
  ``(x & a) | b`` in general) has no single-operation form: it raises ``ValueError``
  asking the app to save in between. The official SDK raises on every pair.
* ``AddUnique`` and ``Remove`` keep the order of their values and accept unhashable
  ones (dicts, lists); the official SDK passes them through ``set()``.
* A pair that cannot merge raises ``MergeError`` naming both operations, instead of
  a bare ``TypeError('invalid op')``; it is both a ``ValueError`` and a ``TypeError``,
  so code written against the official SDK still catches it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from leancloud import codec

__all__ = [
    "Add",
    "AddUnique",
    "BaseOp",
    "BitAnd",
    "BitOr",
    "BitXor",
    "Delete",
    "Increment",
    "MergeError",
    "Relation",
    "Remove",
    "Set",
    "Unset",
]


class MergeError(ValueError, TypeError):
    """Two pending operations on one field that no single operation can express.

    A ``TypeError`` too: the official SDK raised ``TypeError('invalid op')`` here."""


class _Missing:
    """The estimated value of a field that an operation removes."""

    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Missing()


def _is_leancloud_object(value: Any) -> bool:
    from leancloud.object_ import Object  # late: object_ imports this module

    return isinstance(value, Object)


def _same_value(a: Any, b: Any) -> bool:
    """Equality as the server sees it: saved Objects are equal when their pointers are."""
    if _is_leancloud_object(a) and _is_leancloud_object(b) and a.id is not None:
        return a._class_name == b._class_name and a.id == b.id
    return a is b or a == b


def _contains(values: Iterable[Any], item: Any) -> bool:
    return any(_same_value(v, item) for v in values)


def _unique(values: Iterable[Any]) -> List[Any]:
    result: List[Any] = []
    for value in values:
        if not _contains(result, value):
            result.append(value)
    return result


def _as_list(old: Any, op_name: str) -> List[Any]:
    if old is None or old is _UNSET:
        return []
    if not isinstance(old, (list, tuple)):
        raise TypeError(f"{op_name} needs an array field, the field holds {old!r}")
    return list(old)


def _values_arg(objects: Any, op_name: str) -> List[Any]:
    if not isinstance(objects, (list, tuple)):
        raise TypeError(f"{op_name} takes a list or tuple of values, not {objects!r}")
    return list(objects)


class BaseOp:
    """One pending change of a field."""

    def dump(self) -> Any:
        """The wire form of the change."""
        raise NotImplementedError

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        """The single operation equal to ``previous`` followed by this one."""
        raise NotImplementedError

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        """The field's estimated value after this change (``_UNSET``: removed)."""
        raise NotImplementedError

    def _cannot_merge(self, previous: BaseOp) -> MergeError:
        return MergeError(
            f"cannot combine a pending {type(previous).__name__} with {type(self).__name__} "
            "on the same field; save() the object in between"
        )

    def _merge_common(self, previous: Optional[BaseOp]) -> Optional[BaseOp]:
        """The merge every value-producing op shares: onto nothing, a Set or a Delete."""
        if previous is None:
            return self
        if isinstance(previous, Set):
            return Set(self._apply(previous.value))
        if isinstance(previous, Unset):
            return Set(self._apply(_UNSET))
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.dump()!r}>"


class Set(BaseOp):
    """Replace the field's value; sent as the plain value."""

    def __init__(self, value: Any) -> None:
        self._value = value

    @property
    def value(self) -> Any:
        return self._value

    def dump(self) -> Any:
        return codec.encode(self._value)

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        return self

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        return self._value


class Unset(BaseOp):
    """Remove the field (``Delete`` on the wire)."""

    def dump(self) -> Dict[str, str]:
        return {"__op": "Delete"}

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        return self

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        return _UNSET


Delete = Unset


class Increment(BaseOp):
    """Add ``amount`` atomically; a missing field counts as 0."""

    def __init__(self, amount: float = 1) -> None:
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise TypeError(f"increment amount must be a number, not {amount!r}")
        self._amount = amount

    @property
    def amount(self) -> float:
        return self._amount

    def dump(self) -> Dict[str, Any]:
        return {"__op": "Increment", "amount": self._amount}

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        merged = self._merge_common(previous)
        if merged is not None:
            return merged
        if isinstance(previous, Increment):
            return Increment(previous.amount + self._amount)
        raise self._cannot_merge(previous)

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        if old is None or old is _UNSET:
            return self._amount
        if isinstance(old, bool) or not isinstance(old, (int, float)):
            raise TypeError(f"Increment needs a number field, the field holds {old!r}")
        return old + self._amount


class _ArrayOp(BaseOp):
    """Shared state of the array operations: the list of values they carry."""

    op_name = ""

    def __init__(self, objects: Any) -> None:
        self._objects = _values_arg(objects, self.op_name)

    @property
    def objects(self) -> List[Any]:
        return list(self._objects)

    def dump(self) -> Dict[str, Any]:
        return {"__op": self.op_name, "objects": codec.encode(self._objects)}

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        merged = self._merge_common(previous)
        if merged is not None:
            return merged
        if type(previous) is type(self):
            return self._merge_same(previous)
        raise self._cannot_merge(previous)

    def _merge_same(self, previous: Any) -> BaseOp:
        raise NotImplementedError


class Add(_ArrayOp):
    """Append values, duplicates kept."""

    op_name = "Add"

    def _merge_same(self, previous: Add) -> BaseOp:
        return Add(previous.objects + self._objects)

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        return _as_list(old, self.op_name) + self._objects


class AddUnique(_ArrayOp):
    """Append the values the array does not hold yet."""

    op_name = "AddUnique"

    def __init__(self, objects: Any) -> None:
        super().__init__(_unique(_values_arg(objects, self.op_name)))

    def _merge_same(self, previous: AddUnique) -> BaseOp:
        return AddUnique(previous.objects + self._objects)

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        result = _as_list(old, self.op_name)
        for item in self._objects:
            if not _contains(result, item):
                result.append(item)
        return result


class Remove(_ArrayOp):
    """Remove every occurrence of the values."""

    op_name = "Remove"

    def __init__(self, objects: Any) -> None:
        super().__init__(_unique(_values_arg(objects, self.op_name)))

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        if isinstance(previous, Unset):
            return previous  # removing from a deleted field leaves it deleted
        return super()._merge(previous)

    def _merge_same(self, previous: Remove) -> BaseOp:
        return Remove(previous.objects + self._objects)

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        if old is _UNSET:
            return _UNSET  # removing from a missing field leaves it missing
        return [v for v in _as_list(old, self.op_name) if not _contains(self._objects, v)]


class _BitOp(BaseOp):
    """A bit operation, seen as the per-bit affine map ``x -> (x & A) ^ B``."""

    op_name = ""

    def __init__(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.op_name} takes an int, not {value!r}")
        self._value = value

    @property
    def value(self) -> int:
        return self._value

    def dump(self) -> Dict[str, Any]:
        return {"__op": self.op_name, "value": self._value}

    def _affine(self) -> Tuple[int, int]:
        raise NotImplementedError

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        if old is None or old is _UNSET:
            old = 0  # the server treats a missing field as 0
        if isinstance(old, bool) or not isinstance(old, int):
            raise TypeError(f"{self.op_name} needs an integer field, the field holds {old!r}")
        mask, flip = self._affine()
        return (old & mask) ^ flip

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        merged = self._merge_common(previous)
        if merged is not None:
            return merged
        if not isinstance(previous, _BitOp):
            raise self._cannot_merge(previous)
        mask1, flip1 = previous._affine()
        mask2, flip2 = self._affine()
        combined = _bit_op_for(mask1 & mask2, (flip1 & mask2) ^ flip2, prefer=type(self))
        if combined is None:
            raise MergeError(
                f"{previous.op_name}({previous.value}) followed by {self.op_name}({self.value}) "
                "is not expressible as one bit operation; save() the object in between"
            )
        return combined


class BitAnd(_BitOp):
    op_name = "BitAnd"

    def _affine(self) -> Tuple[int, int]:
        return self._value, 0


class BitOr(_BitOp):
    op_name = "BitOr"

    def _affine(self) -> Tuple[int, int]:
        return ~self._value, self._value


class BitXor(_BitOp):
    op_name = "BitXor"

    def _affine(self) -> Tuple[int, int]:
        return -1, self._value


def _bit_op_for(mask: int, flip: int, prefer: type) -> Optional[_BitOp]:
    """The single bit operation equal to ``x -> (x & mask) ^ flip``, if there is one."""
    candidates = {
        BitAnd: BitAnd(mask) if flip == 0 else None,
        BitOr: BitOr(flip) if mask == ~flip else None,
        BitXor: BitXor(flip) if mask == -1 else None,
    }
    preferred = candidates.pop(prefer)
    if preferred is not None:
        return preferred
    return next((op for op in candidates.values() if op is not None), None)


def _pointer_key(obj: Any) -> Tuple[str, str]:
    if not _is_leancloud_object(obj):
        raise TypeError(f"a relation holds leancloud.Object instances, not {obj!r}")
    if obj.id is None:
        raise TypeError("cannot add an unsaved Object to a relation; save it first")
    return obj._class_name, obj.id


class Relation(BaseOp):
    """Pending additions to and removals from a relation field.

    Ids are kept in insertion order so the request body is deterministic.
    """

    def __init__(self, adds: Iterable[Any] = (), removes: Iterable[Any] = ()) -> None:
        self._target_class_name: Optional[str] = None
        self._adds: Dict[str, None] = dict.fromkeys(self._ids(adds))
        self._removes: Dict[str, None] = dict.fromkeys(self._ids(removes))

    def _ids(self, objects: Iterable[Any]) -> List[str]:
        ids = []
        for obj in objects:
            class_name, object_id = _pointer_key(obj)
            self._check_target(class_name)
            ids.append(object_id)
        return ids

    def _check_target(self, class_name: Optional[str]) -> None:
        if class_name is None:
            return
        if self._target_class_name is None:
            self._target_class_name = class_name
        elif self._target_class_name != class_name:
            expected = self._target_class_name
            raise TypeError(f"a relation holds objects of one class: {expected}, not {class_name}")

    @property
    def target_class_name(self) -> Optional[str]:
        return self._target_class_name

    @property
    def added(self) -> List[Any]:
        return self._objects(self._adds)

    @property
    def removed(self) -> List[Any]:
        return self._objects(self._removes)

    def _objects(self, ids: Dict[str, None]) -> List[Any]:
        if not ids:
            return []
        from leancloud.object_ import Object

        cls = Object.as_class(self._target_class_name)
        return [cls.create_without_data(object_id) for object_id in ids]

    def _pointers(self, ids: Dict[str, None]) -> List[Dict[str, Any]]:
        return [
            {"__type": "Pointer", "className": self._target_class_name, "objectId": object_id}
            for object_id in ids
        ]

    def dump(self) -> Dict[str, Any]:
        ops = []
        if self._adds:
            ops.append({"__op": "AddRelation", "objects": self._pointers(self._adds)})
        if self._removes:
            ops.append({"__op": "RemoveRelation", "objects": self._pointers(self._removes)})
        if len(ops) == 2:
            return {"__op": "Batch", "ops": ops}
        return ops[0] if ops else {}

    def _merge(self, previous: Optional[BaseOp]) -> BaseOp:
        if previous is None:
            return self
        if isinstance(previous, Unset):
            raise MergeError("cannot change a relation after deleting it; save() in between")
        if not isinstance(previous, Relation):
            raise self._cannot_merge(previous)
        merged = Relation()
        merged._check_target(previous.target_class_name)
        merged._check_target(self._target_class_name)
        merged._adds = {k: None for k in previous._adds if k not in self._removes}
        merged._adds.update(self._adds)
        merged._removes = {k: None for k in previous._removes if k not in self._adds}
        merged._removes.update(self._removes)
        return merged

    def _apply(self, old: Any, obj: Any = None, key: Optional[str] = None) -> Any:
        from leancloud.relation import Relation as RelationField

        if old is None or old is _UNSET:
            old = RelationField(obj, key)
        if not isinstance(old, RelationField):
            raise TypeError(f"field {key!r} holds {old!r}, not a relation")
        if self._target_class_name is not None:
            if old.target_class_name not in (None, self._target_class_name):
                held, given = old.target_class_name, self._target_class_name
                raise TypeError(f"relation {key!r} holds {held} objects, not {given}")
            old.target_class_name = self._target_class_name
        return old
