"""NDB transactions: optimistic, retried, atomic on the server.

``transaction(callback)`` runs ``callback`` with a transaction installed as the
context's storage backend (``context.use_backend``): reads go to our
``/1.1/transactions/read`` extension, which answers each entity with a version;
``put`` and ``delete`` are buffered (and read back by later ``get``s). When the
callback returns, one ``/1.1/transactions/commit`` checks that nothing read has
changed and applies every write, all or nothing (``services/transactions.py``). If
something changed, the whole callback runs again, up to ``retries`` more times, then
``TransactionFailedError``. An exception in the callback discards the buffered writes
(``Rollback`` quietly: the transaction answers None).

As in NDB, a transaction without ``xg=True`` touches one entity group (one root
key), with ``xg=True`` at most five, and only ancestor queries run inside one. Query
results are not part of the commit's check: re-read with ``get`` what must not change.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import random
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from leancloud import client
from leancloud.errors import LeanCloudError
from leancloud.ndb import tasklets
from leancloud.ndb.context import Backend, use_backend
from leancloud.ndb.errors import BadArgumentError, BadRequestError, Error
from leancloud.ndb.key import Key
from leancloud.ndb.mapping import class_name_for_kind, object_id_for_key

__all__ = [
    "Rollback",
    "TransactionFailedError",
    "TransactionOptions",
    "transaction",
    "transaction_async",
    "transactional",
    "transactional_async",
    "transactional_tasklet",
    "in_transaction",
    "non_transactional",
]

DEFAULT_RETRIES = 3
MAX_ENTITY_GROUPS = 5  # NDB's documented limit for xg transactions
MAX_ENTITIES = 500  # per commit, as the server's extension (and the datastore) allow
_COLLISION = 305
_MAX_BACKOFF = 0.05


class Rollback(Error):
    """Raise in a transaction to discard its writes; the transaction answers None."""


class TransactionFailedError(Error):
    """The transaction kept colliding with other writers and was given up."""


class TransactionOptions:
    """How ``transaction()`` relates to a transaction already running."""

    NESTED = 1  # the default: a new transaction; refused inside another (not supported)
    MANDATORY = 2  # join the running transaction; refused outside one
    ALLOWED = 3  # join the running transaction, else start one
    INDEPENDENT = 4  # always a new transaction, apart from any running one


_PROPAGATIONS = (
    TransactionOptions.NESTED,
    TransactionOptions.MANDATORY,
    TransactionOptions.ALLOWED,
    TransactionOptions.INDEPENDENT,
)
_current: contextvars.ContextVar[Optional["_Transaction"]] = contextvars.ContextVar(
    "ndb_transaction", default=None
)

Ref = Tuple[str, str]


def _ref(key: Key) -> Ref:
    return class_name_for_kind(key.kind(), key.namespace()), object_id_for_key(key)


class _Transaction(Backend):
    """One attempt: versions of what was read, writes buffered until ``commit``."""

    def __init__(self, xg: bool, read_only: bool) -> None:
        self._xg, self._read_only = xg, read_only
        self._lock = threading.Lock()
        self._versions: Dict[Ref, Optional[str]] = {}
        self._rows: Dict[Ref, Optional[Dict[str, Any]]] = {}
        self._writes: Dict[Ref, Optional[Dict[str, Any]]] = {}  # None: delete
        self._groups: set = set()

    def _touch(self, keys: Sequence[Key]) -> List[Ref]:
        """Check the limits for also touching ``keys``; their refs."""
        refs = [_ref(key) for key in keys]
        if len(self._rows.keys() | set(refs)) > MAX_ENTITIES:
            raise BadRequestError(f"A transaction touches at most {MAX_ENTITIES} entities")
        groups = self._groups | {key.root() for key in keys}
        if not self._xg and len(groups) > 1:
            raise BadRequestError(
                "cross-group transaction need to be explicitly specified (xg=True)"
            )
        if len(groups) > MAX_ENTITY_GROUPS:
            raise BadRequestError("operating on too many entity groups in a single transaction")
        self._groups = groups
        return refs

    def get(self, keys: Sequence[Key]) -> List[Optional[Dict[str, Any]]]:
        with self._lock:
            refs = self._touch(keys)
            missing = list(dict.fromkeys(ref for ref in refs if ref not in self._rows))
        if missing:
            objects = [{"className": c, "objectId": i} for c, i in missing]
            body = {"objects": objects}
            results = client.post("/transactions/read", body).json()["results"]
            with self._lock:
                for ref, result in zip(missing, results):
                    self._rows.setdefault(ref, result["object"])
                    self._versions.setdefault(ref, result["version"])
        with self._lock:
            return [self._rows[ref] for ref in refs]

    def put(self, entries: Sequence[Tuple[Key, Dict[str, Any]]]) -> None:
        self._write([key for key, _ in entries], [fields for _, fields in entries])

    def delete(self, keys: Sequence[Key]) -> None:
        self._write(list(keys), [None] * len(keys))

    def _write(self, keys: List[Key], bodies: List[Optional[Dict[str, Any]]]) -> None:
        if self._read_only:
            raise BadRequestError("Cannot write in a read-only transaction")
        with self._lock:
            for ref, body in zip(self._touch(keys), bodies):
                self._writes[ref] = body
                self._rows[ref] = None if body is None else {**body, "objectId": ref[1]}

    def commit(self) -> None:
        with self._lock:
            checks = [
                {"className": c, "objectId": i, "version": v}
                for (c, i), v in self._versions.items()
            ]
            writes = [
                {"className": c, "objectId": i, "delete": True}
                if body is None
                else {"className": c, "objectId": i, "body": body}
                for (c, i), body in self._writes.items()
            ]
        if checks or writes:
            client.post("/transactions/commit", {"checks": checks, "writes": writes})


@contextlib.contextmanager
def _installed(tx: Optional[_Transaction]) -> Iterator[None]:
    """Make ``tx`` (None: no transaction) this context's transaction and backend."""
    token = _current.set(tx)
    try:
        with use_backend(tx):
            yield
    finally:
        _current.reset(token)


