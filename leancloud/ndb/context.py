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
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from leancloud import client
from leancloud.errors import LeanCloudError
from leancloud.ndb.key import Key
from leancloud.ndb.mapping import class_name_for_kind, object_id_for_key

__all__ = ["Backend", "RemoteBackend", "current_backend", "use_backend", "BATCH_SIZE"]

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


class RemoteBackend(Backend):
    """Straight to the server, through ``/1.1/batch``."""

    def get(self, keys: Sequence[Key]) -> List[Optional[Dict[str, Any]]]:
        results = send_batch([{"method": "GET", "path": entity_path(key)} for key in keys])
        return [raise_failure(result, ignore=(_CLASS_MISSING,)) or None for result in results]

    def put(self, entries: Sequence[Tuple[Key, Dict[str, Any]]]) -> None:
        requests = [
            {"method": "PUT", "path": entity_put_path(key), "body": fields}
            for key, fields in entries
        ]
        for result in send_batch(requests):
            raise_failure(result)

    def delete(self, keys: Sequence[Key]) -> None:
        for result in send_batch([{"method": "DELETE", "path": entity_path(key)} for key in keys]):
            raise_failure(result, ignore=(_CLASS_MISSING,))


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
