"""Hooks the platform calls: class hooks, user hooks (onVerified, onLogin, onAuthData)
and the Insight (BigQuery) job hook.

Class hooks receive ``{"object": {...}, "user": {...}}`` and answer:

* ``beforeSave``/``beforeUpdate``: the object's fields (the platform saves what
  ``beforeSave`` returns); ``beforeDelete``: ``{}``; ``after*``: ``{"result": "ok"}``;
* a ``LeanEngineError`` raised by the hook: its code, message and status, which makes the
  platform refuse the write (error 142 to the client) for the ``before*`` hooks.

So that saving the object inside its own hook does not run the hook again, the object
carries the platform's ``__before``/``__after`` signature, or else ``__ignore_hooks``.

Unlike the official SDK (500), an unknown or unregistered class hook answers 404.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from leancloud import codec
from leancloud.engine.errors import LeanEngineError
from leancloud.engine.registry import (
    CLASS_HOOKS,
    ON_AUTH_DATA,
    ON_INSIGHT,
    ON_LOGIN,
    class_hook_name,
)
from leancloud.engine.request import Call
from leancloud.object_ import Object
from leancloud.user import User

__all__ = [
    "handle_auth_data",
    "handle_class_hook",
    "handle_insight",
    "handle_metadatas",
    "handle_on_login",
    "handle_on_verified",
]

_BOOKKEEPING = ("_updatedKeys", "__before", "__after", "__sign")


def _fields(data: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in data.items() if key not in _BOOKKEEPING}


def _hook_object(class_name: str, data: Dict[str, Any], before: bool) -> Object:
    obj = Object.create(class_name)
    obj._update_data(_fields(data))
    updated_keys = data.get("_updatedKeys")
    obj.updated_keys = list(updated_keys) if isinstance(updated_keys, list) else []
    signature_field = "__before" if before else "__after"
    if data.get(signature_field) is not None:
        obj.set(signature_field, data[signature_field])  # a save from the hook sends it back
    elif before:
        obj.disable_before_hook()
    else:
        obj.disable_after_hook()
    return obj


def handle_class_hook(call: Call, class_name: str, hook_name: str) -> Any:
    before = hook_name.startswith("before")
    signature_field = "__before" if before else "__after"
    call.require_hook(f"{signature_field}_for_{class_name}", call.signature(signature_field))
    data = call.json_object("object")
    missing = f"No {hook_name} hook of '{class_name}'."
    if hook_name not in CLASS_HOOKS:
        raise LeanEngineError(404, missing)
    entry = call.entry(class_hook_name(class_name, hook_name), missing)
    obj = _hook_object(class_name, data, before)
    with call.scope(entry):
        entry.func(obj)
    if not before:
        return {"result": "ok"}
    if hook_name == "beforeDelete":
        return {}
    return obj.dump()


def _user_hook(call: Call, name: str, invoke: Callable[[Callable[..., Any]], Any]) -> Any:
    """``{"result": ...}`` of a user or Insight hook; ``{"result": null}`` if none is registered."""
    entry = call.registry.get(name)
    if entry is None:
        return {"result": None}
    with call.scope(entry):
        return {"result": codec.encode(invoke(entry.func), dump_objects=True)}


def _user(data: Dict[str, Any]) -> User:
    user = User()
    user._update_data(_fields(data))
    return user


def handle_on_verified(call: Call, verify_type: str) -> Any:
    name = f"__on_verified_{verify_type}"
    call.require_hook(name, call.signature("__sign"))
    data = call.json_object("object")
    return _user_hook(call, name, lambda func: func(_user(data)))


def handle_on_login(call: Call) -> Any:
    call.require_hook(ON_LOGIN, call.signature("__sign"))
    data = call.json_object("object")
    return _user_hook(call, ON_LOGIN, lambda func: func(_user(data)))


def handle_auth_data(call: Call) -> Any:
    call.require_hook()
    auth_data = call.json_object("authData")
    return _user_hook(call, ON_AUTH_DATA, lambda func: func(auth_data))


def handle_insight(call: Call, event: str) -> Any:
    call.require_hook(ON_INSIGHT, call.signature("__sign", inside=None))
    if event != "onComplete":
        return {"result": None}
    params = _fields(call.body)
    return _user_hook(call, ON_INSIGHT, lambda func: func(params.get("status") == "OK", params))


def handle_metadatas(call: Call) -> Any:
    call.require_master()
    return {"result": call.registry.names()}