def in_transaction() -> bool:
    """Whether a transaction is running in this context."""
    return _current.get() is not None


def _check_options(options: Dict[str, Any]) -> Tuple[int, bool, bool, int]:
    retries = options.pop("retries", DEFAULT_RETRIES)
    xg = bool(options.pop("xg", False))
    read_only = bool(options.pop("read_only", False))
    propagation = options.pop("propagation", None) or TransactionOptions.NESTED
    for ignored in ("deadline", "use_cache", "use_memcache", "use_datastore", "join"):
        options.pop(ignored, None)
    if options:
        raise TypeError(f"Unknown transaction options: {', '.join(sorted(options))}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise BadArgumentError(f"retries must be a non-negative integer, got {retries!r}")
    if propagation not in _PROPAGATIONS:
        raise BadArgumentError(f"Unknown propagation {propagation!r}")
    return retries, xg, read_only, propagation


def _call(callback: Callable[[], Any]) -> Any:
    result = callback()
    if isinstance(result, tasklets.Future):  # a tasklet: its work belongs to this attempt
        result = result.get_result()
    return result


def _attempt(callback: Callable[[], Any], xg: bool, read_only: bool) -> Tuple[bool, Any]:
    """Run and commit once: ``(committed, result)``; False on a collision."""
    tx = _Transaction(xg, read_only)
    with _installed(tx):
        try:
            result = _call(callback)
        except Rollback:
            return True, None
    try:
        tx.commit()
    except LeanCloudError as exc:
        if exc.code != _COLLISION:
            raise
        return False, None
    return True, result


def transaction(callback: Callable[[], Any], **options: Any) -> Any:
    """Run ``callback()`` in a transaction and answer its result (see the module docstring).

    Options: ``retries`` (default 3), ``xg``, ``read_only``, ``propagation``
    (``TransactionOptions``)."""
    if not callable(callback):
        raise BadArgumentError(f"callback must be callable, got {callback!r}")
    retries, xg, read_only, propagation = _check_options(dict(options))
    running = in_transaction()
    if propagation == TransactionOptions.NESTED and running:
        raise BadRequestError("Nested transactions are not supported.")
    if propagation == TransactionOptions.MANDATORY and not running:
        raise BadRequestError("Requires an existing transaction.")
    if running and propagation in (TransactionOptions.MANDATORY, TransactionOptions.ALLOWED):
        return _call(callback)
    for attempt in range(retries + 1):
        committed, result = _attempt(callback, xg, read_only)
        if committed:
            return result
        if attempt < retries:
            time.sleep(random.uniform(0, min(_MAX_BACKOFF, 0.002 * 2**attempt)))
    raise TransactionFailedError("The transaction could not be committed. Please try again.")


def transaction_async(callback: Callable[[], Any], **options: Any) -> tasklets.Future:
    """``transaction`` in the background; a Future of its result."""
    if not callable(callback):
        raise BadArgumentError(f"callback must be callable, got {callback!r}")
    _check_options(dict(options))
    return tasklets.run_async(transaction, callback, **options)


def _decorator(runner: Callable[..., Any], defaults: Dict[str, Any]) -> Callable[..., Any]:
    """``@name`` and ``@name(**options)`` alike, as NDB's decorators accept both."""

    def decorate(_func: Optional[Callable[..., Any]] = None, **options: Any) -> Any:
        options = {**defaults, **options}

        def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwds: Any) -> Any:
                return runner(lambda: func(*args, **kwds), **options)

            return wrapper

        return wrap if _func is None else wrap(_func)

    return decorate


_ALLOWED = {"propagation": TransactionOptions.ALLOWED}
transactional = _decorator(transaction, _ALLOWED)
transactional.__doc__ = "Run the decorated function in a transaction (joining a running one)."
transactional_async = _decorator(transaction_async, _ALLOWED)
transactional_async.__doc__ = "Like ``transactional``; the call answers a Future."
transactional_tasklet = transactional_async


def _outside(func: Callable[[], Any], allow_existing: bool) -> Any:
    if not allow_existing and in_transaction():
        raise BadRequestError("Function cannot be called from within a transaction.")
    with _installed(None):
        return func()


def non_transactional(
    _func: Optional[Callable[..., Any]] = None, allow_existing: bool = True
) -> Any:
    """Run the decorated function outside any transaction (its writes apply at once).

    With ``allow_existing=False`` calling it inside a transaction is an error."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwds: Any) -> Any:
            return _outside(lambda: func(*args, **kwds), allow_existing)

        return wrapper

    return wrap if _func is None else wrap(_func)
