"""``Model`` and ``Expando``: entity classes whose attributes are typed properties.

``MetaModel`` collects a class's Property attributes into ``_properties`` (keyed by
stored name) and registers the class under its kind (``_get_kind()``, the class name
unless overridden) for ``_lookup_model``. Storage goes through ``leancloud.ndb.batch``;
``Model.query`` / ``gql`` / ``get_or_insert`` use ``query`` and ``transaction``.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

# ``google.appengine.ext.ndb.model`` holds the whole model API; code that imports that
# module (``from google.appengine.ext.ndb import model``) finds the same names here.
from leancloud.ndb.batch import (
    delete_multi,
    delete_multi_async,
    get_multi,
    get_multi_async,
    put_multi,
    put_multi_async,
)
from leancloud.ndb.errors import (
    BadArgumentError,
    BadProjectionError,
    BadValueError,
    ComputedPropertyError,
    InvalidPropertyError,
    KindError,
    ReadonlyPropertyError,
    UnprojectedPropertyError,
)
from leancloud.ndb.key import Key
from leancloud.ndb.mapping import check_property_name, looks_like_columns
from leancloud.ndb.properties import (
    BlobKey,
    BlobKeyProperty,
    BlobProperty,
    BooleanProperty,
    ComputedProperty,
    DateProperty,
    DateTimeProperty,
    FloatProperty,
    GenericProperty,
    GeoPt,
    GeoPtProperty,
    IntegerProperty,
    JsonProperty,
    KeyProperty,
    LocalStructuredProperty,
    ModelAttribute,
    ModelKey,
    PickleProperty,
    Property,
    StringProperty,
    StructuredProperty,
    TextProperty,
    TimeProperty,
    User,
    UserProperty,
    _BaseValue,
    _projected,
)
from leancloud.ndb.query import Index, IndexProperty, IndexState, get_indexes, get_indexes_async
from leancloud.ndb.tasklets import Future
from leancloud.ndb.transaction import (
    Rollback,
    in_transaction,
    non_transactional,
    transaction,
    transaction_async,
    transactional,
    transactional_async,
    transactional_tasklet,
)

__all__ = [
    "MetaModel",
    "Model",
    "Expando",
    # re-exported, as NDB's model module has them
    "BadProjectionError",
    "BlobKey",
    "BlobKeyProperty",
    "BlobProperty",
    "BooleanProperty",
    "ComputedProperty",
    "ComputedPropertyError",
    "DateProperty",
    "DateTimeProperty",
    "FloatProperty",
    "GenericProperty",
    "GeoPt",
    "GeoPtProperty",
    "Index",
    "IndexProperty",
    "IndexState",
    "IntegerProperty",
    "InvalidPropertyError",
    "JsonProperty",
    "Key",
    "KeyProperty",
    "KindError",
    "LocalStructuredProperty",
    "ModelAttribute",
    "ModelKey",
    "PickleProperty",
    "Property",
    "ReadonlyPropertyError",
    "Rollback",
    "StringProperty",
    "StructuredProperty",
    "TextProperty",
    "TimeProperty",
    "UnprojectedPropertyError",
    "User",
    "UserProperty",
    "_BaseValue",
    "delete_multi",
    "delete_multi_async",
    "get_indexes",
    "get_indexes_async",
    "get_multi",
    "get_multi_async",
    "in_transaction",
    "non_transactional",
    "put_multi",
    "put_multi_async",
    "transaction",
    "transaction_async",
    "transactional",
    "transactional_async",
    "transactional_tasklet",
]


class MetaModel(type):
    """Fixes up the properties of each model class and registers its kind."""

    def __init__(cls, name: str, bases: Tuple[type, ...], classdict: Dict[str, Any]) -> None:
        super().__init__(name, bases, classdict)
        cls._fix_up_properties()
        cls._update_kind_map()

    def __repr__(cls) -> str:
        props = ", ".join(
            f"{prop._code_name}={prop!r}"
            for prop in sorted(cls._properties.values(), key=lambda p: p._code_name)
        )
        return f"{cls.__name__}<{props}>"


class Model(metaclass=MetaModel):
    """An entity class; see NDB's documentation, which this follows."""

    _properties: Dict[str, Property] = {}
    _has_repeated = False
    _kind_map: Dict[str, type] = {}

    key = ModelKey()

    # -- class set-up ---------------------------------------------------------------

    @classmethod
    def _fix_up_properties(cls) -> None:
        cls._properties = {}
        cls._has_repeated = False
        for name in sorted(set(dir(cls))):
            attr = getattr(cls, name, None)
            if not isinstance(attr, ModelAttribute) or isinstance(attr, ModelKey):
                continue
            if name.startswith("_"):
                raise TypeError(f"ModelAttribute {name} cannot begin with an underscore character")
            attr._fix_up(cls, name)
            if isinstance(attr, Property):
                cls._add_property(attr)

    @classmethod
    def _add_property(cls, prop: Property) -> None:
        check_property_name(prop._name)
        if prop._name in cls._properties:
            raise BadArgumentError(f"two properties of {cls.__name__} are stored as {prop._name!r}")
        if prop._repeated or (
            isinstance(prop, StructuredProperty) and prop._modelclass._has_repeated
        ):
            cls._has_repeated = True
        cls._properties[prop._name] = prop

    @classmethod
    def _update_kind_map(cls) -> None:
        cls._kind_map[cls._get_kind()] = cls

    @classmethod
    def _get_kind(cls) -> str:
        """The kind: the class name unless a subclass overrides this."""
        return cls.__name__

    @classmethod
    def _class_name(cls) -> str:
        return cls.__name__

    @classmethod
    def _lookup_model(cls, kind: str, default_model: Optional[type] = None) -> type:
        model = cls._kind_map.get(kind, default_model)
        if model is None:
            raise KindError(f"No model class found for kind {kind!r}. Did you forget to import it?")
        return model

    # -- construction ---------------------------------------------------------------

    def __init__(self, *args: Any, **kwds: Any) -> None:
        if args:
            raise TypeError(f"{type(self).__name__}() takes keyword arguments only")
        key = kwds.pop("key", None)
        id_ = kwds.pop("id", None)
        parent = kwds.pop("parent", None)
        app = kwds.pop("app", None)
        namespace = kwds.pop("namespace", None)
        projection = kwds.pop("projection", None)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_entity_key", None)
        object.__setattr__(self, "_projection", tuple(projection or ()))
        if key is not None:
            if any(v is not None for v in (id_, parent, app, namespace)):
                raise BadArgumentError(
                    "Model constructor given key= does not accept id, parent, app or namespace"
                )
            self._set_key(key)
        elif id_ is not None or parent is not None or app is not None or namespace is not None:
            self._set_key(Key(self._get_kind(), id_, parent=parent, app=app, namespace=namespace))
        self._set_attributes(kwds)

    def _set_key(self, key: Optional[Key]) -> None:
        if key is not None:
            if not isinstance(key, Key):
                raise BadValueError(f"Expected Key instance, got {key!r}")
            if key.kind() != self._get_kind():
                raise KindError(
                    f"Expected Key kind to be {self._get_kind()}; received {key.kind()}"
                )
        object.__setattr__(self, "_entity_key", key)

    def _set_attributes(self, kwds: Dict[str, Any]) -> None:
        cls = type(self)
        for name, value in kwds.items():
            prop = getattr(cls, name, None)
            if not isinstance(prop, Property):
                raise TypeError(f"Cannot set non-property {name}")
            prop._set_value(self, value)

    def populate(self, **kwds: Any) -> None:
        """Set several properties at once (not key, id or parent)."""
        self._set_attributes(kwds)

    def _fake_property(self, name: str, wire: Any) -> Optional[Property]:
        """A stored field with no property: ignored by Model, a dynamic one for Expando."""
        return None

    # -- inspection -----------------------------------------------------------------

    def has_complete_key(self) -> bool:
        return self._entity_key is not None and self._entity_key.id() is not None

    def _is_initialized_all(self) -> bool:
        return all(prop._is_initialized(self) for prop in self._properties.values())

    def _check_initialized(self) -> None:
        missing = [
            name for name, prop in self._properties.items() if not prop._is_initialized(self)
        ]
        if missing:
            raise BadValueError(f"Entity has uninitialized properties: {', '.join(missing)}")

    def _project_structures(self) -> None:
        """Give each sub-entity of a projected entity its part of the projection, so that
        reading an unprojected subproperty raises there too, as in NDB."""
        for prop in self._properties.values():
            if isinstance(prop, StructuredProperty) and prop._has_value(self):
                prefix = prop._name + "."
                inner = tuple(p[len(prefix) :] for p in self._projection if p.startswith(prefix))
                for item in prop._sub_entities(self):
                    object.__setattr__(item, "_projection", inner)
                    item._project_structures()

    def _prepare_for_put(self) -> None:
        for prop in self._properties.values():
            prop._prepare_for_put(self)

    def _to_dict(
        self, include: Optional[Iterable[str]] = None, exclude: Optional[Iterable[str]] = None
    ) -> Dict[str, Any]:
        include = set(include) if include is not None else None
        exclude = set(exclude or ())
        result: Dict[str, Any] = {}
        for prop in self._properties.values():
            name = prop._code_name
            if (include is not None and name not in include) or name in exclude:
                continue
            if (
                self._projection
                and prop._name not in self._projection
                and not any(p.startswith(prop._name + ".") for p in self._projection)
            ):
                continue
            result[name] = prop._get_for_dict(self)
        return result

    to_dict = _to_dict

    def _equivalent(self, other: "Model") -> bool:
        if set(self._projection) != set(other._projection):
            return False
        if set(self._properties) != set(other._properties):
            return False
        names = {p.split(".", 1)[0] for p in self._projection} or set(self._properties)
        return all(
            self._properties[name]._get_value(self) == other._properties[name]._get_value(other)
            for name in names
        )

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._entity_key == other._entity_key and self._equivalent(other)

    def __ne__(self, other: Any) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        raise TypeError("Model is not immutable")

    def __repr__(self) -> str:
        args: List[str] = []
        for prop in sorted(self._properties.values(), key=lambda p: p._code_name):
            if prop._has_value(self):
                value = prop._retrieve_value(self)
                if not self._projection or _projected(prop._name, self._projection):
                    value = prop._get_value(self)
                args.append(f"{prop._code_name}={value!r}")
        if self._entity_key is not None:
            args.insert(0, f"key={self._entity_key!r}")
        if self._projection:
            args.append(f"_projection={self._projection!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    # -- storage --------------------------------------------------------------------

    def put(self, **ctx_options: Any) -> Key:
        """Write the entity; an incomplete key is completed. Returns the key."""
        return self.put_async(**ctx_options).get_result()

    def put_async(self, **ctx_options: Any) -> Future:
        from leancloud.ndb import batch

        return batch.put_multi_async([self], **ctx_options)[0]

    @classmethod
    def get_by_id(
        cls,
        id: Any,
        parent: Optional[Key] = None,
        app: Optional[str] = None,
        namespace: Optional[str] = None,
        **ctx_options: Any,
    ) -> Optional["Model"]:
        """``Key(cls, id, parent=...).get()``."""
        return cls.get_by_id_async(id, parent, app, namespace, **ctx_options).get_result()

    @classmethod
    def get_by_id_async(
        cls,
        id: Any,
        parent: Optional[Key] = None,
        app: Optional[str] = None,
        namespace: Optional[str] = None,
        **ctx_options: Any,
    ) -> Future:
        key = Key(cls._get_kind(), id, parent=parent, app=app, namespace=namespace)
        return key.get_async(**ctx_options)

    @classmethod
    def _get_arg(cls, kwds: Dict[str, Any], name: str) -> Any:
        """A keyword meant for the method: ``_name``, or ``name`` unless it is a property."""
        if "_" + name in kwds:
            return kwds.pop("_" + name)
        if name in kwds and not isinstance(getattr(cls, name, None), Property):
            return kwds.pop(name)
        return None

    @classmethod
    def get_or_insert(cls, *args: Any, **kwds: Any) -> "Model":
        """``get_or_insert(name, parent=, app=, namespace=, context_options=, **values)``:
        the entity with key name ``name``, created from ``values`` in a transaction if
        missing. (``_parent=`` etc. when the model has a property of that name.)"""
        return cls.get_or_insert_async(*args, **kwds).get_result()

    @classmethod
    def get_or_insert_async(cls, *args: Any, **kwds: Any) -> Future:
        from leancloud.ndb.tasklets import run_in_thread

        if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
            raise TypeError(f"get_or_insert takes one key name (a non-empty string), not {args!r}")
        parent, app, namespace = (cls._get_arg(kwds, n) for n in ("parent", "app", "namespace"))
        cls._get_arg(kwds, "context_options")
        key = Key(cls._get_kind(), args[0], parent=parent, app=app, namespace=namespace)

        def txn() -> "Model":
            entity = key.get()
            if entity is None:
                entity = cls(key=key, **kwds)
                entity.put()
            return entity

        if in_transaction():  # as NDB: join the running transaction
            return run_in_thread(txn)
        return run_in_thread(transaction, txn)

    @classmethod
    def allocate_ids(
        cls,
        size: Optional[int] = None,
        max: Optional[int] = None,
        parent: Optional[Key] = None,
        **ctx_options: Any,
    ) -> Tuple[int, int]:
        """Reserve ids for this kind: ``(start, end)``, inclusive (see ``batch``)."""
        return cls.allocate_ids_async(size, max, parent, **ctx_options).get_result()

    @classmethod
    def allocate_ids_async(
        cls,
        size: Optional[int] = None,
        max: Optional[int] = None,
        parent: Optional[Key] = None,
        **ctx_options: Any,
    ) -> Future:
        from leancloud.ndb import batch

        return batch.allocate_ids_async(cls, size, max, parent, **ctx_options)

    # -- queries --------------------------------------------------------------------

    @classmethod
    def query(cls, *filters: Any, **kwds: Any) -> Any:
        """``Query(kind=...)``, filtered by the positional filters (ANDed)."""
        from leancloud.ndb.query import Query

        if "distinct" in kwds:
            if "group_by" in kwds:
                raise TypeError("cannot use distinct= and group_by= at the same time")
            if not kwds.get("projection"):
                raise TypeError("cannot use distinct= without projection=")
            if kwds.pop("distinct"):
                kwds["group_by"] = kwds["projection"]
        qry = Query(kind=cls._get_kind(), **kwds)
        return qry.filter(*filters) if filters else qry

    @classmethod
    def gql(cls, query_string: str, *args: Any, **kwds: Any) -> Any:
        """``SELECT * FROM <kind> <query_string>`` in GQL."""
        from leancloud.ndb.query import gql

        return gql(f"SELECT * FROM {cls._class_name()} {query_string}", *args, **kwds)

    # -- hooks (no-ops unless overridden) -------------------------------------------------

    def _pre_put_hook(self) -> None:
        pass

    def _post_put_hook(self, future: Future) -> None:
        pass

    @classmethod
    def _pre_get_hook(cls, key: Key) -> None:
        pass

    @classmethod
    def _post_get_hook(cls, key: Key, future: Future) -> None:
        pass

    @classmethod
    def _pre_delete_hook(cls, key: Key) -> None:
        pass

    @classmethod
    def _post_delete_hook(cls, key: Key, future: Future) -> None:
        pass

    @classmethod
    def _pre_allocate_ids_hook(
        cls, size: Optional[int], max: Optional[int], parent: Optional[Key]
    ) -> None:
        pass

    @classmethod
    def _post_allocate_ids_hook(
        cls, size: Optional[int], max: Optional[int], parent: Optional[Key], future: Future
    ) -> None:
        pass

    # NDB's underscore names, for models with properties called e.g. "put" or "query".
    _key = key
    _put, _put_async, _populate = put, put_async, populate
    _has_complete_key = has_complete_key
    _query, _gql = query, gql
    _get_by_id, _get_by_id_async = get_by_id, get_by_id_async
    _get_or_insert, _get_or_insert_async = get_or_insert, get_or_insert_async
    _allocate_ids, _allocate_ids_async = allocate_ids, allocate_ids_async


class Expando(Model):
    """A model whose instances also take properties that the class does not declare."""

    _default_indexed = True
    _write_empty_list_for_dynamic_properties: Optional[bool] = None

    def _clone_properties(self) -> None:
        if "_properties" not in self.__dict__:
            object.__setattr__(self, "_properties", dict(type(self)._properties))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        prop = self._properties.get(name)
        if prop is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return prop._get_value(self)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or isinstance(
            getattr(type(self), name, None), (Property, property)
        ):
            object.__setattr__(self, name, value)
            return
        self._clone_properties()
        prop = self._properties.get(name)
        if prop is None:
            prop = self._dynamic_property(name, value)
        prop._set_value(self, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_") or isinstance(
            getattr(type(self), name, None), (Property, property)
        ):
            object.__delattr__(self, name)
            return
        prop = self._properties.get(name)
        if prop is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self._clone_properties()
        prop._delete_value(self)
        del self._properties[name]

    def _set_attributes(self, kwds: Dict[str, Any]) -> None:
        for name, value in kwds.items():
            setattr(self, name, value)

    def _dynamic_property(self, name: str, value: Any) -> Property:
        check_property_name(name)
        repeated = isinstance(value, (list, tuple))
        sample = value[0] if repeated and value else value
        prop: Property
        if isinstance(sample, Model):
            prop = StructuredProperty(type(sample), name, repeated=repeated)
        else:
            prop = GenericProperty(
                name,
                repeated=repeated,
                indexed=self._default_indexed,
                write_empty_list=self._write_empty_list_for_dynamic_properties,
            )
        prop._code_name = name
        self._properties[name] = prop
        return prop

    def _fake_property(self, name: str, wire: Any) -> Optional[Property]:
        self._clone_properties()
        sample = wire[0] if isinstance(wire, list) and wire else wire
        if isinstance(sample, dict) and "__type" not in sample:
            repeated = isinstance(wire, list) or looks_like_columns(wire)
            prop: Property = StructuredProperty(Expando, name, repeated=repeated)
        else:
            prop = GenericProperty(name, repeated=isinstance(wire, list))
        prop._code_name = name
        self._properties[name] = prop
        return prop
