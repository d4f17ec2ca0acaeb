"""Futures for the ``*_async`` API: NDB's ``Future``, also awaitable from asyncio.

NDB runs RPCs on an event loop; here the blocking HTTP calls run on a small shared
thread pool (``run_async``), each in a copy of the caller's ``contextvars`` so the
current user and an open transaction follow the work. A ``Future`` is completed once
with a result or an exception; ``get_result()`` blocks for it and ``await future``
suspends an asyncio task instead of blocking its loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

__all__ = ["Future", "run_async", "run_in_thread", "tasklet", "synctasklet", "toplevel", "Return"]

_POOL_SIZE = 16
_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="ndb")
        return _pool


class Future:
    """The eventual result of an operation; see the module docstring."""

    def __init__(self, info: Optional[str] = None) -> None:
        self._info = info
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: Any = None
        self._exception: Optional[BaseException] = None
        self._callbacks: List[Callable[["Future"], Any]] = []

    # -- completing ---------------------------------------------------------------

    def set_result(self, result: Any) -> None:
        self._complete(result, None)

    def set_exception(self, exception: BaseException) -> None:
        self._complete(None, exception)

    def _complete(self, result: Any, exception: Optional[BaseException]) -> None:
        with self._lock:
            if self._done.is_set():
                raise RuntimeError(f"{self!r} is already done")
            self._result, self._exception = result, exception
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def add_done_callback(self, callback: Callable[["Future"], Any]) -> None:
        """Call ``callback(future)`` once done (at once if it already is)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """NDB's spelling: ``callback(*args, **kwargs)`` once done."""
        self.add_done_callback(lambda _: callback(*args, **kwargs))

    # -- reading ------------------------------------------------------------------

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self) -> None:
        self._done.wait()

    def get_exception(self) -> Optional[BaseException]:
        self.wait()
        return self._exception

    def check_success(self) -> None:
        """Wait, then raise the exception if the operation failed."""
        self.wait()
        if self._exception is not None:
            raise self._exception

    def get_result(self) -> Any:
        self.check_success()
        return self._result

    def __await__(self) -> Any:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()

        def relay(done: "Future") -> None:
            loop.call_soon_threadsafe(_settle, waiter, done)

        self.add_done_callback(relay)
        return (yield from waiter.__await__())

    @staticmethod
    def wait_any(futures: Iterable["Future"]) -> Optional["Future"]:
        """The first of ``futures`` to be done (None for an empty iterable)."""
        futures = list(futures)
        if not futures:
            return None
        first = threading.Event()
        for future in futures:
            future.add_done_callback(lambda _: first.set())
        first.wait()
        return next(future for future in futures if future.done())

    @staticmethod
    def wait_all(futures: Iterable["Future"]) -> None:
        for future in futures:
            future.wait()

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<Future {self._info or hex(id(self))} {state}>"


def _settle(waiter: "asyncio.Future[Any]", done: Future) -> None:
    if waiter.cancelled():
        return
    if done._exception is not None:
        waiter.set_exception(done._exception)
    else:
        waiter.set_result(done._result)


def completed(result: Any) -> Future:
    """A Future that is already done with ``result``."""
    future = Future()
    future.set_result(result)
    return future


_worker = threading.local()  # ``busy`` is set while a pool thread runs a job


def _run_as_worker(work: Callable[[], None]) -> None:
    _worker.busy = True
    try:
        work()
    finally:
        _worker.busy = False


def run_async(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``fn(*args, **kwargs)`` on the shared pool, in a copy of the caller's context.

    Called from a pool thread (a transaction or ``map`` callback, a post hook), the work
    runs right there instead: queued behind jobs that wait for it, it could never start
    once every pool thread waits so."""
    if getattr(_worker, "busy", False):
        return _start(lambda work: work(), fn, args, kwargs)
    return _start(lambda work: _executor().submit(_run_as_worker, work), fn, args, kwargs)


def run_in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Like ``run_async`` on a thread of its own: for work that waits on other Futures
    (tasklets, transactions), which must not hold a pool thread while it waits."""
    return _start(lambda work: threading.Thread(target=work, daemon=True).start(), fn, args, kwargs)


def _start(
    launch: Callable[[Callable[[], None]], Any],
    fn: Callable[..., Any],
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
) -> Future:
    future = Future(getattr(fn, "__name__", None))
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(exc)
        else:
            future.set_result(result)

    launch(work)
    return future


class Return(Exception):
    """``raise Return(value)`` in a tasklet, as NDB's Python 2 code does (a plain
    ``return value`` works too)."""


def _drive(generator: Any) -> Any:
    """Run a tasklet generator: each yielded Future (or list of them) is resolved."""
    value: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            yielded = generator.throw(error) if error is not None else generator.send(value)
        except Return as done:
            return done.args[0] if done.args else None
        except StopIteration as done:
            return done.value
        value, error = None, None
        try:
            if isinstance(yielded, (list, tuple)):
                value = type(yielded)(item.get_result() for item in yielded)
            else:
                value = yielded.get_result()
        except Exception as exc:  # noqa: BLE001 - thrown back into the tasklet
            error = exc


def tasklet(func: Callable[..., Any]) -> Callable[..., Future]:
    """Make ``func`` (a generator yielding Futures, or a plain function) return a Future."""

    def wrapper(*args: Any, **kwargs: Any) -> Future:
        def body() -> Any:
            result = func(*args, **kwargs)
            return _drive(result) if hasattr(result, "send") else result

        return run_in_thread(body)

    wrapper.__name__ = getattr(func, "__name__", "tasklet")
    wrapper.__doc__ = func.__doc__
    return wrapper


def synctasklet(func: Callable[..., Any]) -> Callable[..., Any]:
    """A tasklet whose call waits for and returns the result."""
    run = tasklet(func)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run(*args, **kwargs).get_result()

    wrapper.__name__ = getattr(func, "__name__", "synctasklet")
    wrapper.__doc__ = func.__doc__
    return wrapper


toplevel = synctasklet
