"""``get_multi``, ``put_multi``, ``delete_multi`` and id allocation, with their hooks.

Each ``*_multi_async`` call checks its arguments and runs the ``_pre_*`` hooks in the
caller's thread (bad arguments fail before any request), then does its storage work
as one background job through the context's backend (``context.py``): one
``/1.1/batch`` round trip per 100 keys. It answers one Future per key or entity, and
an item the server refuses fails only its own Future; each ``_post_*`` hook gets a done
Future for its item and has run before the Future handed to the caller completes.

Ids: an incomplete key gets an integer id from ``allocate_ids`` when it is put.
``allocate_ids`` keeps one counter object per kind (and namespace) in the class
``NdbIdCounter`` (objectId = the class name the kind is stored in, field ``last`` = the
highest id handed out): ``size=n`` is one atomic ``Increment`` by n answered with
``fetchWhenSave``; ``max=n`` raises ``last`` to n with a conditional update, retried
when another writer got there first. Ids chosen by hand are not reserved: reserve them
with ``allocate_ids(max=...)`` first if you mix both.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from leancloud import client
from leancloud.errors import LeanCloudError
from leancloud.ndb import mapping
from leancloud.ndb.context import BatchError, current_backend, raise_failure, send_batch
from leancloud.ndb.errors import BadArgumentError, BadValueError
from leancloud.ndb.key import Key
from leancloud.ndb.tasklets import Future, run_async

__all__ = [
    "get_multi",
    "get_multi_async",
    "put_multi",
    "put_multi_async",
    "delete_multi",
    "delete_multi_async",
    "allocate_ids_async",
    "COUNTER_CLASS",
]

COUNTER_CLASS = "NdbIdCounter"
_CONDITION_FAILED = 305
_MAX_ID = (1 << 63) - 1


def _model_for(kind: str, required: bool = True) -> Optional[type]:
    """The model class of ``kind``: KindError if ``required``, else None when unknown."""
    from leancloud.ndb.model import Model

    return Model._lookup_model(kind) if required else Model._kind_map.get(kind)


def _check_keys(keys: Sequence[Any]) -> List[Key]:
    keys = list(keys)
    for key in keys:
        if not isinstance(key, Key):
            raise BadArgumentError(f"Expected Key, got {key!r}")
        if key.id() is None:
            raise BadArgumentError(f"Key {key!r} is incomplete")
        mapping.object_id_for_key(key)  # a kind or id that cannot be stored fails here
    return keys


class _Failed:
    """One item's error among a batch's results."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _per_item(call: Callable[[], Any], count: int) -> Tuple[List[Any], List[Any]]:
    """``(values, errors)`` of a backend call; a ``BatchError`` fails only its items."""
    try:
        values = call()
    except BatchError as exc:
        return list(exc.values), list(exc.errors)
    return (list(values) if values is not None else [None] * count), [None] * count


def _fan_out(
    count: int,
    work: Callable[[], List[Any]],
    post_hooks: Sequence[Optional[Callable[[Future], Any]]],
) -> List[Future]:
    """Run ``work`` (one result per item) in the background; one Future per item.

    Each item's post hook gets a done Future first; the caller's Future completes after
    it, with the hook's exception if it raised.
    """
    outer = [Future() for _ in range(count)]

    def finish(batch: Future) -> None:
        error = batch.get_exception()
        results = batch._result if error is None else [None] * count
        for index, future in enumerate(outer):
            inner = Future()
            result = results[index]
            if error is not None:
                inner.set_exception(error)
            elif isinstance(result, _Failed):
                inner.set_exception(result.error)
            else:
                inner.set_result(result)
            try:
                hook = post_hooks[index]
                if hook is not None:
                    hook(inner)
            except Exception as exc:  # noqa: BLE001 - the hook's failure is the item's
                future.set_exception(exc)
                continue
            future._complete(inner._result, inner._exception)

    run_async(work).add_done_callback(finish)
    return outer


