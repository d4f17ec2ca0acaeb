"""Relation fields: a many-to-many link from one object to objects of one class.

A relation is never sent as a value: ``add``/``remove`` record a pending relation
operation on the parent object (sent by its next ``save()``), and ``query`` reads the
related objects with ``$relatedTo``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from leancloud import codec, operation

if TYPE_CHECKING:
    from leancloud.object_ import Object
    from leancloud.query import Query

__all__ = ["Relation"]


def _new_query(query_class: Any) -> Query:
    from leancloud.query import Query  # late: query imports object_, which imports this

    return Query(query_class)


def _flatten(objs: Sequence[Any]) -> List[Any]:
    """``add(a, b)`` and ``add([a, b])`` mean the same, as the official SDK documents."""
    if len(objs) == 1 and isinstance(objs[0], (list, tuple)):
        return list(objs[0])
    return list(objs)


class Relation:
    """The relation stored in ``parent``'s field ``key``."""

    def __init__(self, parent: Optional[Object] = None, key: Optional[str] = None) -> None:
        self.parent = parent
        self.key = key
        self.target_class_name: Optional[str] = None

    @classmethod
    def reverse_query(cls, parent_class: Any, relation_key: str, child: Object) -> Query:
        """Objects of ``parent_class`` whose relation ``relation_key`` contains ``child``."""
        if getattr(child, "id", None) is None:
            raise ValueError("reverse_query needs a saved child object")
        return _new_query(parent_class).equal_to(relation_key, child._to_pointer())

    def _ensure_parent_and_key(self, parent: Object, key: str) -> None:
        if self.parent is None:
            self.parent = parent
        if self.key is None:
            self.key = key
        if self.parent is not parent or self.key != key:
            raise TypeError("this relation belongs to another object or field")

    def _change(self, op: operation.Relation) -> None:
        if self.parent is None or self.key is None:
            raise ValueError("this relation is not attached to an object; use obj.relation(key)")
        self.parent.set(self.key, op)
        stored = self.parent.attributes.get(self.key)
        if isinstance(stored, Relation) and stored is not self:
            # The first change stored a new relation: keep the instance the app holds.
            self.target_class_name = self.target_class_name or stored.target_class_name
            self.parent.attributes[self.key] = self
        if op.target_class_name is not None:
            self.target_class_name = op.target_class_name

    def add(self, *obj_or_objs: Any) -> None:
        """Add saved objects (one class) to the relation when the parent is saved."""
        self._change(operation.Relation(adds=_flatten(obj_or_objs)))

    def remove(self, *obj_or_objs: Any) -> None:
        """Remove objects from the relation when the parent is saved."""
        self._change(operation.Relation(removes=_flatten(obj_or_objs)))

    def dump(self) -> Dict[str, Any]:
        return {"__type": "Relation", "className": self.target_class_name}

    def _lc_encode(self, dump_objects: bool = False) -> Dict[str, Any]:
        return self.dump()

    @property
    def query(self) -> Query:
        """A query over the related objects.

        When the target class is not known yet, the parent's class is queried and the
        server is asked to answer with the target class (``redirectClassNameForKey``).
        """
        if self.parent is None or self.key is None:
            raise ValueError("this relation is not attached to an object")
        if self.parent.id is None:
            raise ValueError("the parent object must be saved before its relation is queried")
        if self.target_class_name is None:
            query = _new_query(type(self.parent))
            query._extra["redirectClassNameForKey"] = self.key
        else:
            query = _new_query(self.target_class_name)
        query._where["$relatedTo"] = {"object": self.parent._to_pointer(), "key": self.key}
        return query

    def __repr__(self) -> str:
        return f"<Relation {self.key!r} -> {self.target_class_name}>"


@codec.register_decoder("Relation")
def _decode_relation(value: Dict[str, Any]) -> Relation:
    # The owning object attaches itself and the key (Object._update_data).
    relation = Relation()
    relation.target_class_name = value.get("className")
    return relation
