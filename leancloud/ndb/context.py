"""Where entity reads and writes go: the server, or an open transaction.

Every storage operation of ``leancloud.ndb`` (``get_multi``, ``put_multi``,
``delete_multi``) goes through the *backend* of the current context. The default,
``RemoteBackend``, talks to the server through ``/1.1/batch`` in chunks. A transaction
installs its own backend with ``use_backend`` (e.g. reading through and buffering
writes until its atomic commit); since ``run_async`` copies the context, async work
started inside the transaction uses it too.

A backend works on wire data only:

* ``get(keys) -> [row or None]``: stored rows (wire JSON with ``objectId``);
* ``put(entries)``: ``entries`` are ``(key, fields)`` with complete keys, each a
  whole-entity replace;
* ``delete(keys)``: missing entities are not an error.

Each may raise ``BatchError`` when only some items failed, so that the others still
succeed for their callers.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from leancloud import client
from leancloud.errors import LeanCloudError
from leancloud.ndb.key import Key
from leancloud.ndb.mapping import class_name_for_kind, object_id_for_key

__all__ = [
    "Backend",
    "BatchError",
    "RemoteBackend",
    "current_backend",
    "use_backend",
    "BATCH_SIZE",
]

# Items per /1.1/batch request (LeanCloud advises at most 100).
BATCH_SIZE = 100
_CLASS_MISSING = 101


class Backend:
    """The interface; see the module docstring."""

    def get(self, keys: Sequence[Key]) -> List[Optional[Dict[str, Any]]]:
        raise NotImplementedError

    def put(self, entries: Sequence[Tuple[Key, Dict[str, Any]]]) -> None:
        raise NotImplementedError

    def delete(self, keys: Sequence[Key]) -> None:
        raise NotImplementedError


def entity_path(key: Key) -> str:
    """``/1.1/classes/<class>/<objectId>`` of a complete key."""
    return (
        f"/1.1/classes/{class_name_for_kind(key.kind(), key.namespace())}/{object_id_for_key(key)}"
    )


def entity_put_path(key: Key) -> str:
    """Our replace-or-create route for ``key`` (``PUT /1.1/entities/...``)."""
    return (
        f"/1.1/entities/{class_name_for_kind(key.kind(), key.namespace())}/{object_id_for_key(key)}"
    )


def send_batch(requests: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Run ``requests`` through ``/1.1/batch`` in chunks; one result per request."""
    results: List[Dict[str, Any]] = []
    for start in range(0, len(requests), BATCH_SIZE):
        chunk = list(requests[start : start + BATCH_SIZE])
        results.extend(client.post("/batch", {"requests": chunk}).json())
    return results


def raise_failure(result: Dict[str, Any], ignore: Tuple[int, ...] = ()) -> Any:
    """The item's success value, or its error as ``LeanCloudError`` (``ignore``: codes -> None)."""
    if "error" not in result:
        return result.get("success")
    error = result["error"] or {}
    code = error.get("code") or 1
    if code in ignore:
        return None
    raise LeanCloudError(code, str(error.get("error", "batch item failed")))


class BatchError(LeanCloudError):
    """Some items of one backend call failed (the others went through).

    ``errors[i]`` is item i's error (None where it succeeded), ``values[i]`` its value.
    """

    def __init__(self, errors: List[Optional[LeanCloudError]], values: List[Any]) -> None:
        first = next(error for error in errors if error is not None)
        super().__init__(first.code, first.error)
        self.errors, self.values = errors, values

    def __reduce__(self) -> Any:
        return (type(self), (self.errors, self.values))


def item_values(results: Sequence[Dict[str, Any]], ignore: Tuple[int, ...] = ()) -> List[Any]:
    """Each batch item's value; ``BatchError`` (after reading them all) if any failed."""
    values: List[Any] = []
    errors: List[Optional[LeanCloudError]] = []
    for result in results:
        try:
            values.append(raise_failure(result, ignore))
            errors.append(None)
        except LeanCloudError as exc:
            values.append(None)
            errors.append(exc)
    if any(error is not None for error in errors):
        raise BatchError(errors, values)
    return values


class RemoteBackend(Backend):
    """Straight to the server, through ``/1.1/batch``."""

    def get(self, keys: Sequence[Key]) -> List[Optional[Dict[str, Any]]]:
        results = send_batch([{"method": "GET", "path": entity_path(key)} for key in keys])
        return [row or None for row in item_values(results, ignore=(_CLASS_MISSING,))]

    def put(self, entries: Sequence[Tuple[Key, Dict[str, Any]]]) -> None:
        requests = [
            {"method": "PUT", "path": entity_put_path(key), "body": fields}
            for key, fields in entries
        ]
        item_values(send_batch(requests))

    def delete(self, keys: Sequence[Key]) -> None:
        requests = [{"method": "DELETE", "path": entity_path(key)} for key in keys]
        item_values(send_batch(requests), ignore=(_CLASS_MISSING,))


_REMOTE = RemoteBackend()
_backend: contextvars.ContextVar[Optional[Backend]] = contextvars.ContextVar(
    "ndb_backend", default=None
)


def current_backend() -> Backend:
    return _backend.get() or _REMOTE


@contextlib.contextmanager
def use_backend(backend: Optional[Backend]) -> Iterator[Backend]:
    """Route this context's storage operations to ``backend`` (None: the server)."""
    token = _backend.set(backend)
    try:
        yield current_backend()
    finally:
        _backend.reset(token)