# -- get --------------------------------------------------------------------------------


def get_multi_async(keys: Sequence[Key], **ctx_options: Any) -> List[Future]:
    """One Future per key: its entity, or None."""
    keys = _check_keys(keys)
    models = [_model_for(key.kind()) for key in keys]
    for key, model in zip(keys, models):
        model._pre_get_hook(key)
    backend = current_backend()

    def work() -> List[Any]:
        rows, errors = _per_item(lambda: backend.get(keys), len(keys))
        return [
            _Failed(error) if error else mapping.entity_from_wire(model, row) if row else None
            for model, row, error in zip(models, rows, errors)
        ]

    hooks = [
        (lambda future, m=model, k=key: m._post_get_hook(k, future))
        for key, model in zip(keys, models)
    ]
    return _fan_out(len(keys), work, hooks)


def get_multi(keys: Sequence[Key], **ctx_options: Any) -> List[Any]:
    """The entities for ``keys`` (None where missing)."""
    return [future.get_result() for future in get_multi_async(keys, **ctx_options)]


# -- put --------------------------------------------------------------------------------


def put_multi_async(entities: Sequence[Any], **ctx_options: Any) -> List[Future]:
    """One Future per entity: its (complete) key. Keys are set on the entities too."""
    from leancloud.ndb.model import Model

    entities = list(entities)
    for entity in entities:
        if not isinstance(entity, Model):
            raise BadArgumentError(f"Expected Model instance, got {entity!r}")
        if entity._projection:
            raise BadArgumentError("Cannot put a partial (projected) entity")
    for entity in entities:  # NDB's order: auto_now and computed values, then the hook
        entity._prepare_for_put()
        entity._pre_put_hook()
    bodies = []
    for entity in entities:
        entity._check_initialized()
        bodies.append(mapping.entity_fields(entity))
        kind, namespace = entity._get_kind(), entity.key.namespace() if entity.key else ""
        mapping.class_name_for_kind(kind, namespace)
    backend = current_backend()

    def work() -> List[Any]:
        keys = _complete_keys(entities)
        entries = []
        for key, fields in zip(keys, bodies):
            fields = dict(fields)
            fields[mapping.ANCESTORS_FIELD] = mapping._ancestor_ids(key)
            entries.append((key, fields))
        _, errors = _per_item(lambda: backend.put(entries), len(entries))
        results: List[Any] = []
        for entity, key, error in zip(entities, keys, errors):
            if error is None:
                entity._set_key(key)
            results.append(_Failed(error) if error else key)
        return results

    hooks = [(lambda future, e=entity: e._post_put_hook(future)) for entity in entities]
    return _fan_out(len(entities), work, hooks)


def put_multi(entities: Sequence[Any], **ctx_options: Any) -> List[Key]:
    """Write ``entities``; answers their keys."""
    return [future.get_result() for future in put_multi_async(entities, **ctx_options)]


def _complete_keys(entities: Sequence[Any]) -> List[Key]:
    """Each entity's key, with allocated ids for the incomplete ones (one range per kind)."""
    keys: List[Optional[Key]] = []
    wanting: Dict[Tuple[str, str], List[int]] = {}
    for index, entity in enumerate(entities):
        key = entity.key
        if key is None:
            key = Key(entity._get_kind(), None)
        if key.id() is None:
            wanting.setdefault((key.kind(), key.namespace()), []).append(index)
        keys.append(key)
    for (kind, namespace), indexes in wanting.items():
        start, _ = _allocate(kind, namespace, size=len(indexes))
        for offset, index in enumerate(indexes):
            incomplete = keys[index]
            assert incomplete is not None
            keys[index] = Key(
                pairs=incomplete.pairs()[:-1] + ((kind, start + offset),),
                app=incomplete.app(),
                namespace=namespace,
            )
    return [key for key in keys if key is not None]


# -- delete -----------------------------------------------------------------------------


