"""Cloud functions: ``/functions/<name>`` (plain JSON in) and ``/call/<name>`` (RPC).

Both call ``func(**params)``, with the body's keys that start with ``_`` removed
(clients put their credentials there) except ``__type``. RPC decodes each parameter
(Date, Pointer, Object, File, GeoPoint, ...). Both encode the result with the codec,
objects in full (``{"__type": "Object", ...}``); the official SDK did so only for RPC
and answered 500 to a plain function returning a date or an object.
"""

from __future__ import annotations

from typing import Any, Dict

from leancloud import codec
from leancloud.engine.authorization import unauthorized
from leancloud.engine.errors import LeanEngineError
from leancloud.engine.registry import REALTIME_HOOKS, Entry, Registry
from leancloud.engine.request import INVALID_JSON, Call

__all__ = ["handle_function", "run_local"]


def _params(body: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in body.items() if not k.startswith("_") or k == "__type"}


def _not_found(name: str) -> str:
    return f"cloud func named '{name}' not found."


def _decoded(params: Dict[str, Any]) -> Dict[str, Any]:
    """RPC parameters as values; a malformed typed value is the caller's error (107)."""
    try:
        return {key: codec.decode(value) for key, value in params.items()}
    except ValueError as error:
        raise LeanEngineError(INVALID_JSON, f"Invalid parameter: {error}", status=400) from None


def _call(entry: Entry, params: Dict[str, Any], rpc: bool) -> Any:
    return entry.func(**(_decoded(params) if rpc else params))


def handle_function(call: Call, func_name: str, rpc: bool) -> Any:
    if func_name in REALTIME_HOOKS:
        call.require_hook(func_name, call.signature("__sign", inside=None))
    entry = call.entry(func_name, _not_found(func_name))
    with call.scope(entry):
        result = _call(entry, _params(call.body), rpc)
        return {"result": codec.encode(result, dump_objects=True)}


def run_local(registry: Registry, name: str, params: Dict[str, Any], rpc: bool) -> Any:
    """``cloud.run.local``/``cloud.rpc.local``: call a function of this process directly.

    ``run`` passes the arguments and the result through untouched; ``rpc`` sends them
    through the wire encoding, as a remote call would.
    """
    if name in REALTIME_HOOKS:
        raise unauthorized()
    entry = registry.get(name)
    if entry is None:
        raise LeanEngineError(404, _not_found(name))
    if not rpc:
        return entry.func(**params)
    result = _call(entry, codec.encode(params, dump_objects=True), rpc=True)
    return codec.encode(result, dump_objects=True)