def delete_multi_async(keys: Sequence[Key], **ctx_options: Any) -> List[Future]:
    """One Future per key, each with result None (a kind needs no model class here)."""
    keys = _check_keys(keys)
    models = [_model_for(key.kind(), required=False) for key in keys]
    for key, model in zip(keys, models):
        if model is not None:
            model._pre_delete_hook(key)
    backend = current_backend()

    def work() -> List[Any]:
        _, errors = _per_item(lambda: backend.delete(keys), len(keys))
        return [_Failed(error) if error else None for error in errors]

    hooks = [
        None if model is None else (lambda future, m=model, k=key: m._post_delete_hook(k, future))
        for key, model in zip(keys, models)
    ]
    return _fan_out(len(keys), work, hooks)


def delete_multi(keys: Sequence[Key], **ctx_options: Any) -> List[None]:
    """Delete the entities of ``keys``; missing ones are not an error."""
    return [future.get_result() for future in delete_multi_async(keys, **ctx_options)]


# -- ids --------------------------------------------------------------------------------


def allocate_ids_async(
    model: type,
    size: Optional[int] = None,
    max: Optional[int] = None,
    parent: Optional[Key] = None,
    **ctx_options: Any,
) -> Future:
    """``(start, end)`` of ids reserved for ``model``'s kind; see the module docstring."""
    if (size is None) == (max is None):
        raise BadArgumentError("allocate_ids takes exactly one of size and max")
    for name, value in (("size", size), ("max", max)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadArgumentError(f"{name} must be an integer, not {value!r}")
    if size is not None and not 0 < size <= 1_000_000_000:
        raise BadArgumentError(f"size must be between 1 and 1000000000, not {size}")
    if max is not None and not 0 <= max <= _MAX_ID:
        raise BadArgumentError(f"max must be between 0 and 2**63-1, not {max}")
    if parent is not None and not isinstance(parent, Key):
        raise BadArgumentError(f"parent must be a Key, not {parent!r}")
    kind = model._get_kind()
    namespace = parent.namespace() if parent is not None else ""
    mapping.class_name_for_kind(kind, namespace)
    model._pre_allocate_ids_hook(size, max, parent)

    def work() -> List[Tuple[int, int]]:
        return [_allocate(kind, namespace, size=size, max=max)]

    hook = lambda future: model._post_allocate_ids_hook(size, max, parent, future)  # noqa: E731
    return _fan_out(1, work, [hook])[0]


def _counter_path(kind: str, namespace: str) -> str:
    return f"/classes/{COUNTER_CLASS}/{mapping.class_name_for_kind(kind, namespace)}"


def _allocate(
    kind: str, namespace: str, size: Optional[int] = None, max: Optional[int] = None
) -> Tuple[int, int]:
    counter = mapping.class_name_for_kind(kind, namespace)
    create = {
        "method": "PUT",
        "path": f"/1.1/entities/{COUNTER_CLASS}/{counter}?ifAbsent=1",
        "body": {"last": 0},
    }
    if size is not None:
        bump = {
            "method": "PUT",
            "path": f"/1.1{_counter_path(kind, namespace)}?fetchWhenSave=true",
            "body": {"last": {"__op": "Increment", "amount": size}},
        }
        created, bumped = send_batch([create, bump])
        raise_failure(created)
        last = raise_failure(bumped)["last"]
        if last > _MAX_ID:
            raise BadValueError(f"ids of kind {kind} are exhausted")
        return (last - size + 1, last)
    assert max is not None
    raise_failure(send_batch([create])[0])
    while True:
        last = client.get(_counter_path(kind, namespace)).json().get("last", 0)
        if last >= max:
            return (last + 1, max)  # nothing new: an empty range, as NDB answers
        try:
            client.put(
                _counter_path(kind, namespace), {"last": max}, query={"where": {"last": last}}
            )
        except LeanCloudError as exc:
            if exc.code != _CONDITION_FAILED:
                raise
            continue
        return (last + 1, max)
